//! `wskit_config`: options for listeners and client connections.

use std::ffi::c_char;
use std::time::Duration;

use crate::net::{
    ConnectOptions, ConnectionOptions, KeepHeaders, ListenOptions, TlsClientConfig, TlsServerConfig,
};
use crate::proto::handshake::{ClientOptions, RequestLimits};

use super::deflate::DeflateOverrides;
use super::status::{fail_with, wskit_status};

/// Options for `wskit_ctx_listen` and `wskit_ctx_connect`: limits, timers, and handshake settings.
/// Opaque: new options are added as new setters, never by changing a struct layout.
///
/// A config is copied when it is used, so one config can serve many calls and may be freed (or
/// changed) right after. Settings that do not apply to a role are ignored by it (e.g. the backlog
/// for a client). Not thread-safe: use a config from one thread at a time.
///
/// String arguments are a pointer and a length (`WSKIT_NTS`: NUL-terminated), and are copied.
///
/// Methods: `wskit_config_new`, `wskit_config_free`, `wskit_config_set_*`, `wskit_config_add_*`,
/// `wskit_config_keep_*`.
#[derive(Debug, Clone, Default)]
pub struct wskit_config {
    pub(crate) connection: ConnectionOptions,
    /// `wskit_config_set_read_pause_high_water`; unset: the role's default (servers 1 MiB,
    /// clients off, as `ListenOptions` / `ConnectOptions`).
    pub(crate) read_pause_high_water: Option<usize>,
    pub(crate) backlog: Option<i32>,
    pub(crate) reuse_port: bool,
    pub(crate) max_connections: Option<usize>,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) request_limits: RequestLimits,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) origin: Option<String>,
    pub(crate) tls_server: Option<TlsServerConfig>,
    pub(crate) tls_client: Option<TlsClientConfig>,
    pub(crate) keep_request: bool,
    pub(crate) keep_headers: KeepHeaders,
    /// `wskit_config_set_deflate*` (src/ffi/deflate.rs), applied on top of the role's default.
    pub(crate) deflate: DeflateOverrides,
    /// `wskit_config_set_static_dir`.
    pub(crate) static_dir: Option<std::path::PathBuf>,
    /// `wskit_config_set_max_http_body`.
    pub(crate) max_http_body: Option<usize>,
    /// `wskit_config_set_http_keep_alive_ms`.
    pub(crate) http_keep_alive: Option<Duration>,
    /// `wskit_config_set_proxy*` (src/ffi/proxy.rs).
    pub(crate) proxy: crate::net::ProxyOptions,
    /// `wskit_config_set_reconnect*` (src/ffi/reconnect.rs); clients only.
    pub(crate) reconnect: Option<crate::net::ReconnectOptions>,
}

impl wskit_config {
    pub(crate) fn listen_options(&self) -> ListenOptions {
        let defaults = ListenOptions::default();
        ListenOptions {
            backlog: self.backlog.unwrap_or(defaults.backlog),
            reuse_port: self.reuse_port,
            max_connections: self.max_connections.unwrap_or(defaults.max_connections),
            allowed_origins: self.allowed_origins.clone(),
            request_limits: self.request_limits,
            connection: ConnectionOptions {
                read_pause_high_water: self
                    .read_pause_high_water
                    .unwrap_or(defaults.connection.read_pause_high_water),
                ..self.connection
            },
            tls: self.tls_server.clone(),
            subprotocols: self.subprotocols.clone(),
            keep_request: self.keep_request,
            keep_headers: self.keep_headers.clone(),
            deflate: self.deflate.apply(defaults.deflate),
            static_dir: self.static_dir.clone(),
            max_http_body: self.max_http_body.unwrap_or(defaults.max_http_body),
            http_keep_alive: self.http_keep_alive.unwrap_or(defaults.http_keep_alive),
        }
    }

    pub(crate) fn connect_options(&self) -> ConnectOptions {
        let defaults = ConnectOptions::default();
        ConnectOptions {
            handshake: ClientOptions {
                subprotocols: self.subprotocols.clone(),
                origin: self.origin.clone(),
                headers: self.headers.clone(),
                ..ClientOptions::default()
            },
            connection: ConnectionOptions {
                read_pause_high_water: self
                    .read_pause_high_water
                    .unwrap_or(defaults.connection.read_pause_high_water),
                ..self.connection
            },
            tls: self.tls_client.clone(),
            // Clients keep every response header (docs/api-0.2.md).
            keep_headers: KeepHeaders::All,
            deflate: self.deflate.apply(defaults.deflate),
            proxy: self.proxy.clone(),
            reconnect: self.reconnect,
        }
    }
}

