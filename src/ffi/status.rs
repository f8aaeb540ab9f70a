//! Status codes, their names and sentences, and the thread's last-error detail.

use std::cell::RefCell;
use std::ffi::{CString, c_char};

use crate::net;
use crate::proto::handshake::HandshakeError;
use crate::proto::{ProtocolError, SendError};

/// The result of every wskit function that can fail. `WSKIT_OK` is 0; errors are grouped by
/// hundreds: 1xx the caller's mistake, 2xx the WebSocket protocol, 3xx the network, 4xx resources,
/// 9xx wskit itself. Values are never reused: a retired code stays reserved. Out-parameters are
/// written only when a function returns `WSKIT_OK`. After an error, `wskit_last_error()` says more.
///
/// The C type is `uint32_t`; functions that take a status from C take a `uint32_t` and accept any
/// value.
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum wskit_status {
    /// Success.
    WSKIT_OK = 0,
    /// A required pointer argument was NULL.
    WSKIT_ERR_NULL_ARG = 100,
    /// An argument is out of range or malformed (bad address, URL, close code, size 0, ...).
    WSKIT_ERR_INVALID_ARG = 101,
    /// The call is not allowed now (connection not open yet or already closing, callbacks and event
    /// queue mixed, context freed behind a remote handle, ...).
    WSKIT_ERR_INVALID_STATE = 102,
    /// Called from inside a callback of the same context where that is not allowed
    /// (`wskit_ctx_poll`, `wskit_ctx_shutdown`, `wskit_ctx_free`).
    WSKIT_ERR_REENTRANT = 103,
    /// The connection or listener id is stale (closed) or was never valid; or a looked-up item
    /// (header) does not exist.
    WSKIT_ERR_NOT_FOUND = 104,
    /// The peer broke the WebSocket protocol.
    WSKIT_ERR_PROTOCOL = 200,
    /// Text that is not valid UTF-8 (sent by the peer, or passed to a text send).
    WSKIT_ERR_INVALID_UTF8 = 201,
    /// A frame or message over the configured limit.
    WSKIT_ERR_MESSAGE_TOO_BIG = 202,
    /// The server answered the opening handshake with an HTTP status other than 101.
    WSKIT_ERR_HANDSHAKE_REJECTED = 203,
    /// The opening handshake failed (malformed request or response, bad accept key, ...).
    WSKIT_ERR_HANDSHAKE = 204,
    /// A socket operation failed.
    WSKIT_ERR_IO = 300,
    /// The host name could not be resolved.
    WSKIT_ERR_RESOLVE = 301,
    /// No address of the host accepted the TCP connection.
    WSKIT_ERR_CONNECT = 302,
    /// A deadline passed (opening or closing handshake, pong).
    WSKIT_ERR_TIMEOUT = 303,
    /// TLS failed: certificate or key files, or a handshake refused (`wskit_last_error()` names the
    /// reason: unknown issuer, expired, hostname mismatch, ...).
    WSKIT_ERR_TLS = 304,
    /// Memory could not be allocated.
    WSKIT_ERR_NO_MEMORY = 400,
    /// The send buffer is full (`max_buffered`, or the remote queue's cap): wait for the writable
    /// event and retry.
    WSKIT_ERR_WOULD_BLOCK = 401,
    /// A connection limit was reached.
    WSKIT_ERR_TOO_MANY_CONNECTIONS = 402,
    /// `wskit_ctx_next_event`: no event is queued. Not an error, "no more work".
    WSKIT_ERR_QUEUE_EMPTY = 403,
    /// A bug in wskit: an invariant did not hold.
    WSKIT_ERR_INTERNAL = 900,
    /// A bug in wskit: the function panicked; the panic was caught at the C boundary.
    WSKIT_ERR_PANIC = 901,
}

use wskit_status::*;

/// Every status, for name lookups and tests.
pub(crate) const ALL: &[wskit_status] = &[
    WSKIT_OK,
    WSKIT_ERR_NULL_ARG,
    WSKIT_ERR_INVALID_ARG,
    WSKIT_ERR_INVALID_STATE,
    WSKIT_ERR_REENTRANT,
    WSKIT_ERR_NOT_FOUND,
    WSKIT_ERR_PROTOCOL,
    WSKIT_ERR_INVALID_UTF8,
    WSKIT_ERR_MESSAGE_TOO_BIG,
    WSKIT_ERR_HANDSHAKE_REJECTED,
    WSKIT_ERR_HANDSHAKE,
    WSKIT_ERR_IO,
    WSKIT_ERR_RESOLVE,
    WSKIT_ERR_CONNECT,
    WSKIT_ERR_TIMEOUT,
    WSKIT_ERR_TLS,
    WSKIT_ERR_NO_MEMORY,
    WSKIT_ERR_WOULD_BLOCK,
    WSKIT_ERR_TOO_MANY_CONNECTIONS,
    WSKIT_ERR_QUEUE_EMPTY,
    WSKIT_ERR_INTERNAL,
    WSKIT_ERR_PANIC,
];

