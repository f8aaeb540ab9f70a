//! Sending: messages, fragments, pings, pongs, the closing handshake, aborting, and the
//! `max_buffered` check they share.

use std::time::Duration;

use crate::net::error::{Error, Result};
use crate::net::id::ConnId;
use crate::proto::{Connection, DeflatePool, MessageKind, PreparedMessage, Sender};

use super::{
    Context, DIRTY, Lost, Origin, PAUSED, PAUSED_AUTO, PAUSED_MANUAL, WANTS_WRITABLE, millis, not_found,
};

impl Context {
    /// Queues a text message (not validated again: a `&str` is UTF-8). See [`Context::send`].
    #[inline]
    pub fn send_text(&mut self, conn: ConnId, text: &str) -> Result<()> {
        match self.with_sender(conn, text.len(), true, |sender| sender.send_text(text)) {
            Ok(()) => Ok(()),
            Err(err) => self.send_failed(conn, MessageKind::Text, text.as_bytes(), err),
        }
    }

    /// Queues a binary message. See [`Context::send`].
    pub fn send_binary(&mut self, conn: ConnId, data: &[u8]) -> Result<()> {
        self.send(conn, MessageKind::Binary, data)
    }

    /// Queues a whole message (text must be UTF-8). Fails with [`Error::WouldBlock`] when the
    /// connection's queue is at `max_buffered` (wait for `on_writable`), [`Error::InvalidState`]
    /// before the connection opened, [`Error::Send`] after a close was sent, [`Error::NotFound`] for
    /// a closed or unknown id.
    #[inline]
    pub fn send(&mut self, conn: ConnId, kind: MessageKind, data: &[u8]) -> Result<()> {
        match self.with_sender(conn, data.len(), true, |sender| sender.send_message(kind, data)) {
            Ok(()) => Ok(()),
            Err(err) => self.send_failed(conn, kind, data, err),
        }
    }

    /// Queues a message prepared once for many connections (see [`PreparedMessage`]): server
    /// connections that compress without context takeover share one compression of it (per
    /// window, level and memory level), other server connections share its plain frame, and
    /// connections that keep a compression context (and clients) encode it themselves. Errors as
    /// for [`Context::send`].
    pub fn send_prepared(&mut self, conn: ConnId, message: &mut PreparedMessage) -> Result<()> {
        let size = message.data().len();
        self.with_sender(conn, size, true, |sender| sender.send_prepared(message))
    }

    /// Sends one message to every connection of `conns` (broadcast, pub/sub fan-out), encoding
    /// and compressing it once for all that can share it (see [`Context::send_prepared`]).
    /// Returns the connections that did not take it, with the reason (e.g.
    /// [`Error::WouldBlock`] for a full queue, [`Error::NotFound`] for a closed one); the others
    /// have it queued. Text must be UTF-8 ([`Error::Send`] before anything is queued).
    pub fn broadcast(
        &mut self,
        conns: &[ConnId],
        kind: MessageKind,
        data: &[u8],
    ) -> Result<Vec<(ConnId, Error)>> {
        let mut message = PreparedMessage::new(kind, data)?;
        let mut failed = Vec::new();
        for &conn in conns {
            if let Err(err) = self.send_prepared(conn, &mut message) {
                failed.push((conn, err));
            }
        }
        Ok(failed)
    }

    /// Begins a fragmented message of unknown total length (see [`Sender::begin_message`]).
    pub fn begin_message(&mut self, conn: ConnId, kind: MessageKind, data: &[u8]) -> Result<()> {
        self.with_sender(conn, data.len(), true, |sender| sender.begin_message(kind, data))
    }

    /// Sends the next fragment of the message begun with [`Context::begin_message`].
    pub fn continue_message(&mut self, conn: ConnId, data: &[u8]) -> Result<()> {
        self.with_sender(conn, data.len(), true, |sender| sender.continue_message(data))
    }