fn invalid(what: &str) -> wskit_status {
    fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, what)
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

crate::ffi_fn! {
    /// Creates a config with the library's safe defaults (16 MiB messages and frames, 16 MiB send
    /// buffer, 64 KiB low-water mark, 10 s handshake and 5 s close timeouts, no pings, auto-pong on,
    /// backlog 1024, 65,536 connections per listener, any Origin, 16 KiB / 64 request headers).
    /// On `WSKIT_OK`, `*out` owns a new config; free it with `wskit_config_free`. Any thread.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_config_new(out: *mut *mut wskit_config) -> wskit_status {
        non_null!(out);
        let config = Box::new(wskit_config::default());
        // SAFETY: `out` is non-NULL and the documentation requires it to be valid for writing.
        unsafe { out.write(Box::into_raw(config)) };
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Frees a config. NULL is a no-op. Contexts do not keep a pointer to it (they copy it), so it
    /// may be freed at any time after use. Must not be called twice on the same pointer.
    ///
    /// Returns `WSKIT_OK`.
    fn wskit_config_free(config: *mut wskit_config) -> wskit_status {
        if !config.is_null() {
            // SAFETY: a non-NULL `config` came from `wskit_config_new` (Box::into_raw) and, per the
            // documentation, is not used again after this call.
            drop(unsafe { Box::from_raw(config) });
        }
        wskit_status::WSKIT_OK
    }
}

/// Applies a setter after checking its value.
///
/// # Safety
/// `config` must be NULL or a live config from `wskit_config_new` that no other thread uses.
pub(super) unsafe fn set(
    config: *mut wskit_config,
    problem: Option<&str>,
    apply: impl FnOnce(&mut wskit_config),
) -> wskit_status {
    let config = try_mut!(config);
    if let Some(problem) = problem {
        return invalid(problem);
    }
    apply(config);
    wskit_status::WSKIT_OK
}

crate::ffi_fn! {
/// Largest message accepted, in bytes (> 0); a larger one fails the connection with 1009.
    /// Default 16 MiB.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_max_message_size(config: *mut wskit_config, value: u64) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("max_message_size must be > 0"), |c| c.connection.protocol.max_message_size = value) }
    }
}

crate::ffi_fn! {
/// Largest frame payload accepted, in bytes (> 0). Default 16 MiB.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_max_frame_size(config: *mut wskit_config, value: u64) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("max_frame_size must be > 0"), |c| c.connection.protocol.max_frame_size = value) }
    }
}

crate::ffi_fn! {
    /// Most frames one received data message may span (its first frame and continuations); the
    /// frame past the cap fails the connection with 1009. 0 and 1 both refuse fragmented
    /// messages. Default 131,072 (twice the 65,536 of Autobahn's 9.3.1, 4 MiB in 64-byte frames).
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
    fn wskit_config_set_max_fragments(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.connection.protocol.max_fragments = value) }
    }
}

crate::ffi_fn! {
/// Cap on bytes queued for sending per connection (> 0); a send past it returns
    /// `WSKIT_ERR_WOULD_BLOCK` (a message is always accepted when nothing is queued). Default 16 MiB.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_max_buffered(config: *mut wskit_config, value: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("max_buffered must be > 0"), |c| c.connection.max_buffered = value) }
    }
}

crate::ffi_fn! {
    /// Receive-side flow control: once a message send takes a connection's queue to `value` bytes
    /// or more (a message sent onto an empty queue never pauses, the next one does), the context
    /// stops reading that connection and delivering its events until the queue drains to the
    /// low-water mark (`wskit_config_set_low_water_mark`); TCP then pushes back on the peer.
    /// Events of data already read are held and delivered first on resuming, so a callback that
    /// answers each message with one send keeps the queue under `value` plus one message (two
    /// when one alone is larger than `value`), and sees `WSKIT_ERR_WOULD_BLOCK` only for a message
    /// larger than `max_buffered` minus `value`. 0 turns it off. Default: 1 MiB for listeners, off
    /// for client connections (a client usually produces what it sends: pausing its reads on its
    /// own queue would stall a client that pipelines requests against an echoing server, both
    /// ends waiting for the other to read). In queue mode the pause applies from the send on:
    /// events already queued stay queued. Loop thread or before use, like every config setter.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
    fn wskit_config_set_read_pause_high_water(config: *mut wskit_config, value: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.read_pause_high_water = Some(value)) }
    }
}

