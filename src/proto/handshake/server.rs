//! Server side: parse the client's opening handshake and write the 101 (or a rejection).
//!
//! Decisions:
//! - HTTP/1.0 requests get 505 ([`HandshakeError::UnsupportedHttpVersion`]); versions httparse
//!   cannot parse at all are malformed (400).
//! - The request target may be origin-form (`/path?query`) or absolute-form
//!   (`ws://host/path?query`, RFC 6455 4.2.1); only path and query are kept, not percent-decoded.
//! - The `Sec-WebSocket-Version` check (426) comes before the key check, so clients of older
//!   drafts learn which version to use.
//! - Duplicate `Host`, `Sec-WebSocket-Key` or `Sec-WebSocket-Version` headers are 400; repeated
//!   `Upgrade`/`Connection`/`Sec-WebSocket-Protocol`/`Sec-WebSocket-Extensions` are merged.
//! - Subprotocols offered by the client must be tokens (else 400); empty list elements are
//!   skipped. Subprotocol names are compared case-sensitively.
//! - Header values that are not UTF-8 are converted lossily (U+FFFD) rather than rejected.

use super::{
    HandshakeError, INITIAL_HEADER_SLOTS, accept_key, all_headers, check_header, extension_name, find_header,
    header_has_token, header_slot_bound, is_token, owned_headers, reason_phrase, single_header, split_list,
};
use base64::Engine as _;

/// Limits on the request header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Maximum size of the request line plus headers plus the blank line. Default 16 KiB.
    pub max_header_bytes: usize,
    /// Maximum number of headers. Default 64.
    pub max_headers: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_header_bytes: 16 * 1024,
            max_headers: 64,
        }
    }
}

/// A valid WebSocket opening handshake request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method (always `GET` once validated).
    pub method: String,
    /// The path of the request target, starting with `/`.
    pub path: String,
    /// The query of the request target, without the `?`.
    pub query: Option<String>,
    /// All headers, in order, as received (values trimmed).
    pub headers: Vec<(String, String)>,
    /// The `Host` header.
    pub host: String,
    /// The `Origin` header, if any (first one).
    pub origin: Option<String>,
    /// The `Sec-WebSocket-Key` header (base64 of 16 bytes).
    pub key: String,
    /// Subprotocols offered in `Sec-WebSocket-Protocol` (all such headers merged), in order.
    pub subprotocols: Vec<String>,
    /// Extension offers from `Sec-WebSocket-Extensions` (all such headers merged), one element
    /// per offer with its parameters, e.g. `permessage-deflate; client_max_window_bits`.
    pub extensions: Vec<String>,
}

/// What the application chose when accepting a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcceptOptions<'a> {
    /// The subprotocol to select; must be one of [`Request::subprotocols`].
    pub subprotocol: Option<&'a str>,
    /// Accepted extensions as raw `Sec-WebSocket-Extensions` elements; each name must have been
    /// offered by the client.
    pub extensions: &'a [String],
    /// Extra response headers (e.g. `Set-Cookie`). Must not contain CR/LF and must not be one of
    /// the headers the handshake writes itself.
    pub headers: &'a [(String, String)],
}

/// Headers `write_accept` writes itself.
const ACCEPT_RESERVED: &[&str] = &[
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",
    "Transfer-Encoding",
];

/// Headers `write_reject` writes itself.
const REJECT_RESERVED: &[&str] = &["Content-Length", "Transfer-Encoding", "Connection"];

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Append the `101 Switching Protocols` response accepting this request to `out`.
    ///
    /// On error nothing is appended.
    pub fn write_accept(&self, options: &AcceptOptions<'_>, out: &mut Vec<u8>) -> Result<(), HandshakeError> {
        if let Some(p) = options.subprotocol {
            if !self.subprotocols.iter().any(|o| o == p) {
                return Err(HandshakeError::UnexpectedSubprotocol(p.to_string()));
            }
        }
        for e in options.extensions {
            check_header("Sec-WebSocket-Extensions", e, &[])?;
            let name = extension_name(e);
            if !self
                .extensions
                .iter()
                .any(|o| extension_name(o).eq_ignore_ascii_case(name))
            {
                return Err(HandshakeError::UnexpectedExtension(name.to_string()));
            }
        }
        for (n, v) in options.headers {
            check_header(n, v, ACCEPT_RESERVED)?;
        }
        out.extend_from_slice(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
        );
        push_header(out, "Sec-WebSocket-Accept", &accept_key(self.key.as_bytes()));
        if let Some(p) = options.subprotocol {
            push_header(out, "Sec-WebSocket-Protocol", p);
        }
        if !options.extensions.is_empty() {
            push_header(out, "Sec-WebSocket-Extensions", &options.extensions.join(", "));
        }
        for (n, v) in options.headers {
            push_header(out, n, v);
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }
}

