//! Status codes, their names and sentences, and the thread's last-error detail.
//!
//! The codes are declared once, in the `status_codes!` invocation below: the macro makes the enum,
//! the list of every status, the name (`"WSKIT_ERR_NOT_FOUND"`) and the sentence (the first line
//! of each code's doc comment). `build.rs` shows cbindgen the enum inside the invocation.

use std::cell::RefCell;
use std::ffi::{CString, c_char};

use crate::net;
use crate::proto::handshake::HandshakeError;
use crate::proto::{ProtocolError, SendError};

/// Declares `wskit_status` once: the enum, `ALL`, `name_nul` and `sentence_nul`.
macro_rules! status_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                #[doc = $sentence:literal]
                $(#[doc = $more:literal])*
                $variant:ident = $value:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $(
                #[doc = $sentence]
                $(#[doc = $more])*
                $variant = $value,
            )*
        }

        impl $name {
            /// Every status, in declaration order.
            pub(crate) const ALL: &[$name] = &[$($name::$variant),*];

            /// `"WSKIT_ERR_PROTOCOL"` etc., NUL-terminated.
            fn name_nul(self) -> &'static str {
                match self {
                    $($name::$variant => concat!(stringify!($variant), "\0"),)*
                }
            }

            /// The first line of the code's documentation, NUL-terminated.
            fn sentence_nul(self) -> &'static str {
                match self {
                    $($name::$variant => const { concat!($sentence, "\0").trim_ascii_start() },)*
                }
            }
        }
    };
}

status_codes! {
    /// The result of every wskit function that can fail. `WSKIT_OK` is 0; values below 100 are
    /// results that are not errors (`WSKIT_QUEUE_EMPTY`); errors are grouped by hundreds: 1xx the
    /// caller's mistake, 2xx the WebSocket protocol, 3xx the network, 4xx resources, 9xx wskit
    /// itself. Values are never reused: retired codes stay reserved (402 was
    /// `WSKIT_ERR_TOO_MANY_CONNECTIONS`, 403 was `WSKIT_ERR_QUEUE_EMPTY`). Out-parameters are
    /// written only when a function returns `WSKIT_OK`. After an error, `wskit_error_last()` says
    /// more.
    ///
    /// The C type is `uint32_t`; functions that take a status from C take a `uint32_t` and accept
    /// any value.
    /// cbindgen:prefix-with-name=false
    #[repr(u32)]
    #[allow(non_camel_case_types)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum wskit_status {
        /// Success.
        WSKIT_OK = 0,
        /// No event is queued (not an error: `wskit_ctx_next_event` has no more work).
        WSKIT_QUEUE_EMPTY = 1,
        /// A required pointer argument was NULL.
        WSKIT_ERR_NULL_ARG = 100,
        /// An argument is out of range or malformed.
        ///
        /// For example a bad address, URL, close code, header, status or size 0.
        WSKIT_ERR_INVALID_ARG = 101,
        /// The call is not allowed in the current state.
        ///
        /// Connection not open yet or already closing, callbacks and event queue mixed, context
        /// freed behind a remote handle, ...
        WSKIT_ERR_INVALID_STATE = 102,
        /// Not allowed from inside a callback of the same context.
        ///
        /// `wskit_ctx_poll`, `wskit_ctx_shutdown`, `wskit_ctx_free` from a callback; any call on
        /// the context from its tracer.
        WSKIT_ERR_REENTRANT = 103,
        /// No such connection, listener or item (closed, or never valid).
        ///
        /// The connection or listener id is stale or was never valid; or a looked-up item (a
        /// header) does not exist.
        WSKIT_ERR_NOT_FOUND = 104,
        /// The information was not kept for this connection.
        ///
        /// Ask for it in the config (`wskit_config_keep_request`, `wskit_config_keep_header`).
        WSKIT_ERR_UNAVAILABLE = 105,
        /// The connection is reconnecting and sends are not queued meanwhile.
        ///
        /// A client connection with reconnect on (`wskit_config_set_reconnect`) is waiting for or
        /// making an attempt, and its offline queue is off (`wskit_config_set_offline_queue_bytes`
        /// 0, the default).
        WSKIT_ERR_NOT_CONNECTED = 106,
        /// The peer broke the WebSocket protocol.
        WSKIT_ERR_PROTOCOL = 200,
        /// Text is not valid UTF-8 (sent by the peer, or passed to a text send).
        WSKIT_ERR_INVALID_UTF8 = 201,
        /// A frame or message is larger than the configured limit.
        WSKIT_ERR_MESSAGE_TOO_BIG = 202,
        /// The server rejected the opening handshake (an HTTP status other than 101).
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
        /// TLS failed (certificate, key or handshake).
        ///
        /// `wskit_error_last()` names the reason: unknown issuer, expired, hostname mismatch, ...
        WSKIT_ERR_TLS = 304,
        /// The proxy failed: its answer is not HTTP (or not SOCKS5), or it closed the connection.
        ///
        /// Also a bad proxy URL in the environment. `wskit_error_last()` / the ERROR event's text
        /// says what it sent.
        WSKIT_ERR_PROXY = 305,
        /// The proxy wants (other) credentials: HTTP 407, or SOCKS5 authentication failed.
        ///
        /// The ERROR event's headers: `:status` 407 and the proxy's, `Proxy-Authenticate` among them.
        WSKIT_ERR_PROXY_AUTH = 306,
        /// The proxy refused the tunnel with an HTTP status (403, 502, 503, ...).
        ///
        /// The ERROR event's headers: `:status` (the proxy's status) and the proxy's headers.
        WSKIT_ERR_PROXY_REFUSED = 307,
        /// The proxy did not open the tunnel within the proxy timeout.
        WSKIT_ERR_PROXY_TIMEOUT = 308,
        /// The SOCKS5 proxy answered the connect with a failure reply code.
        ///
        /// The ERROR event's headers: `:socks-reply` (RFC 1928: 1 general failure, 2 not allowed,
        /// 3 network unreachable, 4 host unreachable, 5 connection refused, ...).
        WSKIT_ERR_SOCKS = 309,
        /// Memory could not be allocated.
        WSKIT_ERR_NO_MEMORY = 400,
        /// The send buffer is full; wait for the writable event and retry.
        ///
        /// `max_buffered`, or the remote queue's cap.
        WSKIT_ERR_WOULD_BLOCK = 401,
        /// Internal error in wskit (a bug): an invariant did not hold.
        WSKIT_ERR_INTERNAL = 900,
        /// wskit panicked (a bug); the panic was caught at the C boundary.
        ///
        /// The context stays usable.
        WSKIT_ERR_PANIC = 901,
    }
}

