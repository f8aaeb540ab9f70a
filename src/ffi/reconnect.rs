//! Client auto-reconnect in C: the config setters, the RECONNECT and UNDELIVERED events, and
//! the calls that reshape or stop a connection's retries. See docs/reconnect.md.
//!
//! Retries are timers of the context's loop, never sleeps: `wskit_conn_close`,
//! `wskit_conn_abort`, `wskit_conn_stop_reconnect` (loop thread, callbacks included),
//! `wskit_remote_close` (any thread) and `wskit_ctx_free` return at once, retry pending or not.

use std::time::Duration;

use crate::net::{ConnId, Context, ReconnectEvent, ReconnectOptions, UndeliveredReason};
use crate::proto::MessageKind;

use super::callbacks::register;
use super::config::{set, wskit_config};
use super::ctx::wskit_ctx;
use super::event::{OwnedEvent, wskit_event_fn, wskit_event_kind};
use super::status::{fail_with, wskit_status};

/// Why a queued message was not delivered: `code` of an UNDELIVERED event.
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wskit_undelivered_reason {
    /// The offline queue was full (`wskit_config_set_offline_queue_bytes`): the oldest queued
    /// messages are dropped to make room for a new one (a message larger than the whole bound is
    /// dropped itself).
    WSKIT_UNDELIVERED_QUEUE_FULL = 1,
    /// The attempts ran out (`wskit_config_set_reconnect_max_attempts`).
    WSKIT_UNDELIVERED_EXHAUSTED = 2,
    /// Reconnecting was stopped (close, abort, `wskit_conn_stop_reconnect`, shutdown, free).
    WSKIT_UNDELIVERED_STOPPED = 3,
}

/// What `wskit_conn_reconnect_state` reports.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wskit_reconnect_state {
    /// Attempts since the last connection that stayed up for the stable time (0 while a stable
    /// connection is open).
    pub attempt: u32,
    /// A retry is pending: the connection waits, without a socket.
    pub waiting: bool,
    /// Messages in the offline queue.
    pub queued_messages: usize,
    /// Their payload bytes.
    pub queued_bytes: usize,
}

/// The RECONNECT event of `conn`.
pub(crate) fn reconnect_event(ctx: &Context, conn: ConnId, event: &ReconnectEvent<'_>) -> OwnedEvent {
    let mut owned =
        OwnedEvent::new(wskit_event_kind::WSKIT_EVENT_RECONNECT).with_data(event.error.as_bytes());
    owned.conn = conn.as_u64();
    owned.user_data = ctx.user_data(conn).unwrap_or(0);
    owned.code = event.attempt;
    owned.listener = event.delay.as_millis().min(u128::from(u32::MAX)) as u32;
    owned
}

/// The UNDELIVERED event of a message of `conn`.
pub(crate) fn undelivered_event(
    ctx: &Context,
    conn: ConnId,
    kind: MessageKind,
    data: &[u8],
    reason: UndeliveredReason,
) -> OwnedEvent {
    let mut owned = OwnedEvent::new(wskit_event_kind::WSKIT_EVENT_UNDELIVERED).with_data(data);
    owned.conn = conn.as_u64();
    owned.user_data = ctx.user_data(conn).unwrap_or(0);
    owned.is_text = kind == MessageKind::Text;
    owned.code = match reason {
        UndeliveredReason::QueueFull => wskit_undelivered_reason::WSKIT_UNDELIVERED_QUEUE_FULL,
        UndeliveredReason::Exhausted => wskit_undelivered_reason::WSKIT_UNDELIVERED_EXHAUSTED,
        UndeliveredReason::Stopped => wskit_undelivered_reason::WSKIT_UNDELIVERED_STOPPED,
    } as u32;
    owned
}

/// Applies `apply` to the config's reconnect options, which must be on.
///
/// # Safety
/// `config` is NULL or a live config (the setters' contract).
unsafe fn set_enabled(
    config: *mut wskit_config,
    problem: Option<&str>,
    apply: impl FnOnce(&mut ReconnectOptions),
) -> wskit_status {
    // SAFETY: the caller's contract is `set`'s.
    unsafe {
        set(config, problem, |c| {
            if let Some(options) = c.reconnect.as_mut() {
                apply(options);
            }
        })
    }
}

