//! `ws://` and `wss://` URLs (RFC 6455 section 3).
//!
//! Decisions:
//! - Schemes are case-insensitive; the host is ASCII-lowercased. IPv6 literals are written in
//!   brackets and stored without them; zone identifiers are not supported. Internationalised
//!   host names must be given in their ASCII (punycode) form.
//! - An empty port (`ws://host:/`) means the default port; port 0 is rejected.
//! - Fragments (`#`) are rejected, as RFC 6455 requires.
//! - Userinfo (`user:pass@`) is rejected rather than silently dropped: send credentials with an
//!   `Authorization` header in `ClientOptions::headers`.
//! - Whitespace and ASCII control characters anywhere are rejected. Non-ASCII characters in the
//!   path or query are percent-encoded as UTF-8; other characters are kept as written.

use super::error::UrlError;
use std::fmt::Write as _;

/// A parsed WebSocket URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss` (TLS) rather than `ws`.
    pub secure: bool,
    /// Host name or address, lowercased; IPv6 addresses without brackets.
    pub host: String,
    /// Port; the scheme's default (80 or 443) when the URL gives none.
    pub port: u16,
    /// Path, starting with `/`; `/` when the URL has none.
    pub path: String,
    /// Query without the `?`; `Some("")` for a bare `?`.
    pub query: Option<String>,
}

impl WsUrl {
    /// The scheme's default port: 443 for `wss`, 80 for `ws`.
    pub fn default_port(&self) -> u16 {
        if self.secure { 443 } else { 80 }
    }

    /// The resource name for the request line: path, plus `?query` when there is one.
    pub fn resource(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{}", self.path, q),
            None => self.path.clone(),
        }
    }

    /// The `Host` header value: host (bracketed if IPv6), plus `:port` when not the default.
    pub fn host_header(&self) -> String {
        let mut s = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port != self.default_port() {
            let _ = write!(s, ":{}", self.port);
        }
        s
    }

    /// Check fields that may have been set by hand: a valid host, and a resource that starts with
    /// `/` and contains only visible ASCII other than `#`.
    pub(crate) fn validate(&self) -> Result<(), UrlError> {
        let host_ok = if self.host.contains(':') {
            self.host.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !self.host.is_empty() && is_reg_name(&self.host)
        };
        if !host_ok {
            return Err(UrlError::InvalidHost(self.host.clone()));
        }
        let resource = self.resource();
        if !resource.starts_with('/') {
            return Err(UrlError::InvalidCharacter(0));
        }
        if let Some(at) = resource
            .bytes()
            .position(|b| !(0x21..0x7f).contains(&b) || b == b'#')
        {
            return Err(UrlError::InvalidCharacter(at));
        }
        Ok(())
    }
}

/// Parse a `ws://` or `wss://` URL. See the module documentation for what is accepted.
pub fn parse(url: &str) -> Result<WsUrl, UrlError> {
    if let Some(at) = url.bytes().position(|b| b <= 0x20 || b == 0x7f) {
        return Err(UrlError::InvalidCharacter(at));
    }
    let (scheme, rest) = url.split_once("://").ok_or(UrlError::MissingScheme)?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        return Err(UrlError::MissingScheme);
    }
    let secure = if scheme.eq_ignore_ascii_case("ws") {
        false
    } else if scheme.eq_ignore_ascii_case("wss") {
        true
    } else {
        return Err(UrlError::UnsupportedScheme(scheme.to_ascii_lowercase()));
    };
    if rest.contains('#') {
        return Err(UrlError::Fragment);
    }
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    if authority.contains('@') {
        return Err(UrlError::Userinfo);
    }
    let (host, port_str) = split_host_port(authority)?;
    let port = match port_str {
        None | Some("") => {
            if secure {
                443
            } else {
                80
            }
        }
        Some(p) => parse_port(p)?,
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        encode_non_ascii(path)
    };
    Ok(WsUrl {
        secure,
        host,
        port,
        path,
        query: query.map(encode_non_ascii),
    })
}

