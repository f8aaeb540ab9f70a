//! Push-style events: one setter per event, each taking a function pointer and its `user_data`.
//!
//! Setters (rather than a struct of function pointers) keep the ABI open: a new event is a new
//! setter, and no struct layout or size field is involved.
//!
//! Every callback runs on the loop thread, inside `wskit_ctx_poll` (or `wskit_ctx_shutdown`), gets
//! its `user_data` first and the context second, and may call any wskit function on that context
//! (send, close or abort any connection including the current one, connect, listen, ...) except
//! `wskit_ctx_poll`, `wskit_ctx_shutdown` and `wskit_ctx_free`, which return
//! `WSKIT_ERR_REENTRANT`. Pointer arguments are borrowed: valid only until the callback returns.

use std::ffi::{c_char, c_void};

use super::accept::wskit_accept;
use super::ctx::{Mode, wskit_ctx};
use super::status::{fail_with, wskit_status};

/// A listener is accepting connections: its id, its bound address as text (`"127.0.0.1:9001"`),
/// and its port.
pub type wskit_on_listen_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        ctx: *mut wskit_ctx,
        listener: u32,
        addr: *const c_char,
        port: u16,
    ),
>;

/// A client asked to upgrade (after the Origin allowlist passed). Inspect and decide through
/// `acc` (`wskit_accept_*`); returning without a decision accepts, selecting the first offered
/// subprotocol that the listener's config lists. `acc` is valid only during the call.
pub type wskit_on_accept_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, ctx: *mut wskit_ctx, acc: *mut wskit_accept)>;

/// A connection is open (server or client). `listener` is 0 for client connections;
/// `subprotocol` is NULL when none was negotiated; `path` is the request path (the URL's path for
/// clients); `peer` is the peer's address as text (`""` if unknown). Every connection reported
/// here later gets exactly one close event.
pub type wskit_on_open_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        ctx: *mut wskit_ctx,
        conn: u64,
        listener: u32,
        subprotocol: *const c_char,
        path: *const c_char,
        peer: *const c_char,
    ),
>;

/// A whole message arrived. Text is valid UTF-8 and NOT NUL-terminated: use `len`.
pub type wskit_on_message_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        ctx: *mut wskit_ctx,
        conn: u64,
        is_text: bool,
        data: *const u8,
        len: usize,
    ),
>;

/// Streaming mode (`wskit_config_set_streaming`): a piece of a message arrived. `first`/`last`
/// mark the message's first and last pieces. A text piece may end inside a UTF-8 character; the
/// whole message is valid UTF-8.
pub type wskit_on_fragment_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        ctx: *mut wskit_ctx,
        conn: u64,
        is_text: bool,
        data: *const u8,
        len: usize,
        first: bool,
        last: bool,
    ),
>;

/// A ping (or pong) arrived with this payload (at most 125 bytes). With auto-pong on (the
/// default), the pong answering a ping is already queued.
pub type wskit_on_control_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize),
>;

/// A send failed with `WSKIT_ERR_WOULD_BLOCK` earlier and the queue has drained to the low-water
/// mark: sending may resume.
pub type wskit_on_writable_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, ctx: *mut wskit_ctx, conn: u64)>;

/// The connection closed: closing handshake done (`clean`), failed, timed out or dropped (code
/// 1006). `reason` is NUL-terminated, `reason_len` bytes long (it may contain NUL bytes). The id is
/// invalid once the callback returns.
pub type wskit_on_close_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        ctx: *mut wskit_ctx,
        conn: u64,
        code: u16,
        reason: *const c_char,
        reason_len: usize,
        clean: bool,
    ),
>;

/// Something failed: a protocol violation by the peer (a close event follows), a failed connect or
/// handshake of a client connection (a close event follows), a failed remote command, or an error
/// not tied to a connection (`conn` is 0). `message` is a NUL-terminated English description.
pub type wskit_on_error_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        ctx: *mut wskit_ctx,
        conn: u64,
        status: wskit_status,
        message: *const c_char,
    ),
>;

/// A registered callback and its user data.
pub(crate) type Slot<F> = Option<(F, *mut c_void)>;

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Callbacks {
    pub(crate) listen: Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u32, *const c_char, u16)>,
    pub(crate) accept: Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, *mut wskit_accept)>,
    #[allow(clippy::type_complexity)]
    pub(crate) open: Slot<
        unsafe extern "C" fn(
            *mut c_void,
            *mut wskit_ctx,
            u64,
            u32,
            *const c_char,
            *const c_char,
            *const c_char,
        ),
    >,
    pub(crate) message: Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u64, bool, *const u8, usize)>,
    pub(crate) fragment:
        Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u64, bool, *const u8, usize, bool, bool)>,
    pub(crate) ping: Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u64, *const u8, usize)>,
    pub(crate) pong: Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u64, *const u8, usize)>,
    pub(crate) writable: Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u64)>,
    pub(crate) close:
        Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u64, u16, *const c_char, usize, bool)>,
    pub(crate) error:
        Slot<unsafe extern "C" fn(*mut c_void, *mut wskit_ctx, u64, wskit_status, *const c_char)>,
}

/// Stores a callback, switching the context to callback mode.
fn register(ctx: &wskit_ctx, store: impl FnOnce(&mut Callbacks)) -> wskit_status {
    let mut state = ctx.state.borrow_mut();
    if state.mode == Mode::Queue {
        return fail_with(
            wskit_status::WSKIT_ERR_INVALID_STATE,
            "this context uses the event queue; callbacks cannot be set",
        );
    }
    state.mode = Mode::Callbacks;
    store(&mut state.callbacks);
    wskit_status::WSKIT_OK
}

crate::ffi_fn! {
    /// Sets (or, with `cb` NULL, removes) the listen callback. `user_data` is passed back as is.
    /// Switches the context to callback mode. Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx) or `WSKIT_ERR_INVALID_STATE` (the context
    /// uses the event queue).
    fn wskit_ctx_on_listen(ctx: *mut wskit_ctx, cb: wskit_on_listen_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.listen = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or, with `cb` NULL, removes) the accept callback. Without one, every request that
    /// passes the Origin allowlist is accepted, selecting the first offered subprotocol that the
    /// listener's config lists. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_accept(ctx: *mut wskit_ctx, cb: wskit_on_accept_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.accept = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the open callback. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_open(ctx: *mut wskit_ctx, cb: wskit_on_open_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.open = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the message callback. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_message(ctx: *mut wskit_ctx, cb: wskit_on_message_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.message = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the fragment callback (streaming mode). Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_fragment(ctx: *mut wskit_ctx, cb: wskit_on_fragment_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.fragment = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the ping callback. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_ping(ctx: *mut wskit_ctx, cb: wskit_on_control_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.ping = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the pong callback. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_pong(ctx: *mut wskit_ctx, cb: wskit_on_control_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.pong = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the writable callback. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_writable(ctx: *mut wskit_ctx, cb: wskit_on_writable_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.writable = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the close callback. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_close(ctx: *mut wskit_ctx, cb: wskit_on_close_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.close = cb.map(|f| (f, user_data)))
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the error callback. Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_error(ctx: *mut wskit_ctx, cb: wskit_on_error_fn, user_data: *mut c_void) -> wskit_status {
        register(try_ctx!(ctx), |c| c.error = cb.map(|f| (f, user_data)))
    }
}
