//! `wskit_event`: the one event struct that callbacks and the event queue both carry, and the
//! owned form the queue (and the rarer callback events) keep it in.

use std::ffi::{c_char, c_void};

use super::ctx::wskit_ctx;

/// The kind of an event (`wskit_event.kind`). Fields that a kind does not list are 0, false or
/// NULL.
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wskit_event_kind {
    /// A listener is accepting: `listener`, `code` = port, `data`/`len` = the bound address as
    /// text (`"127.0.0.1:9001"`).
    WSKIT_EVENT_LISTEN = 1,
    /// A connection opened: `conn`, `conn_user_data`, `listener` (0 for clients), `subprotocol`
    /// (NULL if none was negotiated), `path`, `query` (NULL without one), `peer`, and `headers`:
    /// the request headers for server connections, the response headers for clients.
    WSKIT_EVENT_OPEN = 2,
    /// A whole message: `conn`, `conn_user_data`, `is_text`, `data`/`len` = payload (text is valid
    /// UTF-8; payloads are not NUL-terminated in callbacks: use `len`).
    WSKIT_EVENT_MESSAGE = 3,
    /// A piece of a message (streaming mode): `conn`, `conn_user_data`, `is_text`, `first`,
    /// `last`, `data`/`len`.
    WSKIT_EVENT_FRAGMENT = 4,
    /// A ping arrived: `conn`, `conn_user_data`, `data`/`len` = payload (at most 125 bytes; the
    /// pong is already queued with auto-pong).
    WSKIT_EVENT_PING = 5,
    /// A pong arrived: `conn`, `conn_user_data`, `data`/`len` = payload.
    WSKIT_EVENT_PONG = 6,
    /// Sending may resume after `WSKIT_ERR_WOULD_BLOCK`: `conn`, `conn_user_data`.
    WSKIT_EVENT_WRITABLE = 7,
    /// The connection closed (clean, reset, timeout, abort, shutdown): `conn`, `conn_user_data`
    /// (still the connection's user data, on every close path), `code` = close code (1006 when
    /// dropped), `clean`, `data`/`len` = reason (any valid UTF-8, NUL bytes included: use `len`).
    /// The id is invalid from now on; free what the user data owns here.
    WSKIT_EVENT_CLOSE = 8,
    /// Something failed: `conn` (0 if not tied to a connection), `conn_user_data`, `code` = the
    /// `wskit_status`, `data`/`len` = an English description. For a connection a close event
    /// follows unless the error was a refused send. Proxy failures (305-309) carry `headers`: a
    /// pseudo-header `:status` (the proxy's HTTP status) or `:socks-reply` (the SOCKS5 reply
    /// code), then the proxy's answer headers (`Proxy-Authenticate` for a 407).
    WSKIT_EVENT_ERROR = 9,
    /// Server: an upgrade request (after the Origin allowlist passed): `conn` (the id it will have),
    /// `listener`, `path`, `query`, `peer`, `headers` (the request's), and in `subprotocol` the
    /// default choice (the first subprotocol the client offered that the listener lists; NULL if
    /// none). Decide with `wskit_conn_accept` / `wskit_conn_reject`.
    WSKIT_EVENT_ACCEPT = 10,
    /// Client: the server answered the upgrade with a status other than 101: `conn`,
    /// `conn_user_data`, `code` = HTTP status, `headers` = response headers, `data`/`len` = the
    /// response body. A close event (1006) follows.
    WSKIT_EVENT_REJECTED = 11,
    /// Server: a plain HTTP request (one that does not ask to upgrade): `conn` (answer with
    /// `wskit_http_respond`, `wskit_http_begin`/`_write`/`_end` or `wskit_http_serve_static`, now or
    /// in a later turn of the loop), `listener`, `subprotocol`/`subprotocol_len` = the method
    /// (`"GET"`, `"POST"`, ...; this field, as the layout cannot grow), `path` (as sent, not
    /// percent-decoded), `query`, `peer`, `headers`, `data`/`len` = the body (up to
    /// `wskit_config_set_max_http_body`), `code` = 10 for HTTP/1.0, 11 for HTTP/1.1. Nothing more
    /// is read from the connection until the answer ends. Delivered only with an HTTP_REQUEST
    /// callback, or in queue mode with `WSKIT_QUEUE_HTTP_EVENTS`; otherwise requests get the
    /// default answer (`wskit_http_serve_static`).
    WSKIT_EVENT_HTTP_REQUEST = 12,
    /// Client with reconnect on (`wskit_config_set_reconnect`): the connection dropped or an
    /// attempt failed, and the next attempt is scheduled: `conn`, `conn_user_data`, `code` = the
    /// attempt number (1-based, counted since the last stable connection), `listener` = its delay
    /// in milliseconds (this field, as the layout cannot grow), `data`/`len` = why the last
    /// connection or attempt ended. The id stays valid; OPEN follows when an attempt succeeds.
    WSKIT_EVENT_RECONNECT = 13,
    /// A message queued while a reconnecting connection was not open was dropped: `conn`,
    /// `conn_user_data`, `is_text`, `data`/`len` = the payload, `code` = a
    /// `wskit_undelivered_reason`. For the reasons EXHAUSTED and STOPPED the CLOSE event follows.
    WSKIT_EVENT_UNDELIVERED = 14,
}

