//! Plain HTTP from C: answering the HTTP_REQUEST event (`wskit_http_*`) on the loop thread, and
//! from other threads (`wskit_remote_http_*`). Each maps to one `net::Context` / `net::Remote`
//! call; this file only converts the C arguments.

use crate::net::ConnId;

use super::accept::headers_of;
use super::ctx::wskit_ctx;
use super::event::wskit_header;
use super::remote::wskit_remote;
use super::status::{fail_with, wskit_status};

/// `length` of `wskit_http_begin` / `wskit_remote_http_begin` for a body of unknown length: it is
/// sent chunked (close-delimited to HTTP/1.0 clients).
pub const WSKIT_HTTP_UNKNOWN_LENGTH: u64 = u64::MAX;

fn length_of(length: u64) -> Option<u64> {
    (length != WSKIT_HTTP_UNKNOWN_LENGTH).then_some(length)
}

/// Forgets the request head kept for `wskit_http_serve_static` once the answer has begun.
fn answered(ctx: &wskit_ctx, conn: u64) {
    ctx.state.borrow_mut().http_requests.remove(&conn);
}

crate::ffi_fn! {
    /// Answers the HTTP request of `conn` (the `conn` of an HTTP_REQUEST event) with `status`
    /// (200-599), `header_count` headers (`headers` may be NULL when the count is 0) and a body of
    /// `body_len` bytes (NULL with length 0 for none). `Content-Length` and `Connection` are set by
    /// wskit (giving them, or `Transfer-Encoding`, is `WSKIT_ERR_INVALID_ARG`); a HEAD request gets
    /// the head only. Everything is copied. Loop thread only: from the HTTP_REQUEST callback or
    /// any later turn of the loop (`wskit_remote_http_respond` from other threads). The next
    /// request of a keep-alive connection is read once the answer is complete.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (headers),
    /// `WSKIT_ERR_INVALID_ARG` (status, a reserved or malformed header),
    /// `WSKIT_ERR_INVALID_STATE` (no request of `conn` waits for an answer) or
    /// `WSKIT_ERR_NOT_FOUND` (unknown id, or the client left).
    fn wskit_http_respond(ctx: *mut wskit_ctx, conn: u64, status: u16, headers: *const wskit_header, header_count: usize, body: *const u8, body_len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let headers = match headers_of(headers, header_count) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        let body = try_bytes!(body, body_len);
        try_net!(ctx.with_net(|net| net.http_respond(ConnId::from_u64(conn), status, &headers, body)));
        answered(ctx, conn);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Starts a streamed answer to the HTTP request of `conn`: the head now, the body with
    /// `wskit_http_write`, the end with `wskit_http_end`. With a `length` the response carries
    /// `Content-Length` and exactly that many bytes must follow; `WSKIT_HTTP_UNKNOWN_LENGTH` sends
    /// the body chunked. Headers as for `wskit_http_respond`. Loop thread only.
    ///
    /// Returns the statuses of `wskit_http_respond`.
    fn wskit_http_begin(ctx: *mut wskit_ctx, conn: u64, status: u16, headers: *const wskit_header, header_count: usize, length: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let headers = match headers_of(headers, header_count) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        try_net!(ctx.with_net(|net| net.http_begin(ConnId::from_u64(conn), status, &headers, length_of(length))));
        answered(ctx, conn);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Appends `len` bytes (copied; NULL with length 0 is a no-op) to the body begun with
    /// `wskit_http_begin`. When the connection's queue is over its `max_buffered`, nothing is
    /// queued and `WSKIT_ERR_WOULD_BLOCK` is returned; a WRITABLE event follows once the queue
    /// drains, and the piece may be written again. Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_WOULD_BLOCK`, `WSKIT_ERR_INVALID_ARG`
    /// (more than the announced length), `WSKIT_ERR_INVALID_STATE` (no response begun) or
    /// `WSKIT_ERR_NOT_FOUND`.
    fn wskit_http_write(ctx: *mut wskit_ctx, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let data = try_bytes!(data, len);
        try_net!(ctx.with_net(|net| net.http_write(ConnId::from_u64(conn), data)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Ends the body begun with `wskit_http_begin`; the next request of the connection is read
    /// then. Ending short of the announced length returns `WSKIT_ERR_INVALID_ARG` and closes the
    /// connection once its output is written. Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG`,
    /// `WSKIT_ERR_INVALID_STATE` (no response begun) or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_http_end(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        try_net!(ctx.with_net(|net| net.http_end(ConnId::from_u64(conn))));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Answers the HTTP request of `conn` the default way: from the listener's static directory
    /// (`wskit_config_set_static_dir`; files streamed from disk as the socket takes them, with
    /// `Range`, `If-Modified-Since`, 404, 405), or without one with the 4xx an invalid upgrade
    /// request gets. For a request the application does not handle itself. Loop thread only.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_STATE` (no request of `conn`
    /// waits for an answer), `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_IO`.
    fn wskit_http_serve_static(ctx: *mut wskit_ctx, conn: u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let Some(request) = ctx.state.borrow_mut().http_requests.remove(&conn) else {
            return fail_with(
                wskit_status::WSKIT_ERR_INVALID_STATE,
                "no HTTP request of this connection waits for an answer",
            );
        };
        try_net!(ctx.with_net(|net| net.http_serve_default(ConnId::from_u64(conn), &request)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// `wskit_http_respond` from any thread (e.g. a worker that computed the answer): copied,
    /// queued for the loop, which it wakes. Errors only the loop can see (no request waiting, a
    /// bad status or header) go to the ERROR event of `conn`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (headers),
    /// `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK` (other threads have
    /// queued more than 64 MiB the loop has not taken yet).
    fn wskit_remote_http_respond(remote: *const wskit_remote, conn: u64, status: u16, headers: *const wskit_header, header_count: usize, body: *const u8, body_len: usize) -> wskit_status {
        let remote = try_remote!(remote);
        let headers = match headers_of(headers, header_count) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        let body = try_bytes!(body, body_len);
        try_net!(remote.http_respond(ConnId::from_u64(conn), status, headers, body));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// `wskit_http_begin` from any thread. Same statuses as `wskit_remote_http_respond`.
    fn wskit_remote_http_begin(remote: *const wskit_remote, conn: u64, status: u16, headers: *const wskit_header, header_count: usize, length: u64) -> wskit_status {
        let remote = try_remote!(remote);
        let headers = match headers_of(headers, header_count) {
            Ok(headers) => headers,
            Err(status) => return status,
        };
        try_net!(remote.http_begin(ConnId::from_u64(conn), status, headers, length_of(length)));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// `wskit_http_write` from any thread. The loop applies the connection's `max_buffered`: a
    /// piece over it is dropped there and reported as an ERROR event with
    /// `WSKIT_ERR_WOULD_BLOCK`, then a WRITABLE event when the queue drains. Same statuses as
    /// `wskit_remote_http_respond`.
    fn wskit_remote_http_write(remote: *const wskit_remote, conn: u64, data: *const u8, len: usize) -> wskit_status {
        let remote = try_remote!(remote);
        let data = try_bytes!(data, len);
        try_net!(remote.http_write(ConnId::from_u64(conn), data));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// `wskit_http_end` from any thread. Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`,
    /// `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK`.
    fn wskit_remote_http_end(remote: *const wskit_remote, conn: u64) -> wskit_status {
        let remote = try_remote!(remote);
        try_net!(remote.http_end(ConnId::from_u64(conn)));
        wskit_status::WSKIT_OK
    }
}