fn split_host_port(authority: &str) -> Result<(String, Option<&str>), UrlError> {
    if authority.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    if let Some(after) = authority.strip_prefix('[') {
        let (v6, rest) = after
            .split_once(']')
            .ok_or_else(|| UrlError::InvalidHost(authority.into()))?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(UrlError::InvalidHost(authority.into()));
        }
        let port = match rest {
            "" => None,
            _ => Some(
                rest.strip_prefix(':')
                    .ok_or_else(|| UrlError::InvalidHost(authority.into()))?,
            ),
        };
        return Ok((v6.to_ascii_lowercase(), port));
    }
    if authority.matches(':').count() > 1 {
        // An IPv6 address without brackets.
        return Err(UrlError::InvalidHost(authority.into()));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    if !is_reg_name(host) {
        return Err(UrlError::InvalidHost(host.into()));
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// RFC 3986 reg-name: unreserved / pct-encoded / sub-delims (which also covers IPv4 literals).
fn is_reg_name(host: &str) -> bool {
    let b = host.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let ok = matches!((b.get(i + 1), b.get(i + 2)), (Some(x), Some(y)) if x.is_ascii_hexdigit() && y.is_ascii_hexdigit());
            if !ok {
                return false;
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

fn parse_port(p: &str) -> Result<u16, UrlError> {
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::InvalidPort(p.into()));
    }
    match p.parse::<u16>() {
        Ok(n) if n != 0 => Ok(n),
        _ => Err(UrlError::InvalidPort(p.into())),
    }
}

fn encode_non_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> WsUrl {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn defaults() {
        let w = u("ws://example.com");
        assert_eq!(
            w,
            WsUrl {
                secure: false,
                host: "example.com".into(),
                port: 80,
                path: "/".into(),
                query: None
            }
        );
        assert_eq!(w.resource(), "/");
        assert_eq!(w.host_header(), "example.com");
        let w = u("wss://example.com/chat");
        assert!(w.secure);
        assert_eq!(w.port, 443);
        assert_eq!(w.host_header(), "example.com");
        assert_eq!(u("ws://example.com:/").port, 80);
    }

    #[test]
    fn scheme_case_insensitive_and_host_lowercased() {
        let w = u("WSS://Example.COM:8443/A?B=C");
        assert!(w.secure);
        assert_eq!(w.host, "example.com");
        assert_eq!(w.port, 8443);
        assert_eq!(w.resource(), "/A?B=C");
        assert_eq!(w.host_header(), "example.com:8443");
        assert!(!u("Ws://h").secure);
    }

    #[test]
    fn explicit_ports() {
        assert_eq!(u("ws://h:9001").port, 9001);
        assert_eq!(u("ws://h:443").host_header(), "h:443");
        assert_eq!(u("wss://h:80").host_header(), "h:80");
        assert_eq!(u("wss://h:443").host_header(), "h");
        assert_eq!(u("ws://h:65535").port, 65535);
    }

    #[test]
    fn ipv6() {
        let w = u("ws://[::1]:9001/x?y=1");
        assert_eq!(w.host, "::1");
        assert_eq!(w.port, 9001);
        assert_eq!(w.path, "/x");
        assert_eq!(w.query.as_deref(), Some("y=1"));
        assert_eq!(w.host_header(), "[::1]:9001");
        let w = u("wss://[2001:DB8::1]");
        assert_eq!(w.host, "2001:db8::1");
        assert_eq!(w.host_header(), "[2001:db8::1]");
        assert_eq!(w.port, 443);
        assert!(matches!(parse("ws://[::1"), Err(UrlError::InvalidHost(_))));
        assert!(matches!(parse("ws://[nope]/"), Err(UrlError::InvalidHost(_))));
        assert!(matches!(parse("ws://[::1]x/"), Err(UrlError::InvalidHost(_))));
        assert_eq!(parse("ws://::1/"), Err(UrlError::InvalidHost("::1".into())));
        assert_eq!(
            parse("ws://1::2:80/"),
            Err(UrlError::InvalidHost("1::2:80".into()))
        );
    }

    #[test]
    fn path_and_query() {
        assert_eq!(u("ws://h/a/b?c=d&e").resource(), "/a/b?c=d&e");
        let w = u("ws://h?x=1");
        assert_eq!(w.path, "/");
        assert_eq!(w.resource(), "/?x=1");
        let w = u("ws://h/?");
        assert_eq!(w.query.as_deref(), Some(""));
        assert_eq!(w.resource(), "/?");
        assert_eq!(u("ws://h/caf\u{e9}?q=\u{e9}").resource(), "/caf%C3%A9?q=%C3%A9");
        assert_eq!(u("ws://127.0.0.1:8080/").host, "127.0.0.1");
    }

    #[test]
    fn rejections() {
        assert_eq!(parse("ws://h/#frag"), Err(UrlError::Fragment));
        assert_eq!(parse("ws://h#"), Err(UrlError::Fragment));
        assert_eq!(
            parse("http://h/"),
            Err(UrlError::UnsupportedScheme("http".into()))
        );
        assert_eq!(
            parse("HTTPS://h/"),
            Err(UrlError::UnsupportedScheme("https".into()))
        );
        assert_eq!(parse("h/"), Err(UrlError::MissingScheme));
        assert_eq!(parse("ws:h"), Err(UrlError::MissingScheme));
        assert_eq!(parse("://h"), Err(UrlError::MissingScheme));
        assert_eq!(parse("ws://"), Err(UrlError::EmptyHost));
        assert_eq!(parse("ws:///x"), Err(UrlError::EmptyHost));
        assert_eq!(parse("ws://:80/"), Err(UrlError::EmptyHost));
        assert_eq!(parse("ws://h:0/"), Err(UrlError::InvalidPort("0".into())));
        assert_eq!(parse("ws://h:65536/"), Err(UrlError::InvalidPort("65536".into())));
        assert_eq!(parse("ws://h:+80/"), Err(UrlError::InvalidPort("+80".into())));
        assert_eq!(parse("ws://h:8x/"), Err(UrlError::InvalidPort("8x".into())));
        assert_eq!(parse("ws://user:pw@h/"), Err(UrlError::Userinfo));
        assert_eq!(parse("ws://h /"), Err(UrlError::InvalidCharacter(6)));
        assert_eq!(parse("ws://h/a\r\nb"), Err(UrlError::InvalidCharacter(8)));
        assert_eq!(parse("ws://h/\t"), Err(UrlError::InvalidCharacter(7)));
        assert_eq!(parse("ws://h/\x7f"), Err(UrlError::InvalidCharacter(7)));
        assert!(matches!(parse("ws://h\u{e9}/"), Err(UrlError::InvalidHost(_))));
        assert!(matches!(parse("ws://a<b/"), Err(UrlError::InvalidHost(_))));
        assert!(matches!(parse("ws://a%zz/"), Err(UrlError::InvalidHost(_))));
        assert!(parse("ws://a%41/").is_ok());
    }
}
