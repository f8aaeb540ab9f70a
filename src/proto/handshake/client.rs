//! Client side: build the opening handshake request and validate the server's response.
//!
//! Decisions:
//! - Extra headers may not repeat headers the handshake writes itself (`Host`, `Upgrade`,
//!   `Connection`, `Origin`, `Sec-WebSocket-*`, `Content-Length`, `Transfer-Encoding`); use the
//!   dedicated options instead.
//! - The selected subprotocol must match an offered one exactly (case-sensitive); extension
//!   names are compared case-insensitively.
//! - A non-101 response is returned as [`HandshakeError::Rejected`]. Its body is read per
//!   `Content-Length` (up to `max_rejection_body_bytes`, truncating beyond); without
//!   `Content-Length` (including chunked responses, which are not decoded) it is whatever arrived
//!   after the header block. 1xx, 204 and 304 responses have no body.
//! - The status line's HTTP version is not checked.

use super::server::{check_token_header, push_header};
use super::url::WsUrl;
use super::{
    HandshakeError, INITIAL_HEADER_SLOTS, accept_key, all_headers, check_header, extension_name, find_header,
    header_slot_bound, is_token, owned_headers, single_header, split_list,
};
use crate::proto::deflate::{DeflateConfig, DeflateParams};
use base64::Engine as _;

/// Options for the client's opening handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Subprotocols to offer in `Sec-WebSocket-Protocol`, in order of preference. Each must be an
    /// RFC 7230 token.
    pub subprotocols: Vec<String>,
    /// `Origin` header to send, if any.
    pub origin: Option<String>,
    /// Extra request headers (e.g. `Authorization`, `Cookie`).
    pub headers: Vec<(String, String)>,
    /// Raw `Sec-WebSocket-Extensions` offers, e.g. `permessage-deflate; client_max_window_bits`.
    pub extensions: Vec<String>,
    /// permessage-deflate policy: when enabled, its offer is added to the extensions (unless
    /// `extensions` already offer `permessage-deflate`) and the response is validated against it
    /// ([`Response::deflate`]). Default [`DeflateConfig::DISABLED`].
    pub deflate: DeflateConfig,
    /// Maximum size of the response header block. Default 16 KiB.
    pub max_response_header_bytes: usize,
    /// Maximum rejection body kept in [`HandshakeError::Rejected`]. Default 64 KiB.
    pub max_rejection_body_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            subprotocols: Vec::new(),
            origin: None,
            headers: Vec::new(),
            extensions: Vec::new(),
            deflate: DeflateConfig::DISABLED,
            max_response_header_bytes: 16 * 1024,
            max_rejection_body_bytes: 64 * 1024,
        }
    }
}

/// Headers the client request writes itself.
const RESERVED: &[&str] = &[
    "Host",
    "Upgrade",
    "Connection",
    "Origin",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Accept",
    "Content-Length",
    "Transfer-Encoding",
];

/// A client's opening handshake: the request to send, and what the response must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHandshake {
    request: Vec<u8>,
    key: String,
    expected_accept: String,
    subprotocols: Vec<String>,
    extension_names: Vec<String>,
    /// The deflate policy, if this handshake offered permessage-deflate itself.
    deflate: DeflateConfig,
    max_response_header_bytes: usize,
    max_rejection_body_bytes: usize,
}

