//! `wskit_ctx`: the event loop, and the bridge that turns `net::Handler` calls into C callbacks or
//! queued events.
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
//!
//! A context is used by one thread at a time (the documentation says "loop thread only"), so
//! these cells are never touched concurrently.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::{HashMap, VecDeque};
use std::ffi::{CString, c_char, c_int};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::net::{
    self, AcceptRequest, ConnId, Context, Decision, Fragment, Handler, ListenerId, Message, OpenInfo,
};
use crate::proto::{CloseInfo, MessageKind};

use super::accept::{self, wskit_accept};
use super::callbacks::Callbacks;
use super::config::wskit_config;
use super::queue::{QueuedEvent, wskit_event_kind};
use super::status::{fail_with, wskit_status};

/// An event loop with its listeners, connections, timers and callbacks (or event queue).
///
/// Threads: loop thread only. Every function taking a `wskit_ctx *` must be called from the one
/// thread that drives the context (it may change between calls if the host synchronises), except
/// through a `wskit_remote` handle, which any thread may use.
///
/// Events reach the application one of two ways, chosen per context: callbacks
/// (`wskit_ctx_on_*`), run inside `wskit_ctx_poll`; or an event queue
/// (`wskit_ctx_use_event_queue`) that `wskit_ctx_poll` fills and `wskit_ctx_next_event` drains.
///
/// Methods: `wskit_ctx_new`, `wskit_ctx_free`, `wskit_ctx_poll`, `wskit_ctx_fd`,
/// `wskit_ctx_next_timeout_ms`, `wskit_ctx_flush`, `wskit_ctx_shutdown`, `wskit_ctx_begin_shutdown`,
/// `wskit_ctx_connection_count`, `wskit_ctx_listen`, `wskit_ctx_local_port`,
/// `wskit_ctx_close_listener`, `wskit_ctx_connect`, `wskit_ctx_on_*`, `wskit_ctx_use_event_queue`,
/// `wskit_ctx_next_event`, `wskit_ctx_remote_new`, and the per-connection `wskit_send_*`,
/// `wskit_ping`, `wskit_pong`, `wskit_close`, `wskit_abort`, `wskit_buffered_amount`,
/// `wskit_*_conn_user_data`, `wskit_conn_subprotocol`.
pub struct wskit_ctx {
    net: UnsafeCell<Context>,
    /// While a C callback runs: the `&mut Context` the handler was given.
    active: Cell<*mut Context>,
    in_poll: Cell<bool>,
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
    pub(crate) queue: VecDeque<QueuedEvent>,
    pub(crate) capacity: usize,
    /// The event last returned by `wskit_ctx_next_event` (owns the bytes its pointers show).
    pub(crate) current: Option<QueuedEvent>,
    /// Each listener's configured subprotocols (the default selection).
    listener_subprotocols: HashMap<u32, Vec<String>>,
    /// NUL-terminated subprotocol names handed out by `wskit_conn_subprotocol`.
    pub(crate) subprotocols: HashMap<u64, CString>,
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
            // not call `with_net`.
            f(unsafe { &mut *self.net.get() })
        }
    }

    fn refuse_reentry(&self, what: &str) -> Result<(), wskit_status> {
        if self.in_poll.get() {
            Err(fail_with(
                wskit_status::WSKIT_ERR_REENTRANT,
                &format!("{what} is not allowed from inside a callback of the same context"),
            ))
        } else {
            Ok(())
        }
    }

    /// Polls with the bridge handler. Caller checked `in_poll` is false.
    fn run_loop<R>(&self, f: impl FnOnce(&mut Context, &mut Bridge<'_>) -> net::Result<R>) -> net::Result<R> {
        self.state.borrow_mut().current = None;
        self.in_poll.set(true);
        let mut bridge = Bridge { ffi: self };
        // SAFETY: `in_poll` was false, so no other reference into the cell exists; while it is
        // true, other wskit calls on this context go through `active` (set by the bridge around
        // each callback) and never through the cell.
        let net = unsafe { &mut *self.net.get() };
        let result = f(net, &mut bridge);
        self.in_poll.set(false);
        result
    }
}