/// `WSKIT_ERR_INVALID_STATE` unless `config` (non-NULL) has reconnect on.
///
/// # Safety
/// `config` is NULL or a live config.
unsafe fn enabled(config: *const wskit_config) -> Result<(), wskit_status> {
    // SAFETY: the caller's contract.
    match unsafe { config.as_ref() } {
        Some(c) if c.reconnect.is_none() => Err(fail_with(
            wskit_status::WSKIT_ERR_INVALID_STATE,
            "call wskit_config_set_reconnect first",
        )),
        _ => Ok(()),
    }
}

crate::ffi_fn! {
    /// Turns automatic reconnect on for client connections made with this config (listeners
    /// ignore it): when the connection drops, or a connect attempt fails (the first one included),
    /// it waits and connects again, keeping its id. The delay before attempt n is drawn uniformly
    /// from `[min_delay_ms, min(max_delay_ms, min_delay_ms * 2^(n-1))]` (attempt 1 waits exactly
    /// `min_delay_ms`). Each attempt is announced by a RECONNECT event; the OPEN event comes again
    /// after each successful one; the CLOSE event comes once, when reconnecting ends (close,
    /// abort, `wskit_conn_stop_reconnect`, attempts exhausted, shutdown). Errors of a connection
    /// that reconnects are in the RECONNECT event's text, not in ERROR events. A close by the
    /// server (any code) reconnects too. `min_delay_ms` 0 turns reconnect off (the default).
    /// Also resets the other reconnect settings to their defaults: no attempt limit, 10 s stable
    /// time, offline queue off.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_ARG` (`max_delay_ms` below
    /// `min_delay_ms`).
    fn wskit_config_set_reconnect(config: *mut wskit_config, min_delay_ms: u32, max_delay_ms: u32) -> wskit_status {
        let problem = (min_delay_ms > 0 && max_delay_ms < min_delay_ms).then_some("max_delay_ms must be >= min_delay_ms");
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe {
            set(config, problem, |c| {
                c.reconnect = (min_delay_ms > 0).then(|| ReconnectOptions {
                    min_delay: Duration::from_millis(min_delay_ms.into()),
                    max_delay: Duration::from_millis(max_delay_ms.into()),
                    ..ReconnectOptions::default()
                });
            })
        }
    }
}

crate::ffi_fn! {
    /// Reconnect: give up after `max_attempts` attempts in a row (0: never give up, the
    /// default); the connection then closes (CLOSE event, 1006) after UNDELIVERED events for
    /// what its offline queue held (`WSKIT_UNDELIVERED_EXHAUSTED`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (reconnect is off:
    /// call `wskit_config_set_reconnect` first).
    fn wskit_config_set_reconnect_max_attempts(config: *mut wskit_config, max_attempts: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config).
        if let Err(status) = unsafe { enabled(config) } {
            return status;
        }
        // SAFETY: as above.
        unsafe { set_enabled(config, None, |r| r.max_attempts = (max_attempts > 0).then_some(max_attempts)) }
    }
}

crate::ffi_fn! {
    /// Reconnect: a connection that stayed open `stable_after_ms` resets the attempt count, so
    /// the next drop starts again at the minimum delay. Default 10,000.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (reconnect is off).
    fn wskit_config_set_reconnect_stable_after_ms(config: *mut wskit_config, stable_after_ms: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config).
        if let Err(status) = unsafe { enabled(config) } {
            return status;
        }
        // SAFETY: as above.
        unsafe { set_enabled(config, None, |r| r.stable_after = Duration::from_millis(stable_after_ms.into())) }
    }
}

