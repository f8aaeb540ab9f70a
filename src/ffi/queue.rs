//! Pull-style events: `wskit_ctx_use_event_queue`, `wskit_event`, `wskit_ctx_next_event`.

use std::ffi::CString;

use super::ctx::{Mode, wskit_ctx};
use super::status::{fail_with, wskit_status};

/// The kind of a queued event (`wskit_event.kind`).
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wskit_event_kind {
    /// A listener is accepting: `listener`, `data` = bound address as text, `code` = port.
    WSKIT_EVENT_LISTEN = 1,
    /// A connection opened: `conn`, `listener` (0 for clients), `data` = negotiated subprotocol
    /// (`len` 0 if none).
    WSKIT_EVENT_OPEN = 2,
    /// A whole message: `conn`, `is_text`, `data`/`len` = payload.
    WSKIT_EVENT_MESSAGE = 3,
    /// A piece of a message (streaming mode): `conn`, `is_text`, `first`, `last`, `data`/`len`.
    WSKIT_EVENT_FRAGMENT = 4,
    /// A ping arrived: `conn`, `data`/`len` = payload (the pong is already queued with auto-pong).
    WSKIT_EVENT_PING = 5,
    /// A pong arrived: `conn`, `data`/`len` = payload.
    WSKIT_EVENT_PONG = 6,
    /// Sending may resume after `WSKIT_ERR_WOULD_BLOCK`: `conn`.
    WSKIT_EVENT_WRITABLE = 7,
    /// The connection closed: `conn`, `code` = close code, `clean`, `data`/`len` = reason. The id
    /// is invalid from now on.
    WSKIT_EVENT_CLOSE = 8,
    /// Something failed: `conn` (0 if not tied to one), `code` = `wskit_status`, `data`/`len` =
    /// message.
    WSKIT_EVENT_ERROR = 9,
}

/// One event taken from the queue with `wskit_ctx_next_event`. Fields that do not apply to the
/// kind are 0/false/NULL. `data` is NUL-terminated after `len` bytes when the data is text
/// (listen, open, close, error), and may be NULL when `len` is 0. `data` is owned by the context
/// and valid until the next `wskit_ctx_next_event`, `wskit_ctx_poll` or `wskit_ctx_free` on it.
///
/// The layout is part of the ABI: fields are only ever added in a new major version (with a new
/// SONAME).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wskit_event {
    /// What happened.
    pub kind: wskit_event_kind,
    /// Listener id (listen; open of a server connection), else 0.
    pub listener: u32,
    /// Connection id, or 0.
    pub conn: u64,
    /// Close code (close), status (error), port (listen), else 0.
    pub code: u32,
    /// Message or fragment is text.
    pub is_text: bool,
    /// Fragment: first piece of its message.
    pub first: bool,
    /// Fragment: last piece of its message.
    pub last: bool,
    /// Close: the closing handshake completed.
    pub clean: bool,
    /// Payload, reason, subprotocol, address or message (see `wskit_event_kind`).
    pub data: *const u8,
    /// Length of `data` in bytes (without the NUL of text).
    pub len: usize,
}

/// An owned queued event.
#[derive(Debug)]
pub(crate) struct QueuedEvent {
    pub(crate) kind: wskit_event_kind,
    pub(crate) listener: u32,
    pub(crate) conn: u64,
    pub(crate) code: u32,
    pub(crate) is_text: bool,
    pub(crate) first: bool,
    pub(crate) last: bool,
    pub(crate) clean: bool,
    /// Text kinds carry a trailing NUL not counted in the length.
    pub(crate) data: Vec<u8>,
    /// Kept alive with the event (a closed connection's subprotocol string); never read.
    #[allow(dead_code)]
    pub(crate) keep: Option<CString>,
}

impl QueuedEvent {
    pub(crate) fn new(kind: wskit_event_kind) -> Self {
        Self {
            kind,
            listener: 0,
            conn: 0,
            code: 0,
            is_text: false,
            first: false,
            last: false,
            clean: false,
            data: Vec::new(),
            keep: None,
        }
    }

    fn is_text_data(&self) -> bool {
        use wskit_event_kind::*;
        matches!(
            self.kind,
            WSKIT_EVENT_LISTEN | WSKIT_EVENT_OPEN | WSKIT_EVENT_CLOSE | WSKIT_EVENT_ERROR
        )
    }

    fn view(&self) -> wskit_event {
        let len = if self.is_text_data() {
            self.data.len().saturating_sub(1)
        } else {
            self.data.len()
        };
        wskit_event {
            kind: self.kind,
            listener: self.listener,
            conn: self.conn,
            code: self.code,
            is_text: self.is_text,
            first: self.first,
            last: self.last,
            clean: self.clean,
            data: if self.data.is_empty() {
                std::ptr::null()
            } else {
                self.data.as_ptr()
            },
            len,
        }
    }
}

crate::ffi_fn! {
    /// Switches the context to queue mode: `wskit_ctx_poll` stores events in a queue instead of
    /// calling callbacks, and `wskit_ctx_next_event` takes them one by one. A context uses either
    /// callbacks or the queue, for its whole life.
    ///
    /// `capacity` (> 0) is a soft bound: once the queue holds `capacity` events, `wskit_ctx_poll`
    /// stops reading sockets (the unread data stays in the kernel, and TCP flow control slows the
    /// peer); events decoded from bytes already read are still queued, so the queue may exceed
    /// `capacity` briefly. Reading resumes at the first poll after the queue drops below it. Calling
    /// it again changes the capacity.
    ///
    /// In queue mode upgrade requests are accepted (after the Origin allowlist), selecting the
    /// first subprotocol the client offers that the listener's config lists
    /// (`wskit_config_add_subprotocol`). Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (capacity 0) or
    /// `WSKIT_ERR_INVALID_STATE` (callbacks were set).
    fn wskit_ctx_use_event_queue(ctx: *mut wskit_ctx, capacity: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        if capacity == 0 {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "capacity must be > 0");
        }
        let mut state = ctx.state.borrow_mut();
        if state.mode == Mode::Callbacks {
            return fail_with(
                wskit_status::WSKIT_ERR_INVALID_STATE,
                "this context uses callbacks; the event queue cannot be enabled",
            );
        }
        state.mode = Mode::Queue;
        state.capacity = capacity;
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Takes the oldest queued event into `*out`. The pointers in `*out` stay valid until the next
    /// `wskit_ctx_next_event`, `wskit_ctx_poll` or `wskit_ctx_free` on this context. Loop thread
    /// only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_QUEUE_EMPTY` (no event; `*out` untouched),
    /// `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (queue mode not enabled).
    fn wskit_ctx_next_event(ctx: *mut wskit_ctx, out: *mut wskit_event) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let mut state = ctx.state.borrow_mut();
        if state.mode != Mode::Queue {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_STATE, "the event queue is not enabled");
        }
        state.current = None;
        let Some(event) = state.queue.pop_front() else {
            return wskit_status::WSKIT_QUEUE_EMPTY;
        };
        write_out!(out, event.view());
        state.current = Some(event);
        wskit_status::WSKIT_OK
    }
}