impl wskit_status {
    /// The status with this number, if any.
    pub fn from_u32(value: u32) -> Option<Self> {
        ALL.iter().copied().find(|s| *s as u32 == value)
    }

    /// `"WSKIT_ERR_PROTOCOL"` etc., NUL-terminated.
    fn name(self) -> &'static str {
        match self {
            WSKIT_OK => "WSKIT_OK\0",
            WSKIT_ERR_NULL_ARG => "WSKIT_ERR_NULL_ARG\0",
            WSKIT_ERR_INVALID_ARG => "WSKIT_ERR_INVALID_ARG\0",
            WSKIT_ERR_INVALID_STATE => "WSKIT_ERR_INVALID_STATE\0",
            WSKIT_ERR_REENTRANT => "WSKIT_ERR_REENTRANT\0",
            WSKIT_ERR_NOT_FOUND => "WSKIT_ERR_NOT_FOUND\0",
            WSKIT_ERR_PROTOCOL => "WSKIT_ERR_PROTOCOL\0",
            WSKIT_ERR_INVALID_UTF8 => "WSKIT_ERR_INVALID_UTF8\0",
            WSKIT_ERR_MESSAGE_TOO_BIG => "WSKIT_ERR_MESSAGE_TOO_BIG\0",
            WSKIT_ERR_HANDSHAKE_REJECTED => "WSKIT_ERR_HANDSHAKE_REJECTED\0",
            WSKIT_ERR_HANDSHAKE => "WSKIT_ERR_HANDSHAKE\0",
            WSKIT_ERR_IO => "WSKIT_ERR_IO\0",
            WSKIT_ERR_RESOLVE => "WSKIT_ERR_RESOLVE\0",
            WSKIT_ERR_CONNECT => "WSKIT_ERR_CONNECT\0",
            WSKIT_ERR_TIMEOUT => "WSKIT_ERR_TIMEOUT\0",
            WSKIT_ERR_TLS => "WSKIT_ERR_TLS\0",
            WSKIT_ERR_NO_MEMORY => "WSKIT_ERR_NO_MEMORY\0",
            WSKIT_ERR_WOULD_BLOCK => "WSKIT_ERR_WOULD_BLOCK\0",
            WSKIT_ERR_TOO_MANY_CONNECTIONS => "WSKIT_ERR_TOO_MANY_CONNECTIONS\0",
            WSKIT_ERR_QUEUE_EMPTY => "WSKIT_ERR_QUEUE_EMPTY\0",
            WSKIT_ERR_INTERNAL => "WSKIT_ERR_INTERNAL\0",
            WSKIT_ERR_PANIC => "WSKIT_ERR_PANIC\0",
        }
    }

    /// A static sentence, NUL-terminated.
    fn sentence(self) -> &'static str {
        match self {
            WSKIT_OK => "success\0",
            WSKIT_ERR_NULL_ARG => "a required pointer argument was NULL\0",
            WSKIT_ERR_INVALID_ARG => "an argument is invalid\0",
            WSKIT_ERR_INVALID_STATE => "the call is not allowed in the current state\0",
            WSKIT_ERR_REENTRANT => "not allowed from inside a callback of the same context\0",
            WSKIT_ERR_NOT_FOUND => "no such connection, listener or item (closed, or never valid)\0",
            WSKIT_ERR_PROTOCOL => "the peer broke the WebSocket protocol\0",
            WSKIT_ERR_INVALID_UTF8 => "text is not valid UTF-8\0",
            WSKIT_ERR_MESSAGE_TOO_BIG => "a frame or message is larger than the configured limit\0",
            WSKIT_ERR_HANDSHAKE_REJECTED => "the server rejected the opening handshake\0",
            WSKIT_ERR_HANDSHAKE => "the opening handshake failed\0",
            WSKIT_ERR_IO => "a socket operation failed\0",
            WSKIT_ERR_RESOLVE => "the host name could not be resolved\0",
            WSKIT_ERR_CONNECT => "the TCP connection could not be established\0",
            WSKIT_ERR_TIMEOUT => "a deadline passed\0",
            WSKIT_ERR_TLS => "TLS error (certificate, key or handshake)\0",
            WSKIT_ERR_NO_MEMORY => "out of memory\0",
            WSKIT_ERR_WOULD_BLOCK => "the send buffer is full; wait for the writable event and retry\0",
            WSKIT_ERR_TOO_MANY_CONNECTIONS => "connection limit reached\0",
            WSKIT_ERR_QUEUE_EMPTY => "no event is queued\0",
            WSKIT_ERR_INTERNAL => "internal error in wskit (a bug)\0",
            WSKIT_ERR_PANIC => "wskit panicked (a bug); the panic was caught\0",
        }
    }
}