crate::ffi_fn! {
    /// Reconnect: the send policy while the connection is not open. 0 (the default): sends
    /// (`wskit_conn_send*`, `wskit_remote_send*`) fail at once with `WSKIT_ERR_NOT_CONNECTED`.
    /// Above 0: they are queued, up to `bytes` payload bytes, and written in order right after the
    /// next open (before the OPEN event); when a message does not fit, the oldest queued ones are
    /// dropped, each reported by an UNDELIVERED event (`WSKIT_UNDELIVERED_QUEUE_FULL`). Messages
    /// still queued when reconnecting ends are reported the same way (`_EXHAUSTED`, `_STOPPED`)
    /// before the CLOSE event. Fragmented messages and pings are never queued.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (reconnect is off).
    fn wskit_config_set_offline_queue_bytes(config: *mut wskit_config, bytes: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config).
        if let Err(status) = unsafe { enabled(config) } {
            return status;
        }
        // SAFETY: as above.
        unsafe { set_enabled(config, None, |r| r.offline_queue_bytes = bytes) }
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of RECONNECT events: a reconnecting client connection
    /// dropped (or an attempt failed) and attempt `event->code` (1-based, counted since the last
    /// stable connection) is scheduled after `event->listener` milliseconds (this field, as the
    /// event layout cannot grow); `event->data`/`len` says why the last connection or attempt
    /// ended. The callback may change the delay (`wskit_conn_reconnect_delay`) or stop
    /// (`wskit_conn_stop_reconnect`, `wskit_conn_close`). Strings handed out for the connection
    /// that dropped (`wskit_conn_subprotocol`, `_peer`, `_header`, ...) stay valid until this event
    /// is consumed (as a close event's); ask again after the next OPEN for the new connection's.
    /// Same rules and statuses as `wskit_ctx_on_listen`.
    fn wskit_ctx_on_reconnect(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut std::ffi::c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_RECONNECT, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Sets (or removes) the callback of UNDELIVERED events: a message queued while a
    /// reconnecting connection was not open was dropped; `event->data`/`len` is its payload,
    /// `is_text` its kind, `code` a `wskit_undelivered_reason`. Same rules and statuses as
    /// `wskit_ctx_on_listen`.
    fn wskit_ctx_on_undelivered(ctx: *mut wskit_ctx, cb: wskit_event_fn, user_data: *mut std::ffi::c_void) -> wskit_status {
        register(try_ctx!(ctx), wskit_event_kind::WSKIT_EVENT_UNDELIVERED, cb, user_data)
    }
}

crate::ffi_fn! {
    /// Changes the delay of `conn`'s pending retry to `delay_ms` from now: from the RECONNECT
    /// callback, or later while the retry is pending (queue mode: after taking the RECONNECT
    /// event). Loop thread only; never blocks.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or
    /// `WSKIT_ERR_INVALID_STATE` (no retry pending).
    fn wskit_conn_reconnect_delay(ctx: *mut wskit_ctx, conn: u64, delay_ms: u32) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.reconnect_delay(ConnId::from_u64(conn), Duration::from_millis(delay_ms.into()))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Stops reconnecting `conn`. Open, it stays open and its next drop ends it (CLOSE event as
    /// usual); waiting for a retry, it closes now: UNDELIVERED events for its offline queue
    /// (`WSKIT_UNDELIVERED_STOPPED`), then the CLOSE event (1006) at the next poll. Returns at
    /// once. Loop thread only (other threads: `wskit_remote_close`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or
    /// `WSKIT_ERR_INVALID_STATE` (the connection does not reconnect).
    fn wskit_conn_stop_reconnect(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.stop_reconnect(ConnId::from_u64(conn))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The reconnect state of `conn` (see `wskit_reconnect_state`). Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or
    /// `WSKIT_ERR_INVALID_STATE` (the connection does not reconnect).
    fn wskit_conn_reconnect_state(ctx: *const wskit_ctx, conn: u64, out: *mut wskit_reconnect_state) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let state = try_net!(ctx.with_net(|net| net.reconnect_state(ConnId::from_u64(conn))));
        write_out!(out, wskit_reconnect_state {
            attempt: state.attempt,
            waiting: state.waiting,
            queued_messages: state.queued_messages,
            queued_bytes: state.queued_bytes,
        });
        wskit_status::WSKIT_OK
    }
}