    /// Sends the last fragment of the message begun with [`Context::begin_message`].
    pub fn finish_message(&mut self, conn: ConnId, data: &[u8]) -> Result<()> {
        self.with_sender(conn, data.len(), true, |sender| sender.finish_message(data))
    }

    /// Queues a ping (payload at most 125 bytes). Control frames ignore `max_buffered`.
    pub fn ping(&mut self, conn: ConnId, payload: &[u8]) -> Result<()> {
        self.with_sender(conn, payload.len(), false, |sender| sender.ping(payload))
    }

    /// Queues an unsolicited pong.
    pub fn pong(&mut self, conn: ConnId, payload: &[u8]) -> Result<()> {
        self.with_sender(conn, payload.len(), false, |sender| sender.pong(payload))
    }

    /// Starts the closing handshake with `code` and `reason`. The `on_close` handler runs when the
    /// peer answers, or after `close_timeout`. Before the connection opened, the connection is
    /// dropped instead (a client's connect is cancelled) and `on_close` reports 1006.
    ///
    /// A reconnecting client ([`crate::net::ConnectOptions::reconnect`]) stops reconnecting:
    /// waiting for a retry, it closes at once (1006); queued messages are reported undelivered.
    pub fn close(&mut self, conn: ConnId, code: u16, reason: &str) -> Result<()> {
        self.stop_reconnecting(conn);
        self.close_conn(conn, code, reason)
    }

    /// [`Context::close`] without stopping a reconnecting client (the idle timeout).
    pub(super) fn close_conn(&mut self, conn: ConnId, code: u16, reason: &str) -> Result<()> {
        let now = self.now();
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        let Some(connection) = entry.endpoint.connection() else {
            self.abort(conn)?;
            return Ok(());
        };
        connection.close(code, reason)?;
        if entry.flow & PAUSED != 0 {
            // The peer's answer is behind whatever it sent before: read on, so the closing
            // handshake completes instead of waiting for the close timeout.
            entry.flow &= !PAUSED;
            self.unread.push(conn);
        }
        let timeout = match &entry.origin {
            Origin::Accepted(index) => self.listeners[*index as usize]
                .as_ref()
                .map_or(Duration::from_secs(5), |l| l.options.connection.close_timeout),
            Origin::Client(link) => link.options.connection.close_timeout,
        };
        let deadline = entry.set_deadline(now + millis(timeout));
        self.timers.push(deadline, conn);
        self.mark_dirty(conn);
        Ok(())
    }

    /// Drops the connection at once, without a closing handshake. `on_close` reports 1006 (not
    /// clean) at the next `poll` if the connection had been reported open. The id is invalid after.
    /// A reconnecting client stops reconnecting.
    pub fn abort(&mut self, conn: ConnId) -> Result<()> {
        if self.conns.get(conn).is_none() {
            return Err(Error::NotFound);
        }
        self.stop_reconnecting(conn);
        self.drop_conn(
            conn,
            Some(Lost {
                initiated_locally: true,
            }),
        );
        Ok(())
    }

    /// Stops reading `conn`'s socket and delivering its events until [`Context::resume_reading`]
    /// (for applications that hand messages to workers). Events of data already read are held,
    /// not delivered, and come first when reading resumes; TCP pushes back on the peer once the
    /// kernel's buffers fill. Pings and the peer's close are behind that data, so they are answered
    /// after reading resumes; a [`Context::close`] by this end resumes reading so the closing
    /// handshake completes. The ping timer does not count a paused connection's silence. Pausing
    /// twice is the same as once. [`Error::NotFound`] for an unknown id.
    pub fn pause_reading(&mut self, conn: ConnId) -> Result<()> {
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        entry.flow |= PAUSED_MANUAL;
        Ok(())
    }