/// The number of event kinds plus one (kinds are 1-based): the size of per-kind tables.
pub(crate) const KINDS: usize = 15;

/// A header: name and value, each a pointer and a length, each also NUL-terminated after its
/// length when wskit hands it out. Used in both directions (events; accept and reject).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wskit_header {
    /// The header name (case as received or given).
    pub name: *const c_char,
    /// Length of `name` in bytes.
    pub name_len: usize,
    /// The value (trimmed when received).
    pub value: *const c_char,
    /// Length of `value` in bytes.
    pub value_len: usize,
}

/// One event, delivered to a callback (`wskit_ctx_on_<kind>`) or taken from the queue
/// (`wskit_ctx_next_event`). Which fields are set depends on `kind` (see `wskit_event_kind`);
/// the others are 0, false or NULL. Every string field is a pointer and a length, and is also
/// NUL-terminated after its length; `data` is NUL-terminated too except for MESSAGE, FRAGMENT,
/// PING and PONG payloads delivered to callbacks.
///
/// Lifetime: the event and everything it points to is valid until the callback returns
/// (callbacks), or until the next `wskit_ctx_next_event`, `wskit_ctx_poll`,
/// `wskit_ctx_shutdown` or `wskit_ctx_free` on the context (queue).
///
/// The layout is part of the ABI: it changes only with a new SONAME.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wskit_event {
    /// What happened.
    pub kind: wskit_event_kind,
    /// Listener id (LISTEN; ACCEPT and OPEN of server connections), else 0.
    pub listener: u32,
    /// Connection id, or 0.
    pub conn: u64,
    /// The connection's user data (`wskit_conn_set_user_data`) on every per-connection event, or
    /// NULL.
    pub conn_user_data: *mut c_void,
    /// Close code (CLOSE), status (ERROR), HTTP status (REJECTED), port (LISTEN), else 0.
    pub code: u32,
    /// The message or fragment is text.
    pub is_text: bool,
    /// FRAGMENT: the first piece of its message.
    pub first: bool,
    /// FRAGMENT: the last piece of its message.
    pub last: bool,
    /// CLOSE: the closing handshake completed.
    pub clean: bool,
    /// Payload, close reason, error text, response body or bound address.
    pub data: *const u8,
    /// Length of `data` in bytes (without a NUL).
    pub len: usize,
    /// ACCEPT: the default subprotocol; OPEN: the negotiated one. NULL when none.
    pub subprotocol: *const c_char,
    /// Length of `subprotocol`.
    pub subprotocol_len: usize,
    /// ACCEPT, OPEN: the request path (starts with `/`, no query; the URL's path for clients).
    pub path: *const c_char,
    /// Length of `path`.
    pub path_len: usize,
    /// ACCEPT, OPEN: the query without `?`; NULL when the target has none.
    pub query: *const c_char,
    /// Length of `query`.
    pub query_len: usize,
    /// ACCEPT, OPEN: the peer's address as `"ip:port"` (`""` if unknown).
    pub peer: *const c_char,
    /// Length of `peer`.
    pub peer_len: usize,
    /// ACCEPT, OPEN: request headers (server) or response headers (client); REJECTED: response
    /// headers. An array of `header_count` headers.
    pub headers: *const wskit_header,
    /// Number of `headers`.
    pub header_count: usize,
}

