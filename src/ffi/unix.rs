//! Unix domain sockets from C: `wskit_ctx_listen_unix` and `wskit_ctx_connect_unix`. Each maps to
//! one `net::Context` call; this file only converts the C arguments. (`wskit_ctx_connect` also
//! takes `ws+unix:///path/to.sock:/request/path` URLs.)

use std::ffi::{OsStr, c_char};
use std::os::unix::ffi::OsStrExt;

use crate::net::UnixListenOptions;

use super::config::wskit_config;
use super::ctx::wskit_ctx;
use super::status::{fail_with, wskit_status};

/// `flags` of `wskit_ctx_listen_unix`: remove a socket file left at the path by a process that is
/// gone (a connect to it is refused) and bind again. Never removes anything that is not a socket,
/// or a socket a process listens on.
pub const WSKIT_UNIX_REMOVE_STALE: u32 = 1;

crate::ffi_fn! {
    /// Starts listening on the Unix domain socket `path` (`path_len` bytes, or `WSKIT_NTS`; any
    /// bytes but NUL, at most 107). A path starting with `@` is a Linux abstract socket (`@name`,
    /// no file). `mode` is the socket file's permission bits (e.g. `0660`: owner and group may
    /// connect), set before any process can connect; 0 leaves what the process's umask gives.
    /// `flags`: 0 or `WSKIT_UNIX_REMOVE_STALE`. An existing path fails with `WSKIT_ERR_IO`
    /// ("address in use") unless the flag is set and it is a stale socket. The socket file is
    /// removed when the listener closes (`wskit_ctx_close_listener`, shutdown, `wskit_ctx_free`),
    /// if it is still the one this listener created.
    ///
    /// `config` may be NULL (defaults); it is copied; TLS settings are refused (no TLS over Unix
    /// sockets). The LISTEN event follows at the next poll, with the path as `data` and 0 as
    /// `code` (no port). Connections accepted on it have no IP address: their `peer` is empty,
    /// in events and from `wskit_conn_peer`. On `WSKIT_OK`, `*out_listener`
    /// receives the listener id (never 0). Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, path, out_listener), `WSKIT_ERR_INVALID_ARG`
    /// (empty or too long a path, NUL in it, `@` off Linux, unknown flags, TLS in the config, a
    /// path that exists and is not a socket with `WSKIT_UNIX_REMOVE_STALE`) or `WSKIT_ERR_IO`
    /// (address in use, no such directory, permission denied).
    fn wskit_ctx_listen_unix(ctx: *mut wskit_ctx, path: *const c_char, path_len: usize, mode: u32, flags: u32, config: *const wskit_config, out_listener: *mut u32) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(path);
        let path = OsStr::from_bytes(try_str_bytes!(path, path_len));
        non_null!(out_listener);
        if flags & !WSKIT_UNIX_REMOVE_STALE != 0 {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "unknown flags (only WSKIT_UNIX_REMOVE_STALE)");
        }
        let mut unix = UnixListenOptions::new().remove_stale(flags & WSKIT_UNIX_REMOVE_STALE != 0);
        if mode != 0 {
            unix = unix.mode(mode);
        }
        let defaults = wskit_config::default();
        let config = if config.is_null() { &defaults } else { try_ref!(config) };
        let id = try_net!(ctx.with_net(|net| net.listen_unix(path, unix, config.listen_options())));
        write_out!(out_listener, id.as_u32());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Opens a client connection over the Unix domain socket `path` (`path_len` bytes, or
    /// `WSKIT_NTS`; `@name`: abstract), sending the request of the `ws://` `url` (`url_len` bytes,
    /// or `WSKIT_NTS`): its host goes in `Host`, its path and query in the request line (e.g.
    /// `"ws://localhost/chat"`). `wskit_ctx_connect` with `"ws+unix:///path/to.sock:/chat"` does
    /// the same with `Host: localhost`. Returns at once; a missing socket or a refused connect is
    /// an error event (`WSKIT_ERR_CONNECT`, naming the path) then a close event (1006), as for
    /// TCP. `config` may be NULL (defaults); it is copied. On `WSKIT_OK`, `*out_conn` receives
    /// the connection id (never 0). Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, path, url, out_conn),
    /// `WSKIT_ERR_INVALID_UTF8` (url), `WSKIT_ERR_INVALID_ARG` (bad path, bad URL, `wss://`) or
    /// `WSKIT_ERR_IO`.
    fn wskit_ctx_connect_unix(ctx: *mut wskit_ctx, path: *const c_char, path_len: usize, url: *const c_char, url_len: usize, config: *const wskit_config, out_conn: *mut u64) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(path);
        let path = OsStr::from_bytes(try_str_bytes!(path, path_len));
        non_null!(url);
        let url = try_str!(url, url_len);
        non_null!(out_conn);
        let defaults = wskit_config::default();
        let config = if config.is_null() { &defaults } else { try_ref!(config) };
        let id = try_net!(ctx.with_net(|net| net.connect_unix(path, url, config.connect_options())));
        write_out!(out_conn, id.as_u64());
        wskit_status::WSKIT_OK
    }
}