impl From<&net::Error> for wskit_status {
    fn from(err: &net::Error) -> Self {
        use net::Error as E;
        match err {
            E::NotFound => WSKIT_ERR_NOT_FOUND,
            E::InvalidState(_) => WSKIT_ERR_INVALID_STATE,
            E::InvalidArgument(_) | E::Url(_) => WSKIT_ERR_INVALID_ARG,
            E::Reentrant => WSKIT_ERR_REENTRANT,
            E::WouldBlock | E::QueueFull { .. } => WSKIT_ERR_WOULD_BLOCK,
            // Until the ffi has WSKIT_ERR_UNAVAILABLE (docs/api-0.2.md).
            E::Unavailable(_) => WSKIT_ERR_INVALID_STATE,
            E::Send(SendError::InvalidUtf8) => WSKIT_ERR_INVALID_UTF8,
            E::Send(SendError::ControlPayloadTooLong | SendError::InvalidCloseCode(_)) => {
                WSKIT_ERR_INVALID_ARG
            }
            E::Send(_) => WSKIT_ERR_INVALID_STATE,
            E::Protocol(ProtocolError::InvalidUtf8) => WSKIT_ERR_INVALID_UTF8,
            E::Protocol(ProtocolError::FrameTooLarge { .. } | ProtocolError::MessageTooLarge { .. }) => {
                WSKIT_ERR_MESSAGE_TOO_BIG
            }
            E::Protocol(_) => WSKIT_ERR_PROTOCOL,
            E::Handshake(HandshakeError::Rejected { .. }) => WSKIT_ERR_HANDSHAKE_REJECTED,
            E::Handshake(HandshakeError::InvalidHeader(_) | HandshakeError::InvalidSubprotocol(_)) => {
                WSKIT_ERR_INVALID_ARG
            }
            E::Handshake(_) => WSKIT_ERR_HANDSHAKE,
            E::Resolve(_) => WSKIT_ERR_RESOLVE,
            E::Connect(_) => WSKIT_ERR_CONNECT,
            E::Timeout(_) => WSKIT_ERR_TIMEOUT,
            E::Tls(_) => WSKIT_ERR_TLS,
            E::TooManyConnections => WSKIT_ERR_TOO_MANY_CONNECTIONS,
            E::Io(io) => match io.kind() {
                std::io::ErrorKind::InvalidInput => WSKIT_ERR_INVALID_ARG,
                std::io::ErrorKind::OutOfMemory => WSKIT_ERR_NO_MEMORY,
                std::io::ErrorKind::TimedOut => WSKIT_ERR_TIMEOUT,
                _ => WSKIT_ERR_IO,
            },
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `text` as this thread's last-error detail.
pub(crate) fn set_last_error(text: &str) {
    let text = CString::new(text.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = text);
}

/// Records `err` and returns its status.
pub(crate) fn fail(err: &net::Error) -> wskit_status {
    set_last_error(&err.to_string());
    wskit_status::from(err)
}

/// Records `text` and returns `status`.
pub(crate) fn fail_with(status: wskit_status, text: &str) -> wskit_status {
    set_last_error(text);
    status
}

/// `WSKIT_ERR_NULL_ARG`, naming the argument in the last-error detail.
pub(crate) fn null_arg(name: &str) -> wskit_status {
    fail_with(WSKIT_ERR_NULL_ARG, &format!("argument `{name}` is NULL"))
}

crate::ffi_fn! {
    /// A static, NUL-terminated English sentence describing `status` ("unknown status" for a
    /// number that is not a status). Never NULL; never freed. Any thread.
    fn wskit_strerror(status: u32) -> *const c_char {
        match wskit_status::from_u32(status) {
            Some(s) => s.sentence().as_ptr().cast(),
            None => c"unknown status".as_ptr(),
        }
    }
}

crate::ffi_fn! {
    /// The name of `status` as a static, NUL-terminated string, e.g. `"WSKIT_ERR_NOT_FOUND"`
    /// (`"WSKIT_UNKNOWN"` for a number that is not a status). Never NULL; never freed. Any thread.
    fn wskit_status_name(status: u32) -> *const c_char {
        match wskit_status::from_u32(status) {
            Some(s) => s.name().as_ptr().cast(),
            None => c"WSKIT_UNKNOWN".as_ptr(),
        }
    }
}

crate::ffi_fn! {
    /// Details of the most recent error on the calling thread: the text of the underlying error
    /// (e.g. "I/O error: Address already in use (os error 98)"), or `""` if no wskit call on this
    /// thread has failed yet. Successful calls do not clear it. Never NULL. The string is owned by
    /// wskit and valid until the next wskit call on this thread; copy it to keep it. Any thread
    /// (each thread has its own).
    fn wskit_last_error() -> *const c_char {
        LAST_ERROR.with(|cell| cell.borrow().as_ptr())
    }
}
