//! Per-connection calls: connections are `uint64_t` ids (0 is never valid); a stale or made-up id
//! gives `WSKIT_ERR_NOT_FOUND`, never another connection.
//!
//! All of these are loop thread only and may be called from any callback of the context,
//! including on the connection being handled.

use std::ffi::{c_char, c_void};

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
    /// Queues a text message: `text_len` bytes of UTF-8 (or `WSKIT_NTS`: NUL-terminated; `text` may
    /// be NULL when the length is 0). It is written during the next poll or flush (at once when called from a
    /// callback, before the poll returns). The bytes are copied.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_NOT_FOUND`
    /// (closed or unknown id), `WSKIT_ERR_INVALID_STATE` (not open yet, or a close was already sent,
    /// or a fragmented message is in progress) or `WSKIT_ERR_WOULD_BLOCK` (send buffer full: wait
    /// for the writable event).
    fn wskit_conn_send_text(ctx: *mut wskit_ctx, conn: u64, text: *const c_char, text_len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_str_bytes!(text, text_len);
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
    /// statuses as `wskit_conn_send_text`, without the UTF-8 check.
    fn wskit_conn_send_binary(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.send_binary(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Begins a fragmented message of unknown total length, sending its first frame with `len`
    /// bytes (may be 0). Continue with `wskit_conn_continue_message`, end with `wskit_conn_finish_message`;
    /// pings, pongs and a close may be sent in between, other messages may not. For text, the
    /// whole message must be valid UTF-8 (a piece may end inside a character).
    ///
    /// Returns the statuses of `wskit_conn_send_text` (`WSKIT_ERR_INVALID_STATE` when a message is
    /// already in progress).
    fn wskit_conn_begin_message(ctx: *mut wskit_ctx, conn: u64, is_text: bool, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        let kind = if is_text { MessageKind::Text } else { MessageKind::Binary };
        try_net!(ctx.with_net(|net| net.begin_message(ConnId::from_u64(conn), kind, data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Sends the next piece of the message begun with `wskit_conn_begin_message`.
    ///
    /// Returns the statuses of `wskit_conn_send_text` (`WSKIT_ERR_INVALID_STATE` when no message is in
    /// progress, `WSKIT_ERR_INVALID_UTF8` when text can no longer be valid UTF-8).
    fn wskit_conn_continue_message(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.continue_message(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Sends the last piece (may be empty) of the message begun with `wskit_conn_begin_message`.
    ///
    /// Returns the statuses of `wskit_conn_continue_message`.
    fn wskit_conn_finish_message(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
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
    fn wskit_conn_ping(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.ping(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Queues an unsolicited pong (or, with auto-pong off, the answer to a ping). Same rules and
    /// statuses as `wskit_conn_ping`.
    fn wskit_conn_pong(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.pong(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Starts the closing handshake with `code` (1000, 1001, 1003, 1007-1014, 3000-4999) and a
    /// UTF-8 `reason` of at most 123 bytes: `reason_len` bytes (any valid UTF-8, NUL included), or
    /// `WSKIT_NTS` for a NUL-terminated one; NULL with length 0 for none. The close event
    /// follows when the peer answers or after the close timeout. Before the connection opened,
    /// it is dropped instead (a client's connect is cancelled; the close event reports 1006).
    /// Calling it on a connection already closing returns `WSKIT_ERR_INVALID_STATE`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx), `WSKIT_ERR_INVALID_UTF8`,
    /// `WSKIT_ERR_INVALID_ARG` (code or reason length), `WSKIT_ERR_NOT_FOUND` or
    /// `WSKIT_ERR_INVALID_STATE`.
    fn wskit_conn_close(ctx: *mut wskit_ctx, conn: u64, code: u16, reason: *const c_char, reason_len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let reason = try_str!(reason, reason_len);
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
    fn wskit_conn_abort(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.abort(ConnId::from_u64(conn))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Bytes queued for sending and not yet taken by the socket (the browser's `bufferedAmount`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_conn_buffered_amount(ctx: *const wskit_ctx, conn: u64, out_bytes: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_bytes);
        let n = try_net!(ctx.with_net(|net| net.buffered_amount(ConnId::from_u64(conn))));
        write_out!(out_bytes, n);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Attaches an application pointer to the connection (NULL allowed; wskit never dereferences
    /// or frees it). It is carried in `conn_user_data` of every later event of the connection,
    /// the close event included on every close path, and a connection whose user data was set
    /// gets exactly one close event; so free what it points to in the close event. May be called
    /// from the ACCEPT callback (on `event->conn`) before the connection opens.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx) or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_conn_set_user_data(ctx: *mut wskit_ctx, conn: u64, user_data: *mut c_void) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let value = user_data as usize as u64;
        try_net!(ctx.with_net(|net| net.set_user_data(ConnId::from_u64(conn), value)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The pointer set with `wskit_conn_set_user_data` (NULL if none).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_conn_user_data(ctx: *const wskit_ctx, conn: u64, out: *mut *mut c_void) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let value = try_net!(ctx.with_net(|net| net.user_data(ConnId::from_u64(conn))));
        write_out!(out, value as usize as *mut c_void);
        wskit_status::WSKIT_OK
    }
}

/// NUL-terminated copies of a connection's strings, handed out by `wskit_conn_subprotocol`,
/// `wskit_conn_peer`, ...; they live until the connection's close event has been consumed.
#[derive(Debug, Default)]
pub(crate) struct ConnStrings {
    subprotocol: Option<Vec<u8>>,
    peer: Option<Vec<u8>>,
    path: Option<Vec<u8>>,
    query: Option<Vec<u8>>,
    /// A copy of the connection's (kept) headers, NUL-terminated names and values.
    headers: Option<HeaderCopies>,
}

/// NUL-terminated copies of headers: (name, value).
type HeaderCopies = Vec<(Vec<u8>, Vec<u8>)>;

/// A NUL-terminated copy of `text`.
fn nul_terminated(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 1);
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    out
}

/// The cached copy of one of `conn`'s strings, made by `make` on first use.
fn cached(
    ctx: &wskit_ctx,
    conn: u64,
    field: fn(&mut ConnStrings) -> &mut Option<Vec<u8>>,
    make: impl FnOnce() -> String,
) -> (*const c_char, usize) {
    let mut state = ctx.state.borrow_mut();
    let strings = state.conn_strings.entry(conn).or_default();
    let slot = field(strings).get_or_insert_with(|| nul_terminated(&make()));
    (slot.as_ptr().cast(), slot.len() - 1)
}

crate::ffi_fn! {
    /// The negotiated subprotocol: `*out` (NUL-terminated) and `*out_len` (`out_len` may be
    /// NULL), or `*out` = NULL and length 0 when none was negotiated (or before the connection
    /// opened). The string is owned by the context and valid until the connection's close event
    /// has been consumed: the close callback returned, or, in queue mode, the close event was
    /// taken by `wskit_ctx_next_event` and the next `wskit_ctx_next_event` / `wskit_ctx_poll` call
    /// was made; and never past `wskit_ctx_free`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_conn_subprotocol(ctx: *const wskit_ctx, conn: u64, out: *mut *const c_char, out_len: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let name = try_net!(ctx.with_net(|net| {
            net.subprotocol(ConnId::from_u64(conn)).map(|s| s.map(str::to_owned))
        }));
        let Some(name) = name else {
            write_str_out!(out, out_len, std::ptr::null(), 0);
            return wskit_status::WSKIT_OK;
        };
        let (ptr, len) = cached(ctx, conn, |s| &mut s.subprotocol, || name);
        write_str_out!(out, out_len, ptr, len);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The peer's address as `"ip:port"` (`"[v6]:port"` for IPv6; `""` for a Unix socket
    /// connection, which has none): `*out` (NUL-terminated, owned
    /// by the context, valid as long as `wskit_conn_subprotocol`'s string) and `*out_len`
    /// (`out_len` may be NULL). Always kept.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
    /// (a client connection that is not connected yet).
    fn wskit_conn_peer(ctx: *const wskit_ctx, conn: u64, out: *mut *const c_char, out_len: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let id = ConnId::from_u64(conn);
        let addr = match ctx.with_net(|net| net.peer_addr(id)) {
            Ok(addr) => addr.to_string(),
            // A Unix socket connection has no address: "" (as the events' `peer`).
            Err(_) if ctx.with_net(|net| net.unix_path(id).is_ok_and(|p| p.is_some())) => String::new(),
            Err(crate::net::Error::NotFound) => return super::status::fail(&crate::net::Error::NotFound),
            Err(err) => {
                return fail_with(
                    wskit_status::WSKIT_ERR_UNAVAILABLE,
                    &format!("the peer address is not known: {err}"),
                );
            }
        };
        let (ptr, len) = cached(ctx, conn, |s| &mut s.peer, || addr);
        write_str_out!(out, out_len, ptr, len);
        wskit_status::WSKIT_OK
    }
}

/// Writes `(ptr, len)` of a cached NUL-terminated copy.
fn ptr_len(bytes: &[u8]) -> (*const c_char, usize) {
    (bytes.as_ptr().cast(), bytes.len() - 1)
}

crate::ffi_fn! {
    /// The request path (starts with `/`, without the query; a client's is its URL's): `*out`
    /// (NUL-terminated, owned by the context, valid as long as `wskit_conn_subprotocol`'s string)
    /// and `*out_len` (`out_len` may be NULL).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
    /// (a server connection whose listener's config did not call `wskit_config_keep_request`).
    fn wskit_conn_path(ctx: *const wskit_ctx, conn: u64, out: *mut *const c_char, out_len: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let path = try_net!(ctx.with_net(|net| net.path(ConnId::from_u64(conn)).map(str::to_owned)));
        let (ptr, len) = cached(ctx, conn, |s| &mut s.path, || path);
        write_str_out!(out, out_len, ptr, len);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The request query without `?`: `*out` (NUL-terminated, owned by the context, valid as long
    /// as `wskit_conn_subprotocol`'s string) and `*out_len` (`out_len` may be NULL); `*out` = NULL
    /// and length 0 when the target had no query.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
    /// (not kept: `wskit_config_keep_request`).
    fn wskit_conn_query(ctx: *const wskit_ctx, conn: u64, out: *mut *const c_char, out_len: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let query = try_net!(ctx.with_net(|net| net.query(ConnId::from_u64(conn)).map(|q| q.map(str::to_owned))));
        let Some(query) = query else {
            write_str_out!(out, out_len, std::ptr::null(), 0);
            return wskit_status::WSKIT_OK;
        };
        let (ptr, len) = cached(ctx, conn, |s| &mut s.query, || query);
        write_str_out!(out, out_len, ptr, len);
        wskit_status::WSKIT_OK
    }
}

/// The cached copy of `conn`'s headers (made on first use), or the status of `net::Context::headers`.
fn cached_headers(ctx: &wskit_ctx, conn: u64) -> Result<std::cell::RefMut<'_, HeaderCopies>, wskit_status> {
    let present = ctx
        .state
        .borrow()
        .conn_strings
        .get(&conn)
        .is_some_and(|s| s.headers.is_some());
    if !present {
        let copy = ctx
            .with_net(|net| {
                net.headers(ConnId::from_u64(conn)).map(|headers| {
                    headers
                        .iter()
                        .map(|(n, v)| (nul_terminated(n), nul_terminated(v)))
                        .collect::<Vec<_>>()
                })
            })
            .map_err(|err| super::status::fail(&err))?;
        ctx.state
            .borrow_mut()
            .conn_strings
            .entry(conn)
            .or_default()
            .headers = Some(copy);
    }
    Ok(std::cell::RefMut::map(ctx.state.borrow_mut(), |state| {
        state
            .conn_strings
            .get_mut(&conn)
            .and_then(|s| s.headers.as_mut())
            .expect("filled above")
    }))
}

crate::ffi_fn! {
    /// The value of the first header named `name` (`name_len` bytes or `WSKIT_NTS`;
    /// case-insensitive): a server connection's request header, a client's response header.
    /// `*out` (NUL-terminated, owned by the context, valid as long as `wskit_conn_subprotocol`'s
    /// string) and `*out_len` (`out_len` may be NULL).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_NOT_FOUND`
    /// (unknown connection, or no such header), or `WSKIT_ERR_UNAVAILABLE` (headers of that name
    /// are not kept: `wskit_config_keep_header`).
    fn wskit_conn_header(ctx: *const wskit_ctx, conn: u64, name: *const c_char, name_len: usize, out: *mut *const c_char, out_len: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(name);
        let name = try_str!(name, name_len);
        non_null!(out);
        // net decides what is kept (Unavailable) and what is absent.
        let found = try_net!(ctx.with_net(|net| net.header(ConnId::from_u64(conn), name).map(|v| v.is_some())));
        if !found {
            return fail_with(wskit_status::WSKIT_ERR_NOT_FOUND, "no such header");
        }
        let headers = match cached_headers(ctx, conn) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        let Some((_, value)) = headers
            .iter()
            .find(|(n, _)| n[..n.len() - 1].eq_ignore_ascii_case(name.as_bytes()))
        else {
            return fail_with(wskit_status::WSKIT_ERR_NOT_FOUND, "no such header");
        };
        let (ptr, len) = ptr_len(value);
        write_str_out!(out, out_len, ptr, len);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The number of headers kept for the connection (see `wskit_conn_header_at`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
    /// (no header is kept).
    fn wskit_conn_header_count(ctx: *const wskit_ctx, conn: u64, out_count: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_count);
        let count = match cached_headers(ctx, conn) {
            Ok(headers) => headers.len(),
            Err(status) => return status,
        };
        write_out!(out_count, count);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The `index`th kept header, in the order received: name and value (each NUL-terminated,
    /// owned by the context, valid as long as `wskit_conn_subprotocol`'s string); `out_name_len`
    /// and `out_value_len` may be NULL.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (index out of range),
    /// `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`.
    fn wskit_conn_header_at(ctx: *const wskit_ctx, conn: u64, index: usize, out_name: *mut *const c_char, out_name_len: *mut usize, out_value: *mut *const c_char, out_value_len: *mut usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out_name);
        non_null!(out_value);
        let headers = match cached_headers(ctx, conn) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        let Some((name, value)) = headers.get(index) else {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "header index out of range");
        };
        let (np, nl) = ptr_len(name);
        let (vp, vl) = ptr_len(value);
        write_str_out!(out_name, out_name_len, np, nl);
        write_str_out!(out_value, out_value_len, vp, vl);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Stops reading `conn`'s socket and delivering its events until `wskit_conn_resume_reading`
    /// (e.g. while a worker thread is busy with its messages). Events of data already read are
    /// held inside the context, not delivered, and come first when reading resumes; TCP then
    /// pushes back on the peer. Pings and the peer's close are behind that data, so they are
    /// answered after reading resumes; `wskit_conn_close` by this end resumes reading so the
    /// closing handshake completes. Pausing twice is the same as once. Independent of the
    /// automatic pause (`wskit_config_set_read_pause_high_water`): reading resumes when neither
    /// holds it. Loop thread only (other threads: `wskit_remote_pause_reading`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (closed or unknown id).
    fn wskit_conn_pause_reading(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.pause_reading(ConnId::from_u64(conn))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Undoes `wskit_conn_pause_reading`: reading resumes at the next poll (without waiting for
    /// new data), unless the automatic pause still holds it (then when the send queue drains to
    /// the low-water mark). Resuming a connection that is not paused does nothing. Loop thread only
    /// (other threads: `wskit_remote_resume_reading`).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (closed or unknown id).
    fn wskit_conn_resume_reading(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.resume_reading(ConnId::from_u64(conn))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Whether reading of `conn` is paused, by `wskit_conn_pause_reading` or automatically (its
    /// send queue is above the read-pause high-water mark): stored in `*out`. Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx or out) or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_conn_is_reading_paused(ctx: *const wskit_ctx, conn: u64, out: *mut bool) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let paused = try_net!(ctx.with_net(|net| net.is_reading_paused(ConnId::from_u64(conn))));
        write_out!(out, paused);
        wskit_status::WSKIT_OK
    }
}
