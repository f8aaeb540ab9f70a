//! `wskit_remote`: send, ping and close from any thread.

use std::ffi::c_char;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::net::{ConnId, Remote};

use super::conn::utf8;
use super::ctx::wskit_ctx;
use super::status::{fail_with, wskit_status};

/// A thread-safe handle to a context: any thread may use it, concurrently. Calls copy their data,
/// queue it for the loop thread and wake it; the loop performs the work during its next poll, in
/// the order each thread issued it. Errors only the loop can detect (the connection closed
/// meanwhile, a bad close code) are reported to the context's error event with the connection id.
///
/// A remote stays valid after its context is freed: its calls then return
/// `WSKIT_ERR_INVALID_STATE` and do nothing. Free it with `wskit_remote_free` (from any thread,
/// once no other thread uses it).
///
/// Methods: `wskit_remote_new`, `wskit_remote_send_text`, `wskit_remote_send_binary`,
/// `wskit_remote_ping`, `wskit_remote_close`, `wskit_remote_pause_reading`,
/// `wskit_remote_resume_reading`, `wskit_remote_http_respond`, `wskit_remote_http_begin`,
/// `wskit_remote_http_write`, `wskit_remote_http_end`, `wskit_remote_wake`, `wskit_remote_free`.
#[derive(Debug)]
pub struct wskit_remote {
    remote: Remote,
    alive: Arc<AtomicBool>,
}

impl wskit_remote {
    pub(crate) fn check(&self) -> Result<&Remote, wskit_status> {
        if self.alive.load(Ordering::Acquire) {
            Ok(&self.remote)
        } else {
            Err(fail_with(
                wskit_status::WSKIT_ERR_INVALID_STATE,
                "the context was freed",
            ))
        }
    }
}

crate::ffi_fn! {
    /// Creates a remote handle for `ctx`. On `WSKIT_OK`, `*out` owns it; free it with
    /// `wskit_remote_free`. Loop thread only (the handle itself may then go to any thread); may be
    /// called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_remote_new(ctx: *const wskit_ctx, out: *mut *mut wskit_remote) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let remote = Box::new(wskit_remote {
            remote: ctx.with_net(|net| net.remote()),
            alive: ctx.alive.clone(),
        });
        write_out!(out, Box::into_raw(remote));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Frees a remote handle. NULL is a no-op. Any thread, once no other thread uses the handle.
    ///
    /// Returns `WSKIT_OK`.
    fn wskit_remote_free(remote: *mut wskit_remote) -> wskit_status {
        if !remote.is_null() {
            // SAFETY: a non-NULL `remote` came from `wskit_remote_new` (Box::into_raw) and,
            // per the documentation, no thread uses it during or after this call.
            drop(unsafe { Box::from_raw(remote) });
        }
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Queues a text message of `text_len` bytes of UTF-8 (or `WSKIT_NTS`) for `conn` (`text` may
    /// be NULL when the length is 0; copied). Any thread. Like local sends it obeys the
    /// connection's `max_buffered`, but on the loop thread: a send that would pass it is dropped
    /// there and reported as an ERROR event with `WSKIT_ERR_WOULD_BLOCK` for the connection (its
    /// text says how many bytes were dropped), then a WRITABLE event when the queue drains.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`,
    /// `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK` (other threads have
    /// queued more than 64 MiB the loop has not taken yet). A stale `conn` is reported later, to
    /// the error event.
    fn wskit_remote_send_text(remote: *const wskit_remote, conn: u64, text: *const c_char, text_len: usize) -> wskit_status {
        let remote = try_remote!(remote);
        let data = try_str_bytes!(text, text_len);
        let text = match utf8(data) {
            Ok(text) => text,
            Err(status) => return status,
        };
        try_net!(remote.send_text(ConnId::from_u64(conn), text));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Queues a binary message for `conn`. Same rules and statuses as `wskit_remote_send_text`,
    /// without the UTF-8 check. Any thread.
    fn wskit_remote_send_binary(remote: *const wskit_remote, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let remote = try_remote!(remote);
        let data = try_bytes!(data, len);
        try_net!(remote.send_binary(ConnId::from_u64(conn), data));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Queues a ping (payload at most 125 bytes) for `conn`. Any thread.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (payload too long),
    /// `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK`.
    fn wskit_remote_ping(remote: *const wskit_remote, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let remote = try_remote!(remote);
        let data = try_bytes!(data, len);
        try_net!(remote.ping(ConnId::from_u64(conn), data));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Starts the closing handshake of `conn` with `code` and a `reason` of `reason_len` bytes
    /// (or `WSKIT_NTS`; NULL with length 0 for none; any valid UTF-8, NUL included). An invalid code is reported later to the error event. Any thread.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (remote), `WSKIT_ERR_INVALID_UTF8`,
    /// `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK`.
    fn wskit_remote_close(remote: *const wskit_remote, conn: u64, code: u16, reason: *const c_char, reason_len: usize) -> wskit_status {
        let remote = try_remote!(remote);
        let reason = try_str!(reason, reason_len);
        try_net!(remote.close(ConnId::from_u64(conn), code, reason));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// `wskit_conn_pause_reading` from any thread: performed by the loop during its next poll
    /// (an unknown or closed id is reported to the error event with `WSKIT_ERR_NOT_FOUND`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (context freed).
    fn wskit_remote_pause_reading(remote: *const wskit_remote, conn: u64) -> wskit_status {
        let remote = try_remote!(remote);
        try_net!(remote.pause_reading(ConnId::from_u64(conn)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// `wskit_conn_resume_reading` from any thread (e.g. a worker that caught up): performed by
    /// the loop during its next poll, which it wakes.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (context freed).
    fn wskit_remote_resume_reading(remote: *const wskit_remote, conn: u64) -> wskit_status {
        let remote = try_remote!(remote);
        try_net!(remote.resume_reading(ConnId::from_u64(conn)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Wakes the loop: a `wskit_ctx_poll` blocked on this context returns (with no events if
    /// there was nothing else to do). Any thread; async-signal-unsafe.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_STATE` (context freed) or
    /// `WSKIT_ERR_IO`.
    fn wskit_remote_wake(remote: *const wskit_remote) -> wskit_status {
        let remote = try_remote!(remote);
        try_net!(remote.wake());
        wskit_status::WSKIT_OK
    }
}
