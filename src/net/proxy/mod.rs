//! Client proxy traversal: choosing the proxy of a connection (an explicit URL, else the
//! environment with its `no_proxy` exceptions) and the sans-I/O exchanges that open a tunnel
//! through it (HTTP CONNECT, SOCKS5). The event loop (`context/proxy.rs`) moves their bytes; the
//! TLS and WebSocket handshakes with the target run inside the tunnel. See docs/proxy.md.

pub(crate) mod env;
pub(crate) mod http_connect;
pub(crate) mod no_proxy;
pub(crate) mod socks5;

use std::fmt;
use std::time::Duration;

use super::tls::TlsClientConfig;

/// How a client connection finds its proxy (`ConnectOptions::proxy`).
///
/// The choice: [`ProxyOptions::url`] if set; else, with [`ProxyOptions::from_env`] (the
/// default), `http_proxy` (ws://) or `https_proxy` (wss://), then `all_proxy`, each in lower or
/// upper case, unless `no_proxy` excludes the target (curl's rules); else no proxy.
#[derive(Clone)]
pub struct ProxyOptions {
    /// The proxy to use, whatever the environment says: `http://[user:pass@]host[:port]`,
    /// `https://...` (TLS to the proxy), `socks5://...` (target resolved here) or `socks5h://...`
    /// (target resolved by the proxy). A URL without a scheme is `http://`. Default port 1080
    /// (443 for `https://`), as curl. Default none.
    pub url: Option<String>,
    /// Read the proxy environment variables when `url` is not set. Default true.
    pub from_env: bool,
    /// User name and password for the proxy (HTTP Basic, or SOCKS5 username/password),
    /// replacing any in the URL. Default none.
    pub credentials: Option<(String, String)>,
    /// Time allowed from the connect call until the tunnel is up (resolving and connecting to
    /// the proxy, and its answer); past it the connect fails with [`ProxyError::Timeout`]. The
    /// connection's `handshake_timeout` still bounds the whole opening. Default 10 s.
    pub timeout: Duration,
    /// How an `https://` proxy's certificate is verified. Default (`None`): the system trust
    /// store. (A wss:// target is verified by `ConnectOptions::tls`, end to end.)
    pub tls: Option<TlsClientConfig>,
}

/// Passwords stay out of logs: the URL's userinfo and the credentials' password are elided.
impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self
            .url
            .as_deref()
            .map(|url| match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}***@{}", &url[..scheme + 3], &url[at + 1..])
                }
                (None, Some(at)) => format!("***@{}", &url[at + 1..]),
                _ => url.to_string(),
            });
        f.debug_struct("ProxyOptions")
            .field("url", &url)
            .field("from_env", &self.from_env)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(user, _)| (user, "***")),
            )
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Default for ProxyOptions {
    fn default() -> Self {
        Self {
            url: None,
            from_env: true,
            credentials: None,
            timeout: Duration::from_secs(10),
            tls: None,
        }
    }
}

impl ProxyOptions {
    /// No proxy at all, whatever the environment says.
    pub fn none() -> Self {
        Self {
            from_env: false,
            ..Self::default()
        }
    }

    /// Whether `url` is a proxy URL this module understands (the error says why not).
    pub fn check_url(url: &str) -> Result<(), ProxyError> {
        Proxy::parse(url).map(drop)
    }

    /// This proxy URL, whatever the environment says.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..Self::default()
        }
    }
}

