//! `wskit_ctx`: the event loop. The bridge that turns `net::Handler` calls into C callbacks or
//! queued events is in `bridge.rs`.
//!
//! # How a C call reaches the `net::Context` soundly
//! C code holds a `wskit_ctx *` and may call back into wskit from inside a callback, while
//! `wskit_ctx_poll` is still running on the same context. So wskit never makes a `&mut wskit_ctx`:
//! every function takes `&wskit_ctx`, and the `net::Context` sits in an `UnsafeCell`. Exactly one
//! `&mut net::Context` is in use at any time:
//! - outside `poll`, the one made from the cell for the length of one wskit call ([`wskit_ctx::with_net`]);
//! - inside `poll`, the one `net` hands to the handler; while a C callback runs, a raw pointer to
//!   it is kept in `active`, and calls made by the callback reborrow it. `poll`, `shutdown` and
//!   `free` are refused (`WSKIT_ERR_REENTRANT`) while `in_poll` is set.
//! - while the tracer runs (inside `net`, with its `&mut Context` borrowed), `in_tracer` is set and
//!   every call on the context is refused with `WSKIT_ERR_REENTRANT` (`try_ctx!`).
//!
//! `in_poll` and `active` are reset by a drop guard, and `net::Context::poll` is panic-safe, so a
//! panic caught at the boundary (`WSKIT_ERR_PANIC`) leaves the context usable.
//!
//! A context is used by one thread at a time (the documentation says "loop thread only"), so
//! these cells are never touched concurrently.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::ffi::{c_char, c_int};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::net::{self, Context, ListenerId};

use super::bridge::Bridge;
use super::callbacks::Callbacks;
use super::config::wskit_config;
use super::conn::ConnStrings;
use super::event::{OwnedEvent, wskit_header};
use super::queue::Queue;
use super::status::{fail_with, wskit_status};

/// An event loop with its listeners, connections, timers and callbacks (or event queue).
///
/// Threads: loop thread only. Every function taking a `wskit_ctx *` must be called from the one
/// thread that drives the context (it may change between calls if the host synchronises), except
/// through a `wskit_remote` handle, which any thread may use.
///
/// Events reach the application one of two ways, chosen per context: callbacks
/// (`wskit_ctx_on_<kind>`), run inside `wskit_ctx_poll`; or an event queue
/// (`wskit_ctx_use_event_queue`) that `wskit_ctx_poll` fills and `wskit_ctx_next_event` drains.
/// Both carry the same `wskit_event`.
///
/// Methods: `wskit_ctx_*`; per-connection calls are `wskit_conn_*(ctx, conn, ...)`;
/// `wskit_remote_new(ctx, &remote)` makes a handle for other threads.
pub struct wskit_ctx {
    net: UnsafeCell<Context>,
    /// While a C callback runs: the `&mut Context` the handler was given.
    active: Cell<*mut Context>,
    in_poll: Cell<bool>,
    /// Set while the tracer's C function runs.
    pub(crate) in_tracer: Arc<AtomicBool>,
    pub(crate) state: RefCell<State>,
    /// Cleared when the context is freed, so remote handles can tell.
    pub(crate) alive: Arc<AtomicBool>,
}

impl std::fmt::Debug for wskit_ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("wskit_ctx")
            .field("in_poll", &self.in_poll.get())
            .finish_non_exhaustive()
    }
}

/// How events are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Nothing chosen yet: events are dropped (requests accepted by default).
    Unset,
    Callbacks,
    Queue,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) mode: Mode,
    pub(crate) callbacks: Callbacks,
    pub(crate) queue: Queue,
    /// The event last returned by `wskit_ctx_next_event` (owns the bytes its pointers show).
    pub(crate) current: Option<OwnedEvent>,
    /// The header array of `current`'s view.
    pub(crate) current_headers: Vec<wskit_header>,
    /// The events last returned by `wskit_ctx_next_events` (own the bytes their pointers show).
    pub(crate) taken: Vec<OwnedEvent>,
    /// The header arrays of `taken`'s views, one after another.
    pub(crate) taken_headers: Vec<wskit_header>,
    /// NUL-terminated strings handed out by `wskit_conn_subprotocol`, `_peer`, ...
    pub(crate) conn_strings: HashMap<u64, Box<ConnStrings>>,
    /// While the ACCEPT callback runs: its connection, and whether it called
    /// `wskit_conn_defer_accept`.
    pub(crate) deciding: Option<(u64, bool)>,
    /// Heads (no bodies) of HTTP requests delivered and not answered yet, for
    /// `wskit_http_serve_static`; dropped when the answer begins (or the connection is gone).
    pub(crate) http_requests: HashMap<u64, crate::proto::http::HttpRequest>,
}

