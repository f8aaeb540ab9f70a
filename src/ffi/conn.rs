//! Per-connection calls: connections are `uint64_t` ids (0 is never valid); a stale or made-up id
//! gives `WSKIT_ERR_NOT_FOUND`, never another connection.
//!
//! All of these are loop thread only and may be called from any callback of the context,
//! including on the connection being handled.

use std::ffi::{CString, c_char, c_void};

use crate::net::ConnId;
use crate::proto::MessageKind;

use super::ctx::wskit_ctx;
use super::status::{fail_with, wskit_status};

/// `&str` of text bytes, or `WSKIT_ERR_INVALID_UTF8` (checked once here; the send does not check
/// again).
pub(crate) fn utf8(data: &[u8]) -> Result<&str, wskit_status> {
    crate::proto::utf8::validate(data)
        .map_err(|_| fail_with(wskit_status::WSKIT_ERR_INVALID_UTF8, "text is not valid UTF-8"))
}

crate::ffi_fn! {
    /// Queues a text message of `len` bytes of UTF-8 (not NUL-terminated; `data` may be NULL when
    /// `len` is 0). It is written during the next poll or flush (at once when called from a
    /// callback, before the poll returns). The bytes are copied.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_NOT_FOUND`
    /// (closed or unknown id), `WSKIT_ERR_INVALID_STATE` (not open yet, or a close was already sent,
    /// or a fragmented message is in progress) or `WSKIT_ERR_WOULD_BLOCK` (send buffer full: wait
    /// for the writable event).
    fn wskit_send_text(ctx: *mut wskit_ctx, conn: u64, data: *const c_char, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        let text = match utf8(data) {
            Ok(text) => text,
            Err(status) => return status,
        };
        try_net!(ctx.with_net(|net| net.send_text(ConnId::from_u64(conn), text)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Queues a binary message of `len` bytes (`data` may be NULL when `len` is 0). Same rules and
    /// statuses as `wskit_send_text`, without the UTF-8 check.
    fn wskit_send_binary(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.send_binary(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Begins a fragmented message of unknown total length, sending its first frame with `len`
    /// bytes (may be 0). Continue with `wskit_continue_message`, end with `wskit_finish_message`;
    /// pings, pongs and a close may be sent in between, other messages may not. For text, the
    /// whole message must be valid UTF-8 (a piece may end inside a character).
    ///
    /// Returns the statuses of `wskit_send_text` (`WSKIT_ERR_INVALID_STATE` when a message is
    /// already in progress).
    fn wskit_begin_message(ctx: *mut wskit_ctx, conn: u64, is_text: bool, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        let kind = if is_text { MessageKind::Text } else { MessageKind::Binary };
        try_net!(ctx.with_net(|net| net.begin_message(ConnId::from_u64(conn), kind, data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Sends the next piece of the message begun with `wskit_begin_message`.
    ///
    /// Returns the statuses of `wskit_send_text` (`WSKIT_ERR_INVALID_STATE` when no message is in
    /// progress, `WSKIT_ERR_INVALID_UTF8` when text can no longer be valid UTF-8).
    fn wskit_continue_message(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.continue_message(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Sends the last piece (may be empty) of the message begun with `wskit_begin_message`.
    ///
    /// Returns the statuses of `wskit_continue_message`.
    fn wskit_finish_message(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.finish_message(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Queues a ping with a payload of at most 125 bytes (`data` may be NULL when `len` is 0).
    /// Control frames ignore `max_buffered`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (payload over 125 bytes),
    /// `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_INVALID_STATE`.
    fn wskit_ping(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.ping(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Queues an unsolicited pong (or, with auto-pong off, the answer to a ping). Same rules and
    /// statuses as `wskit_ping`.
    fn wskit_pong(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.pong(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Starts the closing handshake with `code` (1000, 1001, 1003, 1007-1014, 3000-4999) and a
    /// NUL-terminated UTF-8 `reason` of at most 123 bytes (optional: NULL for none). The close event
    /// follows when the peer answers or after the close timeout. Before the connection opened,
    /// it is dropped instead (a client's connect is cancelled; the close event reports 1006).
    /// Calling it on a connection already closing returns `WSKIT_ERR_INVALID_STATE`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx), `WSKIT_ERR_INVALID_UTF8`,
    /// `WSKIT_ERR_INVALID_ARG` (code or reason length), `WSKIT_ERR_NOT_FOUND` or
    /// `WSKIT_ERR_INVALID_STATE`.
    fn wskit_close(ctx: *mut wskit_ctx, conn: u64, code: u16, reason: *const c_char) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let reason = if reason.is_null() { "" } else { try_str!(reason) };
        try_net!(ctx.with_net(|net| net.close(ConnId::from_u64(conn), code, reason)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Drops the connection at once, without a closing handshake. If it had been reported open,
    /// the close event (1006, not clean) follows at the next poll (or later in the current one).
    /// No other event is delivered for it; the id is invalid after.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_abort(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.abort(ConnId::from_u64(conn))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Bytes queued for sending and not yet taken by the socket (the browser's `bufferedAmount`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_buffered_amount(ctx: *const wskit_ctx, conn: u64, out_bytes: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_bytes);
        let n = try_net!(ctx.with_net(|net| net.buffered_amount(ConnId::from_u64(conn))));
        write_out!(out_bytes, n);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Attaches an application pointer to the connection (NULL allowed; wskit never dereferences
    /// or frees it). Free what it points to yourself, e.g. in the close event.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx) or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_set_conn_user_data(ctx: *mut wskit_ctx, conn: u64, user_data: *mut c_void) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let value = user_data as usize as u64;
        try_net!(ctx.with_net(|net| net.set_user_data(ConnId::from_u64(conn), value)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The pointer set with `wskit_set_conn_user_data` (NULL if none).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_get_conn_user_data(ctx: *const wskit_ctx, conn: u64, out: *mut *mut c_void) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let value = try_net!(ctx.with_net(|net| net.user_data(ConnId::from_u64(conn))));
        write_out!(out, value as usize as *mut c_void);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The negotiated subprotocol as a NUL-terminated string owned by the context, or `*out` =
    /// NULL when none was negotiated (or before the connection opened). A connection's subprotocol
    /// never changes once open, so the pointer stays the same; it is valid until the connection's
    /// close event has been consumed: the close callback returned, or, in queue mode, the close
    /// event was returned by `wskit_ctx_next_event` and the next `wskit_ctx_next_event` /
    /// `wskit_ctx_poll` call was made; and never past `wskit_ctx_free`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_conn_subprotocol(ctx: *const wskit_ctx, conn: u64, out: *mut *const c_char) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let name = try_net!(ctx.with_net(|net| {
            net.subprotocol(ConnId::from_u64(conn)).map(|s| s.map(str::to_owned))
        }));
        let Some(name) = name else {
            write_out!(out, std::ptr::null());
            return wskit_status::WSKIT_OK;
        };
        let mut state = ctx.state.borrow_mut();
        let entry = state
            .subprotocols
            .entry(conn)
            .or_insert_with(|| CString::new(name).unwrap_or_default());
        write_out!(out, entry.as_ptr());
        wskit_status::WSKIT_OK
    }
}