pub(crate) fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Append a complete HTTP/1.1 response refusing the handshake: status line (with the standard
/// reason phrase for common codes), the given headers, `Content-Length`, `Connection: close`, and
/// `body`. The caller should close the connection after sending it.
///
/// `status` must be in 200..=599 (so never 101); 204 and 304 must have an empty body and get no
/// `Content-Length`. Headers must be valid and must not include `Content-Length`,
/// `Transfer-Encoding` or `Connection`. On error nothing is appended.
pub fn write_reject(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), HandshakeError> {
    let no_body = status == 204 || status == 304;
    if !(200..=599).contains(&status) || (no_body && !body.is_empty()) {
        return Err(HandshakeError::InvalidStatus(status));
    }
    for (n, v) in headers {
        check_header(n, v, REJECT_RESERVED)?;
    }
    out.extend_from_slice(
        format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status).unwrap_or("")).as_bytes(),
    );
    for (n, v) in headers {
        push_header(out, n, v);
    }
    if !no_body {
        push_header(out, "Content-Length", &body.len().to_string());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(body);
    Ok(())
}

/// Parse a client's opening handshake from the bytes received so far.
///
/// Returns `Ok(None)` while the header block is incomplete (nothing is consumed; call again with
/// more bytes), and `Ok(Some((request, consumed)))` once it is complete and valid: `consumed` is
/// the length of the request, and any bytes after it are the client's first frames. Errors carry
/// the status to answer with ([`HandshakeError::http_status`]); a header block that exceeds
/// `limits.max_header_bytes` fails with 431 as soon as that many bytes are buffered.
pub fn parse_request(
    input: &[u8],
    limits: &RequestLimits,
) -> Result<Option<(Request, usize)>, HandshakeError> {
    let window = input.get(..limits.max_header_bytes).unwrap_or(input);
    let max_slots = limits.max_headers.min(header_slot_bound(window.len()));
    let mut slots = INITIAL_HEADER_SLOTS.min(max_slots);
    let (method, target, version, headers, consumed) = loop {
        let mut hs = vec![httparse::EMPTY_HEADER; slots];
        let mut req = httparse::Request::new(&mut hs);
        match req.parse(window) {
            Ok(httparse::Status::Complete(n)) => {
                break (
                    req.method.unwrap_or("").to_string(),
                    req.path.unwrap_or("").to_string(),
                    req.version.unwrap_or(0),
                    owned_headers(req.headers),
                    n,
                );
            }
            Ok(httparse::Status::Partial) => {
                if input.len() > window.len() {
                    return Err(HandshakeError::HeadersTooLarge);
                }
                // Reject a non-GET method early, once the method is known.
                if let Some(m) = req.method {
                    if m != "GET" {
                        return Err(HandshakeError::MethodNotAllowed(m.to_string()));
                    }
                }
                return Ok(None);
            }
            Err(httparse::Error::TooManyHeaders) => {
                if slots >= max_slots {
                    return Err(HandshakeError::TooManyHeaders);
                }
                slots = slots.saturating_mul(4).min(max_slots);
            }
            Err(httparse::Error::Version) => {
                return Err(HandshakeError::MalformedRequest("invalid HTTP version".into()));
            }
            Err(e) => return Err(HandshakeError::MalformedRequest(e.to_string())),
        }
    };
    if method != "GET" {
        return Err(HandshakeError::MethodNotAllowed(method));
    }
    if version < 1 {
        return Err(HandshakeError::UnsupportedHttpVersion);
    }
    let (path, query) = split_target(&target)?;

    let host = match single_header(&headers, "Host")? {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => return Err(HandshakeError::MissingHost),
    };
    check_token_header(&headers, "Upgrade", "websocket", HandshakeError::InvalidUpgrade)?;
    check_token_header(
        &headers,
        "Connection",
        "upgrade",
        HandshakeError::InvalidConnection,
    )?;
    match single_header(&headers, "Sec-WebSocket-Version")? {
        Some("13") => {}
        other => return Err(HandshakeError::UnsupportedVersion(other.map(str::to_string))),
    }
    let key = single_header(&headers, "Sec-WebSocket-Key")?.ok_or(HandshakeError::MissingKey)?;
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(k) if k.len() == 16 => {}
        _ => return Err(HandshakeError::InvalidKey(key.to_string())),
    }
    let key = key.to_string();
    if find_header(&headers, "Transfer-Encoding").is_some() {
        return Err(HandshakeError::RequestHasBody);
    }
    for cl in all_headers(&headers, "Content-Length") {
        if cl.is_empty() || !cl.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HandshakeError::MalformedRequest(format!(
                "invalid Content-Length '{cl}'"
            )));
        }
        if cl.bytes().any(|b| b != b'0') {
            return Err(HandshakeError::RequestHasBody);
        }
    }
    let mut subprotocols = Vec::new();
    for v in all_headers(&headers, "Sec-WebSocket-Protocol") {
        for p in split_list(v) {
            if !is_token(p) {
                return Err(HandshakeError::InvalidSubprotocol(p.to_string()));
            }
            subprotocols.push(p.to_string());
        }
    }
    let extensions = all_headers(&headers, "Sec-WebSocket-Extensions")
        .flat_map(split_list)
        .map(str::to_string)
        .collect();
    let origin = find_header(&headers, "Origin").map(str::to_string);
    Ok(Some((
        Request {
            method,
            path,
            query,
            host,
            origin,
            key,
            subprotocols,
            extensions,
            headers,
        },
        consumed,
    )))
}

