//! Errors of the opening handshake, and the HTTP error responses a server sends for them.

use std::fmt;

/// Why a WebSocket URL was rejected by [`crate::proto::handshake::url::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// The URL does not start with `scheme://`.
    MissingScheme,
    /// The scheme is not `ws` or `wss` (the scheme found is carried, lowercased).
    UnsupportedScheme(String),
    /// The URL contains whitespace or an ASCII control character (at this byte offset).
    InvalidCharacter(usize),
    /// The URL has a `#fragment`; RFC 6455 section 3 forbids fragments in WebSocket URIs.
    Fragment,
    /// The URL has `user:password@` credentials. They are not sent anywhere by the handshake; pass
    /// an `Authorization` header through `ClientOptions::headers` instead.
    Userinfo,
    /// The host is empty.
    EmptyHost,
    /// The host is not a valid registered name, IPv4 address or bracketed IPv6 address.
    InvalidHost(String),
    /// The port is not a number in 1..=65535.
    InvalidPort(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::MissingScheme => f.write_str("URL must start with ws:// or wss://"),
            UrlError::UnsupportedScheme(s) => {
                write!(f, "unsupported URL scheme '{s}' (expected ws or wss)")
            }
            UrlError::InvalidCharacter(at) => {
                write!(f, "URL contains whitespace or a control character at byte {at}")
            }
            UrlError::Fragment => f.write_str("WebSocket URLs must not contain a fragment ('#')"),
            UrlError::Userinfo => f.write_str(
                "URL must not contain user credentials ('user@host'); send an Authorization header instead",
            ),
            UrlError::EmptyHost => f.write_str("URL has an empty host"),
            UrlError::InvalidHost(h) => write!(f, "invalid host '{h}' in URL"),
            UrlError::InvalidPort(p) => write!(f, "invalid port '{p}' in URL (expected 1-65535)"),
        }
    }
}

impl std::error::Error for UrlError {}

/// Every way the opening handshake can fail, on either side.
///
/// Server-side variants (produced by `server::parse_request`) map to an HTTP status with
/// [`HandshakeError::http_status`]; [`HandshakeError::write_error_response`] turns them into a
/// complete response to send before closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    // ---- server side: parsing the client's request ----
    /// The request is not valid HTTP/1.1 (bad request line, bad header syntax, bad request
    /// target, non-numeric Content-Length, ...). Status 400.
    MalformedRequest(String),
    /// The method is not GET (the method is carried). Status 405, with `Allow: GET`.
    MethodNotAllowed(String),
    /// The request is HTTP/1.0; RFC 6455 requires HTTP/1.1 or later. Status 505.
    UnsupportedHttpVersion,
    /// The request has no (or an empty) `Host` header. Status 400.
    MissingHost,
    /// A header that must appear at most once appeared several times (its name is carried).
    /// Status 400.
    DuplicateHeader(String),
    /// The `Sec-WebSocket-Key` header is missing. Status 400.
    MissingKey,
    /// The `Sec-WebSocket-Key` header is not base64 of exactly 16 bytes (the value is carried).
    /// Status 400.
    InvalidKey(String),
    /// `Sec-WebSocket-Version` is missing (`None`) or not 13 (`Some(value)`). Status 426, and the
    /// response carries `Sec-WebSocket-Version: 13`.
    UnsupportedVersion(Option<String>),
    /// The request has a body (`Content-Length` > 0 or any `Transfer-Encoding`). Status 400.
    RequestHasBody,
    /// The header block is larger than the configured limit. Status 431.
    HeadersTooLarge,
    /// The request has more headers than the configured limit. Status 431.
    TooManyHeaders,

    // ---- both sides ----
    /// `Upgrade` is missing (`None`) or does not contain the token `websocket` (`Some(value)`).
    /// Status 400.
    InvalidUpgrade(Option<String>),
    /// `Connection` is missing (`None`) or does not contain the token `upgrade` (`Some(value)`).
    /// Status 400.
    InvalidConnection(Option<String>),
    /// A subprotocol is not an RFC 7230 token (in `ClientOptions`, or offered by a client).
    /// Status 400.
    InvalidSubprotocol(String),
    /// A header name or value given by the application is invalid (CR/LF or other control
    /// characters, a name that is not a token, or a header the handshake sets itself). Status 400
    /// if it ever reaches `write_error_response`, but it is a local error.
    InvalidHeader(String),

    // ---- client side: validating the server's response ----
    /// The server answered with a status other than 101.
    Rejected {
        /// HTTP status code.
        status: u16,
        /// Reason phrase (may be empty).
        reason: String,
        /// All response headers, in order.
        headers: Vec<(String, String)>,
        /// The response body, as far as it was received: up to `Content-Length` bytes (truncated
        /// to `ClientOptions::max_rejection_body_bytes`), or without `Content-Length` whatever had
        /// arrived after the header block.
        body: Vec<u8>,
    },
    /// The 101 response has no `Sec-WebSocket-Accept` header.
    MissingAccept,
    /// The 101 response's `Sec-WebSocket-Accept` does not match the key we sent.
    InvalidAccept {
        /// The value RFC 6455 requires for our key.
        expected: String,
        /// The value the server sent.
        found: String,
    },
    /// The server selected a subprotocol the client did not offer (or the client offered none).
    /// Also returned by `Request::write_accept` when the application picks one the client did not
    /// offer.
    UnexpectedSubprotocol(String),
    /// The server accepted an extension the client did not offer (its name is carried). Also
    /// returned by `Request::write_accept` for an extension the client did not offer.
    UnexpectedExtension(String),
    /// The server's answer to an extension offer breaks that extension's rules (e.g. a
    /// permessage-deflate parameter that is malformed, repeated, unknown or not allowed by the
    /// offer); the problem is carried.
    InvalidExtension(String),
    /// The server's response is not valid HTTP/1.1.
    MalformedResponse(String),
    /// The server's header block is larger than `ClientOptions::max_response_header_bytes`.
    ResponseHeadersTooLarge,
    /// The operating system's random number generator failed while making the key.
    Random(String),
    /// The status passed to `server::write_reject` is not allowed (1xx, out of 200..=599, or a
    /// body with 204/304).
    InvalidStatus(u16),

    // ---- URLs ----
    /// The WebSocket URL is invalid.
    Url(UrlError),
}