crate::ffi_fn! {
/// When the send queue drains to this many bytes after a `WSKIT_ERR_WOULD_BLOCK`, the writable
    /// event fires; a connection paused by flow control resumes reading at the same mark. Default 64 KiB.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_low_water_mark(config: *mut wskit_config, value: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.connection.low_water_mark = value) }
    }
}

crate::ffi_fn! {
/// Time allowed from TCP accept/connect (including name resolution for clients) to the end of
    /// the opening handshake, in milliseconds (> 0). Default 10,000.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_handshake_timeout_ms(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("handshake timeout must be > 0"), |c| c.connection.handshake_timeout = Duration::from_millis(value.into())) }
    }
}

crate::ffi_fn! {
/// Time allowed for the closing handshake before the TCP connection is dropped, in
    /// milliseconds (> 0). Default 5,000.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_close_timeout_ms(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("close timeout must be > 0"), |c| c.connection.close_timeout = Duration::from_millis(value.into())) }
    }
}

crate::ffi_fn! {
/// Send a ping after this many milliseconds of silence from the peer; 0 turns pings off
    /// (the default).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_ping_interval_ms(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.connection.ping_interval = (value > 0).then(|| Duration::from_millis(value.into()))) }
    }
}

crate::ffi_fn! {
    /// Close an open connection whose peer sent no whole data message for this many
    /// milliseconds: an ERROR event (`WSKIT_ERR_TIMEOUT`), then this end starts the closing
    /// handshake with 1001 ("idle timeout"; the close timeout bounds the wait for the answer).
    /// Only a text or binary message received whole (streaming: its last fragment) counts as
    /// activity: pings, pongs, parts of frames or of fragmented messages and this end's sends do
    /// not, so a peer that trickles a frame header byte by byte, or only pings, is closed. While
    /// reading is paused (flow control) the clock restarts. 0 turns it off (the default).
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
    fn wskit_config_set_idle_timeout_ms(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.connection.idle_timeout = (value > 0).then(|| Duration::from_millis(value.into()))) }
    }
}

crate::ffi_fn! {
/// With a ping interval: drop the connection (close code 1006) when nothing arrives this many
    /// milliseconds after a ping (> 0). Default 20,000.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_pong_timeout_ms(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("pong timeout must be > 0"), |c| c.connection.pong_timeout = Duration::from_millis(value.into())) }
    }
}

crate::ffi_fn! {
/// Streaming mode: deliver data as fragment events as it arrives instead of whole messages
    /// (nothing is buffered for reassembly). Default false.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_streaming(config: *mut wskit_config, value: bool) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.connection.protocol.streaming = value) }
    }
}

crate::ffi_fn! {
/// Answer every ping with a pong automatically. Default true; turn off only to answer pings
    /// yourself with `wskit_conn_pong`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_auto_pong(config: *mut wskit_config, value: bool) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.connection.protocol.auto_pong = value) }
    }
}

crate::ffi_fn! {
/// Listeners: length of the kernel's accept queue (> 0). Default 1024.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_backlog(config: *mut wskit_config, value: i32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value <= 0).then_some("backlog must be > 0"), |c| c.backlog = Some(value)) }
    }
}

crate::ffi_fn! {
/// Listeners: set SO_REUSEPORT so several processes can listen on one port. Default false.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_reuse_port(config: *mut wskit_config, value: bool) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.reuse_port = value) }
    }
}

crate::ffi_fn! {
/// Listeners: most connections held at once (> 0); more are answered with HTTP 503.
    /// Default 65,536.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_max_connections(config: *mut wskit_config, value: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("max_connections must be > 0"), |c| c.max_connections = Some(value)) }
    }
}

crate::ffi_fn! {
/// Listeners: maximum size of the upgrade request's header block in bytes (> 0); larger
    /// requests get HTTP 431. Default 16,384.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_max_request_header_bytes(config: *mut wskit_config, value: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("must be > 0"), |c| c.request_limits.max_header_bytes = value) }
    }
}

crate::ffi_fn! {
/// Listeners: maximum number of request headers (> 0); more get HTTP 431. Default 64.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_max_request_headers(config: *mut wskit_config, value: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("must be > 0"), |c| c.request_limits.max_headers = value) }
    }
}

