//! The thread-safe handle: send, ping and close from any thread.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mio::Waker;

use super::error::{Error, Result};
use super::id::ConnId;
use crate::proto::MessageKind;

/// Most bytes that other threads may queue for the loop before their sends fail with
/// [`Error::WouldBlock`]. 64 MiB.
pub const REMOTE_QUEUE_CAP: usize = 64 << 20;

/// Work handed from other threads to the loop thread.
#[derive(Debug)]
pub(crate) enum Command {
    Send(ConnId, MessageKind, Vec<u8>),
    Ping(ConnId, Vec<u8>),
    Close(ConnId, u16, String),
    PauseReading(ConnId),
    ResumeReading(ConnId),
    HttpBegin(ConnId, u16, Vec<(String, String)>, Option<u64>),
    HttpWrite(ConnId, Vec<u8>),
    HttpEnd(ConnId),
}

/// State shared between the loop and its [`Remote`] handles and resolver threads.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) waker: Waker,
    pub(crate) inbox: Mutex<Inbox>,
}

#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub(crate) commands: Vec<Command>,
    pub(crate) queued_bytes: usize,
    pub(crate) resolved: Vec<(ConnId, std::io::Result<Vec<SocketAddr>>)>,
    pub(crate) stop: bool,
}

/// A cloneable, `Send + Sync` handle to a [`crate::net::Context`] for other threads.
///
/// Calls enqueue work and wake the loop; the loop performs it during its next `poll`, in the order
/// each thread issued it. Errors that only the loop can detect (the connection closed meanwhile, a
/// bad close code) are reported to the handler's `on_error` with the connection id. The only errors
/// returned here are [`Error::WouldBlock`], when other threads have queued more than
/// [`REMOTE_QUEUE_CAP`] bytes the loop has not taken yet, and [`Error::InvalidArgument`] for a
/// control payload over 125 bytes.
///
/// # Back-pressure
/// Messages sent from here obey the connection's `max_buffered` exactly as sends on the loop
/// thread do: when the loop takes a message and the connection's queue is full, the message is
/// dropped and reported to `on_error(Some(conn), Error::QueueFull { dropped })` (`dropped` = its
/// size in bytes); `on_writable` follows once the queue drains to the low-water mark, and the
/// message may then be sent again. Pings and closes are never refused for this.
#[derive(Debug, Clone)]
pub struct Remote {
    pub(crate) shared: Arc<Shared>,
}

impl Remote {
    /// Queues a text message for `conn`.
    pub fn send_text(&self, conn: ConnId, text: impl Into<String>) -> Result<()> {
        self.push(Command::Send(conn, MessageKind::Text, text.into().into_bytes()))
    }

    /// Queues a binary message for `conn`.
    pub fn send_binary(&self, conn: ConnId, data: impl Into<Vec<u8>>) -> Result<()> {
        self.push(Command::Send(conn, MessageKind::Binary, data.into()))
    }

    /// Queues a ping for `conn`.
    pub fn ping(&self, conn: ConnId, payload: impl Into<Vec<u8>>) -> Result<()> {
        let payload = payload.into();
        if payload.len() > 125 {
            return Err(Error::InvalidArgument("ping payload over 125 bytes".into()));
        }
        self.push(Command::Ping(conn, payload))
    }

    /// Starts the closing handshake of `conn`.
    pub fn close(&self, conn: ConnId, code: u16, reason: impl Into<String>) -> Result<()> {
        self.push(Command::Close(conn, code, reason.into()))
    }

    /// [`crate::net::Context::pause_reading`] from another thread (performed at the loop's next
    /// `poll`; an unknown or closed id is reported to `on_error` as [`Error::NotFound`]).
    pub fn pause_reading(&self, conn: ConnId) -> Result<()> {
        self.push(Command::PauseReading(conn))
    }

    /// [`crate::net::Context::resume_reading`] from another thread (e.g. a worker that drained its
    /// queue), performed at the loop's next `poll`.
    pub fn resume_reading(&self, conn: ConnId) -> Result<()> {
        self.push(Command::ResumeReading(conn))
    }

    /// [`crate::net::Context::http_respond`] from another thread: answers the plain HTTP request
    /// of `conn` (e.g. after a worker computed the answer). Errors (no request waiting, a bad
    /// status or header) go to `on_error` with the connection id.
    pub fn http_respond(
        &self,
        conn: ConnId,
        status: u16,
        headers: Vec<(String, String)>,
        body: impl Into<Vec<u8>>,
    ) -> Result<()> {
        let body = body.into();
        self.push(Command::HttpBegin(conn, status, headers, Some(body.len() as u64)))?;
        if !body.is_empty() {
            self.push(Command::HttpWrite(conn, body))?;
        }
        self.push(Command::HttpEnd(conn))
    }

    /// [`crate::net::Context::http_begin`] from another thread.
    pub fn http_begin(
        &self,
        conn: ConnId,
        status: u16,
        headers: Vec<(String, String)>,
        length: Option<u64>,
    ) -> Result<()> {
        self.push(Command::HttpBegin(conn, status, headers, length))
    }

    /// [`crate::net::Context::http_write`] from another thread. The loop applies the connection's
    /// `max_buffered` as for sends: a piece over it is dropped and reported to `on_error` as
    /// [`Error::QueueFull`] (then `on_writable`, and the piece may be written again).
    pub fn http_write(&self, conn: ConnId, data: impl Into<Vec<u8>>) -> Result<()> {
        self.push(Command::HttpWrite(conn, data.into()))
    }

    /// [`crate::net::Context::http_end`] from another thread.
    pub fn http_end(&self, conn: ConnId) -> Result<()> {
        self.push(Command::HttpEnd(conn))
    }

    /// Wakes the loop: a blocked `poll` returns (with no events if there was nothing else to do).
    pub fn wake(&self) -> Result<()> {
        Ok(self.shared.waker.wake()?)
    }

    /// Makes the context's `run` return at its next iteration.
    pub fn stop(&self) -> Result<()> {
        self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        self.wake()
    }

    fn push(&self, command: Command) -> Result<()> {
        let size = match &command {
            Command::Send(_, _, data) | Command::Ping(_, data) | Command::HttpWrite(_, data) => data.len(),
            Command::HttpBegin(_, _, headers, _) => headers.iter().map(|(n, v)| n.len() + v.len()).sum(),
            Command::HttpEnd(_) => 0,
            Command::Close(_, _, reason) => reason.len(),
            Command::PauseReading(_) | Command::ResumeReading(_) => 0,
        };
        {
            let mut inbox = self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner());
            if inbox.queued_bytes > 0 && inbox.queued_bytes + size > REMOTE_QUEUE_CAP {
                return Err(Error::WouldBlock);
            }
            inbox.queued_bytes += size;
            let first = inbox.commands.is_empty();
            inbox.commands.push(command);
            if !first {
                return Ok(()); // a wake-up is already on its way
            }
        }
        self.wake()
    }
}