impl From<UrlError> for HandshakeError {
    fn from(e: UrlError) -> Self {
        HandshakeError::Url(e)
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HandshakeError as E;
        match self {
            E::MalformedRequest(why) => write!(f, "malformed HTTP request: {why}"),
            E::MethodNotAllowed(m) => write!(f, "method '{m}' not allowed; WebSocket handshakes use GET"),
            E::UnsupportedHttpVersion => f.write_str("WebSocket handshakes require HTTP/1.1 or later"),
            E::MissingHost => f.write_str("missing Host header"),
            E::DuplicateHeader(h) => write!(f, "header '{h}' must appear only once"),
            E::MissingKey => f.write_str("missing Sec-WebSocket-Key header"),
            E::InvalidKey(k) => write!(f, "Sec-WebSocket-Key '{k}' is not base64 of 16 bytes"),
            E::UnsupportedVersion(None) => f.write_str("missing Sec-WebSocket-Version header (expected 13)"),
            E::UnsupportedVersion(Some(v)) => {
                write!(f, "unsupported Sec-WebSocket-Version '{v}' (expected 13)")
            }
            E::RequestHasBody => f.write_str("WebSocket handshake requests must not have a body"),
            E::HeadersTooLarge => f.write_str("request header block too large"),
            E::TooManyHeaders => f.write_str("too many request headers"),
            E::InvalidUpgrade(None) => f.write_str("missing Upgrade header (expected 'websocket')"),
            E::InvalidUpgrade(Some(v)) => write!(f, "Upgrade header '{v}' does not contain 'websocket'"),
            E::InvalidConnection(None) => f.write_str("missing Connection header (expected 'Upgrade')"),
            E::InvalidConnection(Some(v)) => {
                write!(f, "Connection header '{v}' does not contain 'Upgrade'")
            }
            E::InvalidSubprotocol(p) => write!(f, "subprotocol '{p}' is not a valid token"),
            E::InvalidHeader(why) => write!(f, "invalid header: {why}"),
            E::Rejected { status, reason, .. } => {
                write!(f, "server rejected the WebSocket handshake: {status} {reason}")
            }
            E::MissingAccept => f.write_str("server response has no Sec-WebSocket-Accept header"),
            E::InvalidAccept { expected, found } => {
                write!(f, "wrong Sec-WebSocket-Accept '{found}' (expected '{expected}')")
            }
            E::UnexpectedSubprotocol(p) => write!(f, "subprotocol '{p}' was not offered"),
            E::UnexpectedExtension(x) => write!(f, "extension '{x}' was not offered"),
            E::InvalidExtension(x) => write!(f, "invalid extension response: {x}"),
            E::MalformedResponse(why) => write!(f, "malformed HTTP response: {why}"),
            E::ResponseHeadersTooLarge => f.write_str("response header block too large"),
            E::Random(why) => write!(f, "random number generator failed: {why}"),
            E::InvalidStatus(s) => write!(f, "status {s} cannot be used for a rejection response"),
            E::Url(e) => write!(f, "invalid WebSocket URL: {e}"),
        }
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandshakeError::Url(e) => Some(e),
            _ => None,
        }
    }
}

