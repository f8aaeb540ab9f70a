//! Deciding an upgrade request by connection id: `wskit_conn_accept`, `wskit_conn_reject`.
//!
//! The ACCEPT event (`wskit_event_kind`) carries the request; the decision is made with these
//! functions on `event->conn`, which map to `net::Context::accept` / `reject` (`net` checks the
//! answer at once: a reserved or malformed header, an unoffered subprotocol or a bad status is
//! `WSKIT_ERR_INVALID_ARG` and leaves the request pending). This file only converts the C
//! arguments.

use std::ffi::c_char;

use crate::net::ConnId;

use super::ctx::wskit_ctx;
use super::event::wskit_header;
use super::status::{fail_with, wskit_status};

/// Copies a C header array; `Err` on NULL, a bad length or text that is not UTF-8.
pub(crate) fn headers_of(
    headers: *const wskit_header,
    count: usize,
) -> Result<Vec<(String, String)>, wskit_status> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if headers.is_null() {
        return Err(super::status::null_arg("headers"));
    }
    if count > isize::MAX as usize / std::mem::size_of::<wskit_header>() {
        return Err(fail_with(
            wskit_status::WSKIT_ERR_INVALID_ARG,
            "header_count is too large",
        ));
    }
    // SAFETY: the documentation requires `headers` to point to `count` readable headers.
    let list = unsafe { std::slice::from_raw_parts(headers, count) };
    list.iter().map(|h| Ok((h.name_str()?, h.value_str()?))).collect()
}

impl wskit_header {
    fn field(ptr: *const c_char, len: usize, what: &str) -> Result<String, wskit_status> {
        if ptr.is_null() {
            return if len == 0 {
                Ok(String::new())
            } else {
                Err(super::status::null_arg(what))
            };
        }
        // SAFETY: non-NULL; the documentation requires a NUL-terminated string with WSKIT_NTS.
        let len = unsafe { super::macros::measured(ptr, len) };
        if len > isize::MAX as usize {
            return Err(fail_with(
                wskit_status::WSKIT_ERR_INVALID_ARG,
                "length is too large",
            ));
        }
        // SAFETY: the documentation requires `ptr` to be readable for `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| {
            fail_with(
                wskit_status::WSKIT_ERR_INVALID_UTF8,
                "a header is not valid UTF-8",
            )
        })
    }

    fn name_str(&self) -> Result<String, wskit_status> {
        Self::field(self.name, self.name_len, "header name")
    }

    fn value_str(&self) -> Result<String, wskit_status> {
        Self::field(self.value, self.value_len, "header value")
    }
}

crate::ffi_fn! {
    /// Accepts the upgrade request of `conn` (the `conn` of an ACCEPT event), selecting
    /// `subprotocol` (`subprotocol_len` bytes or `WSKIT_NTS`; NULL with length 0 for none; it must
    /// be one the client offered) and adding `header_count` response headers (e.g. `Set-Cookie`;
    /// `headers` may be NULL when the count is 0). Everything is copied. Loop thread only: from the
    /// ACCEPT callback (the answer is applied when it returns), or later for a deferred or queued
    /// request (the OPEN event follows at the next poll).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`,
    /// `WSKIT_ERR_INVALID_ARG` (a reserved header such as `Sec-WebSocket-Accept`, a malformed
    /// header, an unoffered subprotocol: checked at once, and the request stays pending),
    /// `WSKIT_ERR_INVALID_STATE` (no request of this connection is waiting: already decided or
    /// open) or `WSKIT_ERR_NOT_FOUND` (unknown id, or the request timed out or was dropped).
    fn wskit_conn_accept(ctx: *mut wskit_ctx, conn: u64, subprotocol: *const c_char, subprotocol_len: usize, headers: *const wskit_header, header_count: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let subprotocol = try_str!(subprotocol, subprotocol_len);
        let subprotocol = (!subprotocol.is_empty()).then_some(subprotocol);
        let headers = match headers_of(headers, header_count) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        try_net!(ctx.with_net(|net| net.accept(ConnId::from_u64(conn), subprotocol, &headers)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Rejects the upgrade request of `conn` with HTTP `status` (200-599; 204 and 304 without a
    /// body), `header_count` extra response headers and a body of `body_len` bytes (`WSKIT_NTS`:
    /// NUL-terminated; NULL with length 0 for none). Everything is copied. The connection is closed
    /// once the response is written; a CLOSE event (1006) follows only if its user data was set.
    /// Loop thread only; from the ACCEPT callback, or later for a deferred or queued request.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (headers),
    /// `WSKIT_ERR_INVALID_ARG` (status, a reserved header such as `Content-Length`, a malformed
    /// header: checked at once, and the request stays pending), `WSKIT_ERR_INVALID_STATE` or
    /// `WSKIT_ERR_NOT_FOUND` (as `wskit_conn_accept`).
    fn wskit_conn_reject(ctx: *mut wskit_ctx, conn: u64, status: u16, headers: *const wskit_header, header_count: usize, body: *const c_char, body_len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let headers = match headers_of(headers, header_count) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        let body = try_str_bytes!(body, body_len);
        try_net!(ctx.with_net(|net| net.reject(ConnId::from_u64(conn), status, &headers, body)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// From the ACCEPT callback of `conn`: leaves its request pending when the callback returns
    /// without an answer, for `wskit_conn_accept` / `wskit_conn_reject` in a later turn of the
    /// loop (e.g. after a worker thread checked a token and woke the loop with
    /// `wskit_remote_wake`). Nothing is read from the connection meanwhile; the handshake timeout
    /// still applies (a CLOSE event follows only if its user data was set). An answer given in the
    /// same callback wins. Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (not called from the
    /// ACCEPT callback of `conn`).
    fn wskit_conn_defer_accept(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let mut state = ctx.state.borrow_mut();
        match state.deciding.as_mut() {
            Some((deciding, deferred)) if *deciding == conn => {
                *deferred = true;
                wskit_status::WSKIT_OK
            }
            _ => fail_with(
                wskit_status::WSKIT_ERR_INVALID_STATE,
                "wskit_conn_defer_accept is only allowed in the ACCEPT callback of the connection",
            ),
        }
    }
}