/// The server's successful (101) handshake response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status (always 101).
    pub status: u16,
    /// The subprotocol the server selected, if any (one of those offered).
    pub subprotocol: Option<String>,
    /// Accepted extensions, one raw element each (name and parameters), in order.
    pub extensions: Vec<String>,
    /// The permessage-deflate parameters the server agreed on, when [`ClientOptions::deflate`]
    /// offered it (validated against the offer).
    pub deflate: Option<DeflateParams>,
    /// All response headers, in order (values trimmed).
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl ClientHandshake {
    /// Prepare a handshake for `url` with a random key from the operating system.
    pub fn new(url: &WsUrl, options: &ClientOptions) -> Result<Self, HandshakeError> {
        let mut key = [0u8; 16];
        getrandom::fill(&mut key).map_err(|e| HandshakeError::Random(e.to_string()))?;
        Self::with_key(url, options, key)
    }

    /// Prepare a handshake with a caller-chosen key (for deterministic tests; real clients must
    /// use a fresh random key per connection, see [`ClientHandshake::new`]).
    pub fn with_key(url: &WsUrl, options: &ClientOptions, key: [u8; 16]) -> Result<Self, HandshakeError> {
        url.validate()?;
        for p in &options.subprotocols {
            if !is_token(p) {
                return Err(HandshakeError::InvalidSubprotocol(p.clone()));
            }
        }
        if let Some(o) = &options.origin {
            check_header("Origin", o, &[])?;
        }
        let mut extension_names = Vec::new();
        let mut extensions = options.extensions.clone();
        let mut deflate = DeflateConfig::DISABLED;
        if let Some(offer) = options.deflate.offer() {
            let named = extensions.iter().flat_map(|e| split_list(e)).any(|element| {
                extension_name(element).eq_ignore_ascii_case(crate::proto::deflate::EXTENSION_NAME)
            });
            if !named {
                extensions.push(offer);
                deflate = options.deflate;
            }
        }
        for e in &extensions {
            check_header("Sec-WebSocket-Extensions", e, &[])?;
            for element in split_list(e) {
                let name = extension_name(element);
                if !is_token(name) {
                    return Err(HandshakeError::InvalidHeader(format!(
                        "invalid extension offer '{e}'"
                    )));
                }
                extension_names.push(name.to_string());
            }
        }
        for (n, v) in &options.headers {
            check_header(n, v, RESERVED)?;
        }

        let key = base64::engine::general_purpose::STANDARD.encode(key);
        let mut req = Vec::with_capacity(256);
        req.extend_from_slice(b"GET ");
        req.extend_from_slice(url.resource().as_bytes());
        req.extend_from_slice(b" HTTP/1.1\r\n");
        push_header(&mut req, "Host", &url.host_header());
        req.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        push_header(&mut req, "Sec-WebSocket-Key", &key);
        req.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
        if let Some(o) = &options.origin {
            push_header(&mut req, "Origin", o);
        }
        if !options.subprotocols.is_empty() {
            push_header(
                &mut req,
                "Sec-WebSocket-Protocol",
                &options.subprotocols.join(", "),
            );
        }
        if !extension_names.is_empty() {
            let offers: Vec<&str> = extensions.iter().flat_map(|e| split_list(e)).collect();
            push_header(&mut req, "Sec-WebSocket-Extensions", &offers.join(", "));
        }
        for (n, v) in &options.headers {
            push_header(&mut req, n, v);
        }
        req.extend_from_slice(b"\r\n");

        Ok(ClientHandshake {
            request: req,
            expected_accept: accept_key(key.as_bytes()),
            key,
            subprotocols: options.subprotocols.clone(),
            extension_names,
            deflate,
            max_response_header_bytes: options.max_response_header_bytes,
            max_rejection_body_bytes: options.max_rejection_body_bytes,
        })
    }

    /// The permessage-deflate policy this handshake offered ([`DeflateConfig::DISABLED`] if it
    /// offered none itself).
    pub fn deflate_config(&self) -> &DeflateConfig {
        &self.deflate
    }

    /// The complete request to send.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// The `Sec-WebSocket-Key` sent (base64 of the 16 key bytes).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Parse and validate the server's response from the bytes received so far.
    ///
    /// `Ok(None)`: incomplete, nothing consumed; call again with more bytes. `Ok(Some((response,
    /// consumed)))`: the handshake succeeded; `consumed` is the length of the HTTP response, and
    /// any bytes after it are WebSocket frames. A non-101 status is
    /// [`HandshakeError::Rejected`] (which may also wait, returning `Ok(None)`, for a body
    /// announced by `Content-Length`).
    pub fn parse_response(&self, input: &[u8]) -> Result<Option<(Response, usize)>, HandshakeError> {
        let window = input.get(..self.max_response_header_bytes).unwrap_or(input);
        let max_slots = header_slot_bound(window.len());
        let mut slots = INITIAL_HEADER_SLOTS.min(max_slots);
        let (status, reason, headers, consumed) = loop {
            let mut hs = vec![httparse::EMPTY_HEADER; slots];
            let mut resp = httparse::Response::new(&mut hs);
            match resp.parse(window) {
                Ok(httparse::Status::Complete(n)) => {
                    break (
                        resp.code.unwrap_or(0),
                        resp.reason.unwrap_or("").to_string(),
                        owned_headers(resp.headers),
                        n,
                    );
                }
                Ok(httparse::Status::Partial) => {
                    if input.len() > window.len() {
                        return Err(HandshakeError::ResponseHeadersTooLarge);
                    }
                    return Ok(None);
                }
                Err(httparse::Error::TooManyHeaders) if slots < max_slots => {
                    slots = slots.saturating_mul(4).min(max_slots);
                }
                Err(e) => return Err(HandshakeError::MalformedResponse(e.to_string())),
            }
        };

        if status != 101 {
            return self.rejected(status, reason, headers, input.get(consumed..).unwrap_or(&[]));
        }
        check_token_header(&headers, "Upgrade", "websocket", HandshakeError::InvalidUpgrade)?;
        check_token_header(
            &headers,
            "Connection",
            "upgrade",
            HandshakeError::InvalidConnection,
        )?;

        match single_header(&headers, "Sec-WebSocket-Accept")? {
            None => return Err(HandshakeError::MissingAccept),
            Some(a) if a != self.expected_accept => {
                return Err(HandshakeError::InvalidAccept {
                    expected: self.expected_accept.clone(),
                    found: a.to_string(),
                });
            }
            Some(_) => {}
        }
        let subprotocol = match single_header(&headers, "Sec-WebSocket-Protocol")? {
            None => None,
            Some(p) if self.subprotocols.iter().any(|o| o == p) => Some(p.to_string()),
            Some(p) => return Err(HandshakeError::UnexpectedSubprotocol(p.to_string())),
        };
        let mut extensions = Vec::new();
        for element in all_headers(&headers, "Sec-WebSocket-Extensions").flat_map(split_list) {
            let name = extension_name(element);
            if !self.extension_names.iter().any(|o| o.eq_ignore_ascii_case(name)) {
                return Err(HandshakeError::UnexpectedExtension(name.to_string()));
            }
            extensions.push(element.to_string());
        }
        let deflate = if self.deflate.enabled {
            self.deflate
                .validate_response(extensions.iter().map(String::as_str))?
        } else {
            None
        };
        Ok(Some((
            Response {
                status,
                subprotocol,
                extensions,
                deflate,
                headers,
            },
            consumed,
        )))
    }

    /// Build the `Rejected` error, or `Ok(None)` while a `Content-Length` body is still arriving.
    fn rejected(
        &self,
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
        rest: &[u8],
    ) -> Result<Option<(Response, usize)>, HandshakeError> {
        let max = self.max_rejection_body_bytes;
        let bodyless = status < 200 || status == 204 || status == 304;
        let content_length = find_header(&headers, "Content-Length")
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .map(|v| v.parse::<usize>().unwrap_or(usize::MAX));
        let take = match content_length {
            _ if bodyless => 0,
            Some(len) => {
                let want = len.min(max);
                if rest.len() < want {
                    return Ok(None);
                }
                want
            }
            None => rest.len().min(max),
        };
        let body = rest.get(..take).unwrap_or(rest).to_vec();
        Err(HandshakeError::Rejected {
            status,
            reason,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::server::{AcceptOptions, RequestLimits, parse_request};
    use super::super::url;
    use super::*;

    const NONCE: [u8; 16] = *b"the sample nonce";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn hs(options: &ClientOptions) -> ClientHandshake {
        ClientHandshake::with_key(
            &url::parse("ws://server.example.com/chat").unwrap(),
            options,
            NONCE,
        )
        .unwrap()
    }

    fn offering(protocols: &[&str], extensions: &[&str]) -> ClientHandshake {
        hs(&ClientOptions {
            subprotocols: protocols.iter().map(|s| s.to_string()).collect(),
            extensions: extensions.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    }

    fn response(extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
        )
    }

    fn parse(h: &ClientHandshake, s: &str) -> Result<Option<(Response, usize)>, HandshakeError> {
        h.parse_response(s.as_bytes())
    }

    #[test]
    fn request_bytes() {
        let h = hs(&ClientOptions::default());
        assert_eq!(h.key(), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(
            std::str::from_utf8(h.request()).unwrap(),
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
    }

    #[test]
    fn request_with_options() {
        let u = url::parse("wss://[::1]:9001/x?y=1").unwrap();
        let o = ClientOptions {
            subprotocols: vec!["chat".into(), "superchat".into()],
            origin: Some("https://example.com".into()),
            headers: vec![
                ("Authorization".into(), "Bearer t".into()),
                ("Cookie".into(), "a=b".into()),
            ],
            extensions: vec!["permessage-deflate; client_max_window_bits".into()],
            ..Default::default()
        };
        let h = ClientHandshake::with_key(&u, &o, NONCE).unwrap();
        assert_eq!(
            std::str::from_utf8(h.request()).unwrap(),
            "GET /x?y=1 HTTP/1.1\r\nHost: [::1]:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Origin: https://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
             Authorization: Bearer t\r\nCookie: a=b\r\n\r\n"
        );
    }

    #[test]
    fn random_keys() {
        let u = url::parse("ws://h").unwrap();
        let a = ClientHandshake::new(&u, &ClientOptions::default()).unwrap();
        let b = ClientHandshake::new(&u, &ClientOptions::default()).unwrap();
        assert_ne!(a.key(), b.key());
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(a.key())
                .unwrap()
                .len(),
            16
        );
    }

    #[test]
    fn invalid_options() {
        let u = url::parse("ws://h").unwrap();
        let bad = |o: ClientOptions| ClientHandshake::with_key(&u, &o, NONCE).unwrap_err();
        let e = bad(ClientOptions {
            subprotocols: vec!["a b".into()],
            ..Default::default()
        });
        assert_eq!(e, HandshakeError::InvalidSubprotocol("a b".into()));
        let e = bad(ClientOptions {
            subprotocols: vec!["".into()],
            ..Default::default()
        });
        assert_eq!(e, HandshakeError::InvalidSubprotocol("".into()));
        let e = bad(ClientOptions {
            subprotocols: vec!["a,b".into()],
            ..Default::default()
        });
        assert_eq!(e, HandshakeError::InvalidSubprotocol("a,b".into()));
        for (n, v) in [
            ("X-A", "b\r\nX-Evil: 1"),
            ("X-A", "b\n"),
            ("X-A", "b\0"),
            ("X A", "b"),
            ("X-A:", "b"),
            ("", "b"),
            ("host", "evil"),
            ("Sec-WebSocket-Key", "x"),
            ("Origin", "x"),
        ] {
            let e = bad(ClientOptions {
                headers: vec![(n.into(), v.into())],
                ..Default::default()
            });
            assert!(matches!(e, HandshakeError::InvalidHeader(_)), "{n}: {e:?}");
        }
        let e = bad(ClientOptions {
            origin: Some("a\r\nb".into()),
            ..Default::default()
        });
        assert!(matches!(e, HandshakeError::InvalidHeader(_)));
        let e = bad(ClientOptions {
            extensions: vec!["x\r\n".into()],
            ..Default::default()
        });
        assert!(matches!(e, HandshakeError::InvalidHeader(_)));
        let e = bad(ClientOptions {
            extensions: vec!["; x".into()],
            ..Default::default()
        });
        assert!(matches!(e, HandshakeError::InvalidHeader(_)));
    }

    #[test]
    fn invalid_hand_built_url() {
        let mut u = url::parse("ws://h/").unwrap();
        u.host = "h\r\nX-Evil: 1".into();
        assert!(matches!(
            ClientHandshake::with_key(&u, &ClientOptions::default(), NONCE),
            Err(HandshakeError::Url(_))
        ));
        let mut u = url::parse("ws://h/").unwrap();
        u.path = "/a b".into();
        assert!(matches!(
            ClientHandshake::with_key(&u, &ClientOptions::default(), NONCE),
            Err(HandshakeError::Url(_))
        ));
    }

    #[test]
    fn rfc_response() {
        let h = hs(&ClientOptions::default());
        let s = response("");
        let (r, n) = parse(&h, &s).unwrap().unwrap();
        assert_eq!(n, s.len());
        assert_eq!(r.status, 101);
        assert_eq!(r.subprotocol, None);
        assert!(r.extensions.is_empty());
        assert_eq!(r.header("sec-websocket-accept"), Some(ACCEPT));
        assert_eq!(r.headers.len(), 3);
    }

    #[test]
    fn byte_at_a_time_and_trailing_frames() {
        let h = offering(&["chat"], &[]);
        let s = response("Sec-WebSocket-Protocol: chat\r\n");
        let mut b = s.clone().into_bytes();
        b.extend_from_slice(b"\x81\x02hi");
        for i in 0..s.len() {
            assert_eq!(h.parse_response(&b[..i]), Ok(None), "at {i}");
        }
        let (r, n) = h.parse_response(&b).unwrap().unwrap();
        assert_eq!(n, s.len());
        assert_eq!(&b[n..], b"\x81\x02hi");
        assert_eq!(r.subprotocol.as_deref(), Some("chat"));
        assert_eq!(h.parse_response(&b[..s.len()]).unwrap().unwrap(), (r, n));
    }

    #[test]
    fn case_insensitive_and_lists() {
        let h = hs(&ClientOptions::default());
        let s = format!(
            "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, UPGRADE\r\n\
             sec-websocket-accept: {ACCEPT}\r\n\r\n"
        );
        assert!(parse(&h, &s).unwrap().is_some());
        let s = format!(
            "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nConnection: upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        );
        assert!(parse(&h, &s).unwrap().is_some());
    }

    #[test]
    fn upgrade_and_connection() {
        let h = hs(&ClientOptions::default());
        let s = format!("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n");
        assert_eq!(parse(&h, &s), Err(HandshakeError::InvalidUpgrade(None)));
        let s = s.replace("Connection: Upgrade", "Connection: Upgrade\r\nUpgrade: h2c");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::InvalidUpgrade(Some("h2c".into())))
        );
        let s = format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n");
        assert_eq!(parse(&h, &s), Err(HandshakeError::InvalidConnection(None)));
        let s = s.replace("Upgrade: websocket", "Upgrade: websocket\r\nConnection: close");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::InvalidConnection(Some("close".into())))
        );
    }

    #[test]
    fn accept_header() {
        let h = hs(&ClientOptions::default());
        let s = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        assert_eq!(parse(&h, s), Err(HandshakeError::MissingAccept));
        let s = response("").replace(ACCEPT, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::InvalidAccept {
                expected: ACCEPT.into(),
                found: "HSmrc0sMlYUkAGmm5OPpG2HaGWk=".into()
            })
        );
        let s = response(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"));
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::DuplicateHeader("Sec-WebSocket-Accept".into()))
        );
        // Accept values are base64 and therefore case-sensitive.
        let s = response("").replace(ACCEPT, &ACCEPT.to_ascii_lowercase());
        assert!(matches!(parse(&h, &s), Err(HandshakeError::InvalidAccept { .. })));
    }

    #[test]
    fn subprotocols() {
        let none = hs(&ClientOptions::default());
        let s = response("Sec-WebSocket-Protocol: chat\r\n");
        assert_eq!(
            parse(&none, &s),
            Err(HandshakeError::UnexpectedSubprotocol("chat".into()))
        );
        let h = offering(&["chat", "superchat"], &[]);
        assert_eq!(
            parse(&h, &s).unwrap().unwrap().0.subprotocol.as_deref(),
            Some("chat")
        );
        assert_eq!(parse(&h, &response("")).unwrap().unwrap().0.subprotocol, None);
        let s = response("Sec-WebSocket-Protocol: other\r\n");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::UnexpectedSubprotocol("other".into()))
        );
        let s = response("Sec-WebSocket-Protocol: Chat\r\n");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::UnexpectedSubprotocol("Chat".into()))
        );
        let s = response("Sec-WebSocket-Protocol: chat, superchat\r\n");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::UnexpectedSubprotocol("chat, superchat".into()))
        );
        let s = response("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::DuplicateHeader("Sec-WebSocket-Protocol".into()))
        );
    }

    #[test]
    fn extensions() {
        let none = hs(&ClientOptions::default());
        let s = response("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n");
        assert_eq!(
            parse(&none, &s),
            Err(HandshakeError::UnexpectedExtension("permessage-deflate".into()))
        );
        let h = offering(&[], &["permessage-deflate; client_max_window_bits, x-foo"]);
        let (r, _) = parse(&h, &s).unwrap().unwrap();
        assert_eq!(
            r.extensions,
            vec!["permessage-deflate; server_no_context_takeover"]
        );
        let s =
            response("Sec-WebSocket-Extensions: Permessage-Deflate\r\nSec-WebSocket-Extensions: x-foo\r\n");
        assert_eq!(
            parse(&h, &s).unwrap().unwrap().0.extensions,
            vec!["Permessage-Deflate", "x-foo"]
        );
        let s = response("Sec-WebSocket-Extensions: x-foo, x-bar\r\n");
        assert_eq!(
            parse(&h, &s),
            Err(HandshakeError::UnexpectedExtension("x-bar".into()))
        );
    }

    #[test]
    fn malformed() {
        let h = hs(&ClientOptions::default());
        assert!(matches!(
            parse(&h, "HTTP/1.1 abc OK\r\n\r\n"),
            Err(HandshakeError::MalformedResponse(_))
        ));
        assert!(matches!(
            parse(&h, "SSH-2.0-OpenSSH\r\n"),
            Err(HandshakeError::MalformedResponse(_))
        ));
        assert!(matches!(
            parse(&h, "HTTP/1.1 101 OK\r\nBad Name: x\r\n\r\n"),
            Err(HandshakeError::MalformedResponse(_))
        ));
    }

    #[test]
    fn headers_too_large() {
        let h = hs(&ClientOptions {
            max_response_header_bytes: 100,
            ..Default::default()
        });
        let s = response(&format!("X-Pad: {}\r\n", "a".repeat(200)));
        // Fails as soon as more than the limit is buffered, before the block is complete.
        assert_eq!(h.parse_response(&s.as_bytes()[..100]), Ok(None));
        assert_eq!(
            h.parse_response(&s.as_bytes()[..101]),
            Err(HandshakeError::ResponseHeadersTooLarge)
        );
        assert_eq!(parse(&h, &s), Err(HandshakeError::ResponseHeadersTooLarge));
        // A block within the limit followed by many frame bytes is fine.
        let s = response("");
        let h = hs(&ClientOptions {
            max_response_header_bytes: s.len(),
            ..Default::default()
        });
        let mut b = s.clone().into_bytes();
        b.extend(std::iter::repeat_n(0u8, 1000));
        assert_eq!(h.parse_response(&b).unwrap().unwrap().1, s.len());
        // Many headers beyond the initial slot count.
        let many: String = (0..200).map(|i| format!("X-{i}: {i}\r\n")).collect();
        let h = hs(&ClientOptions::default());
        assert_eq!(parse(&h, &response(&many)).unwrap().unwrap().0.headers.len(), 203);
    }

    #[test]
    fn rejected_with_content_length() {
        let h = hs(&ClientOptions::default());
        let s = "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nX-Why: auth\r\n\r\nnope!\n";
        for i in 0..s.len() {
            assert_eq!(parse(&h, &s[..i]), Ok(None), "at {i}");
        }
        let e = parse(&h, s).unwrap_err();
        assert_eq!(
            e,
            HandshakeError::Rejected {
                status: 403,
                reason: "Forbidden".into(),
                headers: vec![
                    ("Content-Length".into(), "6".into()),
                    ("X-Why".into(), "auth".into())
                ],
                body: b"nope!\n".to_vec(),
            }
        );
        // Extra bytes beyond Content-Length are not part of the body.
        let Err(HandshakeError::Rejected { body, .. }) = parse(&h, &format!("{s}junk")) else {
            panic!()
        };
        assert_eq!(body, b"nope!\n");
    }

    #[test]
    fn rejected_body_truncated() {
        let h = hs(&ClientOptions {
            max_rejection_body_bytes: 4,
            ..Default::default()
        });
        let s = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000000000000000000000\r\n\r\n";
        assert_eq!(parse(&h, s), Ok(None));
        assert_eq!(parse(&h, &format!("{s}abc")), Ok(None));
        let Err(HandshakeError::Rejected { status, body, .. }) = parse(&h, &format!("{s}abcdefg")) else {
            panic!()
        };
        assert_eq!((status, body.as_slice()), (500, &b"abcd"[..]));
    }

    #[test]
    fn rejected_without_content_length() {
        let h = hs(&ClientOptions {
            max_rejection_body_bytes: 5,
            ..Default::default()
        });
        let s = "HTTP/1.1 404 Not Found\r\n\r\n";
        let Err(HandshakeError::Rejected {
            status, reason, body, ..
        }) = parse(&h, s)
        else {
            panic!()
        };
        assert_eq!((status, reason.as_str(), body.len()), (404, "Not Found", 0));
        let Err(HandshakeError::Rejected { body, .. }) = parse(&h, &format!("{s}hello world")) else {
            panic!()
        };
        assert_eq!(body, b"hello");
        // No body for 204/304 even with Content-Length.
        let s = "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n";
        let Err(HandshakeError::Rejected { status, body, .. }) = parse(&h, s) else {
            panic!()
        };
        assert_eq!((status, body.len()), (304, 0));
        // A 200 is a rejection too.
        let Err(HandshakeError::Rejected { status, .. }) =
            parse(&h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        else {
            panic!()
        };
        assert_eq!(status, 200);
    }

    #[test]
    fn round_trip_through_server() {
        let u = url::parse("ws://localhost:9001/echo?x=1").unwrap();
        let o = ClientOptions {
            subprotocols: vec!["v1.chat".into(), "v2.chat".into()],
            origin: Some("http://localhost".into()),
            headers: vec![("Cookie".into(), "id=7".into())],
            extensions: vec!["permessage-deflate; client_max_window_bits".into()],
            ..Default::default()
        };
        let h = ClientHandshake::new(&u, &o).unwrap();
        let mut wire = h.request().to_vec();
        wire.extend_from_slice(b"\x81\x80mask");
        let (req, n) = parse_request(&wire, &RequestLimits::default()).unwrap().unwrap();
        assert_eq!(n, h.request().len());
        assert_eq!(&wire[n..], b"\x81\x80mask");
        assert_eq!(req.path, "/echo");
        assert_eq!(req.query.as_deref(), Some("x=1"));
        assert_eq!(req.host, "localhost:9001");
        assert_eq!(req.origin.as_deref(), Some("http://localhost"));
        assert_eq!(req.key, h.key());
        assert_eq!(req.subprotocols, vec!["v1.chat", "v2.chat"]);
        assert_eq!(req.extensions, vec!["permessage-deflate; client_max_window_bits"]);
        assert_eq!(req.header("cookie"), Some("id=7"));

        let mut out = Vec::new();
        let exts = vec!["permessage-deflate".to_string()];
        let extra = vec![("X-Server".to_string(), "wskit".to_string())];
        let opts = AcceptOptions {
            subprotocol: Some("v2.chat"),
            extensions: &exts,
            headers: &extra,
        };
        req.write_accept(&opts, &mut out).unwrap();
        let len = out.len();
        out.extend_from_slice(b"\x82\x00");
        let (resp, n) = h.parse_response(&out).unwrap().unwrap();
        assert_eq!(n, len);
        assert_eq!(resp.status, 101);
        assert_eq!(resp.subprotocol.as_deref(), Some("v2.chat"));
        assert_eq!(resp.extensions, vec!["permessage-deflate"]);
        assert_eq!(resp.header("x-server"), Some("wskit"));
    }

    #[test]
    fn round_trip_rejection() {
        let h = hs(&ClientOptions::default());
        let mut out = Vec::new();
        crate::proto::handshake::write_reject(
            401,
            &[("WWW-Authenticate".into(), "Bearer".into())],
            b"login",
            &mut out,
        )
        .unwrap();
        let Err(HandshakeError::Rejected {
            status,
            reason,
            headers,
            body,
        }) = h.parse_response(&out)
        else {
            panic!()
        };
        assert_eq!(
            (status, reason.as_str(), body.as_slice()),
            (401, "Unauthorized", &b"login"[..])
        );
        assert!(headers.contains(&("WWW-Authenticate".into(), "Bearer".into())));
        // And a server error response for a failed request.
        let mut out = Vec::new();
        HandshakeError::UnsupportedVersion(None).write_error_response(&mut out);
        let Err(HandshakeError::Rejected {
            status,
            headers,
            body,
            ..
        }) = h.parse_response(&out)
        else {
            panic!()
        };
        assert_eq!(status, 426);
        assert!(headers.contains(&("Sec-WebSocket-Version".into(), "13".into())));
        assert_eq!(body, b"missing Sec-WebSocket-Version header (expected 13)\n");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
                        max_h in 0usize..600, max_b in 0usize..64) {
            let h = hs(&ClientOptions::default());
            let _ = h.parse_response(&input);
            let h = hs(&ClientOptions { max_response_header_bytes: max_h, max_rejection_body_bytes: max_b, ..Default::default() });
            let _ = h.parse_response(&input);
        }

        #[test]
        fn never_panics_near_valid(cut in 0usize..200, byte in proptest::num::u8::ANY, at in 0usize..200) {
            let h = offering(&["chat"], &["x-foo"]);
            let mut b = response("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: x-foo\r\n").into_bytes();
            if let Some(x) = b.get_mut(at) { *x = byte; }
            b.truncate(cut);
            let _ = h.parse_response(&b);
        }
    }
}
