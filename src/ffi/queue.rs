//! Pull-style events: `wskit_ctx_use_event_queue`, `wskit_ctx_next_event`,
//! `wskit_ctx_next_events` (many per call: what makes a binding's per-call cost small per
//! event), `wskit_ctx_queue_stats`, and the byte-bounded queue behind them.

use std::collections::VecDeque;

use crate::net::ConnId;

use super::ctx::{Mode, wskit_ctx};
use super::event::OwnedEvent;
use super::status::{fail_with, wskit_status};

/// Flags of `wskit_ctx_use_event_queue` (combine with `|`).
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wskit_queue_flag {
    /// Overflow policy (the default, 0): stop reading sockets while the queue holds `max_bytes`
    /// or more; nothing is lost.
    WSKIT_QUEUE_PAUSE = 0,
    /// Overflow policy: a message, fragment, ping or pong that would take the queue past
    /// `max_bytes` is dropped and its connection closed with 1013 (Try Again Later).
    WSKIT_QUEUE_CLOSE = 1,
    /// Deliver ACCEPT events: every upgrade request then waits for `wskit_conn_accept` /
    /// `wskit_conn_reject` (or the handshake timeout).
    WSKIT_QUEUE_ACCEPT_EVENTS = 2,
    /// Deliver HTTP_REQUEST events: every plain HTTP request then waits for an answer
    /// (`wskit_http_respond`, ..., `wskit_http_serve_static`). Without it they get the default
    /// answer (the static directory, else a 4xx).
    WSKIT_QUEUE_HTTP_EVENTS = 4,
}

pub(crate) const QUEUE_CLOSE: u32 = wskit_queue_flag::WSKIT_QUEUE_CLOSE as u32;
pub(crate) const QUEUE_ACCEPT_EVENTS: u32 = wskit_queue_flag::WSKIT_QUEUE_ACCEPT_EVENTS as u32;
pub(crate) const QUEUE_HTTP_EVENTS: u32 = wskit_queue_flag::WSKIT_QUEUE_HTTP_EVENTS as u32;
const ALL_FLAGS: u32 = QUEUE_CLOSE | QUEUE_ACCEPT_EVENTS | QUEUE_HTTP_EVENTS;

/// What `wskit_ctx_queue_stats` reports.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wskit_queue_stats {
    /// Events queued now.
    pub events: usize,
    /// Bytes queued now (data, strings and headers of the queued events).
    pub bytes: usize,
    /// The most bytes the queue has held.
    pub peak_bytes: usize,
    /// How many times the bound was hit: with `WSKIT_QUEUE_PAUSE` each time reading paused,
    /// with `WSKIT_QUEUE_CLOSE` each dropped event.
    pub overflows: u64,
}

/// The queue of a context in queue mode.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    pub(crate) events: VecDeque<OwnedEvent>,
    pub(crate) bytes: usize,
    pub(crate) peak_bytes: usize,
    pub(crate) overflows: u64,
    pub(crate) max_bytes: usize,
    pub(crate) flags: u32,
    /// Reading is paused (PAUSE policy) until the queue drops below the bound.
    paused: bool,
}

impl Queue {
    pub(crate) fn push(&mut self, event: OwnedEvent) {
        self.bytes += event.counted();
        self.peak_bytes = self.peak_bytes.max(self.bytes);
        self.events.push_back(event);
    }

    fn pop(&mut self) -> Option<OwnedEvent> {
        let event = self.events.pop_front()?;
        self.bytes -= event.counted();
        if self.bytes < self.max_bytes {
            self.paused = false;
        }
        Some(event)
    }

    /// PAUSE policy: whether to stop reading; counts each time the bound is reached.
    pub(crate) fn should_pause(&mut self) -> bool {
        if self.flags & QUEUE_CLOSE != 0 || self.bytes < self.max_bytes {
            return false;
        }
        if !self.paused {
            self.paused = true;
            self.overflows += 1;
        }
        true
    }
}