use wskit_status::*;

impl wskit_status {
    /// The status with this number, if any.
    pub fn from_u32(value: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| *s as u32 == value)
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
            E::Unavailable(_) => WSKIT_ERR_UNAVAILABLE,
            E::Send(SendError::InvalidUtf8) => WSKIT_ERR_INVALID_UTF8,
            E::Send(SendError::ControlPayloadTooLong | SendError::InvalidCloseCode(_)) => {
                WSKIT_ERR_INVALID_ARG
            }
            E::Send(_) => WSKIT_ERR_INVALID_STATE,
            E::Protocol(ProtocolError::InvalidUtf8) => WSKIT_ERR_INVALID_UTF8,
            E::Protocol(
                ProtocolError::FrameTooLarge { .. }
                | ProtocolError::MessageTooLarge { .. }
                | ProtocolError::TooManyFragments { .. },
            ) => WSKIT_ERR_MESSAGE_TOO_BIG,
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
            E::Proxy(net::ProxyError::Auth { .. }) => WSKIT_ERR_PROXY_AUTH,
            E::Proxy(net::ProxyError::Refused { .. }) => WSKIT_ERR_PROXY_REFUSED,
            E::Proxy(net::ProxyError::Timeout) => WSKIT_ERR_PROXY_TIMEOUT,
            E::Proxy(net::ProxyError::Socks { .. }) => WSKIT_ERR_SOCKS,
            E::Proxy(_) => WSKIT_ERR_PROXY,
            // net never produces it (its code, 402, is retired); should it appear it is a bug.
            E::TooManyConnections => WSKIT_ERR_INTERNAL,
            E::NotConnected => WSKIT_ERR_NOT_CONNECTED,
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

/// Records `text` as this thread's last-error detail (NUL bytes become spaces).
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
    /// A static, NUL-terminated English sentence describing `status` (`"unknown status"` for a
    /// number that is not a status). A pure lookup: cannot fail, never NULL, never freed. Any
    /// thread.
    fn wskit_status_message(status: u32) -> *const c_char {
        match wskit_status::from_u32(status) {
            Some(s) => s.sentence_nul().as_ptr().cast(),
            None => c"unknown status".as_ptr(),
        }
    }
}

crate::ffi_fn! {
    /// The name of `status` as a static, NUL-terminated string, e.g. `"WSKIT_ERR_NOT_FOUND"`
    /// (`"WSKIT_UNKNOWN"` for a number that is not a status). A pure lookup: cannot fail, never
    /// NULL, never freed. Any thread.
    fn wskit_status_name(status: u32) -> *const c_char {
        match wskit_status::from_u32(status) {
            Some(s) => s.name_nul().as_ptr().cast(),
            None => c"WSKIT_UNKNOWN".as_ptr(),
        }
    }
}

crate::ffi_fn! {
    /// Details of the most recent failed wskit call on the calling thread: the text of the
    /// underlying error (e.g. "I/O error: Address already in use (os error 98)"), or `""` if no
    /// wskit call on this thread has failed yet. A pure lookup: cannot fail, never NULL.
    ///
    /// Lifetime: the text is replaced only when a later wskit call on the same thread fails (returns
    /// a status of 100 or more). Successful calls and results that are not errors
    /// (`WSKIT_QUEUE_EMPTY`) leave it, and the pointer, as they are; so the pointer stays valid
    /// until the next failing call on this thread (or the thread's exit). Copy it to keep it
    /// longer. Each thread has its own; any thread.
    fn wskit_error_last() -> *const c_char {
        LAST_ERROR.with(|cell| cell.borrow().as_ptr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sentences_come_from_the_declaration() {
        assert_eq!(WSKIT_ERR_NOT_FOUND.name_nul(), "WSKIT_ERR_NOT_FOUND\0");
        assert_eq!(WSKIT_OK.sentence_nul(), "Success.\0");
        assert_eq!(
            WSKIT_ERR_TIMEOUT.sentence_nul(),
            "A deadline passed (opening or closing handshake, pong).\0"
        );
        for status in wskit_status::ALL {
            assert_eq!(wskit_status::from_u32(*status as u32), Some(*status));
            let name = status.name_nul();
            assert!(name.starts_with("WSKIT_") && name.ends_with('\0'));
            let sentence = status.sentence_nul();
            assert!(!sentence.starts_with(' ') && sentence.len() > 2, "{name}");
        }
    }

    #[test]
    fn retired_values_stay_unknown() {
        for retired in [402, 403] {
            assert_eq!(wskit_status::from_u32(retired), None);
        }
        assert_eq!(WSKIT_QUEUE_EMPTY as u32, 1);
    }
}
