//! The HTTP CONNECT exchange (RFC 9110 9.3.6), sans I/O: the request to write, then the proxy's
//! answer, fed as it arrives (in pieces of any size) until its head is complete.

use base64::Engine as _;

use super::ProxyError;

/// Largest answer head accepted from a proxy (status line and headers).
const MAX_HEAD: usize = 16 << 10;
const MAX_HEADERS: usize = 64;

/// What feeding the proxy's bytes gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The answer is not complete: feed more.
    NeedMore,
    /// The tunnel is up (a 2xx answer). Bytes that came after the answer's head belong to the
    /// tunnel.
    Done(Vec<u8>),
}

/// One CONNECT exchange.
#[derive(Debug)]
pub struct HttpConnect {
    request: Vec<u8>,
    written: usize,
    input: Vec<u8>,
}

impl HttpConnect {
    /// The exchange for a tunnel to `host:port`, with Basic credentials if given.
    pub fn new(host: &str, port: u16, credentials: Option<(&str, &str)>) -> Self {
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some((user, password)) = credentials {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        Self {
            request: request.into_bytes(),
            written: 0,
            input: Vec::new(),
        }
    }

    /// Bytes still to write to the proxy.
    pub fn output(&self) -> &[u8] {
        &self.request[self.written..]
    }

    /// `n` bytes of [`HttpConnect::output`] were written.
    pub fn consume_output(&mut self, n: usize) {
        self.written = (self.written + n).min(self.request.len());
    }

    /// Feeds bytes read from the proxy.
    pub fn feed(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        self.input.extend_from_slice(data);
        let prefix = &self.input[..self.input.len().min(5)];
        if !b"HTTP/".starts_with(prefix) {
            return Err(ProxyError::Protocol(format!(
                "the proxy's answer is not HTTP (it starts with {:?})",
                String::from_utf8_lossy(&self.input[..self.input.len().min(32)])
            )));
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&self.input) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if self.input.len() > MAX_HEAD {
                    return Err(ProxyError::Protocol(format!(
                        "the proxy's answer head is larger than {MAX_HEAD} bytes"
                    )));
                }
                return Ok(Progress::NeedMore);
            }
            Err(err) => {
                return Err(ProxyError::Protocol(format!(
                    "malformed answer from the proxy: {err}"
                )));
            }
        };
        let status = response.code.unwrap_or(0);
        let reason = response.reason.unwrap_or("").to_string();
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).trim().to_string(),
                )
            })
            .collect();
        match status {
            200..=299 => Ok(Progress::Done(self.input[head_len..].to_vec())),
            // 401 too: tinyproxy answers wrong credentials with 401 and a WWW-Authenticate.
            401 | 407 => {
                let challenge = if status == 407 {
                    "proxy-authenticate"
                } else {
                    "www-authenticate"
                };
                let proxy_authenticate = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(challenge))
                    .map(|(_, v)| v.clone());
                Err(ProxyError::Auth {
                    status,
                    proxy_authenticate,
                    headers,
                    detail: String::new(),
                })
            }
            _ => Err(ProxyError::Refused {
                status,
                reason,
                headers,
            }),
        }
    }

    /// The proxy closed the connection: the answer will never be complete.
    pub fn eof(&self) -> ProxyError {
        ProxyError::Protocol(if self.input.is_empty() {
            "the proxy closed the connection without answering".into()
        } else {
            "the proxy closed the connection in the middle of its answer".into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(connect: &mut HttpConnect, answer: &[u8], piece: usize) -> Result<Progress, ProxyError> {
        let mut last = Ok(Progress::NeedMore);
        for chunk in answer.chunks(piece) {
            last = connect.feed(chunk);
            if !matches!(last, Ok(Progress::NeedMore)) {
                break;
            }
        }
        last
    }

    #[test]
    fn the_request_names_the_target_and_carries_basic_credentials() {
        let mut c = HttpConnect::new("example.com", 443, Some(("Aladdin", "open sesame")));
        assert_eq!(
            c.output(),
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
              Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        c.consume_output(8);
        assert!(c.output().starts_with(b"example.com"));
        let v6 = HttpConnect::new("::1", 9001, None);
        assert!(
            v6.output()
                .starts_with(b"CONNECT [::1]:9001 HTTP/1.1\r\nHost: [::1]:9001\r\n\r\n")
        );
    }

    #[test]
    fn a_2xx_answer_opens_the_tunnel_in_any_pieces() {
        let answer = b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n";
        for piece in [1, 2, 7, answer.len()] {
            let mut c = HttpConnect::new("h", 1, None);
            assert_eq!(
                feed_all(&mut c, answer, piece).unwrap(),
                Progress::Done(Vec::new()),
                "{piece}"
            );
        }
        let mut c = HttpConnect::new("h", 1, None);
        assert_eq!(
            c.feed(b"HTTP/1.0 200 OK\r\n\r\nextra").unwrap(),
            Progress::Done(b"extra".to_vec())
        );
    }

    #[test]
    fn a_407_carries_proxy_authenticate() {
        let mut c = HttpConnect::new("h", 1, None);
        let err = feed_all(
            &mut c,
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n",
            3,
        )
        .unwrap_err();
        let ProxyError::Auth {
            status,
            proxy_authenticate,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(status, 407);
        assert_eq!(proxy_authenticate.as_deref(), Some("Basic realm=\"x\""));
    }

    #[test]
    fn other_statuses_are_refusals() {
        for (answer, code) in [
            (&b"HTTP/1.1 403 Forbidden\r\n\r\n"[..], 403),
            (b"HTTP/1.1 503 No\r\nA: b\r\n\r\n", 503),
        ] {
            let mut c = HttpConnect::new("h", 1, None);
            match c.feed(answer) {
                Err(ProxyError::Refused { status, headers, .. }) => {
                    assert_eq!(status, code);
                    assert_eq!(headers.len(), usize::from(code == 503));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_non_http_answer_fails_at_once() {
        let mut c = HttpConnect::new("h", 1, None);
        assert!(matches!(
            c.feed(b"SSH-2.0-OpenSSH\r\n"),
            Err(ProxyError::Protocol(_))
        ));
        let mut c = HttpConnect::new("h", 1, None);
        assert!(matches!(c.feed(b"\x05\x00"), Err(ProxyError::Protocol(_))));
        let mut c = HttpConnect::new("h", 1, None);
        assert_eq!(c.feed(b"HT").unwrap(), Progress::NeedMore);
        assert!(matches!(
            c.feed(b"TP/1.1 xyz\r\n\r\n"),
            Err(ProxyError::Protocol(_))
        ));
    }

    #[test]
    fn an_endless_head_is_bounded() {
        let mut c = HttpConnect::new("h", 1, None);
        c.feed(b"HTTP/1.1 200 OK\r\n").unwrap();
        let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut result = Ok(Progress::NeedMore);
        for _ in 0..1000 {
            result = c.feed(line);
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(ProxyError::Protocol(_))));
    }
}