/// Check that the (merged) values of header `name` contain `token`.
pub(crate) fn check_token_header(
    headers: &[(String, String)],
    name: &str,
    token: &str,
    err: fn(Option<String>) -> HandshakeError,
) -> Result<(), HandshakeError> {
    let mut seen: Option<String> = None;
    for v in all_headers(headers, name) {
        if header_has_token(v, token) {
            return Ok(());
        }
        match &mut seen {
            Some(s) => {
                s.push_str(", ");
                s.push_str(v);
            }
            None => seen = Some(v.to_string()),
        }
    }
    Err(err(seen))
}

/// Split a request target into path and query; absolute-form keeps only path and query.
fn split_target(target: &str) -> Result<(String, Option<String>), HandshakeError> {
    let rest = if target.starts_with('/') {
        target
    } else {
        let bad = || HandshakeError::MalformedRequest(format!("invalid request target '{target}'"));
        let (scheme, after) = target.split_once("://").ok_or_else(bad)?;
        if !["http", "https", "ws", "wss"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            return Err(bad());
        }
        match after.find(['/', '?']) {
            Some(i) => after.get(i..).unwrap_or(""),
            None => "",
        }
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (rest, None),
    };
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    };
    Ok((path, query))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /chat?room=1 HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    fn parse(s: &str) -> Result<Option<(Request, usize)>, HandshakeError> {
        parse_request(s.as_bytes(), &RequestLimits::default())
    }

    fn ok(s: &str) -> Request {
        match parse(s) {
            Ok(Some((r, n))) => {
                assert_eq!(n, s.len());
                r
            }
            other => panic!("{other:?}"),
        }
    }

    fn err(s: &str) -> HandshakeError {
        match parse(s) {
            Err(e) => e,
            other => panic!("expected error, got {other:?}"),
        }
    }

    /// `GOOD` without the headers named in `remove`, with `extra` lines after the request line.
    fn with(remove: &[&str], extra: &str) -> String {
        let (line, rest) = GOOD.split_once("\r\n").unwrap();
        let kept: String = rest
            .split_inclusive("\r\n")
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                !remove
                    .iter()
                    .any(|r| l.starts_with(&format!("{}:", r.to_ascii_lowercase())))
            })
            .collect();
        format!("{line}\r\n{extra}{kept}")
    }

    #[test]
    fn rfc_example() {
        let r = ok(GOOD);
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/chat");
        assert_eq!(r.query.as_deref(), Some("room=1"));
        assert_eq!(r.host, "server.example.com");
        assert_eq!(r.origin.as_deref(), Some("http://example.com"));
        assert_eq!(r.key, "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(r.subprotocols, vec!["chat", "superchat"]);
        assert!(r.extensions.is_empty());
        assert_eq!(r.header("sec-websocket-version"), Some("13"));
        assert_eq!(r.header("HOST"), Some("server.example.com"));
        assert_eq!(r.header("X-Nope"), None);
        assert_eq!(r.headers.len(), 7);
    }

    #[test]
    fn helper_builds_variants() {
        assert_eq!(with(&[], ""), GOOD);
        let s = with(&["Origin"], "X-A: 1\r\n");
        assert!(
            s.starts_with("GET /chat?room=1 HTTP/1.1\r\nX-A: 1\r\nHost:"),
            "{s}"
        );
        assert!(!s.contains("Origin"));
        assert!(s.ends_with("\r\n\r\n"));
    }

    #[test]
    fn byte_at_a_time() {
        let mut full = GOOD.as_bytes().to_vec();
        full.extend_from_slice(b"\x81\x85abcd");
        let b = full.as_slice();
        for i in 0..GOOD.len() {
            assert_eq!(
                parse_request(&b[..i], &RequestLimits::default()),
                Ok(None),
                "at {i}"
            );
        }
        let (r, n) = parse_request(b, &RequestLimits::default()).unwrap().unwrap();
        assert_eq!(n, GOOD.len());
        assert_eq!(&b[n..], b"\x81\x85abcd");
        assert_eq!(r, ok(GOOD));
    }

    #[test]
    fn method_405() {
        let e = err(&GOOD.replacen("GET", "POST", 1));
        assert_eq!(e, HandshakeError::MethodNotAllowed("POST".into()));
        assert_eq!(e.http_status(), 405);
        // Known before the header block is complete.
        assert_eq!(
            parse("PUT / HT"),
            Err(HandshakeError::MethodNotAllowed("PUT".into()))
        );
        // Methods are case-sensitive.
        assert_eq!(err(&GOOD.replacen("GET", "get", 1)).http_status(), 405);
        // A prefix of GET is just incomplete.
        assert_eq!(parse("GE"), Ok(None));
    }

    #[test]
    fn http_version() {
        let e = err(&GOOD.replacen("HTTP/1.1", "HTTP/1.0", 1));
        assert_eq!(e, HandshakeError::UnsupportedHttpVersion);
        assert_eq!(e.http_status(), 505);
        assert_eq!(err(&GOOD.replacen("HTTP/1.1", "HTTP/9.9", 1)).http_status(), 400);
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            err("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"),
            HandshakeError::MalformedRequest(_)
        ));
        assert!(matches!(
            err("\x00\x01garbage"),
            HandshakeError::MalformedRequest(_)
        ));
        let e = err(&GOOD.replacen("/chat?room=1", "*", 1));
        assert!(matches!(e, HandshakeError::MalformedRequest(_)), "{e:?}");
        assert_eq!(e.http_status(), 400);
    }

    #[test]
    fn absolute_form_target() {
        let r = ok(&GOOD.replacen("/chat?room=1", "ws://server.example.com/chat?room=1", 1));
        assert_eq!((r.path.as_str(), r.query.as_deref()), ("/chat", Some("room=1")));
        let r = ok(&GOOD.replacen("/chat?room=1", "http://server.example.com", 1));
        assert_eq!((r.path.as_str(), r.query), ("/", None));
        let r = ok(&GOOD.replacen("/chat?room=1", "HTTPS://h?x", 1));
        assert_eq!((r.path.as_str(), r.query.as_deref()), ("/", Some("x")));
        assert!(matches!(
            err(&GOOD.replacen("/chat?room=1", "ftp://h/", 1)),
            HandshakeError::MalformedRequest(_)
        ));
    }

    #[test]
    fn host() {
        assert_eq!(err(&with(&["Host"], "")), HandshakeError::MissingHost);
        assert_eq!(err(&with(&["Host"], "Host:\r\n")), HandshakeError::MissingHost);
        assert_eq!(
            err(&with(&[], "Host: b\r\n")),
            HandshakeError::DuplicateHeader("Host".into())
        );
    }

    #[test]
    fn upgrade_header() {
        assert_eq!(err(&with(&["Upgrade"], "")), HandshakeError::InvalidUpgrade(None));
        let e = err(&with(&["Upgrade"], "Upgrade: h2c\r\n"));
        assert_eq!(e, HandshakeError::InvalidUpgrade(Some("h2c".into())));
        assert_eq!(e.http_status(), 400);
        let r = ok(&with(&["Upgrade"], "upgrade: h2c, WebSocket\r\n"));
        assert_eq!(r.header("Upgrade"), Some("h2c, WebSocket"));
        ok(&with(&["Upgrade"], "Upgrade: h2c\r\nUpgrade: WEBSOCKET\r\n"));
    }

    #[test]
    fn connection_header() {
        assert_eq!(
            err(&with(&["Connection"], "")),
            HandshakeError::InvalidConnection(None)
        );
        let e = err(&with(
            &["Connection"],
            "Connection: keep-alive\r\nConnection: close\r\n",
        ));
        assert_eq!(
            e,
            HandshakeError::InvalidConnection(Some("keep-alive, close".into()))
        );
        ok(&with(&["Connection"], "connection: keep-alive, UPGRADE\r\n"));
        ok(&with(
            &["Connection"],
            "Connection: keep-alive\r\nConnection: upgrade\r\n",
        ));
    }

    #[test]
    fn key() {
        assert_eq!(err(&with(&["Sec-WebSocket-Key"], "")), HandshakeError::MissingKey);
        for bad in [
            "",
            "abc",
            "dGhlIHNhbXBsZSBub25j",
            "dGhlIHNhbXBsZSBub25jZQ",
            "dGhlIHNhbXBsZSBub25jZSE=",
            "!!!!",
        ] {
            let e = err(&with(
                &["Sec-WebSocket-Key"],
                &format!("Sec-WebSocket-Key: {bad}\r\n"),
            ));
            assert_eq!(e, HandshakeError::InvalidKey(bad.into()), "{bad}");
            assert_eq!(e.http_status(), 400);
        }
        let e = err(&with(&[], "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"));
        assert_eq!(e, HandshakeError::DuplicateHeader("Sec-WebSocket-Key".into()));
        assert_eq!(ok(&with(&[], "")).key, "dGhlIHNhbXBsZSBub25jZQ==");
    }

    #[test]
    fn version_426() {
        let e = err(&with(&["Sec-WebSocket-Version"], ""));
        assert_eq!(e, HandshakeError::UnsupportedVersion(None));
        assert_eq!(e.http_status(), 426);
        let e = err(&with(&["Sec-WebSocket-Version"], "Sec-WebSocket-Version: 8\r\n"));
        assert_eq!(e, HandshakeError::UnsupportedVersion(Some("8".into())));
        assert_eq!(e.http_status(), 426);
        // Checked before the key, so old-draft clients learn the version.
        let e = err(&with(
            &["Sec-WebSocket-Version", "Sec-WebSocket-Key"],
            "Sec-WebSocket-Version: 8\r\n",
        ));
        assert_eq!(e.http_status(), 426);
        let e = err(&with(&[], "Sec-WebSocket-Version: 13\r\n"));
        assert_eq!(e, HandshakeError::DuplicateHeader("Sec-WebSocket-Version".into()));
    }

    #[test]
    fn body_is_400() {
        assert_eq!(
            err(&with(&[], "Content-Length: 5\r\n")),
            HandshakeError::RequestHasBody
        );
        assert_eq!(
            err(&with(&[], "Transfer-Encoding: chunked\r\n")),
            HandshakeError::RequestHasBody
        );
        assert_eq!(HandshakeError::RequestHasBody.http_status(), 400);
        assert!(matches!(
            err(&with(&[], "Content-Length: x\r\n")),
            HandshakeError::MalformedRequest(_)
        ));
        ok(&with(&[], "Content-Length: 0\r\n"));
        ok(&with(&[], "Content-Length: 00\r\n"));
    }

    #[test]
    fn subprotocols_and_extensions_merge() {
        let r = ok(&with(
            &["Sec-WebSocket-Protocol"],
            "Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Protocol: ,c\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo\r\n\
             Sec-WebSocket-Extensions: x-bar; q=\"1,2\"\r\n",
        ));
        assert_eq!(r.subprotocols, vec!["a", "b", "c"]);
        assert_eq!(
            r.extensions,
            vec![
                "permessage-deflate; client_max_window_bits",
                "x-foo",
                "x-bar; q=\"1,2\""
            ]
        );
        let e = err(&with(
            &["Sec-WebSocket-Protocol"],
            "Sec-WebSocket-Protocol: a b\r\n",
        ));
        assert_eq!(e, HandshakeError::InvalidSubprotocol("a b".into()));
        let r = ok(&with(&["Sec-WebSocket-Protocol", "Origin"], ""));
        assert!(r.subprotocols.is_empty());
        assert_eq!(r.origin, None);
    }

    #[test]
    fn limits_431() {
        let limits = RequestLimits {
            max_header_bytes: 64,
            max_headers: 64,
        };
        // Incomplete but larger than the limit: error before the block completes.
        let e = parse_request(&GOOD.as_bytes()[..65], &limits).unwrap_err();
        assert_eq!(e, HandshakeError::HeadersTooLarge);
        assert_eq!(e.http_status(), 431);
        assert_eq!(parse_request(&GOOD.as_bytes()[..64], &limits), Ok(None));
        // Exactly at the limit is fine, and trailing bytes beyond the limit are not counted.
        let limits = RequestLimits {
            max_header_bytes: GOOD.len(),
            max_headers: 64,
        };
        let big = format!("{GOOD}{}", "x".repeat(1000));
        assert_eq!(
            parse_request(big.as_bytes(), &limits).unwrap().unwrap().1,
            GOOD.len()
        );

        let limits = RequestLimits {
            max_header_bytes: 16 * 1024,
            max_headers: 7,
        };
        assert!(parse_request(GOOD.as_bytes(), &limits).unwrap().is_some());
        let limits = RequestLimits {
            max_header_bytes: 16 * 1024,
            max_headers: 6,
        };
        let e = parse_request(GOOD.as_bytes(), &limits).unwrap_err();
        assert_eq!(e, HandshakeError::TooManyHeaders);
        assert_eq!(e.http_status(), 431);
        // Many headers beyond the initial slot count work when allowed.
        let extra: String = (0..100).map(|i| format!("X-H{i}: {i}\r\n")).collect();
        let s = with(&[], &extra);
        let limits = RequestLimits {
            max_header_bytes: 16 * 1024,
            max_headers: 200,
        };
        assert_eq!(
            parse_request(s.as_bytes(), &limits)
                .unwrap()
                .unwrap()
                .0
                .headers
                .len(),
            107
        );
        assert_eq!(parse(&s), Err(HandshakeError::TooManyHeaders));
        let limits = RequestLimits {
            max_header_bytes: usize::MAX,
            max_headers: usize::MAX,
        };
        assert!(parse_request(s.as_bytes(), &limits).unwrap().is_some());
    }

    #[test]
    fn accept() {
        let r = ok(GOOD);
        let mut out = Vec::new();
        r.write_accept(&AcceptOptions::default(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        );
        let hs = vec![("Set-Cookie".to_string(), "a=b".to_string())];
        let mut out = Vec::new();
        let opts = AcceptOptions {
            subprotocol: Some("superchat"),
            headers: &hs,
            ..Default::default()
        };
        r.write_accept(&opts, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.contains("\r\nSec-WebSocket-Protocol: superchat\r\nSet-Cookie: a=b\r\n\r\n"),
            "{s}"
        );
    }

    #[test]
    fn accept_rejects_bad_choices() {
        let r = ok(GOOD);
        let mut out = Vec::new();
        let opts = AcceptOptions {
            subprotocol: Some("Chat"),
            ..Default::default()
        };
        assert_eq!(
            r.write_accept(&opts, &mut out),
            Err(HandshakeError::UnexpectedSubprotocol("Chat".into()))
        );
        let exts = vec!["permessage-deflate".to_string()];
        let opts = AcceptOptions {
            extensions: &exts,
            ..Default::default()
        };
        assert_eq!(
            r.write_accept(&opts, &mut out),
            Err(HandshakeError::UnexpectedExtension("permessage-deflate".into()))
        );
        for (n, v) in [
            ("X-A", "b\r\nX-Evil: 1"),
            ("X A", "b"),
            ("Sec-WebSocket-Accept", "x"),
            ("connection", "close"),
        ] {
            let hs = vec![(n.to_string(), v.to_string())];
            let opts = AcceptOptions {
                headers: &hs,
                ..Default::default()
            };
            assert!(
                matches!(
                    r.write_accept(&opts, &mut out),
                    Err(HandshakeError::InvalidHeader(_))
                ),
                "{n}"
            );
        }
        assert!(out.is_empty());
    }

    #[test]
    fn accept_offered_extension() {
        let r = ok(&with(
            &[],
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        ));
        let exts = vec!["permessage-deflate; server_no_context_takeover".to_string()];
        let mut out = Vec::new();
        r.write_accept(
            &AcceptOptions {
                extensions: &exts,
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.contains("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")
        );
    }

    #[test]
    fn reject() {
        let mut out = Vec::new();
        let hs = vec![("Content-Type".to_string(), "text/plain".to_string())];
        write_reject(403, &hs, b"no", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
        );
        let mut out = Vec::new();
        write_reject(599, &[], b"", &mut out).unwrap();
        assert!(out.starts_with(b"HTTP/1.1 599 \r\n"));
        let mut out = Vec::new();
        write_reject(204, &[], b"", &mut out).unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("Content-Length"));
        let mut out = Vec::new();
        for s in [0, 100, 101, 199, 600, 999] {
            assert_eq!(
                write_reject(s, &[], b"", &mut out),
                Err(HandshakeError::InvalidStatus(s))
            );
        }
        assert_eq!(
            write_reject(204, &[], b"x", &mut out),
            Err(HandshakeError::InvalidStatus(204))
        );
        let hs = vec![("Content-Length".to_string(), "9".to_string())];
        assert!(matches!(
            write_reject(400, &hs, b"", &mut out),
            Err(HandshakeError::InvalidHeader(_))
        ));
        let hs = vec![("X".to_string(), "a\nb".to_string())];
        assert!(matches!(
            write_reject(400, &hs, b"", &mut out),
            Err(HandshakeError::InvalidHeader(_))
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn error_response_for_parse_failure() {
        let e = err(&with(&["Sec-WebSocket-Version"], "Sec-WebSocket-Version: 7\r\n"));
        let mut out = Vec::new();
        e.write_error_response(&mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(s.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
                        max_header_bytes in 0usize..600, max_headers in 0usize..10) {
            let _ = parse_request(&input, &RequestLimits::default());
            let _ = parse_request(&input, &RequestLimits { max_header_bytes, max_headers });
        }

        #[test]
        fn never_panics_near_valid(cut in 0usize..400, byte in proptest::num::u8::ANY, at in 0usize..400) {
            let mut b = GOOD.as_bytes().to_vec();
            if let Some(x) = b.get_mut(at) { *x = byte; }
            b.truncate(cut);
            let _ = parse_request(&b, &RequestLimits::default());
        }
    }
}