/// Why a proxy did not open the tunnel (inside [`crate::net::Error::Proxy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL is invalid, or the proxy's answer is not HTTP (or not SOCKS5), or it closed
    /// the connection before answering.
    Protocol(String),
    /// The proxy wants (other) credentials: HTTP 407, with its `Proxy-Authenticate` challenge
    /// (or 401, which tinyproxy answers wrong credentials with), or a SOCKS5 authentication
    /// failure (`status` 0).
    Auth {
        /// 407 (or 401), or 0 for SOCKS5.
        status: u16,
        /// The `Proxy-Authenticate` header of a 407 (the first, if several; of a 401, its
        /// `WWW-Authenticate`).
        proxy_authenticate: Option<String>,
        /// The headers of the proxy's answer.
        headers: Vec<(String, String)>,
        /// What a SOCKS5 proxy said (empty for HTTP).
        detail: String,
    },
    /// The proxy refused the tunnel with this HTTP status (403 Forbidden, 502 Bad Gateway, 503
    /// Service Unavailable, ...).
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its reason phrase.
        reason: String,
        /// The headers of the proxy's answer.
        headers: Vec<(String, String)>,
    },
    /// The tunnel was not up within `ProxyOptions::timeout`.
    Timeout,
    /// The SOCKS5 proxy answered the CONNECT with this reply code (RFC 1928: 1 general failure,
    /// 2 not allowed, 3 network unreachable, 4 host unreachable, 5 connection refused, 6 TTL
    /// expired, 7 command not supported, 8 address type not supported).
    Socks {
        /// The reply code.
        reply: u8,
    },
}

impl ProxyError {
    pub(crate) fn socks_auth(detail: &str) -> Self {
        ProxyError::Auth {
            status: 0,
            proxy_authenticate: None,
            headers: Vec::new(),
            detail: detail.to_string(),
        }
    }

    /// The headers of the proxy's HTTP answer (empty for other failures).
    pub fn headers(&self) -> &[(String, String)] {
        match self {
            ProxyError::Auth { headers, .. } | ProxyError::Refused { headers, .. } => headers,
            _ => &[],
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Protocol(what) => f.write_str(what),
            ProxyError::Auth {
                status: 0, detail, ..
            } => write!(f, "authentication failed: {detail}"),
            ProxyError::Auth {
                status,
                proxy_authenticate,
                ..
            } => {
                write!(f, "the proxy wants authentication ({status})")?;
                if let Some(challenge) = proxy_authenticate {
                    write!(f, "; Proxy-Authenticate: {challenge}")?;
                }
                Ok(())
            }
            ProxyError::Refused { status, reason, .. } => {
                write!(f, "the proxy refused the tunnel: {status} {reason}")
            }
            ProxyError::Timeout => f.write_str("the proxy did not open the tunnel in time"),
            ProxyError::Socks { reply } => {
                write!(f, "SOCKS5 reply {reply}: {}", socks5::reply_text(*reply))
            }
        }
    }
}

impl std::error::Error for ProxyError {}

/// The kind of proxy a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Http,
    Https,
    Socks5,
    Socks5h,
}

/// A parsed proxy URL: where to connect first, and how to ask for the tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub(crate) kind: Kind,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) credentials: Option<(String, String)>,
}