crate::ffi_fn! {
    /// Listeners: adds an Origin to the allowlist (compared case-insensitively, e.g.
    /// `"https://example.com"`). With a non-empty list, requests carrying another Origin get HTTP
    /// 403 before the accept callback runs; requests without Origin are accepted. The string is
    /// copied.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
    /// (empty).
    fn wskit_config_add_allowed_origin(config: *mut wskit_config, origin: *const c_char, origin_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let origin = {
            non_null!(origin);
            try_str!(origin, origin_len)
        };
        if origin.is_empty() {
            return invalid("origin must not be empty");
        }
        config.allowed_origins.push(origin.to_string());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Adds a subprotocol (an RFC 7230 token such as `"chat.v1"`), in order of preference.
    /// Clients offer the list in `Sec-WebSocket-Protocol`. Listeners use it as the server's
    /// supported list: by default the first subprotocol the client offers that is in the list is
    /// selected (an accept callback may choose otherwise). The string is copied.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
    /// (not a token).
    fn wskit_config_add_subprotocol(config: *mut wskit_config, name: *const c_char, name_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let name = {
            non_null!(name);
            try_str!(name, name_len)
        };
        if !is_token(name) {
            return invalid("a subprotocol must be a non-empty RFC 7230 token");
        }
        config.subprotocols.push(name.to_string());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Clients: adds a request header to the opening handshake (e.g. `Authorization`). Headers the
    /// handshake sets itself (Host, Upgrade, Sec-WebSocket-*) are refused by `wskit_ctx_connect`
    /// with `WSKIT_ERR_INVALID_ARG`. Both strings are copied.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
    /// (name not a token, or CR/LF in the value).
    fn wskit_config_add_header(config: *mut wskit_config, name: *const c_char, name_len: usize, value: *const c_char, value_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let name = {
            non_null!(name);
            try_str!(name, name_len)
        };
        let value = {
            non_null!(value);
            try_str!(value, value_len)
        };
        if !is_token(name) || value.contains(['\r', '\n']) {
            return invalid("header name must be a token and the value must not contain CR or LF");
        }
        config.headers.push((name.to_string(), value.to_string()));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Listeners: serve the files under the directory `path` (`path_len` bytes or `WSKIT_NTS`;
    /// copied) to plain HTTP GET/HEAD requests that no HTTP_REQUEST callback answers (and to
    /// `wskit_http_serve_static`). Paths are resolved safely (no `..`, no symlinks out of the
    /// directory); `index.html` serves a directory; files are streamed from disk. Upgrades on the
    /// same listener work as without it. The directory must exist when `wskit_ctx_listen` runs
    /// (else it returns `WSKIT_ERR_INVALID_ARG`). An empty path removes the setting.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_UTF8`.
    fn wskit_config_set_static_dir(config: *mut wskit_config, path: *const c_char, path_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let path = {
            non_null!(path);
            try_str!(path, path_len)
        };
        config.static_dir = (!path.is_empty()).then(|| std::path::PathBuf::from(path));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Listeners: the largest body of a plain HTTP request (`Content-Length` or chunked); larger
    /// ones get 413 and the connection closes. Default 1 MiB (1048576). The head is bounded by
    /// `wskit_config_set_max_request_header_bytes` (431).
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_config_set_max_http_body(config: *mut wskit_config, value: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.max_http_body = Some(value)) }
    }
}

crate::ffi_fn! {
    /// Listeners: how long an HTTP keep-alive connection may wait for (and take to send) its next
    /// request after a response, in milliseconds (> 0); it is closed then. Default 15,000.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_ARG` (0).
    fn wskit_config_set_http_keep_alive_ms(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("keep-alive time must be > 0"), |c| c.http_keep_alive = Some(Duration::from_millis(value.into()))) }
    }
}

crate::ffi_fn! {
    /// Clients: the `Origin` header to send (replaces an earlier one). The string is copied.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
    /// (CR/LF or empty).
    fn wskit_config_set_origin(config: *mut wskit_config, origin: *const c_char, origin_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let origin = {
            non_null!(origin);
            try_str!(origin, origin_len)
        };
        if origin.is_empty() || origin.contains(['\r', '\n']) {
            return invalid("origin must be non-empty and must not contain CR or LF");
        }
        config.origin = Some(origin.to_string());
        wskit_status::WSKIT_OK
    }
}

/// Stores a TLS setting, or records why it could not be loaded.
fn tls_setting<T>(
    config: &mut wskit_config,
    loaded: crate::net::Result<T>,
    store: impl FnOnce(&mut wskit_config, T),
) -> wskit_status {
    match loaded {
        Ok(value) => {
            store(config, value);
            wskit_status::WSKIT_OK
        }
        Err(err) => super::status::fail(&err),
    }
}

crate::ffi_fn! {
    /// Serve wss:// on listeners created with this config: loads a PEM certificate chain (leaf
    /// first) and a PEM private key (PKCS#8, RSA or EC) now. ALPN `http/1.1` is offered.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (paths), or `WSKIT_ERR_TLS`
    /// with the reason in `wskit_error_last()` (unreadable file, bad PEM, key not matching).
    fn wskit_config_set_tls_cert_files(config: *mut wskit_config, cert_chain_path: *const c_char, cert_chain_path_len: usize, private_key_path: *const c_char, private_key_path_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let cert = {
            non_null!(cert_chain_path);
            try_str!(cert_chain_path, cert_chain_path_len)
        };
        let key = {
            non_null!(private_key_path);
            try_str!(private_key_path, private_key_path_len)
        };
        tls_setting(config, TlsServerConfig::from_pem_files(cert, key), |c, tls| c.tls_server = Some(tls))
    }
}

crate::ffi_fn! {
    /// Like `wskit_config_set_tls_cert_files`, from PEM data in memory (copied).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_TLS` (see `wskit_error_last()`).
    fn wskit_config_set_tls_cert_pem(config: *mut wskit_config, cert_chain_pem: *const u8, cert_chain_len: usize, private_key_pem: *const u8, private_key_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let cert = try_bytes!(cert_chain_pem, cert_chain_len);
        let key = try_bytes!(private_key_pem, private_key_len);
        tls_setting(config, TlsServerConfig::from_pem(cert, key), |c, tls| c.tls_server = Some(tls))
    }
}

crate::ffi_fn! {
    /// wss:// clients created with this config trust only the CA certificates in this PEM file
    /// (instead of the system trust store, the default). Loaded now.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_TLS`.
    fn wskit_config_set_tls_ca_file(config: *mut wskit_config, ca_path: *const c_char, ca_path_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let path = {
            non_null!(ca_path);
            try_str!(ca_path, ca_path_len)
        };
        tls_setting(config, TlsClientConfig::with_ca_file(path), |c, tls| c.tls_client = Some(tls))
    }
}

crate::ffi_fn! {
    /// Like `wskit_config_set_tls_ca_file`, from PEM data in memory (copied).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_TLS`.
    fn wskit_config_set_tls_ca_pem(config: *mut wskit_config, ca_pem: *const u8, ca_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let pem = try_bytes!(ca_pem, ca_len);
        tls_setting(config, TlsClientConfig::with_ca_pem(pem), |c, tls| c.tls_client = Some(tls))
    }
}

crate::ffi_fn! {
    /// DANGER: wss:// clients created with this config accept ANY server certificate for ANY host
    /// name, so anyone on the network path can read and change the traffic. For local testing with
    /// self-signed certificates only; never in production. `enable` 0 restores verification against
    /// the system trust store.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_config_dangerous_skip_tls_verification(config: *mut wskit_config, enable: bool) -> wskit_status {
        let config = try_mut!(config);
        config.tls_client = enable.then(TlsClientConfig::dangerous_skip_verification_for_testing_only);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Listeners: keep each connection's request path and query after the handshake, for
    /// `wskit_conn_path` and `wskit_conn_query` (default false: an idle connection costs nothing for
    /// them; asking then returns `WSKIT_ERR_UNAVAILABLE`). During the ACCEPT and OPEN events they
    /// are in the event regardless. Client connections always know theirs (from the URL).
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_config_keep_request(config: *mut wskit_config, keep: bool) -> wskit_status {
        let config = try_mut!(config);
        config.keep_request = keep;
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Listeners: keep the request header `name` (`name_len` bytes or `WSKIT_NTS`; compared
    /// case-insensitively) after the handshake, for `wskit_conn_header` and friends; `"*"` keeps
    /// every header. Call once per name. Headers not kept return `WSKIT_ERR_UNAVAILABLE` later
    /// (default: none kept). Clients keep every response header without asking.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
    /// `WSKIT_ERR_INVALID_ARG` (not a header name).
    fn wskit_config_keep_header(config: *mut wskit_config, name: *const c_char, name_len: usize) -> wskit_status {
        let config = try_mut!(config);
        non_null!(name);
        let name = try_str!(name, name_len);
        if name == "*" {
            config.keep_headers = KeepHeaders::All;
            return wskit_status::WSKIT_OK;
        }
        if !is_token(name) {
            return invalid("a header name must be a non-empty RFC 7230 token (or \"*\")");
        }
        match &mut config.keep_headers {
            KeepHeaders::All => {}
            KeepHeaders::Names(names) => names.push(name.to_string()),
            keep @ KeepHeaders::None => *keep = KeepHeaders::Names(vec![name.to_string()]),
        }
        wskit_status::WSKIT_OK
    }
}