impl Drop for wskit_ctx {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
    }
}

/// NUL-terminated copy of `bytes` (which may contain NULs; lengths are passed alongside).
pub(crate) fn nul_terminated(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.extend_from_slice(bytes);
    out.push(0);
    out
}

fn addr_string(addr: Option<SocketAddr>) -> Vec<u8> {
    nul_terminated(addr.map(|a| a.to_string()).unwrap_or_default().as_bytes())
}

/// The `net::Handler` of a C context: calls the C callbacks, or queues events.
struct Bridge<'a> {
    ffi: &'a wskit_ctx,
}

impl Bridge<'_> {
    fn ctx_ptr(&self) -> *mut wskit_ctx {
        std::ptr::from_ref(self.ffi).cast_mut()
    }

    fn mode(&self) -> Mode {
        self.ffi.state.borrow().mode
    }

    /// Runs a C callback with `ctx` reachable for the calls it makes.
    fn call(&self, ctx: &mut Context, f: impl FnOnce()) {
        let previous = self.ffi.active.replace(std::ptr::from_mut(ctx));
        f();
        self.ffi.active.set(previous);
    }

    fn push(&self, event: QueuedEvent) {
        self.ffi.state.borrow_mut().queue.push_back(event);
    }

    fn forget_conn(&self, conn: ConnId) -> Option<CString> {
        self.ffi.state.borrow_mut().subprotocols.remove(&conn.as_u64())
    }
}

