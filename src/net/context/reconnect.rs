//! Client auto-reconnect on the loop side: the per-connection link record, turning a drop into a
//! scheduled retry (the slot and its id stay), the retry timer, the offline send queue and the
//! report of what it could not deliver. Options and events: `net/reconnect.rs`.
//!
//! A reconnecting connection is in one of three states: open (or connecting: an attempt is under
//! way, through the ordinary connect path of `connect.rs`), or waiting (`Link::waiting`: no
//! socket, a fresh handshake endpoint, and the retry as the connection's one timer). Nothing here
//! sleeps: a stop removes the slot at once, and the pending timer entry goes stale.

use std::collections::VecDeque;
use std::time::Duration;

use crate::net::error::{Error, Result};
use crate::net::handler::{Handler, Message};
use crate::net::id::ConnId;
use crate::net::reconnect::{Jitter, ReconnectDecision, ReconnectEvent, ReconnectOptions, UndeliveredReason};
use crate::proto::{Endpoint, MessageKind};

use super::{Context, DIRTY, Deferred, HELD, Lost, Origin, millis, not_found};

/// The reconnect state of one client connection (`ClientLink::reconnect`).
#[derive(Debug)]
pub(super) struct Link {
    options: ReconnectOptions,
    /// Attempts since the last connection that stayed up for `stable_after`.
    attempt: u32,
    /// No more attempts: the next drop ends the connection.
    stopped: bool,
    /// No socket: a retry is pending (or its `on_reconnect` is being asked).
    waiting: bool,
    /// When the connection last opened (ms since the context started).
    opened_at: Option<u64>,
    /// Why the connection is ending, when the peer closed it cleanly (no error to take).
    last_close: Option<String>,
    jitter: Jitter,
    queue: VecDeque<(MessageKind, Vec<u8>)>,
    queued_bytes: usize,
}

impl Link {
    /// The link of a new connection; `None` without reconnect options.
    pub(super) fn new(options: Option<&ReconnectOptions>, seed: u64) -> Result<Option<Box<Self>>> {
        let Some(options) = options else {
            return Ok(None);
        };
        options.check().map_err(Error::InvalidArgument)?;
        let seed = if options.seed != 0 { options.seed } else { seed };
        Ok(Some(Box::new(Self {
            options: *options,
            attempt: 0,
            stopped: false,
            waiting: false,
            opened_at: None,
            last_close: None,
            jitter: Jitter::new(seed),
            queue: VecDeque::new(),
            queued_bytes: 0,
        })))
    }
}

/// What [`Context::reconnect_state`] reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectState {
    /// Attempts since the last stable connection (0 while a stable connection is open).
    pub attempt: u32,
    /// A retry is pending: the connection is waiting, without a socket.
    pub waiting: bool,
    /// Messages in the offline queue.
    pub queued_messages: usize,
    /// Their payload bytes (at most `offline_queue_bytes`).
    pub queued_bytes: usize,
}

/// Whether a connection of this origin waits for a retry (its timer is the retry).
pub(super) fn waiting(origin: &Origin) -> bool {
    matches!(origin, Origin::Client(client) if client.reconnect.as_deref().is_some_and(|l| l.waiting))
}

impl Context {
    fn link_mut(&mut self, id: ConnId) -> Option<&mut Link> {
        match &mut self.conns.get_mut(id)?.origin {
            Origin::Client(client) => client.reconnect.as_deref_mut(),
            Origin::Accepted(_) => None,
        }
    }

