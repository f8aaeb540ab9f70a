//! Writing: flushing queued output to sockets, write interest, the writable event, and closing
//! the transport once everything is written.

use std::io;
use std::net::Shutdown;

use mio::{Interest, Token};

use crate::net::id::ConnId;
use crate::proto::State;

use super::{
    AWAITING_EOF, BUFFER_POOL_MAX_CAPACITY, BUFFER_POOL_SIZE, Context, DIRTY, Deferred, Origin, PAUSED,
    PAUSED_AUTO, WANTS_WRITABLE, WRITABLE_REGISTERED, millis,
};

impl Context {
    pub(super) fn writable(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if let Origin::Client(link) = &mut conn.origin {
            if !link.connected {
                let Some(socket) = conn.socket.as_ref() else {
                    return;
                };
                match socket.take_error() {
                    Ok(None) => {}
                    Ok(Some(err)) | Err(err) => {
                        link.last_error = Some(err.to_string());
                        return self.connect_next(id);
                    }
                }
                match socket.connect_done() {
                    Ok(true) if link.proxy.as_ref().is_some_and(|p| p.pending()) => {
                        // TCP to the proxy is up: the tunnel comes first (`proxy.rs`).
                        return self.proxy_progress(id);
                    }
                    Ok(true) => {
                        link.connected = true;
                        socket.set_nodelay();
                        self.trace_output(id);
                    }
                    Ok(false) => return,
                    Err(err) => {
                        link.last_error = Some(err.to_string());
                        return self.connect_next(id);
                    }
                }
            }
        }
        self.flush_conn(id);
    }

    pub(super) fn flush_dirty(&mut self) {
        while !self.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.dirty);
            for id in &dirty {
                if let Some(conn) = self.conns.get_mut(*id) {
                    conn.flags &= !DIRTY;
                }
            }
            for id in dirty {
                self.flush_conn(id);
            }
        }
    }

    /// Writes as much output as the socket takes; manages write interest, the writable event and
    /// the end of the connection.
    fn flush_conn(&mut self, id: ConnId) {
        if self.tracer.is_some() {
            self.drain_frame_log(id);
        }
        let low_water = match self.options_of(id) {
            Ok(options) => options.low_water_mark,
            Err(_) => return,
        };
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let connected = match &conn.origin {
            Origin::Client(link) => link.connected,
            Origin::Accepted(_) => true,
        };
        let registered = conn.has(WRITABLE_REGISTERED);
        let Some(socket) = conn.socket.as_mut() else {
            return;
        };
        if !connected {
            return;
        }
        let mut failed = match socket.flush_tls() {
            Err(err) if err.kind() != io::ErrorKind::WouldBlock => Some(err),
            _ => None,
        };
        while failed.is_none() {
            let out = conn.endpoint.output();
            if out.is_empty() {
                break;
            }
            match socket.write(out) {
                Ok(0) => {
                    failed = Some(io::Error::new(io::ErrorKind::WriteZero, "socket took no bytes"));
                    break;
                }
                Ok(n) => conn.endpoint.consume_output(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        if let Some(err) = failed {
            return self.peer_closed(id, Some(err));
        }
        let pending = conn.endpoint.output().len();
        let want_write = pending > 0 || socket.wants_write();
        if want_write != registered {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let token = Token(id.index().unwrap_or(0));
            if socket.reregister(self.poll.registry(), token, interest).is_ok() {
                conn.flags ^= WRITABLE_REGISTERED;
            }
        }
        if conn.has(WANTS_WRITABLE) && pending <= low_water {
            conn.flags &= !WANTS_WRITABLE;
            self.deferred.push_back(Deferred::Writable(id));
        }
        if conn.flow & PAUSED_AUTO != 0 && pending <= low_water {
            // Flow control: the queue drained; read again (the socket's readiness edge came and
            // went while paused, so the connection goes on `unread`).
            conn.flow &= !PAUSED_AUTO;
            if conn.flow & PAUSED == 0 {
                self.unread.push(id);
            }
        }
        if pending == 0 {
            if let Some(connection) = conn.endpoint.connection() {
                // Keep drained send buffers for the next sender instead of freeing and allocating
                // one per message; idle connections still hold none.
                if let Some(buf) = connection.sender().take_spare_buffer() {
                    if self.buffer_pool.len() < BUFFER_POOL_SIZE && buf.capacity() <= BUFFER_POOL_MAX_CAPACITY
                    {
                        self.buffer_pool.push(buf);
                    }
                }
                // Codecs not kept between messages go to the pool rather than being freed.
                connection.return_deflate_state(&mut self.deflate_pool);
                connection.release_memory();
            }
        }
        if conn.endpoint.should_close_transport() {
            return self.transport_done(id);
        }
        if !self.files.is_empty() {
            self.refill_file(id, low_water);
        }
    }

    /// The connection is closed and its output written: close TCP (a client waits briefly for the
    /// server to close first, RFC 6455 7.1.1).
    fn transport_done(&mut self, id: ConnId) {
        let close_timeout = self.options_of(id).map(|o| o.close_timeout).unwrap_or_default();
        let now = self.now_ms;
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let client_waits = matches!(conn.origin, Origin::Client(_))
            && conn
                .endpoint
                .connection()
                .is_some_and(|c| c.state() == State::Closed)
            && !conn.has(AWAITING_EOF);
        if client_waits && conn.endpoint.is_open() {
            conn.flags |= AWAITING_EOF;
            let deadline = conn.set_deadline(now + millis(close_timeout).min(2000));
            self.timers.push(deadline, id);
            return;
        }
        let awaiting_eof = conn.has(AWAITING_EOF);
        if let Some(socket) = conn.socket.as_mut() {
            socket.close_notify();
            if !awaiting_eof {
                socket.shutdown(Shutdown::Write);
            }
        }
        self.drop_conn(id, None);
    }
}