/// The one callback signature: every `wskit_ctx_on_<kind>` takes one. Runs on the loop thread
/// inside `wskit_ctx_poll` (or `wskit_ctx_shutdown`); `event` and what it points to are valid
/// until it returns.
pub type wskit_event_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, ctx: *mut wskit_ctx, event: *const wskit_event)>;

impl wskit_event {
    /// An event of `kind` with every other field empty.
    #[inline]
    pub(crate) fn empty(kind: wskit_event_kind) -> Self {
        Self {
            kind,
            listener: 0,
            conn: 0,
            conn_user_data: std::ptr::null_mut(),
            code: 0,
            is_text: false,
            first: false,
            last: false,
            clean: false,
            data: std::ptr::null(),
            len: 0,
            subprotocol: std::ptr::null(),
            subprotocol_len: 0,
            path: std::ptr::null(),
            path_len: 0,
            query: std::ptr::null(),
            query_len: 0,
            peer: std::ptr::null(),
            peer_len: 0,
            headers: std::ptr::null(),
            header_count: 0,
        }
    }
}

/// A byte range in an [`OwnedEvent`]'s buffer.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: usize,
    len: usize,
}

/// An event that owns its bytes: every string (each followed by a NUL) in one buffer.
#[derive(Debug)]
pub(crate) struct OwnedEvent {
    pub(crate) kind: wskit_event_kind,
    pub(crate) listener: u32,
    pub(crate) conn: u64,
    pub(crate) user_data: u64,
    pub(crate) code: u32,
    pub(crate) is_text: bool,
    pub(crate) first: bool,
    pub(crate) last: bool,
    pub(crate) clean: bool,
    buf: Vec<u8>,
    data: Option<Span>,
    subprotocol: Option<Span>,
    path: Option<Span>,
    query: Option<Span>,
    peer: Option<Span>,
    headers: Vec<(Span, Span)>,
    /// Bytes counted against the queue bound: data, strings and headers, without the NULs.
    counted: usize,
    /// A closed connection's strings (`wskit_conn_subprotocol`, ...), kept alive with its close
    /// event; never read.
    #[allow(dead_code)]
    pub(crate) keep: Option<Box<super::conn::ConnStrings>>,
}

impl OwnedEvent {
    pub(crate) fn new(kind: wskit_event_kind) -> Self {
        Self {
            kind,
            listener: 0,
            conn: 0,
            user_data: 0,
            code: 0,
            is_text: false,
            first: false,
            last: false,
            clean: false,
            buf: Vec::new(),
            data: None,
            subprotocol: None,
            path: None,
            query: None,
            peer: None,
            headers: Vec::new(),
            counted: 0,
            keep: None,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Span {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        self.buf.push(0);
        self.counted += bytes.len();
        Span {
            start,
            len: bytes.len(),
        }
    }

    pub(crate) fn with_data(mut self, bytes: &[u8]) -> Self {
        self.data = Some(self.put(bytes));
        self
    }

    pub(crate) fn with_subprotocol(mut self, name: Option<&str>) -> Self {
        self.subprotocol = name.map(|s| self.put(s.as_bytes()));
        self
    }

    pub(crate) fn with_path(mut self, path: &str, query: Option<&str>) -> Self {
        self.path = Some(self.put(path.as_bytes()));
        self.query = query.map(|q| self.put(q.as_bytes()));
        self
    }

    pub(crate) fn with_peer(mut self, peer: Option<std::net::SocketAddr>) -> Self {
        let text = peer.map(|p| p.to_string()).unwrap_or_default();
        self.peer = Some(self.put(text.as_bytes()));
        self
    }

    pub(crate) fn with_headers<'a>(mut self, headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (name, value) in headers {
            let name = self.put(name.as_bytes());
            let value = self.put(value.as_bytes());
            self.headers.push((name, value));
        }
        self
    }