    /// The reconnect state of `conn`. [`Error::NotFound`] for an unknown id,
    /// [`Error::InvalidState`] for a connection without reconnect options.
    pub fn reconnect_state(&self, conn: ConnId) -> Result<ReconnectState> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        let link = match &entry.origin {
            Origin::Client(client) => client.reconnect.as_deref(),
            Origin::Accepted(_) => None,
        }
        .ok_or(Error::InvalidState("the connection does not reconnect"))?;
        Ok(ReconnectState {
            attempt: link.attempt,
            waiting: link.waiting,
            queued_messages: link.queue.len(),
            queued_bytes: link.queued_bytes,
        })
    }

    /// Stops reconnecting `conn`: an open connection stays open and ends with its next drop
    /// (reported by `on_close` as usual); a connection waiting for a retry closes now (queued
    /// messages reported undelivered, `on_close` 1006 at the next `poll`); an attempt under way
    /// is its last. Never blocks. [`Error::NotFound`] for an unknown id, [`Error::InvalidState`]
    /// for a connection without reconnect options.
    pub fn stop_reconnect(&mut self, conn: ConnId) -> Result<()> {
        if self.conns.get(conn).is_none() {
            return Err(Error::NotFound);
        }
        let link = self
            .link_mut(conn)
            .ok_or(Error::InvalidState("the connection does not reconnect"))?;
        link.stopped = true;
        if link.waiting {
            self.drop_conn(
                conn,
                Some(Lost {
                    initiated_locally: true,
                }),
            );
        }
        Ok(())
    }

    /// Changes the delay of `conn`'s pending retry to `delay` from now (also from inside
    /// `on_reconnect`). [`Error::NotFound`] for an unknown id, [`Error::InvalidState`] if no retry
    /// is pending.
    pub fn reconnect_delay(&mut self, conn: ConnId, delay: Duration) -> Result<()> {
        if self.conns.get(conn).is_none() {
            return Err(Error::NotFound);
        }
        if !self.link_mut(conn).is_some_and(|l| l.waiting) {
            return Err(Error::InvalidState("no reconnect attempt is pending"));
        }
        self.schedule_retry(conn, delay);
        Ok(())
    }

    /// The application closed or aborted `conn`: it does not reconnect.
    pub(super) fn stop_reconnecting(&mut self, conn: ConnId) {
        if let Some(link) = self.link_mut(conn) {
            link.stopped = true;
        }
    }

    /// Whether `conn` waits for a retry (its timer is the retry, not a handshake deadline).
    pub(super) fn retry_pending(&mut self, conn: ConnId) -> bool {
        self.link_mut(conn).is_some_and(|l| l.waiting)
    }

    /// Whether a name resolution result is for the attempt under way (not a late one of an
    /// attempt that timed out).
    pub(super) fn wants_resolution(&mut self, conn: ConnId) -> bool {
        match self.conns.get(conn).map(|c| &c.origin) {
            Some(Origin::Client(client)) => {
                client.addrs.is_empty() && !client.reconnect.as_deref().is_some_and(|l| l.waiting)
            }
            _ => true,
        }
    }

    fn schedule_retry(&mut self, conn: ConnId, delay: Duration) {
        let now = self.now();
        let Some(entry) = self.conns.get_mut(conn) else {
            return;
        };
        let deadline = entry.set_deadline((now + millis(delay)).max(1));
        self.timers.push(deadline, conn);
    }

    /// The retry timer of `conn` fired: attempt again through the connect path.
    pub(super) fn retry_now(&mut self, conn: ConnId) {
        let Some(link) = self.link_mut(conn) else {
            return;
        };
        link.waiting = false;
        if let Err(err) = self.start_connect(conn) {
            self.fail_client(conn, err);
        }
    }

    /// A peer's close of a reconnecting connection completed: keep it from `on_close` (the
    /// connection reconnects once the transport ends). Returns true if it did.
    pub(super) fn close_for_reconnect(&mut self, conn: ConnId, code: u16, reason: &str) -> bool {
        let Some(entry) = self.conns.get_mut(conn) else {
            return false;
        };
        let Origin::Client(client) = &mut entry.origin else {
            return false;
        };
        let Some(link) = client.reconnect.as_deref_mut() else {
            return false;
        };
        if link.stopped {
            return false;
        }
        link.last_close = Some(if reason.is_empty() {
            format!("closed by the server ({code})")
        } else {
            format!("closed by the server ({code} {reason})")
        });
        entry.flags &= !super::CLOSE_REPORTED;
        true
    }

    /// The connection opened: note when (for `stable_after`) and write the offline queue, in
    /// order, before `on_open` runs.
    pub(super) fn link_opened(&mut self, conn: ConnId) {
        let now = self.now_ms;
        let Some(link) = self.link_mut(conn) else {
            return;
        };
        link.opened_at = Some(now);
        link.last_close = None;
        let queue = std::mem::take(&mut link.queue);
        link.queued_bytes = 0;
        for (kind, data) in queue {
            // Bounded by `offline_queue_bytes`, so past `max_buffered` is allowed here.
            let _ = self.with_sender(conn, data.len(), false, |sender| sender.send_message(kind, &data));
        }
    }

    /// A send failed with `err`: if `conn` was not open (no connection yet, between two, or
    /// the peer's close under way), a reconnecting client may queue the message instead. Out of
    /// line, so the send path pays one test of its result.
    #[cold]
    #[inline(never)]
    pub(super) fn send_failed(
        &mut self,
        conn: ConnId,
        kind: MessageKind,
        data: &[u8],
        err: Error,
    ) -> Result<()> {
        match err {
            Error::InvalidState(_) | Error::Send(crate::proto::SendError::Closed) => {
                self.send_offline(conn, kind, data, err)
            }
            err => Err(err),
        }
    }

    /// Queues a message for `conn` if it reconnects with an offline queue.
    fn send_offline(&mut self, conn: ConnId, kind: MessageKind, data: &[u8], refused: Error) -> Result<()> {
        let user_data = self.conns.get(conn).map_or(0, |c| c.user_data);
        let Some(link) = self.link_mut(conn) else {
            return Err(refused);
        };
        if link.stopped {
            return Err(refused);
        }
        if link.options.offline_queue_bytes == 0 {
            return Err(Error::NotConnected);
        }
        if kind == MessageKind::Text && std::str::from_utf8(data).is_err() {
            return Err(Error::Send(crate::proto::SendError::InvalidUtf8));
        }
        let bound = link.options.offline_queue_bytes;
        let mut dropped = Vec::new();
        if data.len() > bound {
            dropped.push((kind, data.to_vec()));
        } else {
            while link.queued_bytes + data.len() > bound {
                let Some(old) = link.queue.pop_front() else { break };
                link.queued_bytes -= old.1.len();
                dropped.push(old);
            }
            link.queued_bytes += data.len();
            link.queue.push_back((kind, data.to_vec()));
        }
        for (kind, data) in dropped {
            self.deferred.push_back(Deferred::Undelivered(
                conn,
                kind,
                data,
                UndeliveredReason::QueueFull,
                user_data,
            ));
        }
        Ok(())
    }

    /// Called first by `drop_conn`: if `conn` reconnects, resets its slot for a retry (same id,
    /// no socket, a fresh handshake) and asks `on_reconnect`; returns true. Otherwise reports what
    /// its offline queue still holds (before the close report) and returns false.
    pub(super) fn reconnect_instead(&mut self, id: ConnId) -> bool {
        if self.link_mut(id).is_none() {
            return false; // servers and clients without reconnect: one look-up
        }
        let now = self.now();
        let error = self.take_errors(id);
        let Some(conn) = self.conns.get_mut(id) else {
            return false;
        };
        let user_data = conn.user_data;
        let Origin::Client(client) = &mut conn.origin else {
            return false;
        };
        let Some(link) = client.reconnect.as_deref_mut() else {
            return false;
        };
        let mut ending = if link.stopped {
            Some(UndeliveredReason::Stopped)
        } else {
            None
        };
        if ending.is_none() {
            if link
                .opened_at
                .take()
                .is_some_and(|at| now.saturating_sub(at) >= millis(link.options.stable_after))
            {
                link.attempt = 0;
            }
            link.attempt = link.attempt.saturating_add(1);
            if link.options.max_attempts.is_some_and(|max| link.attempt > max) {
                link.stopped = true;
                ending = Some(UndeliveredReason::Exhausted);
            }
        }
        let endpoint = match ending {
            Some(_) => None,
            None => match Endpoint::client(
                &client.url,
                &client.options.handshake,
                client.options.connection.protocol,
            ) {
                Ok(endpoint) => Some(endpoint),
                Err(_) => {
                    link.stopped = true;
                    ending = Some(UndeliveredReason::Stopped);
                    None
                }
            },
        };
        if let Some(reason) = ending {
            link.queued_bytes = 0;
            for (kind, data) in std::mem::take(&mut link.queue) {
                self.deferred
                    .push_back(Deferred::Undelivered(id, kind, data, reason, user_data));
            }
            if let Some(error) = error {
                // The errors taken above still belong to this connection's end.
                self.deferred
                    .push_back(Deferred::Error(Some(id), error, user_data));
            }
            return false;
        }
        let Some(endpoint) = endpoint else {
            return false;
        };
        let attempt = link.attempt;
        let delay = link.options.delay(attempt, link.jitter.next());
        let description = match (error, link.last_close.take()) {
            (Some(error), _) => error.to_string(),
            (None, Some(close)) => close,
            (None, None) => "connection lost (1006)".to_string(),
        };
        link.waiting = true;
        client.addrs.clear();
        client.next_addr = 0;
        client.connected = false;
        client.last_error = None;
        if let Some(mut socket) = conn.socket.take() {
            let _ = socket.deregister(self.poll.registry());
        }
        conn.endpoint = endpoint;
        conn.details = None;
        // Only `DIRTY` stays: it says the id is on the dirty list (a flush of it finds nothing).
        conn.flags &= DIRTY;
        let held = conn.flow & HELD != 0;
        conn.flow = 0;
        conn.set_deadline(0);
        if held {
            self.held.retain(|(conn, _)| *conn != id);
        }
        self.deferred
            .push_back(Deferred::Reconnect(id, attempt, delay, description));
        true
    }

    /// Takes the errors queued for `id` (reported in the reconnect event instead); returns the
    /// last one.
    fn take_errors(&mut self, id: ConnId) -> Option<Error> {
        if self.link_mut(id).is_none_or(|l| l.stopped) {
            return None;
        }
        let mut last = None;
        let mut kept = std::collections::VecDeque::with_capacity(self.deferred.len());
        for event in self.deferred.drain(..) {
            match event {
                Deferred::Error(Some(conn), error, _) if conn == id => last = Some(error),
                other => kept.push_back(other),
            }
        }
        self.deferred = kept;
        last
    }

    /// Delivers a `Deferred::Reconnect`: schedules the retry, asks `on_reconnect`, applies its
    /// answer.
    pub(super) fn deliver_reconnect(
        &mut self,
        handler: &mut dyn Handler,
        conn: ConnId,
        attempt: u32,
        delay: Duration,
        error: &str,
    ) {
        if !self.retry_pending(conn) {
            return;
        }
        self.schedule_retry(conn, delay);
        let event = ReconnectEvent {
            attempt,
            delay,
            error,
        };
        match handler.on_reconnect(self, conn, &event) {
            ReconnectDecision::Proceed => {}
            ReconnectDecision::Delay(delay) => {
                if self.retry_pending(conn) {
                    self.schedule_retry(conn, delay);
                }
            }
            ReconnectDecision::Stop => {
                let _ = self.stop_reconnect(conn);
            }
        }
    }

    /// Delivers a `Deferred::Undelivered`.
    pub(super) fn deliver_undelivered(
        &mut self,
        handler: &mut dyn Handler,
        conn: ConnId,
        kind: MessageKind,
        data: &[u8],
        reason: UndeliveredReason,
        user_data: u64,
    ) {
        let message = match kind {
            // Checked when it was queued.
            MessageKind::Text => Message::Text(std::str::from_utf8(data).unwrap_or_default()),
            MessageKind::Binary => Message::Binary(data),
        };
        let gone = self.conns.get(conn).is_none();
        if gone {
            self.departed = Some((conn, user_data));
        }
        handler.on_undelivered(self, conn, message, reason);
        if gone {
            self.departed = None;
        }
    }
}