impl Handler for Bridge<'_> {
    fn should_pause(&self) -> bool {
        let state = self.ffi.state.borrow();
        state.mode == Mode::Queue && state.queue.len() >= state.capacity
    }

    fn on_listen(&mut self, ctx: &mut Context, listener: ListenerId, addr: SocketAddr) {
        let text = nul_terminated(addr.to_string().as_bytes());
        match self.mode() {
            Mode::Queue => self.push(QueuedEvent {
                listener: listener.as_u32(),
                code: u32::from(addr.port()),
                data: text,
                ..QueuedEvent::new(wskit_event_kind::WSKIT_EVENT_LISTEN)
            }),
            Mode::Callbacks => {
                let Some((f, user_data)) = self.ffi.state.borrow().callbacks.listen else {
                    return;
                };
                let ctx_ptr = self.ctx_ptr();
                // SAFETY: a C function pointer registered with `wskit_ctx_on_listen`; the pointers
                // passed stay valid for the call.
                self.call(ctx, || unsafe {
                    f(
                        user_data,
                        ctx_ptr,
                        listener.as_u32(),
                        text.as_ptr().cast(),
                        addr.port(),
                    )
                });
            }
            Mode::Unset => {}
        }
    }

    fn on_accept(&mut self, ctx: &mut Context, request: &AcceptRequest<'_>) -> Decision {
        let preferred = self
            .ffi
            .state
            .borrow()
            .listener_subprotocols
            .get(&request.listener.as_u32())
            .and_then(|ours| {
                request
                    .request
                    .subprotocols
                    .iter()
                    .find(|offered| ours.iter().any(|o| o == *offered))
                    .cloned()
            });
        let callback = self.ffi.state.borrow().callbacks.accept;
        let Some((f, user_data)) = callback.filter(|_| self.mode() == Mode::Callbacks) else {
            return Decision::Accept {
                subprotocol: preferred,
                headers: Vec::new(),
            };
        };
        let mut handle = wskit_accept::new(request, preferred);
        let ctx_ptr = self.ctx_ptr();
        let handle_ptr = std::ptr::from_mut(&mut handle);
        // SAFETY: a C function pointer registered with `wskit_ctx_on_accept`; `handle` lives on this
        // stack frame for the whole call.
        self.call(ctx, || unsafe { f(user_data, ctx_ptr, handle_ptr) });
        accept::decide(handle)
    }

    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        let listener = info.listener.map_or(0, ListenerId::as_u32);
        match self.mode() {
            Mode::Queue => self.push(QueuedEvent {
                conn: conn.as_u64(),
                listener,
                data: nul_terminated(info.subprotocol.unwrap_or("").as_bytes()),
                ..QueuedEvent::new(wskit_event_kind::WSKIT_EVENT_OPEN)
            }),
            Mode::Callbacks => {
                let Some((f, user_data)) = self.ffi.state.borrow().callbacks.open else {
                    return;
                };
                let sub = info.subprotocol.map(|s| nul_terminated(s.as_bytes()));
                let path = nul_terminated(info.path.as_bytes());
                let peer = addr_string(info.peer);
                let ctx_ptr = self.ctx_ptr();
                let sub_ptr: *const c_char = sub.as_ref().map_or(std::ptr::null(), |s| s.as_ptr().cast());
                // SAFETY: a C function pointer registered with `wskit_ctx_on_open`; the strings live
                // until the call returns.
                self.call(ctx, || unsafe {
                    f(
                        user_data,
                        ctx_ptr,
                        conn.as_u64(),
                        listener,
                        sub_ptr,
                        path.as_ptr().cast(),
                        peer.as_ptr().cast(),
                    )
                });
            }
            Mode::Unset => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let is_text = matches!(message, Message::Text(_));
        let data = message.as_bytes();
        match self.mode() {
            Mode::Queue => self.push(QueuedEvent {
                conn: conn.as_u64(),
                is_text,
                data: data.to_vec(),
                ..QueuedEvent::new(wskit_event_kind::WSKIT_EVENT_MESSAGE)
            }),
            Mode::Callbacks => {
                let Some((f, user_data)) = self.ffi.state.borrow().callbacks.message else {
                    return;
                };
                let ctx_ptr = self.ctx_ptr();
                // SAFETY: a C function pointer registered with `wskit_ctx_on_message`; `data` is
                // valid for the call.
                self.call(ctx, || unsafe {
                    f(
                        user_data,
                        ctx_ptr,
                        conn.as_u64(),
                        is_text,
                        data.as_ptr(),
                        data.len(),
                    )
                });
            }
            Mode::Unset => {}
        }
    }

    fn on_fragment(&mut self, ctx: &mut Context, conn: ConnId, fragment: Fragment<'_>) {
        let is_text = fragment.kind == MessageKind::Text;
        match self.mode() {
            Mode::Queue => self.push(QueuedEvent {
                conn: conn.as_u64(),
                is_text,
                first: fragment.first,
                last: fragment.last,
                data: fragment.data.to_vec(),
                ..QueuedEvent::new(wskit_event_kind::WSKIT_EVENT_FRAGMENT)
            }),
            Mode::Callbacks => {
                let Some((f, user_data)) = self.ffi.state.borrow().callbacks.fragment else {
                    return;
                };
                let ctx_ptr = self.ctx_ptr();
                let data = fragment.data;
                // SAFETY: a C function pointer registered with `wskit_ctx_on_fragment`; `data` is
                // valid for the call.
                self.call(ctx, || unsafe {
                    f(
                        user_data,
                        ctx_ptr,
                        conn.as_u64(),
                        is_text,
                        data.as_ptr(),
                        data.len(),
                        fragment.first,
                        fragment.last,
                    )
                });
            }
            Mode::Unset => {}
        }
    }

    fn on_ping(&mut self, ctx: &mut Context, conn: ConnId, payload: &[u8]) {
        self.control(ctx, conn, payload, wskit_event_kind::WSKIT_EVENT_PING);
    }

    fn on_pong(&mut self, ctx: &mut Context, conn: ConnId, payload: &[u8]) {
        self.control(ctx, conn, payload, wskit_event_kind::WSKIT_EVENT_PONG);
    }

    fn on_writable(&mut self, ctx: &mut Context, conn: ConnId) {
        match self.mode() {
            Mode::Queue => self.push(QueuedEvent {
                conn: conn.as_u64(),
                ..QueuedEvent::new(wskit_event_kind::WSKIT_EVENT_WRITABLE)
            }),
            Mode::Callbacks => {
                let Some((f, user_data)) = self.ffi.state.borrow().callbacks.writable else {
                    return;
                };
                let ctx_ptr = self.ctx_ptr();
                // SAFETY: a C function pointer registered with `wskit_ctx_on_writable`.
                self.call(ctx, || unsafe { f(user_data, ctx_ptr, conn.as_u64()) });
            }
            Mode::Unset => {}
        }
    }

    fn on_close(&mut self, ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        match self.mode() {
            Mode::Queue => {
                let subprotocol = self.forget_conn(conn);
                self.push(QueuedEvent {
                    conn: conn.as_u64(),
                    code: u32::from(info.code),
                    clean: info.clean,
                    data: nul_terminated(info.reason.as_bytes()),
                    keep: subprotocol,
                    ..QueuedEvent::new(wskit_event_kind::WSKIT_EVENT_CLOSE)
                });
            }
            Mode::Callbacks => {
                let callback = self.ffi.state.borrow().callbacks.close;
                if let Some((f, user_data)) = callback {
                    let reason = nul_terminated(info.reason.as_bytes());
                    let ctx_ptr = self.ctx_ptr();
                    // SAFETY: a C function pointer registered with `wskit_ctx_on_close`; `reason` is
                    // valid for the call.
                    self.call(ctx, || unsafe {
                        f(
                            user_data,
                            ctx_ptr,
                            conn.as_u64(),
                            info.code,
                            reason.as_ptr().cast(),
                            info.reason.len(),
                            info.clean,
                        )
                    });
                }
                self.forget_conn(conn);
            }
            Mode::Unset => {
                self.forget_conn(conn);
            }
        }
    }

    fn on_error(&mut self, ctx: &mut Context, conn: Option<ConnId>, error: &net::Error) {
        let status = wskit_status::from(error);
        let text = nul_terminated(error.to_string().as_bytes());
        let conn = conn.map_or(0, ConnId::as_u64);
        match self.mode() {
            Mode::Queue => self.push(QueuedEvent {
                conn,
                code: status as u32,
                data: text,
                ..QueuedEvent::new(wskit_event_kind::WSKIT_EVENT_ERROR)
            }),
            Mode::Callbacks => {
                let Some((f, user_data)) = self.ffi.state.borrow().callbacks.error else {
                    return;
                };
                let ctx_ptr = self.ctx_ptr();
                // SAFETY: a C function pointer registered with `wskit_ctx_on_error`; `text` is valid
                // for the call.
                self.call(ctx, || unsafe {
                    f(user_data, ctx_ptr, conn, status, text.as_ptr().cast())
                });
            }
            Mode::Unset => {}
        }
    }
}