    /// Undoes [`Context::pause_reading`]: reading resumes at the next `poll` (at once, without
    /// waiting for new data), unless the automatic pause (`read_pause_high_water`) also holds it,
    /// in which case it resumes when the queue drains. Resuming a connection not paused does
    /// nothing. [`Error::NotFound`] for an unknown id.
    pub fn resume_reading(&mut self, conn: ConnId) -> Result<()> {
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        if entry.flow & PAUSED_MANUAL == 0 {
            return Ok(());
        }
        entry.flow &= !PAUSED_MANUAL;
        if entry.flow & PAUSED == 0 {
            self.unread.push(conn);
        }
        Ok(())
    }

    /// Whether reading of `conn` is paused: by [`Context::pause_reading`] or because its queue is
    /// above `read_pause_high_water`. [`Error::NotFound`] for an unknown id.
    pub fn is_reading_paused(&self, conn: ConnId) -> Result<bool> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(entry.flow & PAUSED != 0)
    }

    /// Bytes queued for sending and not yet taken by the socket (the browser's `bufferedAmount`).
    pub fn buffered_amount(&self, conn: ConnId) -> Result<usize> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(entry.endpoint.output().len())
    }

    /// Runs `send` on the connection's sender and schedules the write. One slot lookup: sending is
    /// the hot path of every echo, chat or game server.
    #[inline]
    pub(super) fn with_sender(
        &mut self,
        conn: ConnId,
        size: usize,
        capped: bool,
        send: impl FnOnce(&mut Sender) -> std::result::Result<(), crate::proto::SendError>,
    ) -> Result<()> {
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        let options = match &entry.origin {
            Origin::Accepted(index) => {
                &self.listeners[*index as usize]
                    .as_ref()
                    .expect("listeners are never removed")
                    .options
                    .connection
            }
            Origin::Client(link) => &link.options.connection,
        };
        let (max_buffered, high_water) = (options.max_buffered, options.read_pause_high_water);
        let Some(connection) = entry.endpoint.connection() else {
            return Err(Error::InvalidState("the connection is not open yet"));
        };
        let deflated = connection.is_compressed();
        let sender = connection.sender();
        if sender.capacity() == 0 {
            if let Some(buf) = self.buffer_pool.pop() {
                sender.give_buffer(buf);
            }
        }
        let buffered = sender.buffered_amount();
        const _: () = assert!(PAUSED_AUTO == 1);
        if capped && buffered > 0 {
            let after = buffered.saturating_add(size);
            if after > max_buffered {
                entry.flags |= WANTS_WRITABLE;
                return Err(Error::WouldBlock);
            }
            // Receive-side flow control (`ConnectionOptions::read_pause_high_water`; 0, off, wraps
            // to a mark never passed): a message sent onto a queue that it takes past the mark
            // pauses reading until the queue drains to the low-water mark. Checked where the
            // `max_buffered` sum is at hand, so a message sent onto an empty queue never pauses
            // (the next one does): the queue stays under the mark plus one message, or two
            // messages when one alone is larger than the mark. Set before the send, without a
            // branch (`PAUSED_AUTO` is bit 0): should the send fail, the queue still holds bytes,
            // so its drain lifts the pause.
            entry.flow |= u8::from(after > high_water.wrapping_sub(1));
        }
        if deflated {
            send_compressed(connection, &mut self.deflate_pool, send)?;
        } else {
            send(connection.sender())?;
        }
        if !entry.has(DIRTY) {
            entry.flags |= DIRTY;
            self.dirty.push(conn);
        }
        Ok(())
    }
}

/// permessage-deflate: a compressor from the loop's pool for this one message, back after. Kept
/// out of line so that the uncompressed path of [`Context::with_sender`] stays one inlined call.
#[inline(never)]
fn send_compressed(
    connection: &mut Connection,
    pool: &mut DeflatePool,
    send: impl FnOnce(&mut Sender) -> std::result::Result<(), crate::proto::SendError>,
) -> std::result::Result<(), crate::proto::SendError> {
    connection.lend_deflate_state(pool);
    let result = send(connection.sender());
    connection.return_deflate_state(pool);
    result
}