crate::ffi_fn! {
    /// Switches the context to queue mode: `wskit_ctx_poll` stores events in a queue instead of
    /// calling callbacks, and `wskit_ctx_next_event` takes them one by one. A context uses either
    /// callbacks or the queue, for its whole life. Calling it again changes the bound and flags.
    ///
    /// `max_bytes` (> 0) bounds the bytes of queued events: their data, strings and headers.
    /// `flags` is a `wskit_queue_flag` combination: the overflow policy, `WSKIT_QUEUE_PAUSE` (0,
    /// the default) or `WSKIT_QUEUE_CLOSE`, `WSKIT_QUEUE_ACCEPT_EVENTS` and
    /// `WSKIT_QUEUE_HTTP_EVENTS`.
    ///
    /// The bound, exactly: with `WSKIT_QUEUE_PAUSE`, `wskit_ctx_poll` reads a socket only while
    /// the queue holds fewer than `max_bytes` bytes, and one read takes at most 256 KiB (the
    /// context's read buffer). The events of one read carry at most those bytes plus one message
    /// reassembled from earlier reads (at most the connection's max message size). So message,
    /// fragment, ping and pong events never take the queue past
    /// `max_bytes + 256 KiB + max_message_size` bytes (`peak_bytes` in `wskit_ctx_queue_stats`).
    /// Lifecycle events (listen, accept, open, close, error, writable, rejected) are always queued
    /// and come on top: at most one open, one close and one rejected per connection. With
    /// `WSKIT_QUEUE_CLOSE` data events never take the queue past `max_bytes`.
    ///
    /// Without `WSKIT_QUEUE_ACCEPT_EVENTS`, upgrade requests are accepted (after the Origin
    /// allowlist) with the listener's default subprotocol: the first subprotocol the client
    /// offers that the listener's config lists (`wskit_config_add_subprotocol`). Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (`max_bytes` 0, an
    /// unknown flag) or `WSKIT_ERR_INVALID_STATE` (callbacks were set).
    fn wskit_ctx_use_event_queue(ctx: *mut wskit_ctx, max_bytes: usize, flags: u32) -> wskit_status {
        let ctx = try_ctx!(ctx);
        if max_bytes == 0 {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "max_bytes must be > 0");
        }
        if flags & !ALL_FLAGS != 0 {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "unknown queue flag");
        }
        let mut state = ctx.state.borrow_mut();
        if state.mode == Mode::Callbacks {
            return fail_with(
                wskit_status::WSKIT_ERR_INVALID_STATE,
                "this context uses callbacks; the event queue cannot be enabled",
            );
        }
        state.mode = Mode::Queue;
        state.queue.max_bytes = max_bytes;
        state.queue.flags = flags;
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Takes the oldest queued event into `*out`. The event's pointers stay valid until the next
    /// `wskit_ctx_next_event`, `wskit_ctx_next_events`, `wskit_ctx_poll`, `wskit_ctx_shutdown` or
    /// `wskit_ctx_free` on this context. `conn_user_data` is the connection's user data now (or, once the connection is
    /// gone, what it was when the event was queued). Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_QUEUE_EMPTY` (no event; `*out` untouched; not an error),
    /// `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (queue mode not enabled).
    fn wskit_ctx_next_event(ctx: *mut wskit_ctx, out: *mut super::event::wskit_event) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let mut event = {
            let mut state = ctx.state.borrow_mut();
            if state.mode != Mode::Queue {
                return fail_with(wskit_status::WSKIT_ERR_INVALID_STATE, "the event queue is not enabled");
            }
            state.current = None;
            state.taken.clear();
            let Some(event) = state.queue.pop() else {
                return wskit_status::WSKIT_QUEUE_EMPTY;
            };
            event
        };
        if event.conn != 0 {
            if let Ok(value) = ctx.with_net(|net| net.user_data(ConnId::from_u64(event.conn))) {
                event.user_data = value;
            }
        }
        let mut state = ctx.state.borrow_mut();
        let state = &mut *state;
        let view = event.view(&mut state.current_headers);
        state.current = Some(event);
        write_out!(out, view);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Takes up to `cap` of the oldest queued events at once, in order, into `out[0]` ..
    /// `out[*count - 1]`: what `wskit_ctx_next_event` does `*count` times, in one call (bindings
    /// whose calls into C cost far more than wskit's work per event, such as Python's ctypes, take
    /// a whole poll's events with one call). Every taken event's pointers stay valid until the next
    /// `wskit_ctx_next_events`, `wskit_ctx_next_event`, `wskit_ctx_poll`, `wskit_ctx_shutdown` or
    /// `wskit_ctx_free` on this context. `out` has room for `cap` events (`cap` > 0); `*count`
    /// receives how many were written (0 with `WSKIT_QUEUE_EMPTY`). Loop thread only.
    ///
    /// Returns `WSKIT_OK` (at least one event), `WSKIT_QUEUE_EMPTY` (none; not an error),
    /// `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (`cap` 0) or `WSKIT_ERR_INVALID_STATE` (queue
    /// mode not enabled).
    fn wskit_ctx_next_events(ctx: *mut wskit_ctx, out: *mut super::event::wskit_event, cap: usize, count: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        non_null!(count);
        if cap == 0 {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "cap must be > 0");
        }
        let mut taken = {
            let mut state = ctx.state.borrow_mut();
            if state.mode != Mode::Queue {
                return fail_with(wskit_status::WSKIT_ERR_INVALID_STATE, "the event queue is not enabled");
            }
            state.current = None;
            state.current_headers.clear();
            // Reuse the vector (and its capacity) of the previous call.
            let mut taken = std::mem::take(&mut state.taken);
            taken.clear();
            while taken.len() < cap {
                match state.queue.pop() {
                    Some(event) => taken.push(event),
                    None => break,
                }
            }
            taken
        };
        if taken.is_empty() {
            ctx.state.borrow_mut().taken = taken;
            write_out!(count, 0);
            return wskit_status::WSKIT_QUEUE_EMPTY;
        }
        // The user data now, as wskit_ctx_next_event gives it (one look-up per event).
        ctx.with_net(|net| {
            for event in taken.iter_mut().filter(|e| e.conn != 0) {
                if let Ok(value) = net.user_data(ConnId::from_u64(event.conn)) {
                    event.user_data = value;
                }
            }
        });
        let mut state = ctx.state.borrow_mut();
        let state = &mut *state;
        let headers = &mut state.taken_headers;
        headers.clear();
        // Room for every header first: the views point into this vector, so it must not move.
        headers.reserve(taken.iter().map(OwnedEvent::header_count).sum());
        for (i, event) in taken.iter().enumerate() {
            let view = event.view_appended(headers);
            // SAFETY: `out` is non-NULL and, per the documentation, has room for `cap` events;
            // `i < taken.len() <= cap`.
            unsafe { out.add(i).write(view) };
        }
        write_out!(count, taken.len());
        state.taken = taken;
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The queue's counters (see `wskit_queue_stats`). Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (queue mode not
    /// enabled).
    fn wskit_ctx_queue_stats(ctx: *const wskit_ctx, out: *mut wskit_queue_stats) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let state = ctx.state.borrow();
        if state.mode != Mode::Queue {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_STATE, "the event queue is not enabled");
        }
        let q = &state.queue;
        write_out!(out, wskit_queue_stats {
            events: q.events.len(),
            bytes: q.bytes,
            peak_bytes: q.peak_bytes,
            overflows: q.overflows,
        });
        wskit_status::WSKIT_OK
    }
}