impl Proxy {
    /// Parses `http://[user:pass@]host[:port][/]` and the other schemes.
    pub(crate) fn parse(url: &str) -> Result<Self, ProxyError> {
        let bad = |why: &str| ProxyError::Protocol(format!("invalid proxy URL {url:?}: {why}"));
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("http".to_string(), url),
        };
        let kind = match scheme.as_str() {
            "http" => Kind::Http,
            "https" => Kind::Https,
            "socks5" => Kind::Socks5,
            "socks5h" => Kind::Socks5h,
            _ => return Err(bad("the scheme must be http, https, socks5 or socks5h")),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let credentials = userinfo.map(|u| {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            (percent_decode(user), percent_decode(pass))
        });
        let default_port = if kind == Kind::Https { 443 } else { 1080 };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("bad port"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("junk after ']'")),
            };
            (host.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), port.parse().map_err(|_| bad("bad port"))?),
                None => (hostport.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            kind,
            host: host.to_ascii_lowercase(),
            port,
            credentials,
        })
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The proxy for a connection to `host:port` (`secure`: wss://), or none. Explicit beats the
/// environment; `no_proxy` applies to the environment's proxies only.
pub(crate) fn choose(
    options: &ProxyOptions,
    secure: bool,
    host: &str,
    port: u16,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    let url = match &options.url {
        Some(url) => Some(url.clone()),
        None if options.from_env => match env::proxy_for(getenv, secure) {
            Some(_)
                if env::lookup(getenv, "no_proxy")
                    .is_some_and(|list| no_proxy::matches(&list, host, port)) =>
            {
                None
            }
            found => found,
        },
        None => None,
    };
    let Some(url) = url else {
        return Ok(None);
    };
    let mut proxy = Proxy::parse(&url)?;
    if let Some(credentials) = &options.credentials {
        proxy.credentials = Some(credentials.clone());
    }
    Ok(Some(proxy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn proxy_urls_parse() {
        let p = Proxy::parse("http://us%40er:p%3Ass@Proxy.example:3128/").unwrap();
        assert_eq!(p.kind, Kind::Http);
        assert_eq!((p.host.as_str(), p.port), ("proxy.example", 3128));
        assert_eq!(p.credentials, Some(("us@er".into(), "p:ss".into())));
        let p = Proxy::parse("proxy.example").unwrap();
        assert_eq!((p.kind, p.port, p.credentials), (Kind::Http, 1080, None));
        assert_eq!(Proxy::parse("https://p").unwrap().port, 443);
        let p = Proxy::parse("socks5h://[::1]:1081").unwrap();
        assert_eq!((p.kind, p.host.as_str(), p.port), (Kind::Socks5h, "::1", 1081));
        assert_eq!(
            Proxy::parse("SOCKS5://u@h").unwrap().credentials,
            Some(("u".into(), String::new()))
        );
        for bad in ["ftp://h", "http://", "http://h:x", "http://[::1", "socks4://h:1"] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn explicit_beats_environment_and_no_proxy_applies_to_the_environment() {
        let e = env(&[
            ("http_proxy", "http://envproxy:1"),
            ("no_proxy", "localhost,.internal"),
        ]);
        let chosen = |options: &ProxyOptions, host: &str| {
            choose(options, false, host, 80, &e).unwrap().map(|p| p.host)
        };
        assert_eq!(
            chosen(&ProxyOptions::default(), "example.com").as_deref(),
            Some("envproxy")
        );
        assert_eq!(chosen(&ProxyOptions::default(), "localhost"), None);
        assert_eq!(chosen(&ProxyOptions::default(), "a.internal"), None);
        assert_eq!(chosen(&ProxyOptions::none(), "example.com"), None);
        let explicit = ProxyOptions::url("socks5://mine:9");
        assert_eq!(chosen(&explicit, "localhost").as_deref(), Some("mine"));
        // wss:// reads https_proxy, which is not set here.
        assert_eq!(
            choose(&ProxyOptions::default(), true, "example.com", 443, &e).unwrap(),
            None
        );
        let with_creds = ProxyOptions {
            credentials: Some(("a".into(), "b".into())),
            ..ProxyOptions::url("http://x:y@p:1")
        };
        let p = choose(&with_creds, false, "h", 80, &e).unwrap().unwrap();
        assert_eq!(p.credentials, Some(("a".into(), "b".into())));
    }

    #[test]
    fn debug_output_hides_passwords() {
        let options = ProxyOptions {
            credentials: Some(("ann".into(), "secret1".into())),
            ..ProxyOptions::url("http://bob:secret2@proxy:3128")
        };
        let text = format!("{options:?}");
        assert!(
            !text.contains("secret") && text.contains("ann") && text.contains("proxy:3128"),
            "{text}"
        );
    }

    #[test]
    fn errors_read_well() {
        let auth = ProxyError::Auth {
            status: 407,
            proxy_authenticate: Some("Basic realm=\"p\"".into()),
            headers: Vec::new(),
            detail: String::new(),
        };
        assert_eq!(
            auth.to_string(),
            "the proxy wants authentication (407); Proxy-Authenticate: Basic realm=\"p\""
        );
        assert_eq!(
            ProxyError::Socks { reply: 5 }.to_string(),
            "SOCKS5 reply 5: connection refused"
        );
    }
}