impl Bridge<'_> {
    fn control(&mut self, ctx: &mut Context, conn: ConnId, payload: &[u8], kind: wskit_event_kind) {
        match self.mode() {
            Mode::Queue => self.push(QueuedEvent {
                conn: conn.as_u64(),
                data: payload.to_vec(),
                ..QueuedEvent::new(kind)
            }),
            Mode::Callbacks => {
                let callbacks = self.ffi.state.borrow().callbacks;
                let callback = if kind == wskit_event_kind::WSKIT_EVENT_PING {
                    callbacks.ping
                } else {
                    callbacks.pong
                };
                let Some((f, user_data)) = callback else {
                    return;
                };
                let ctx_ptr = self.ctx_ptr();
                // SAFETY: a C function pointer registered with `wskit_ctx_on_ping`/`_on_pong`;
                // `payload` is valid for the call.
                self.call(ctx, || unsafe {
                    f(user_data, ctx_ptr, conn.as_u64(), payload.as_ptr(), payload.len())
                });
            }
            Mode::Unset => {}
        }
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
            state: RefCell::new(State {
                mode: Mode::Unset,
                callbacks: Callbacks::default(),
                queue: VecDeque::new(),
                capacity: 0,
                current: None,
                listener_subprotocols: HashMap::new(),
                subprotocols: HashMap::new(),
            }),
            alive: Arc::new(AtomicBool::new(true)),
        });
        write_out!(out, Box::into_raw(ctx));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Frees a context and everything it owns: listeners and connections are closed at once
    /// (sockets closed without a closing handshake; no more events are delivered), queued events
    /// and the strings handed out are freed. For a graceful end call `wskit_ctx_shutdown` first.
    /// Remote handles stay valid (their calls then return `WSKIT_ERR_INVALID_STATE`).
    ///
    /// NULL is a no-op returning `WSKIT_OK`. Loop thread only. Calling it from inside a callback of
    /// the same context is refused with `WSKIT_ERR_REENTRANT` and frees nothing (free it after
    /// `wskit_ctx_poll` returns). The pointer must not be used after `WSKIT_OK`.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_REENTRANT`.
    fn wskit_ctx_free(ctx: *mut wskit_ctx) -> wskit_status {
        if ctx.is_null() {
            return wskit_status::WSKIT_OK;
        }
        {
            let shared = try_ctx!(ctx);
            if let Err(status) = shared.refuse_reentry("wskit_ctx_free") {
                return status;
            }
        }
        // SAFETY: `ctx` came from `wskit_ctx_new` (Box::into_raw); no poll is running on it, so no
        // reference into it is alive, and the caller does not use it again (documented).
        drop(unsafe { Box::from_raw(ctx) });
        wskit_status::WSKIT_OK
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
        let count = try_net!(ctx.run_loop(|net, bridge| net.poll(bridge, millis_of(timeout_ms))));
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
        try_net!(ctx.run_loop(|net, bridge| net.shutdown(bridge, timeout)));
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

crate::ffi_fn! {
    /// Starts listening on `addr` (`"127.0.0.1:9001"`, `"[::1]:0"`, `"0.0.0.0:0"`; port 0 picks a
    /// free port, see `wskit_ctx_local_port`). `config` may be NULL (defaults); it is copied. The
    /// listen event follows at the next poll. On `WSKIT_OK`, `*out_listener` receives the listener
    /// id (never 0). Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, addr, out_listener),
    /// `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_INVALID_ARG` (not an address) or `WSKIT_ERR_IO` (e.g.
    /// the port is in use).
    fn wskit_ctx_listen(ctx: *mut wskit_ctx, addr: *const c_char, config: *const wskit_config, out_listener: *mut u32) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let addr = try_str!(addr);
        non_null!(out_listener);
        let defaults = wskit_config::default();
        let config = if config.is_null() { &defaults } else { try_ref!(config) };
        let id = try_net!(ctx.with_net(|net| net.listen(addr, config.listen_options())));
        ctx.state
            .borrow_mut()
            .listener_subprotocols
            .insert(id.as_u32(), config.subprotocols.clone());
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
    /// Opens a client connection to a `ws://` or `wss://host[:port][/path][?query]` URL (wss://
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
    fn wskit_ctx_connect(ctx: *mut wskit_ctx, url: *const c_char, config: *const wskit_config, out_conn: *mut u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let url = try_str!(url);
        non_null!(out_conn);
        let defaults = wskit_config::default();
        let config = if config.is_null() { &defaults } else { try_ref!(config) };
        let id = try_net!(ctx.with_net(|net| net.connect(url, config.connect_options())));
        write_out!(out_conn, id.as_u64());
        wskit_status::WSKIT_OK
    }
}
