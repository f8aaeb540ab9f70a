//! `wskit_ctx_send_batch`: many messages, to one or many connections, in one call (what a binding
//! whose every call into C is costly, such as Python's ctypes, sends a whole batch of replies
//! with).

use crate::net::ConnId;

use super::conn::utf8;
use super::ctx::wskit_ctx;
use super::status::{fail_with, wskit_status};

/// One message of `wskit_ctx_send_batch`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wskit_send {
    /// The connection to send it on.
    pub conn: u64,
    /// The payload: `len` bytes (may be NULL when `len` is 0); text must be valid UTF-8.
    pub data: *const u8,
    /// Length of `data` in bytes.
    pub len: usize,
    /// Text (true) or binary (false).
    pub is_text: bool,
}

crate::ffi_fn! {
    /// Queues the `count` messages of `sends`, in order, each as `wskit_conn_send_text` /
    /// `wskit_conn_send_binary` would (same rules and statuses; the bytes are copied, so `sends`
    /// and the data may be reused once it returns). They are written during the next poll or
    /// flush (before the poll returns when called from a callback).
    ///
    /// A refused message (`WSKIT_ERR_WOULD_BLOCK` for a full send buffer, `WSKIT_ERR_NOT_FOUND`
    /// for a closed connection, `WSKIT_ERR_INVALID_UTF8`, ...) does not stop the messages to other
    /// connections; the later messages of the batch to the same connection are refused with the
    /// same status, so that what a connection sends keeps the batch's order (send the refused
    /// ones again, in order, after the writable event). Nothing is dropped silently. When `statuses` is not NULL it has
    /// room for `count` statuses and receives each message's; `*failed` (may be NULL) receives
    /// how many were refused. Loop thread (callbacks included).
    ///
    /// Returns `WSKIT_OK` (also when some messages were refused: see `statuses` and `failed`),
    /// `WSKIT_ERR_NULL_ARG` (`sends` NULL with `count` > 0; a message's NULL data with a length
    /// counts as refused with this status) or `WSKIT_ERR_INVALID_ARG` (`count` too large).
    fn wskit_ctx_send_batch(ctx: *mut wskit_ctx, sends: *const wskit_send, count: usize, statuses: *mut wskit_status, failed: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        if count > 0 {
            non_null!(sends);
        }
        if count > isize::MAX as usize / std::mem::size_of::<wskit_send>() {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "count is too large");
        }
        let sends: &[wskit_send] = if count == 0 {
            &[]
        } else {
            // SAFETY: `sends` is non-NULL and, per the documentation, points to `count` messages.
            unsafe { std::slice::from_raw_parts(sends, count) }
        };
        let mut refused = 0;
        // Connections refused a message in this batch, with the status (few: usually none).
        let mut stopped: Vec<(u64, wskit_status)> = Vec::new();
        ctx.with_net(|net| {
            for (i, send) in sends.iter().enumerate() {
                let earlier = stopped.iter().find(|(conn, _)| *conn == send.conn).map(|&(_, status)| status);
                let status = earlier.unwrap_or_else(|| send_one(net, send));
                if status != wskit_status::WSKIT_OK {
                    refused += 1;
                    if earlier.is_none() {
                        stopped.push((send.conn, status));
                    }
                }
                if !statuses.is_null() {
                    // SAFETY: `statuses` is non-NULL and, per the documentation, has room for
                    // `count` statuses; `i < count`.
                    unsafe { statuses.add(i).write(status) };
                }
            }
        });
        if !failed.is_null() {
            write_out!(failed, refused);
        }
        wskit_status::WSKIT_OK
    }
}

/// Queues one message of a batch; its status.
fn send_one(net: &mut crate::net::Context, send: &wskit_send) -> wskit_status {
    let data: &[u8] = if send.len == 0 {
        &[]
    } else if send.data.is_null() {
        return super::status::null_arg("sends[i].data");
    } else if send.len > isize::MAX as usize {
        return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "length is too large");
    } else {
        // SAFETY: non-NULL, and the documentation requires `data` to be readable for `len`
        // bytes during the call; `len` fits in isize.
        unsafe { std::slice::from_raw_parts(send.data, send.len) }
    };
    let conn = ConnId::from_u64(send.conn);
    let result = if send.is_text {
        match utf8(data) {
            Ok(text) => net.send_text(conn, text),
            Err(status) => return status,
        }
    } else {
        net.send_binary(conn, data)
    };
    match result {
        Ok(()) => wskit_status::WSKIT_OK,
        Err(err) => super::status::fail(&err),
    }
}
