//! Push-style events: one setter per event kind, each taking a `wskit_event_fn` and its
//! `user_data`.
//!
//! Setters (rather than a struct of function pointers) keep the ABI open: a new event is a new
//! setter and a new `wskit_event_kind`, and no struct layout or size field is involved.
//!
//! Every callback has the one signature `wskit_event_fn`, runs on the loop thread inside
//! `wskit_ctx_poll` (or `wskit_ctx_shutdown`), gets its `user_data` first, the context second and
//! the event third, and may call any wskit function on that context (send, close or abort any
//! connection including the current one, connect, listen, ...) except `wskit_ctx_poll`,
//! `wskit_ctx_shutdown` and `wskit_ctx_free`, which return `WSKIT_ERR_REENTRANT`. The event and
//! everything it points to are borrowed: valid only until the callback returns.

use std::ffi::c_void;

use super::ctx::{Mode, wskit_ctx};
use super::event::{KINDS, wskit_event_fn, wskit_event_kind};
use super::status::{fail_with, wskit_status};

/// A registered callback and its user data.
pub(crate) type Slot = Option<(
    unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, *const super::event::wskit_event),
    *mut c_void,
)>;

/// The callbacks of a context, by event kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Callbacks {
    slots: [Slot; KINDS],
}

impl Default for Callbacks {
    fn default() -> Self {
        Self { slots: [None; KINDS] }
    }
}

impl Callbacks {
    /// The callback for `kind`, if one is set.
    #[inline]
    pub(crate) fn get(&self, kind: wskit_event_kind) -> Slot {
        self.slots[kind as usize]
    }
}

/// Stores a callback, switching the context to callback mode.
pub(crate) fn register(
    ctx: &wskit_ctx,
    kind: wskit_event_kind,
    cb: wskit_event_fn,
    user_data: *mut c_void,
) -> wskit_status {
    let mut state = ctx.state.borrow_mut();
    if state.mode == Mode::Queue {
        return fail_with(
            wskit_status::WSKIT_ERR_INVALID_STATE,
            "this context uses the event queue; callbacks cannot be set",
        );
    }
    state.mode = Mode::Callbacks;
    state.callbacks.slots[kind as usize] = cb.map(|f| (f, user_data));
    wskit_status::WSKIT_OK
}

crate::ffi_fn! {
    /// Sets (or, with `cb` NULL, removes) the callback of LISTEN events (a listener is accepting).
    /// `user_data` is passed back as is. Switches the context to callback mode. Loop thread only;
    /// may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx) or `WSKIT_ERR_INVALID_STATE` (the context
    /// uses the event queue).
    fn wskit_ctx_on_listen(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_LISTEN, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of ACCEPT events (an upgrade request). The callback may
    /// decide at once with `wskit_conn_accept` / `wskit_conn_reject` on `event->conn`; if it
    /// returns without deciding, the request is accepted with the default subprotocol
    /// (`event->subprotocol`), unless it called `wskit_conn_defer_accept`. Without an accept
    /// callback every request that passes the Origin allowlist is accepted that way. Same rules and
    /// statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_accept(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_ACCEPT, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of HTTP_REQUEST events (a plain HTTP request on a
    /// listener). The callback answers with `wskit_http_respond` (or `_begin`/`_write`/`_end`, or
    /// `wskit_http_serve_static` for the default), at once or in a later turn of the loop (also
    /// from other threads with `wskit_remote_http_*`); a request never answered holds its
    /// connection. Without this callback requests get the default answer. Same rules and statuses
    /// as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_http_request(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_HTTP_REQUEST, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of OPEN events. Every connection reported open later gets
    /// exactly one close event. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_open(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_OPEN, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of MESSAGE events. Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_message(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_MESSAGE, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of FRAGMENT events (streaming mode). Same rules and statuses
    /// as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_fragment(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_FRAGMENT, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of PING events. Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_ping(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_PING, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of PONG events. Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_pong(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_PONG, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of WRITABLE events. Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_writable(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_WRITABLE, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of CLOSE events. Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_close(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_CLOSE, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of ERROR events. Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_error(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_ERROR, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of REJECTED events (a client's handshake answered with a
    /// status other than 101). Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_rejected(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_REJECTED, cb, user_data)
    }
}
