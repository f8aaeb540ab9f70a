//! Reading an HTTP/1.1 request head (with httparse) and deciding how its body is framed.

use super::HttpError;
use crate::proto::handshake::{
    RequestLimits, all_headers, find_header, header_has_token, header_slot_bound, owned_headers,
};

/// Limits of HTTP requests on a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Size of the request line plus headers and number of headers (the same limits as upgrade
    /// requests: 16 KiB, 64 headers; 431 beyond).
    pub head: RequestLimits,
    /// Largest request body (Content-Length or chunked) handed to the handler; 413 beyond.
    /// Default 1 MiB.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            head: RequestLimits::default(),
            max_body_bytes: 1 << 20,
        }
    }
}

/// A complete HTTP request (head and body).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    /// The method, as sent (`GET`, `HEAD`, `POST`, ...).
    pub method: String,
    /// The path of the target as sent (not percent-decoded), starting with `/` (or `*`).
    pub path: String,
    /// The query without `?`.
    pub query: Option<String>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// All headers, in order, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (empty without one).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// A copy without the body (what serving a file needs: method, path, headers).
    pub fn clone_head(&self) -> HttpRequest {
        HttpRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            minor_version: self.minor_version,
            headers: self.headers.clone(),
            body: Vec::new(),
        }
    }

    /// True for `HEAD`: the response has no body.
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// Whether the connection may stay open after the response (RFC 9112 9.3).
    pub fn keep_alive(&self) -> bool {
        let connection = |token| all_headers(&self.headers, "Connection").any(|v| header_has_token(v, token));
        if self.minor_version == 0 {
            connection("keep-alive")
        } else {
            !connection("close")
        }
    }
}

/// How the body of a request is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    Length(u64),
    Chunked,
}

/// A parsed head: the request without its body, the body framing, whether the client waits for
/// `100 Continue`, and whether it asks to upgrade to WebSocket.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) request: HttpRequest,
    pub(crate) framing: BodyFraming,
    pub(crate) expects_continue: bool,
    pub(crate) upgrade: bool,
}

/// Parses the head at the start of `input`: `Ok(None)` while incomplete (nothing consumed),
/// `Ok(Some((head, used)))` once complete.
pub(crate) fn parse_head(input: &[u8], limits: &RequestLimits) -> Result<Option<(Head, usize)>, HttpError> {
    // Tolerate empty lines before a request (RFC 9112 2.2), e.g. a stray CRLF after a body.
    let skip = input.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
    let input = &input[skip..];
    let window = input.get(..limits.max_header_bytes).unwrap_or(input);
    let max_slots = limits.max_headers.min(header_slot_bound(window.len()));
    let mut slots = 16.min(max_slots);
    loop {
        let mut hs = vec![httparse::EMPTY_HEADER; slots];
        let mut req = httparse::Request::new(&mut hs);
        match req.parse(window) {
            Ok(httparse::Status::Complete(n)) => {
                let target = req.path.unwrap_or("");
                let (path, query) = split_target(target)?;
                let request = HttpRequest {
                    method: req.method.unwrap_or("").to_string(),
                    path,
                    query,
                    minor_version: req.version.unwrap_or(1),
                    headers: owned_headers(req.headers),
                    body: Vec::new(),
                };
                return Ok(Some((head_of(request)?, skip + n)));
            }
            Ok(httparse::Status::Partial) => {
                if input.len() > window.len() {
                    return Err(HttpError::HeadersTooLarge);
                }
                return Ok(None);
            }
            Err(httparse::Error::TooManyHeaders) => {
                if slots >= max_slots {
                    return Err(HttpError::HeadersTooLarge);
                }
                slots = slots.saturating_mul(4).min(max_slots);
            }
            Err(e) => return Err(HttpError::Malformed(e.to_string())),
        }
    }
}

