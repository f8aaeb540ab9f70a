//! Reading: draining a socket into the shared buffer, decoding it, delivering the events.

use std::io;
use std::time::Duration;

use crate::net::error::Error;
use crate::net::handler::{Fragment, Handler, Message};
use crate::net::id::ConnId;
use crate::net::trace::{Direction, TraceEvent};
use crate::proto::feed::{EndpointFed, Feed};
use crate::proto::{DeflatePool, Endpoint, Event};

use super::{
    ACCEPT_PENDING, AWAITING_PONG, CLOSE_REPORTED, Context, Drain, HELD, Origin, PAUSED, PULL_BUFFERED,
    millis,
};

impl Context {
    /// Reads and processes what the socket holds. Readiness is edge-triggered, so the socket must
    /// be left empty; but a plain TCP read that returns less than asked for already emptied the
    /// receive queue, and data arriving later raises a new edge. Stopping there (`UntilShortRead`,
    /// as nginx does) saves the read that would only say "would block": a third of the system calls
    /// of a small echo. Not for TLS (rustls buffers records, so a short plaintext read says nothing
    /// about the socket) and not once the peer closed its side (its FIN raises no new edge).
    pub(super) fn readable(&mut self, handler: &mut dyn Handler, id: ConnId, drain: Drain) -> usize {
        let mut buf = std::mem::take(&mut self.read_buf);
        let mut delivered = 0;
        self.reading = Some(id);
        while let Some(conn) = self.conns.get_mut(id) {
            if conn.has(ACCEPT_PENDING) {
                // Nothing is read while the accept decision is pending (`Context::accept` reads
                // on); a peer that leaves meanwhile is dropped.
                if drain == Drain::PeerClosed {
                    self.peer_closed(id, None);
                }
                break;
            }
            if handler.should_pause() {
                // Edge-triggered readiness: remember that this socket may hold unread data.
                self.unread.push(id);
                break;
            }
            // A compressed connection lends codecs around its read, and, since one read can
            // inflate to far more events than its size, asks the handler between events (not
            // only before each read) whether to pause. Read here, where `conn` is at hand, so an
            // uncompressed connection pays no second lookup.
            let compressed = conn.endpoint.is_compressed();
            let (n, drained) = if conn.flow != 0 {
                if conn.flow & PAUSED != 0 {
                    // Flow control: nothing is read (a peer that left is noticed when reading
                    // resumes, which puts the connection on `unread`, or when a write fails).
                    break;
                }
                // Reading resumed (`HELD`): first the rest of the read that the pause interrupted,
                // decoded from the read buffer so that `process_input` keeps its one call (and
                // stays inlined).
                conn.flow &= !HELD;
                (load_held(&mut self.held, id, &mut buf), false)
            } else {
                let Some(socket) = conn.socket.as_mut() else { break };
                if let Origin::Client(link) = &conn.origin {
                    if !link.connected {
                        // Wait for the connect to complete (writable); an answer of the proxy
                        // moves its tunnel on (`proxy.rs`).
                        if super::proxy::proxy_exchanging(conn) {
                            self.proxy_progress(id);
                        }
                        break;
                    }
                }
                let n = match socket.read(&mut buf) {
                    Ok(0) => {
                        self.peer_closed(id, None);
                        break;
                    }
                    Ok(n) => n,
                    // Nothing new, but frames that came with a request accepted after its `on_accept`
                    // wait in the connection: decode them (the one `process_input` call keeps the hot
                    // path inlined).
                    Err(err)
                        if err.kind() == io::ErrorKind::WouldBlock && conn.flags & PULL_BUFFERED != 0 =>
                    {
                        0
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        // The TLS handshake may have produced records to send.
                        if socket.wants_write() {
                            self.mark_dirty(id);
                        }
                        break;
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => {
                        self.peer_closed(id, Some(err));
                        break;
                    }
                };
                let drained = drain == Drain::UntilShortRead && n < buf.len() && socket.is_plain();
                conn.last_read_ms = self.now_ms as u32;
                let answered = conn.flags & AWAITING_PONG != 0;
                conn.flags &= !(AWAITING_PONG | PULL_BUFFERED);
                if socket.wants_write() {
                    self.mark_dirty(id);
                }
                if answered {
                    // The timer waits for the pong deadline: move it to the next ping.
                    self.ping_answered(id);
                }
                (n, drained)
            };
            // permessage-deflate without context takeover: codecs come from the loop's pool for
            // the messages of this read and go back after it.
            let deflated = compressed
                && match self.conns.get_mut(id) {
                    Some(conn) => lend_deflate(&mut conn.endpoint, &mut self.deflate_pool),
                    None => false,
                };
            let (count, alive) = if compressed {
                self.process_compressed_input(handler, id, &mut buf[..n])
            } else {
                self.process_input::<false>(handler, id, &mut buf[..n])
            };
            if deflated {
                if let Some(conn) = self.conns.get_mut(id) {
                    return_deflate(&mut conn.endpoint, &mut self.deflate_pool);
                }
            }
            delivered += count;
            // A read held back by the host's pause is not finished even when it drained the
            // socket: go round once more, to the pause check that puts it on `unread`.
            let held_for_host = compressed && self.conns.get(id).is_some_and(|c| c.flow & HELD != 0);
            if !alive || (drained && !held_for_host) {
                break;
            }
        }
        self.reading = None;
        self.read_buf = buf;
        delivered
    }

    /// Decodes `input` and delivers its events. Returns the event count and whether the connection
    /// is still there to read from.
    /// With `INFLATES` (permessage-deflate negotiated) [`Handler::should_pause`] is asked before
    /// each event too, so that a paused host's queue grows by at most one inflated message past
    /// its bound rather than by everything one read inflates to; the rest of the read is held.
    /// `INFLATES` is a constant so that the uncompressed loop carries no test of it; each
    /// instance has one call, so the uncompressed one stays inlined into [`Context::readable`].
    fn process_input<const INFLATES: bool>(
        &mut self,
        handler: &mut dyn Handler,
        id: ConnId,
        input: &mut [u8],
    ) -> (usize, bool) {
        let mut feed = Feed::new(input);
        let mut delivered = 0;
        // The clock does not move while one read is decoded (`now_ms` is set once per poll).
        let now_ms = self.now_ms as u32;
        loop {
            let Some(conn) = self.conns.get_mut(id) else {
                return (delivered, false);
            };
            if conn.flow & PAUSED != 0 || (INFLATES && handler.should_pause()) {
                // A handler's send passed the high-water mark (or it paused reading), or the
                // host's queue is full: deliver nothing more; keep the rest of this read for when
                // reading resumes.
                if hold(&mut self.held, id, feed.unread()) {
                    conn.flow |= HELD;
                }
                return (delivered, true);
            }
            // The steady state, kept lean: a whole message that changed nothing else (no output,
            // no frame record; a traced connection never takes this path).
            if let Some(event) = feed.fast_endpoint(&mut conn.endpoint) {
                conn.last_message_ms = now_ms;
                delivered += 1;
                self.deliver(handler, id, event);
                continue;
            }
            if self.tracer.is_some() && !conn.endpoint.is_open() {
                if let Some(tracer) = self.tracer.as_mut() {
                    tracer.trace(
                        id,
                        &TraceEvent::Handshake {
                            direction: Direction::Received,
                            bytes: feed.unread(),
                        },
                    );
                }
            }
            let Some(fed) = feed.general_endpoint(&mut conn.endpoint) else {
                if !conn.endpoint.output().is_empty() {
                    self.mark_dirty(id);
                }
                return (delivered, true);
            };
            delivered += 1;
            if let EndpointFed::Event(
                Event::Text(_) | Event::Binary(_) | Event::Fragment { last: true, .. },
            ) = fed
            {
                // Activity for `idle_timeout`: a whole data message (pings and pieces are not).
                conn.last_message_ms = now_ms;
            }
            if !conn.endpoint.output().is_empty() {
                self.mark_dirty(id);
            }
            if self.tracer.is_some() {
                self.drain_frame_log(id);
            }
            match fed {
                EndpointFed::Event(event) => self.deliver(handler, id, event),
                EndpointFed::Request => self.handle_request(handler, id),
                EndpointFed::HttpRequest(request) => self.handle_http(handler, id, request),
                EndpointFed::HttpFailed(_) => {
                    // The error response is queued; the connection closes once it is written.
                    self.mark_dirty(id);
                    return (delivered, false);
                }
                EndpointFed::Open(response) => self.handle_client_open(handler, id, response),
                EndpointFed::HandshakeFailed(err) => {
                    self.mark_dirty(id);
                    if matches!(self.conns.get(id).map(|c| &c.origin), Some(Origin::Client(_))) {
                        self.fail_client(id, Error::Handshake(err));
                    }
                    return (delivered, false);
                }
            }
        }
    }

    /// [`Context::process_input`] for a permessage-deflate connection, out of line.
    #[inline(never)]
    fn process_compressed_input(
        &mut self,
        handler: &mut dyn Handler,
        id: ConnId,
        input: &mut [u8],
    ) -> (usize, bool) {
        self.process_input::<true>(handler, id, input)
    }

    #[inline(always)]
    fn deliver(&mut self, handler: &mut dyn Handler, id: ConnId, event: Event<'_>) {
        match event {
            Event::Text(text) => handler.on_message(self, id, Message::Text(text)),
            Event::Binary(data) => handler.on_message(self, id, Message::Binary(data)),
            Event::Fragment {
                kind,
                data,
                first,
                last,
            } => handler.on_fragment(
                self,
                id,
                Fragment {
                    kind,
                    data,
                    first,
                    last,
                },
            ),
            Event::Ping(payload) => {
                self.mark_dirty(id);
                handler.on_ping(self, id, payload)
            }
            Event::Pong(payload) => handler.on_pong(self, id, payload),
            Event::Error(err) => {
                self.mark_dirty(id);
                handler.on_error(self, Some(id), &Error::Protocol(err))
            }
            Event::Closed(info) => {
                let close_timeout = self.options_of(id).map_or(Duration::ZERO, |o| o.close_timeout);
                let now = self.now_ms;
                let Some(conn) = self.conns.get_mut(id) else {
                    return;
                };
                if conn.has(CLOSE_REPORTED) {
                    return;
                }
                conn.flags |= CLOSE_REPORTED;
                // The protocol is done but its last output (the close reply, echoes queued before
                // it) may take a while to write: allow the close timeout for that. Otherwise a
                // deadline set while open (the ping timer) would fire meanwhile and drop the
                // connection as a timed-out closing handshake, losing the reply (found by the
                // soak: clean closes from the peer reported 1006 on its side).
                let deadline = conn.set_deadline(now + millis(close_timeout));
                self.timers.push(deadline, id);
                self.mark_dirty(id);
                if self.close_for_reconnect(id, info.code, info.reason) {
                    return;
                }
                handler.on_close(self, id, &info);
            }
        }
    }
}

/// Moves the input held for `id` by a pause into `buf` (grown if needed, which cannot happen: held
/// input is the rest of one read); returns its length (0 if none).
#[cold]
#[inline(never)]
fn load_held(held: &mut Vec<(ConnId, Vec<u8>)>, id: ConnId, buf: &mut Vec<u8>) -> usize {
    let Some(index) = held.iter().position(|(conn, _)| *conn == id) else {
        return 0;
    };
    let (_, input) = held.swap_remove(index);
    if input.len() > buf.len() {
        buf.resize(input.len(), 0);
    }
    buf[..input.len()].copy_from_slice(&input);
    input.len()
}

/// Keeps the undecoded rest of a read of `id` whose reading was paused meanwhile.
#[cold]
#[inline(never)]
fn hold(held: &mut Vec<(ConnId, Vec<u8>)>, id: ConnId, rest: &[u8]) -> bool {
    if rest.is_empty() {
        return false;
    }
    held.push((id, rest.to_vec()));
    true
}

/// Lends codecs of `pool` to a connection that negotiated permessage-deflate; returns whether it
/// did (then [`return_deflate`] must follow once the messages at hand are handled).
#[inline]
pub(super) fn lend_deflate(endpoint: &mut Endpoint, pool: &mut DeflatePool) -> bool {
    match endpoint.connection() {
        Some(connection) if connection.deflate_params().is_some() => {
            connection.lend_deflate_state(pool);
            true
        }
        _ => false,
    }
}

/// Takes back what [`lend_deflate`] lent (codecs that a half-handled message still needs stay),
/// and frees the buffer inflated messages were assembled in: a connection that only receives
/// never reaches the drained-output point where `flush_conn` releases its memory.
pub(super) fn return_deflate(endpoint: &mut Endpoint, pool: &mut DeflatePool) {
    if let Some(connection) = endpoint.connection() {
        connection.return_deflate_state(pool);
        if connection.output().is_empty() {
            connection.release_memory();
        }
    }
}
