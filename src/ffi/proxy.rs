//! Client proxy traversal from C (docs/proxy.md): the `wskit_config_set_proxy*` setters, and the
//! detail of a proxy failure carried by its ERROR event.
//!
//! A proxy failure is an ERROR event with `code` 305 to 309 (`WSKIT_ERR_PROXY`,
//! `WSKIT_ERR_PROXY_AUTH`, `WSKIT_ERR_PROXY_REFUSED`, `WSKIT_ERR_PROXY_TIMEOUT`,
//! `WSKIT_ERR_SOCKS`). Its `headers` say more: first a pseudo-header, `:status` with the proxy's
//! HTTP status (407, 403, 502, 503, ...) or `:socks-reply` with the SOCKS5 reply code, then the
//! headers of the proxy's answer (`Proxy-Authenticate` for a 407).

use std::ffi::c_char;
use std::time::Duration;

use crate::net::{self, ProxyError, TlsClientConfig};

use super::config::{set, wskit_config};
use super::status::{fail, fail_with, wskit_status};

/// The headers an ERROR event of a proxy failure carries (none for other errors).
pub(crate) fn error_headers(error: &net::Error) -> Vec<(String, String)> {
    let net::Error::Proxy(proxy) = error else {
        return Vec::new();
    };
    let mut headers = Vec::new();
    match proxy {
        ProxyError::Auth { status, .. } | ProxyError::Refused { status, .. } if *status != 0 => {
            headers.push((":status".to_string(), status.to_string()));
        }
        ProxyError::Socks { reply } => headers.push((":socks-reply".to_string(), reply.to_string())),
        _ => {}
    }
    headers.extend(proxy.headers().iter().cloned());
    headers
}

crate::ffi_fn! {
    /// Clients: connect through this proxy, whatever the environment says:
    /// `http://[user:pass@]host[:port]` (HTTP CONNECT), `https://...` (HTTP CONNECT over TLS to
    /// the proxy), `socks5://...` (SOCKS5, target resolved here) or `socks5h://...` (SOCKS5,
    /// target resolved by the proxy); no scheme means `http://`; default port 1080 (443 for
    /// `https://`). Userinfo is percent-decoded and used for Basic or SOCKS5 username/password
    /// authentication. An empty string removes the explicit proxy (the environment applies
    /// again, if enabled). The string is copied. Any thread, on a config no other thread uses.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
    /// `WSKIT_ERR_INVALID_ARG` (not a proxy URL; `wskit_error_last()` says why).
    fn wskit_config_set_proxy(config: *mut wskit_config, url: *const c_char, url_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let url = {
            non_null!(url);
            try_str!(url, url_len)
        };
        if url.is_empty() {
            config.proxy.url = None;
            return wskit_status::WSKIT_OK;
        }
        if let Err(err) = net::ProxyOptions::check_url(url) {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, &err.to_string());
        }
        config.proxy.url = Some(url.to_string());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Clients: when no proxy is set with `wskit_config_set_proxy`, take it from the environment:
    /// `http_proxy` (ws://) or `https_proxy` (wss://), then `all_proxy`, lower case before upper
    /// case, unless `no_proxy` lists the target (curl's rules: names and their subdomains,
    /// leading dots, `*`, addresses, CIDR ranges, `:port`). The environment is read by each
    /// connect. Default on; `enabled` false connects directly unless a proxy is set.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_config_set_proxy_from_env(config: *mut wskit_config, enabled: bool) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.proxy.from_env = enabled) }
    }
}

crate::ffi_fn! {
    /// Clients: the user name and password for the proxy (HTTP Basic, or SOCKS5
    /// username/password), replacing any in the proxy URL. Both are copied; `user` must not be
    /// empty. Any thread, on a config no other thread uses.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
    /// `WSKIT_ERR_INVALID_ARG` (empty user).
    fn wskit_config_set_proxy_credentials(config: *mut wskit_config, user: *const c_char, user_len: usize, password: *const c_char, password_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let user = {
            non_null!(user);
            try_str!(user, user_len)
        };
        let password = {
            non_null!(password);
            try_str!(password, password_len)
        };
        if user.is_empty() {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "proxy user must not be empty");
        }
        config.proxy.credentials = Some((user.to_string(), password.to_string()));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Clients: time allowed from the connect call until the proxy's tunnel is up (resolving and
    /// connecting to the proxy, and its answer), in milliseconds (> 0); past it the connect fails
    /// with `WSKIT_ERR_PROXY_TIMEOUT`. The handshake timeout still bounds the whole opening.
    /// Default 10,000.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_ARG` (0).
    fn wskit_config_set_proxy_timeout_ms(config: *mut wskit_config, value: u32) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, (value == 0).then_some("proxy timeout must be > 0"), |c| c.proxy.timeout = Duration::from_millis(value.into())) }
    }
}

crate::ffi_fn! {
    /// Clients with an `https://` proxy: trust only the CA certificates in this PEM file for the
    /// proxy's certificate (default: the system trust store). A wss:// target is verified
    /// separately, end to end (`wskit_config_set_tls_ca_file`). Loaded now.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_TLS`.
    fn wskit_config_set_proxy_ca_file(config: *mut wskit_config, ca_path: *const c_char, ca_path_len: usize) -> wskit_status {
        let config = try_mut!(config);
        let path = {
            non_null!(ca_path);
            try_str!(ca_path, ca_path_len)
        };
        match TlsClientConfig::with_ca_file(path) {
            Ok(tls) => {
                config.proxy.tls = Some(tls);
                wskit_status::WSKIT_OK
            }
            Err(err) => fail(&err),
        }
    }
}