/// Resets `in_poll` and `active` when a poll ends, by return or by panic.
struct PollGuard<'a>(&'a wskit_ctx);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.active.set(std::ptr::null_mut());
        self.0.in_poll.set(false);
    }
}

impl wskit_ctx {
    /// Runs `f` with the one `&mut Context` allowed now (see the module documentation).
    pub(crate) fn with_net<R>(&self, f: impl FnOnce(&mut Context) -> R) -> R {
        let active = self.active.get();
        if !active.is_null() {
            // SAFETY: `active` is set only while a C callback runs inside `poll`, to the `&mut
            // Context` that `net` handed the handler; the handler does not use it until the
            // callback returns, and this reborrow ends before `with_net` returns.
            f(unsafe { &mut *active })
        } else {
            assert!(!self.in_poll.get(), "wskit call during poll outside a callback");
            // SAFETY: no callback is running, so (one thread at a time, as documented) no other
            // reference into the cell exists: `poll`, the only long-lived borrow, is either not
            // running or is running this very callback-free stretch on this thread, which does
            // not call `with_net`; the tracer, which runs inside net, is refused by `try_ctx!`.
            f(unsafe { &mut *self.net.get() })
        }
    }

    /// Sets the context a running callback may reach; returns the previous one.
    pub(crate) fn set_active(&self, ctx: *mut Context) -> *mut Context {
        self.active.replace(ctx)
    }

    pub(crate) fn refuse_reentry(&self, what: &str) -> Result<(), wskit_status> {
        if self.in_poll.get() {
            Err(fail_with(
                wskit_status::WSKIT_ERR_REENTRANT,
                &format!("{what} is not allowed from inside a callback of the same context"),
            ))
        } else {
            Ok(())
        }
    }

    /// Refuses calls made from the tracer (see the module documentation).
    pub(crate) fn check_tracer(&self) -> Result<(), wskit_status> {
        if self.in_tracer.load(Ordering::Relaxed) {
            Err(fail_with(
                wskit_status::WSKIT_ERR_REENTRANT,
                "no wskit call on a context is allowed from its tracer",
            ))
        } else {
            Ok(())
        }
    }

    /// Polls with the bridge handler. Caller checked `in_poll` is false. A panic unwinds to the
    /// caller's `ffi_fn!` boundary (`WSKIT_ERR_PANIC`); the guard resets `in_poll` and `active`.
    fn run_loop<R>(
        &self,
        f: impl FnOnce(&mut Context, &mut Bridge<'_>) -> net::Result<R>,
    ) -> Result<R, wskit_status> {
        {
            let mut state = self.state.borrow_mut();
            state.current = None;
            state.current_headers.clear();
            state.taken.clear();
            state.taken_headers.clear();
        }
        self.in_poll.set(true);
        let _guard = PollGuard(self);
        let mut bridge = Bridge::new(self);
        // SAFETY: `in_poll` was false, so no other reference into the cell exists; while it is
        // true, other wskit calls on this context go through `active` (set by the bridge around
        // each callback) and never through the cell.
        let net = unsafe { &mut *self.net.get() };
        f(net, &mut bridge).map_err(|err| super::status::fail(&err))
    }
}

impl Drop for wskit_ctx {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
    }
}

fn millis_of(timeout_ms: c_int) -> Option<Duration> {
    (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64))
}

