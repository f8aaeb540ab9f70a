//! `wskit_ctx_broadcast`: one message to many connections, encoded (and compressed) once.

use crate::net::ConnId;
use crate::proto::{MessageKind, PreparedMessage};

use super::ctx::wskit_ctx;
use super::status::{fail_with, wskit_status};

crate::ffi_fn! {
    /// Queues one message for each of the `count` connections in `conns` (broadcast, pub/sub
    /// fan-out), encoding it once: server connections that compress without context takeover
    /// (the listener default) share one compression of it, other server connections share its
    /// plain frame, and connections that keep a compression context (and clients, whose frames
    /// are masked each) encode it themselves. `is_text`: text (must be valid UTF-8, checked
    /// before anything is queued) or binary. The bytes are copied.
    ///
    /// Each connection takes the message or not on its own, with the statuses of
    /// `wskit_conn_send_text` (`WSKIT_ERR_WOULD_BLOCK` for a full queue: nothing is dropped
    /// silently, the caller decides). When `statuses` is not NULL it has room for `count`
    /// statuses and receives each connection's; `*failed` (may be NULL) receives how many did not
    /// take it. Loop thread (callbacks included).
    ///
    /// Returns `WSKIT_OK` (also when some connections did not take the message: see `statuses`
    /// and `failed`), `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (a length too large) or
    /// `WSKIT_ERR_INVALID_UTF8`.
    fn wskit_ctx_broadcast(ctx: *mut wskit_ctx, conns: *const u64, count: usize, is_text: bool, data: *const u8, len: usize, statuses: *mut wskit_status, failed: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        if count > 0 {
            non_null!(conns);
        }
        if count > isize::MAX as usize / std::mem::size_of::<u64>() {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "count is too large");
        }
        if is_text && crate::proto::utf8::validate(data).is_err() {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_UTF8, "text is not valid UTF-8");
        }
        let ids: &[u64] = if count == 0 {
            &[]
        } else {
            // SAFETY: `conns` is non-NULL and, per the documentation, points to `count` ids.
            unsafe { std::slice::from_raw_parts(conns, count) }
        };
        let kind = if is_text { MessageKind::Text } else { MessageKind::Binary };
        let mut message = try_net!(PreparedMessage::new(kind, data).map_err(crate::net::Error::from));
        let mut refused = 0;
        try_net!(ctx.with_net(|net| {
            for (i, &id) in ids.iter().enumerate() {
                let status = match net.send_prepared(ConnId::from_u64(id), &mut message) {
                    Ok(()) => wskit_status::WSKIT_OK,
                    Err(err) => {
                        refused += 1;
                        wskit_status::from(&err)
                    }
                };
                if !statuses.is_null() {
                    // SAFETY: `statuses` is non-NULL and, per the documentation, has room for
                    // `count` statuses; `i < count`.
                    unsafe { statuses.add(i).write(status) };
                }
            }
            Ok(())
        }));
        if !failed.is_null() {
            // SAFETY: `failed` is non-NULL and, per the documentation, valid for writing.
            unsafe { failed.write(refused) };
        }
        wskit_status::WSKIT_OK
    }
}