fn head_of(request: HttpRequest) -> Result<Head, HttpError> {
    let mut length = None;
    for value in all_headers(&request.headers, "Content-Length") {
        let n = parse_length(value)?;
        if length.is_some_and(|l| l != n) {
            return Err(HttpError::AmbiguousLength);
        }
        length = Some(n);
    }
    let encodings: Vec<&str> = all_headers(&request.headers, "Transfer-Encoding").collect();
    let framing = if encodings.is_empty() {
        BodyFraming::Length(length.unwrap_or(0))
    } else {
        if length.is_some() || request.minor_version == 0 {
            return Err(HttpError::AmbiguousLength);
        }
        let joined = encodings.join(", ");
        if !joined.trim().eq_ignore_ascii_case("chunked") {
            return Err(HttpError::UnsupportedEncoding(joined));
        }
        BodyFraming::Chunked
    };
    let expects_continue = match request.header("Expect") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("100-continue") => request.minor_version >= 1,
        Some(v) => return Err(HttpError::UnsupportedExpectation(v.to_string())),
    };
    let upgrade = all_headers(&request.headers, "Upgrade").any(|v| header_has_token(v, "websocket"));
    if request.minor_version >= 1 && find_header(&request.headers, "Host").is_none() && !upgrade {
        return Err(HttpError::Malformed("missing Host header".into()));
    }
    Ok(Head {
        request,
        framing,
        expects_continue,
        upgrade,
    })
}

fn parse_length(value: &str) -> Result<u64, HttpError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HttpError::Malformed(format!("invalid Content-Length '{value}'")));
    }
    value
        .parse()
        .map_err(|_| HttpError::Malformed(format!("Content-Length '{value}' too large")))
}

/// Splits an origin-form (`/a?b`), absolute-form (`http://h/a?b`) or asterisk-form target.
fn split_target(target: &str) -> Result<(String, Option<String>), HttpError> {
    let rest = if target.starts_with('/') || target == "*" {
        target
    } else if let Some(after) = target.split_once("://").map(|(_, a)| a) {
        after.find('/').map_or("/", |i| &after[i..])
    } else {
        return Err(HttpError::Malformed(format!("bad request target '{target}'")));
    };
    let rest = rest.split('#').next().unwrap_or(rest);
    Ok(match rest.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (rest.to_string(), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Option<(Head, usize)>, HttpError> {
        parse_head(input.as_bytes(), &RequestLimits::default())
    }

    #[test]
    fn reads_method_target_headers_and_framing() {
        let (head, used) = parse("\r\nPOST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap()
            .unwrap();
        assert_eq!(used, 56);
        assert_eq!(head.request.method, "POST");
        assert_eq!(head.request.path, "/a/b");
        assert_eq!(head.request.query.as_deref(), Some("x=1"));
        assert_eq!(head.framing, BodyFraming::Length(5));
        assert!(head.request.keep_alive());
        assert!(!head.upgrade);
    }

    #[test]
    fn incomplete_heads_wait_and_large_ones_fail() {
        assert!(parse("GET / HTTP/1.1\r\nHost: h\r\n").unwrap().is_none());
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(20_000));
        assert_eq!(parse(&big).unwrap_err(), HttpError::HeadersTooLarge);
        let many: String = (0..100).map(|i| format!("X{i}: v\r\n")).collect();
        assert_eq!(
            parse(&format!("GET / HTTP/1.1\r\nHost: h\r\n{many}\r\n")).unwrap_err(),
            HttpError::HeadersTooLarge
        );
    }

    #[test]
    fn smuggling_shapes_are_refused() {
        let both = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse(both).unwrap_err(), HttpError::AmbiguousLength);
        let two = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(parse(two).unwrap_err(), HttpError::AmbiguousLength);
        let gzip = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert_eq!(parse(gzip).unwrap_err().status(), 501);
        let sign = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n";
        assert_eq!(parse(sign).unwrap_err().status(), 400);
        assert_eq!(
            parse("GET / HTTP/1.1\r\n\r\n").unwrap_err().status(),
            400,
            "no Host"
        );
        assert_eq!(
            parse("GET / HTTP/1.1\r\nHost: h\r\nExpect: x\r\n\r\n")
                .unwrap_err()
                .status(),
            417
        );
    }

    #[test]
    fn keep_alive_follows_version_and_connection() {
        let ka = |s: &str| parse(s).unwrap().unwrap().0.request.keep_alive();
        assert!(ka("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert!(!ka("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
        assert!(!ka("GET / HTTP/1.0\r\n\r\n"));
        assert!(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn sees_upgrades_and_expect_continue() {
        let (head, _) =
            parse("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(head.upgrade);
        let (head, _) =
            parse("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(head.expects_continue);
    }

    #[test]
    fn absolute_targets_keep_path_and_query() {
        let (head, _) = parse("GET http://example.com/p?q HTTP/1.1\r\nHost: h\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            (head.request.path.as_str(), head.request.query.as_deref()),
            ("/p", Some("q"))
        );
        assert!(parse("GET p HTTP/1.1\r\nHost: h\r\n\r\n").is_err());
    }
}
