//! Errors of the event loop.

use std::fmt;
use std::io;

use super::proxy::ProxyError;
use crate::proto::handshake::{HandshakeError, UrlError};
use crate::proto::{ProtocolError, SendError};

/// Everything that can go wrong in [`crate::net`]. Each variant says whose fault it is.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The connection or listener id is stale (already closed) or was never valid.
    NotFound,
    /// The call is not allowed in this state (e.g. sending before the connection opened).
    InvalidState(&'static str),
    /// An argument is invalid.
    InvalidArgument(String),
    /// `poll` was called from inside a handler of the same context.
    Reentrant,
    /// The connection's send buffer is at its cap (`max_buffered`); wait for the writable event.
    WouldBlock,
    /// A message sent through a [`crate::net::Remote`] was dropped on the loop thread because the
    /// connection's queue was at `max_buffered` (reported to `on_error`; `on_writable` follows when
    /// the queue drains, and the message may be sent again). Carries the dropped message's size.
    QueueFull {
        /// Bytes of the dropped message.
        dropped: usize,
    },
    /// Information that was not kept after the handshake; the text names the option that keeps it
    /// (e.g. `ListenOptions::keep_request`).
    Unavailable(&'static str),
    /// The message could not be sent (closing, bad close code, ...).
    Send(SendError),
    /// The peer broke the protocol; the connection was failed with the error's close code.
    Protocol(ProtocolError),
    /// The opening handshake failed (rejected, malformed, wrong accept key, ...).
    Handshake(HandshakeError),
    /// The URL is not a valid ws:// or wss:// URL.
    Url(UrlError),
    /// The host name could not be resolved.
    Resolve(String),
    /// No resolved address accepted the TCP connection.
    Connect(String),
    /// A deadline passed (opening handshake, closing handshake, pong).
    Timeout(&'static str),
    /// TLS failed: bad certificate or key files, or a handshake the peer or we refused (the message
    /// names the reason, e.g. unknown issuer, expired, hostname mismatch).
    Tls(String),
    /// The listener or context is at its connection limit.
    TooManyConnections,
    /// A socket operation failed.
    Io(io::Error),
    /// The proxy did not open the tunnel (see [`ProxyError`]: authentication, refusal, timeout,
    /// SOCKS5 reply, not a proxy).
    Proxy(ProxyError),
    /// A reconnecting client connection is not open (waiting for or making an attempt) and its
    /// offline queue is off (`ReconnectOptions::offline_queue_bytes` 0): the send was refused.
    NotConnected,
}

/// Result of [`crate::net`] calls.
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str("no such connection or listener (closed, or the id is not valid)"),
            Error::InvalidState(what) => write!(f, "invalid state: {what}"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::Reentrant => f.write_str("poll called from inside a handler of the same context"),
            Error::WouldBlock => {
                f.write_str("send buffer full (max_buffered); wait for the writable event and retry")
            }
            Error::QueueFull { dropped } => write!(
                f,
                "send from another thread dropped ({dropped} bytes): the connection's queue is at \
                 max_buffered; wait for the writable event and send again"
            ),
            Error::Unavailable(option) => write!(f, "not kept after the handshake (set {option})"),
            Error::Send(err) => write!(f, "cannot send: {err}"),
            Error::Protocol(err) => write!(f, "protocol error: {err}"),
            Error::Handshake(err) => write!(f, "handshake failed: {err}"),
            Error::Url(err) => write!(f, "invalid URL: {err}"),
            Error::Resolve(what) => write!(f, "name resolution failed: {what}"),
            Error::Connect(what) => write!(f, "connect failed: {what}"),
            Error::Timeout(what) => write!(f, "timed out: {what}"),
            Error::Tls(what) => write!(f, "TLS: {what}"),
            Error::TooManyConnections => f.write_str("connection limit reached"),
            Error::Io(err) => write!(f, "I/O error: {err}"),
            Error::Proxy(err) => write!(f, "proxy: {err}"),
            Error::NotConnected => f.write_str(
                "not connected: the connection is reconnecting and its offline queue is off \
                 (ReconnectOptions::offline_queue_bytes)",
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Send(err) => Some(err),
            Error::Protocol(err) => Some(err),
            Error::Handshake(err) => Some(err),
            Error::Url(err) => Some(err),
            Error::Io(err) => Some(err),
            Error::Proxy(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::Io(err)
    }
}

impl From<SendError> for Error {
    fn from(err: SendError) -> Self {
        Error::Send(err)
    }
}

impl From<HandshakeError> for Error {
    fn from(err: HandshakeError) -> Self {
        Error::Handshake(err)
    }
}

impl From<UrlError> for Error {
    fn from(err: UrlError) -> Self {
        Error::Url(err)
    }
}