crate::ffi_fn! {
    /// Creates an event loop (an epoll instance, a waker and a 256 KiB read buffer). On `WSKIT_OK`,
    /// `*out` owns the context; free it with `wskit_ctx_free`. The thread that calls it need not be
    /// the loop thread; the context may be handed to another thread before first use.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_IO` (out of file descriptors).
    fn wskit_ctx_new(out: *mut *mut wskit_ctx) -> wskit_status {
        non_null!(out);
        let net = try_net!(Context::new());
        let ctx = Box::new(wskit_ctx {
            net: UnsafeCell::new(net),
            active: Cell::new(std::ptr::null_mut()),
            in_poll: Cell::new(false),
            in_tracer: Arc::new(AtomicBool::new(false)),
            state: RefCell::new(State {
                mode: Mode::Unset,
                callbacks: Callbacks::default(),
                queue: Queue::default(),
                current: None,
                current_headers: Vec::new(),
                taken: Vec::new(),
                taken_headers: Vec::new(),
                conn_strings: HashMap::new(),
                deciding: None,
                http_requests: HashMap::new(),
            }),
            alive: Arc::new(AtomicBool::new(true)),
        });
        write_out!(out, Box::into_raw(ctx));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Frees a context and everything it owns. In callback mode, every connection still there is
    /// dropped first with a CLOSE event (1006, not clean) carrying its `conn_user_data`, so what
    /// the user data owns can be freed in the close callback; no other event is delivered. Sockets
    /// are closed without waiting for a closing handshake (call `wskit_ctx_shutdown` first for a
    /// graceful end). Queued events and the strings handed out are freed. In queue mode no event
    /// is delivered any more: to free what user data owns, call `wskit_ctx_shutdown` and drain the
    /// queue (its CLOSE events carry `conn_user_data`) before freeing. Remote handles stay valid
    /// (their calls then return `WSKIT_ERR_INVALID_STATE`).
    ///
    /// NULL is a no-op returning `WSKIT_OK`. Loop thread only. Calling it from inside a callback of
    /// the same context is refused with `WSKIT_ERR_REENTRANT` and frees nothing (free it after
    /// `wskit_ctx_poll` returns). The context is freed whatever the status, except for
    /// `WSKIT_ERR_REENTRANT` and `WSKIT_ERR_NULL_ARG`; the pointer must not be used after.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_REENTRANT` or `WSKIT_ERR_PANIC` (a close callback's wskit
    /// code panicked; the context was freed anyway).
    fn wskit_ctx_free(ctx: *mut wskit_ctx) -> wskit_status {
        if ctx.is_null() {
            return wskit_status::WSKIT_OK;
        }
        let mut status = wskit_status::WSKIT_OK;
        {
            let shared = try_ctx!(ctx);
            if let Err(status) = shared.refuse_reentry("wskit_ctx_free") {
                return status;
            }
            let callbacks = shared.state.borrow().mode == Mode::Callbacks;
            if callbacks && shared.with_net(|net| net.connection_count()) > 0 {
                if let Err(s) = shared.run_loop(|net, bridge| net.shutdown(bridge, Duration::ZERO)) {
                    status = s;
                }
            }
        }
        // SAFETY: `ctx` came from `wskit_ctx_new` (Box::into_raw); no poll is running on it, so no
        // reference into it is alive, and the caller does not use it again (documented).
        drop(unsafe { Box::from_raw(ctx) });
        status
    }
}

crate::ffi_fn! {
    /// Performs ready I/O, fires due timers and delivers events (runs callbacks, or fills the
    /// event queue), waiting up to `timeout_ms` milliseconds for something to happen: -1 blocks
    /// until something happens, 0 never blocks (call it once per frame). Everything sent during the
    /// call is written before it returns. In queue mode the data pointer of the last event taken
    /// with `wskit_ctx_next_event` becomes invalid.
    ///
    /// `out_events` is optional (may be NULL); on `WSKIT_OK` it receives the number of events
    /// delivered or queued. Loop thread only; not from inside a callback of this context.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx), `WSKIT_ERR_INVALID_ARG` (timeout below -1),
    /// `WSKIT_ERR_REENTRANT` or `WSKIT_ERR_IO` (the poll itself failed).
    fn wskit_ctx_poll(ctx: *mut wskit_ctx, timeout_ms: c_int, out_events: *mut c_int) -> wskit_status {
        let ctx = try_ctx!(ctx);
        if timeout_ms < -1 {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "timeout_ms must be -1 or more");
        }
        if let Err(status) = ctx.refuse_reentry("wskit_ctx_poll") {
            return status;
        }
        let count = match ctx.run_loop(|net, bridge| net.poll(bridge, millis_of(timeout_ms))) {
            Ok(count) => count,
            Err(status) => return status,
        };
        if !out_events.is_null() {
            write_out!(out_events, c_int::try_from(count).unwrap_or(c_int::MAX));
        }
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The file descriptor of the context's epoll instance: it becomes readable when
    /// `wskit_ctx_poll` has work, so hosts with their own select/poll/epoll loop can wait on it and
    /// call `wskit_ctx_poll(ctx, 0, ...)` when it is readable (and after `wskit_ctx_next_timeout_ms`).
    /// Owned by the context: do not close it. Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_ctx_fd(ctx: *const wskit_ctx, out_fd: *mut c_int) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_fd);
        write_out!(out_fd, ctx.with_net(|net| net.fd()));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// How long the host may sleep before `wskit_ctx_poll` has timer work, in milliseconds
    /// (rounded up): -1 when no timer is set, 0 when work is pending now. Loop thread only; may be
    /// called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_ctx_next_timeout_ms(ctx: *const wskit_ctx, out_ms: *mut c_int) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_ms);
        let ms = ctx.with_net(|net| net.next_timeout()).map_or(-1, |d| {
            let ms = d.as_nanos().div_ceil(1_000_000);
            c_int::try_from(ms).unwrap_or(c_int::MAX)
        });
        write_out!(out_ms, ms);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Writes what sends made outside `wskit_ctx_poll` queued, as far as the sockets take it (the
    /// rest is written by the next poll). Events this causes are delivered at the next poll. Loop
    /// thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_ctx_flush(ctx: *mut wskit_ctx) -> wskit_status {
        let ctx = try_ctx!(ctx);
        ctx.with_net(Context::flush);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Graceful shutdown, blocking up to `timeout_ms`: stops every listener, closes every open
    /// connection with 1001 and polls (running callbacks / queueing events) until all are closed
    /// or the time is up; what is left is dropped (close events with 1006). The context stays
    /// usable (new listeners and connections may be made). Calling it again is harmless. Loop
    /// thread only; not from inside a callback (use `wskit_ctx_begin_shutdown` there).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_REENTRANT` or `WSKIT_ERR_IO`.
    fn wskit_ctx_shutdown(ctx: *mut wskit_ctx, timeout_ms: u32) -> wskit_status {
        let ctx = try_ctx!(ctx);
        if let Err(status) = ctx.refuse_reentry("wskit_ctx_shutdown") {
            return status;
        }
        let timeout = Duration::from_millis(timeout_ms.into());
        if let Err(status) = ctx.run_loop(|net, bridge| net.shutdown(bridge, timeout)) {
            return status;
        }
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Starts a graceful shutdown without blocking: stops every listener and closes every open
    /// connection with 1001 (connections still in their handshake are dropped). Keep polling until
    /// `wskit_ctx_connection_count` reports 0 (the close timeout bounds it). Loop thread only; may
    /// be called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_ctx_begin_shutdown(ctx: *mut wskit_ctx) -> wskit_status {
        let ctx = try_ctx!(ctx);
        ctx.with_net(Context::begin_shutdown);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The number of connections in any state (handshaking, open, closing). Loop thread only; may
    /// be called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_ctx_connection_count(ctx: *const wskit_ctx, out_count: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_count);
        write_out!(out_count, ctx.with_net(|net| net.connection_count()));
        wskit_status::WSKIT_OK
    }
}

/// Parses a listen address numerically: `"ip:port"`, `"[v6]:port"` or `"localhost:port"`
/// (127.0.0.1). Never resolves names.
pub(crate) fn parse_listen_addr(addr: &str) -> Option<std::net::SocketAddr> {
    if let Ok(parsed) = addr.parse() {
        return Some(parsed);
    }
    let (host, port) = addr.rsplit_once(':')?;
    if host.eq_ignore_ascii_case("localhost") {
        let port: u16 = port.parse().ok()?;
        return Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    None
}

crate::ffi_fn! {
    /// Starts listening on `addr` (`addr_len` bytes, or `WSKIT_NTS`): a numeric address
    /// (`"127.0.0.1:9001"`, `"[::1]:0"`, `"0.0.0.0:0"`) or `"localhost:PORT"` (127.0.0.1). Names
    /// are never resolved (no DNS lookup blocks the loop thread). Port 0 picks a free port, see
    /// `wskit_ctx_local_port`. `config` may be NULL (defaults); it is copied. The LISTEN event
    /// follows at the next poll. On `WSKIT_OK`, `*out_listener` receives the listener id (never 0).
    /// Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, addr, out_listener),
    /// `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_INVALID_ARG` (not a numeric address) or `WSKIT_ERR_IO`
    /// (e.g. the port is in use).
    fn wskit_ctx_listen(ctx: *mut wskit_ctx, addr: *const c_char, addr_len: usize, config: *const wskit_config, out_listener: *mut u32) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(addr);
        let addr = try_str!(addr, addr_len);
        non_null!(out_listener);
        let Some(socket_addr) = parse_listen_addr(addr) else {
            return fail_with(
                wskit_status::WSKIT_ERR_INVALID_ARG,
                "the listen address must be numeric (\"ip:port\", \"[v6]:port\") or \"localhost:port\"",
            );
        };
        let defaults = wskit_config::default();
        let config = if config.is_null() { &defaults } else { try_ref!(config) };
        let id = try_net!(ctx.with_net(|net| net.listen(socket_addr, config.listen_options())));
        write_out!(out_listener, id.as_u32());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The port a listener is bound to (useful after listening on port 0). Loop thread only; may be
    /// called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (unknown or closed
    /// listener).
    fn wskit_ctx_local_port(ctx: *const wskit_ctx, listener: u32, out_port: *mut u16) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_port);
        let addr = try_net!(ctx.with_net(|net| net.local_addr(ListenerId::from_u32(listener))));
        write_out!(out_port, addr.port());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Stops accepting on a listener and closes its socket; its connections stay open. The id is
    /// invalid afterwards. Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (unknown or already closed).
    fn wskit_ctx_close_listener(ctx: *mut wskit_ctx, listener: u32) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.close_listener(ListenerId::from_u32(listener))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Opens a client connection to a `ws://` or `wss://host[:port][/path][?query]` URL, or
    /// `ws+unix:///path/to.sock:/request/path` over a Unix socket (see `wskit_ctx_connect_unix`)
    /// (`url_len` bytes, or `WSKIT_NTS`; wss://
    /// verifies the server against the system trust store unless the config sets a CA or skips
    /// verification; a refused certificate is an error event with `WSKIT_ERR_TLS`). Returns at once: name
    /// resolution runs on a helper thread, connect and handshake are non-blocking. The open event,
    /// or an error event then a close event (1006), follows. `config` may be NULL (defaults); it is
    /// copied. On `WSKIT_OK`, `*out_conn` receives the connection id (never 0). Loop thread only;
    /// may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, url, out_conn), `WSKIT_ERR_INVALID_UTF8`,
    /// `WSKIT_ERR_INVALID_ARG` (bad URL, a reserved header in the config) or
    /// `WSKIT_ERR_IO`.
    fn wskit_ctx_connect(ctx: *mut wskit_ctx, url: *const c_char, url_len: usize, config: *const wskit_config, out_conn: *mut u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(url);
        let url = try_str!(url, url_len);
        non_null!(out_conn);
        let defaults = wskit_config::default();
        let config = if config.is_null() { &defaults } else { try_ref!(config) };
        let id = try_net!(ctx.with_net(|net| net.connect(url, config.connect_options())));
        write_out!(out_conn, id.as_u64());
        wskit_status::WSKIT_OK
    }
}

#[cfg(test)]
mod tests {
    //! A panic inside wskit (injected in the bridge) is caught at the boundary, reported as
    //! `WSKIT_ERR_PANIC`, and leaves the context usable: later polls, connections, sends and
    //! callbacks work.

    use std::ffi::c_void;

    use super::*;
    use crate::ffi::bridge::PANIC_ON_MESSAGE;
    use crate::ffi::callbacks::{wskit_ctx_on_message, wskit_ctx_on_open};
    use crate::ffi::conn::wskit_conn_send_text;
    use crate::ffi::event::wskit_event;
    use crate::ffi::status::wskit_error_last;

    #[derive(Default)]
    struct Seen {
        conns: Vec<(u32, u64)>,
        messages: Vec<Vec<u8>>,
    }

    unsafe extern "C" fn on_open(ud: *mut c_void, _ctx: *mut wskit_ctx, ev: *const wskit_event) {
        // SAFETY: `ud` is the `Seen` the test registered; `ev` is valid during the callback.
        let (seen, ev) = unsafe { (&mut *ud.cast::<Seen>(), &*ev) };
        seen.conns.push((ev.listener, ev.conn));
    }

    unsafe extern "C" fn on_message(ud: *mut c_void, _ctx: *mut wskit_ctx, ev: *const wskit_event) {
        // SAFETY: as in `on_open`; `data` is readable for `len` bytes.
        let (seen, ev) = unsafe { (&mut *ud.cast::<Seen>(), &*ev) };
        // SAFETY: see above.
        seen.messages
            .push(unsafe { std::slice::from_raw_parts(ev.data, ev.len) }.to_vec());
    }

    fn poll_until(ctx: *mut wskit_ctx, mut done: impl FnMut() -> bool) -> Vec<wskit_status> {
        let mut statuses = Vec::new();
        for _ in 0..500 {
            // SAFETY: a live context from `wskit_ctx_new`, polled on its thread.
            let status = unsafe { wskit_ctx_poll(ctx, 10, std::ptr::null_mut()) };
            statuses.push(status);
            if done() {
                break;
            }
        }
        statuses
    }

    #[test]
    fn a_panic_in_the_bridge_leaves_the_context_usable() {
        let mut seen = Box::new(Seen::default());
        let seen_ptr: *mut Seen = &mut *seen;
        let mut ctx: *mut wskit_ctx = std::ptr::null_mut();
        // SAFETY: every pointer passed below is valid for the call; the context is used on this
        // thread only and freed at the end; `seen` outlives it.
        unsafe {
            assert_eq!(wskit_ctx_new(&mut ctx), wskit_status::WSKIT_OK);
            assert_eq!(
                wskit_ctx_on_open(ctx, Some(on_open), seen_ptr.cast()),
                wskit_status::WSKIT_OK
            );
            assert_eq!(
                wskit_ctx_on_message(ctx, Some(on_message), seen_ptr.cast()),
                wskit_status::WSKIT_OK
            );
            let mut listener = 0u32;
            let addr = "127.0.0.1:0";
            assert_eq!(
                wskit_ctx_listen(
                    ctx,
                    addr.as_ptr().cast(),
                    addr.len(),
                    std::ptr::null(),
                    &mut listener
                ),
                wskit_status::WSKIT_OK
            );
            let mut port = 0u16;
            assert_eq!(
                wskit_ctx_local_port(ctx, listener, &mut port),
                wskit_status::WSKIT_OK
            );
            let url = format!("ws://127.0.0.1:{port}/");
            let mut client = 0u64;
            assert_eq!(
                wskit_ctx_connect(ctx, url.as_ptr().cast(), url.len(), std::ptr::null(), &mut client),
                wskit_status::WSKIT_OK
            );
            poll_until(ctx, || (*seen_ptr).conns.len() == 2);
            assert_eq!((*seen_ptr).conns.len(), 2);

            // The next message event panics inside the bridge.
            PANIC_ON_MESSAGE.with(|p| p.set(true));
            assert_eq!(
                wskit_conn_send_text(ctx, client, c"boom".as_ptr(), 4),
                wskit_status::WSKIT_OK
            );
            let statuses = poll_until(ctx, || !PANIC_ON_MESSAGE.with(|p| p.get()));
            assert_eq!(
                statuses.last(),
                Some(&wskit_status::WSKIT_ERR_PANIC),
                "{statuses:?}"
            );
            let text = std::ffi::CStr::from_ptr(wskit_error_last())
                .to_string_lossy()
                .into_owned();
            assert!(text.contains("panic") && text.contains("test hook"), "{text}");
            assert!((*seen_ptr).messages.is_empty());

            // Usable afterwards: polls succeed (net aborted the connection it was reading), new
            // connections open and messages flow both ways.
            assert_eq!(
                wskit_ctx_poll(ctx, 0, std::ptr::null_mut()),
                wskit_status::WSKIT_OK
            );
            assert_eq!(
                wskit_ctx_connect(ctx, url.as_ptr().cast(), url.len(), std::ptr::null(), &mut client),
                wskit_status::WSKIT_OK
            );
            let statuses = poll_until(ctx, || (*seen_ptr).conns.len() == 4);
            assert!(
                statuses.iter().all(|s| *s == wskit_status::WSKIT_OK),
                "{statuses:?}"
            );
            let server = (&(*seen_ptr).conns)[2..].iter().find(|(l, _)| *l != 0).unwrap().1;
            assert_eq!(
                wskit_conn_send_text(ctx, client, c"after".as_ptr(), 5),
                wskit_status::WSKIT_OK
            );
            assert_eq!(
                wskit_conn_send_text(ctx, server, c"back".as_ptr(), 4),
                wskit_status::WSKIT_OK
            );
            let statuses = poll_until(ctx, || (*seen_ptr).messages.len() == 2);
            assert!(
                statuses.iter().all(|s| *s == wskit_status::WSKIT_OK),
                "{statuses:?}"
            );
            let mut got = (*seen_ptr).messages.clone();
            got.sort();
            assert_eq!(got, vec![b"after".to_vec(), b"back".to_vec()]);
            assert_eq!(wskit_ctx_free(ctx), wskit_status::WSKIT_OK);
        }
    }
}