    /// Bytes this event counts against the queue bound.
    pub(crate) fn counted(&self) -> usize {
        self.counted
    }

    fn ptr(&self, span: Option<Span>) -> (*const c_char, usize) {
        match span {
            Some(s) => (self.buf[s.start..].as_ptr().cast(), s.len),
            None => (std::ptr::null(), 0),
        }
    }

    /// The C view of this event. Its header array is written into `headers` (kept by the caller as
    /// long as the view is used); every pointer points into `self` or `headers`.
    pub(crate) fn view(&self, headers: &mut Vec<wskit_header>) -> wskit_event {
        headers.clear();
        self.view_appended(headers)
    }

    /// Headers this event's view needs room for.
    pub(crate) fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// Like [`view`](Self::view), appending the header array to `headers` instead of replacing
    /// it: several events share one array (`wskit_ctx_next_events`). The caller reserves room for
    /// every event's headers first, so that no append moves the ones already pointed to.
    pub(crate) fn view_appended(&self, headers: &mut Vec<wskit_header>) -> wskit_event {
        let first = headers.len();
        headers.extend(self.headers.iter().map(|&(n, v)| {
            let (name, name_len) = self.ptr(Some(n));
            let (value, value_len) = self.ptr(Some(v));
            wskit_header {
                name,
                name_len,
                value,
                value_len,
            }
        }));
        let (data, len) = self.ptr(self.data);
        let (subprotocol, subprotocol_len) = self.ptr(self.subprotocol);
        let (path, path_len) = self.ptr(self.path);
        let (query, query_len) = self.ptr(self.query);
        let (peer, peer_len) = self.ptr(self.peer);
        wskit_event {
            kind: self.kind,
            listener: self.listener,
            conn: self.conn,
            conn_user_data: self.user_data as usize as *mut c_void,
            code: self.code,
            is_text: self.is_text,
            first: self.first,
            last: self.last,
            clean: self.clean,
            data: data.cast(),
            len,
            subprotocol,
            subprotocol_len,
            path,
            path_len,
            query,
            query_len,
            peer,
            peer_len,
            headers: if self.headers.is_empty() {
                std::ptr::null()
            } else {
                headers[first..].as_ptr()
            },
            header_count: self.headers.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_strings_are_nul_terminated_and_counted() {
        let event = OwnedEvent::new(wskit_event_kind::WSKIT_EVENT_OPEN)
            .with_subprotocol(Some("chat"))
            .with_path("/a", None)
            .with_headers([("Host", "x"), ("X-Y", "")])
            .with_data(b"r\0s");
        assert_eq!(event.counted(), 4 + 2 + 4 + 1 + 3 + 3);
        let mut headers = Vec::new();
        let view = event.view(&mut headers);
        assert_eq!(view.header_count, 2);
        assert!(view.query.is_null() && view.query_len == 0);
        // SAFETY: the view points into `event` and `headers`, both alive here.
        unsafe {
            assert_eq!(std::ffi::CStr::from_ptr(view.subprotocol).to_bytes(), b"chat");
            assert_eq!(std::slice::from_raw_parts(view.data, view.len + 1), b"r\0s\0");
            let h = &*view.headers.add(1);
            assert_eq!(std::ffi::CStr::from_ptr(h.name).to_bytes(), b"X-Y");
            assert_eq!(h.value_len, 0);
            assert_eq!(*h.value, 0);
        }
    }
}