impl HandshakeError {
    /// The HTTP status a server should answer with for this error.
    ///
    /// 400 for malformed requests, missing or invalid headers and bad keys; 405 for a method other
    /// than GET; 505 for HTTP/1.0; 426 for a missing or unsupported `Sec-WebSocket-Version`; 431
    /// for a header block that is too large or has too many headers. Client-side and URL errors
    /// are never produced by the server parser; they map to 400.
    pub fn http_status(&self) -> u16 {
        use HandshakeError as E;
        match self {
            E::MethodNotAllowed(_) => 405,
            E::UnsupportedHttpVersion => 505,
            E::UnsupportedVersion(_) => 426,
            E::HeadersTooLarge | E::TooManyHeaders => 431,
            _ => 400,
        }
    }

    /// Append a complete HTTP/1.1 error response for this error to `out`: status line,
    /// `Content-Type: text/plain; charset=utf-8`, `Content-Length`, `Connection: close`,
    /// `Allow: GET` for 405, `Upgrade: websocket` and `Sec-WebSocket-Version: 13` for 426
    /// (RFC 7231 6.5.15, RFC 6455 4.4), and a one-line body naming the problem. The caller should
    /// send it and then close the connection.
    pub fn write_error_response(&self, out: &mut Vec<u8>) {
        let status = self.http_status();
        let body = format!("{self}\n");
        out.extend_from_slice(
            format!(
                "HTTP/1.1 {status} {}\r\n",
                reason_phrase(status).unwrap_or("Error")
            )
            .as_bytes(),
        );
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        out.extend_from_slice(b"Connection: close\r\n");
        match status {
            405 => out.extend_from_slice(b"Allow: GET\r\n"),
            426 => out.extend_from_slice(b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"),
            _ => {}
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body.as_bytes());
    }
}

/// The standard reason phrase for common HTTP status codes.
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(e: &HandshakeError) -> String {
        let mut out = Vec::new();
        e.write_error_response(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn statuses() {
        use HandshakeError as E;
        assert_eq!(E::MalformedRequest("x".into()).http_status(), 400);
        assert_eq!(E::MethodNotAllowed("POST".into()).http_status(), 405);
        assert_eq!(E::UnsupportedHttpVersion.http_status(), 505);
        assert_eq!(E::MissingHost.http_status(), 400);
        assert_eq!(E::DuplicateHeader("Sec-WebSocket-Key".into()).http_status(), 400);
        assert_eq!(E::MissingKey.http_status(), 400);
        assert_eq!(E::InvalidKey("x".into()).http_status(), 400);
        assert_eq!(E::UnsupportedVersion(None).http_status(), 426);
        assert_eq!(E::UnsupportedVersion(Some("8".into())).http_status(), 426);
        assert_eq!(E::RequestHasBody.http_status(), 400);
        assert_eq!(E::HeadersTooLarge.http_status(), 431);
        assert_eq!(E::TooManyHeaders.http_status(), 431);
        assert_eq!(E::InvalidUpgrade(None).http_status(), 400);
        assert_eq!(E::InvalidConnection(None).http_status(), 400);
    }

    #[test]
    fn error_response_shape() {
        let r = response(&HandshakeError::MissingKey);
        assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{r}");
        assert!(r.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
        assert!(r.contains("\r\nConnection: close\r\n"));
        let body = "missing Sec-WebSocket-Key header\n";
        assert!(r.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(r.ends_with(&format!("\r\n\r\n{body}")));
        assert!(!r.contains("Sec-WebSocket-Version"));
        assert!(!r.contains("Allow:"));
    }

    #[test]
    fn error_response_426_and_405_extras() {
        let r = response(&HandshakeError::UnsupportedVersion(Some("8".into())));
        assert!(r.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(r.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(r.contains("\r\nUpgrade: websocket\r\n"));
        let r = response(&HandshakeError::MethodNotAllowed("POST".into()));
        assert!(r.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(r.contains("\r\nAllow: GET\r\n"));
        let r = response(&HandshakeError::TooManyHeaders);
        assert!(r.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        let r = response(&HandshakeError::UnsupportedHttpVersion);
        assert!(r.starts_with("HTTP/1.1 505 HTTP Version Not Supported\r\n"));
    }

    #[test]
    fn display_is_clear() {
        let e = HandshakeError::from(UrlError::Fragment);
        assert!(e.to_string().contains("fragment"));
        assert!(std::error::Error::source(&e).is_some());
        let e = HandshakeError::Rejected {
            status: 403,
            reason: "Forbidden".into(),
            headers: vec![],
            body: vec![],
        };
        assert_eq!(
            e.to_string(),
            "server rejected the WebSocket handshake: 403 Forbidden"
        );
    }
}
