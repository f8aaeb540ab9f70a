//! The SOCKS5 exchange (RFC 1928, with RFC 1929 username/password), sans I/O: the greeting, the
//! optional sub-negotiation, the CONNECT request and its reply, fed as the bytes arrive (in
//! pieces of any size).

use std::net::SocketAddr;

use super::ProxyError;
use super::http_connect::Progress;

/// Where the tunnel goes: an address resolved here (`socks5://`) or a name the proxy resolves
/// (`socks5h://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An address.
    Addr(SocketAddr),
    /// A host name and port, resolved by the proxy.
    Name(String, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Method,
    Auth,
    Reply,
}

/// One SOCKS5 exchange.
#[derive(Debug)]
pub struct Socks5 {
    target: Target,
    credentials: Option<(String, String)>,
    step: Step,
    output: Vec<u8>,
    written: usize,
    input: Vec<u8>,
}

/// The text of a SOCKS5 reply code (RFC 1928 section 6).
pub fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unassigned reply code",
    }
}

impl Socks5 {
    /// The exchange for a tunnel to `target`; username/password is offered when `credentials`
    /// are given (RFC 1929: each at most 255 bytes).
    pub fn new(target: Target, credentials: Option<(String, String)>) -> Result<Self, ProxyError> {
        if let Some((user, password)) = &credentials {
            if user.is_empty() || user.len() > 255 || password.len() > 255 {
                return Err(ProxyError::Protocol(
                    "SOCKS5 user name must be 1 to 255 bytes and password at most 255".into(),
                ));
            }
        }
        if let Target::Name(name, _) = &target {
            if name.is_empty() || name.len() > 255 {
                return Err(ProxyError::Protocol(
                    "SOCKS5 host name must be 1 to 255 bytes".into(),
                ));
            }
        }
        let output = if credentials.is_some() {
            vec![5, 2, 0, 2]
        } else {
            vec![5, 1, 0]
        };
        Ok(Self {
            target,
            credentials,
            step: Step::Method,
            output,
            written: 0,
            input: Vec::new(),
        })
    }

    /// Bytes still to write to the proxy.
    pub fn output(&self) -> &[u8] {
        &self.output[self.written..]
    }

    /// `n` bytes of [`Socks5::output`] were written.
    pub fn consume_output(&mut self, n: usize) {
        self.written = (self.written + n).min(self.output.len());
        if self.written == self.output.len() {
            self.output.clear();
            self.written = 0;
        }
    }

    fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    fn queue_request(&mut self) {
        let mut request = vec![5, 1, 0];
        match &self.target {
            Target::Addr(SocketAddr::V4(a)) => {
                request.push(1);
                request.extend_from_slice(&a.ip().octets());
            }
            Target::Addr(SocketAddr::V6(a)) => {
                request.push(4);
                request.extend_from_slice(&a.ip().octets());
            }
            Target::Name(name, _) => {
                request.push(3);
                request.push(name.len() as u8);
                request.extend_from_slice(name.as_bytes());
            }
        }
        let port = match &self.target {
            Target::Addr(a) => a.port(),
            Target::Name(_, port) => *port,
        };
        request.extend_from_slice(&port.to_be_bytes());
        self.queue(&request);
    }

    /// Feeds bytes read from the proxy. After a step completes the next request may be waiting
    /// in [`Socks5::output`].
    pub fn feed(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        self.input.extend_from_slice(data);
        loop {
            match self.step {
                Step::Method => {
                    if self.input.len() < 2 {
                        return Ok(Progress::NeedMore);
                    }
                    if self.input[0] != 5 {
                        return Err(not_socks(&self.input));
                    }
                    let method = self.input[1];
                    self.input.drain(..2);
                    match method {
                        0 => {
                            self.queue_request();
                            self.step = Step::Reply;
                        }
                        2 if self.credentials.is_some() => {
                            let (user, password) = self.credentials.clone().expect("checked");
                            let mut auth = vec![1, user.len() as u8];
                            auth.extend_from_slice(user.as_bytes());
                            auth.push(password.len() as u8);
                            auth.extend_from_slice(password.as_bytes());
                            self.queue(&auth);
                            self.step = Step::Auth;
                        }
                        0xFF => {
                            return Err(ProxyError::socks_auth(if self.credentials.is_some() {
                                "the SOCKS5 proxy accepts neither no authentication nor username/password"
                            } else {
                                "the SOCKS5 proxy requires authentication (give a user name and password)"
                            }));
                        }
                        other => {
                            return Err(ProxyError::Protocol(format!(
                                "the SOCKS5 proxy chose method {other}, which was not offered"
                            )));
                        }
                    }
                }
                Step::Auth => {
                    if self.input.len() < 2 {
                        return Ok(Progress::NeedMore);
                    }
                    if self.input[0] != 1 {
                        return Err(ProxyError::Protocol(format!(
                            "bad SOCKS5 username/password reply version {}",
                            self.input[0]
                        )));
                    }
                    if self.input[1] != 0 {
                        return Err(ProxyError::socks_auth(
                            "the SOCKS5 proxy rejected the user name or password",
                        ));
                    }
                    self.input.drain(..2);
                    self.queue_request();
                    self.step = Step::Reply;
                }
                Step::Reply => {
                    // VER REP RSV ATYP BND.ADDR BND.PORT
                    if self.input.len() < 5 {
                        return Ok(Progress::NeedMore);
                    }
                    if self.input[0] != 5 {
                        return Err(not_socks(&self.input));
                    }
                    let reply = self.input[1];
                    if reply != 0 {
                        return Err(ProxyError::Socks { reply });
                    }
                    let addr_len = match self.input[3] {
                        1 => 4,
                        4 => 16,
                        3 => 1 + usize::from(self.input[4]),
                        other => {
                            return Err(ProxyError::Protocol(format!(
                                "bad address type {other} in the SOCKS5 reply"
                            )));
                        }
                    };
                    let total = 4 + addr_len + 2;
                    if self.input.len() < total {
                        return Ok(Progress::NeedMore);
                    }
                    return Ok(Progress::Done(self.input.split_off(total)));
                }
            }
            if self.input.is_empty() {
                return Ok(Progress::NeedMore);
            }
        }
    }

    /// The proxy closed the connection before the tunnel was up.
    pub fn eof(&self) -> ProxyError {
        ProxyError::Protocol(match self.step {
            Step::Method => "the SOCKS5 proxy closed the connection without answering the greeting".into(),
            Step::Auth => "the SOCKS5 proxy closed the connection during authentication".into(),
            Step::Reply => "the SOCKS5 proxy closed the connection before its CONNECT reply".into(),
        })
    }
}

fn not_socks(input: &[u8]) -> ProxyError {
    ProxyError::Protocol(format!(
        "the proxy's answer is not SOCKS5 (it starts with {:?})",
        String::from_utf8_lossy(&input[..input.len().min(16)])
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(s: &mut Socks5) -> Vec<u8> {
        let out = s.output().to_vec();
        s.consume_output(out.len());
        out
    }

    #[test]
    fn no_auth_with_a_name_in_pieces() {
        let mut s = Socks5::new(Target::Name("example.com".into(), 443), None).unwrap();
        assert_eq!(drain(&mut s), [5, 1, 0]);
        assert_eq!(s.feed(&[5]).unwrap(), Progress::NeedMore);
        assert_eq!(s.feed(&[0]).unwrap(), Progress::NeedMore);
        let mut expected = vec![5, 1, 0, 3, 11];
        expected.extend_from_slice(b"example.com");
        expected.extend_from_slice(&[1, 187]);
        assert_eq!(drain(&mut s), expected);
        let reply = [5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
        for byte in &reply[..reply.len() - 1] {
            assert_eq!(s.feed(&[*byte]).unwrap(), Progress::NeedMore);
        }
        assert_eq!(
            s.feed(&reply[reply.len() - 1..]).unwrap(),
            Progress::Done(Vec::new())
        );
    }

    #[test]
    fn username_password_then_an_ipv6_target() {
        let target = Target::Addr("[::1]:9001".parse().unwrap());
        let mut s = Socks5::new(target, Some(("u".into(), "pw".into()))).unwrap();
        assert_eq!(drain(&mut s), [5, 2, 0, 2]);
        assert_eq!(s.feed(&[5, 2]).unwrap(), Progress::NeedMore);
        assert_eq!(drain(&mut s), [1, 1, b'u', 2, b'p', b'w']);
        assert_eq!(s.feed(&[1, 0]).unwrap(), Progress::NeedMore);
        let out = drain(&mut s);
        assert_eq!(&out[..4], [5, 1, 0, 4]);
        assert_eq!(out.len(), 4 + 16 + 2);
        assert_eq!(&out[20..], [0x23, 0x29]);
        // A reply with a domain-name bound address, and tunnel bytes after it.
        let mut reply = vec![5, 0, 0, 3, 3, b'a', b'b', b'c', 0, 80];
        reply.extend_from_slice(b"xy");
        assert_eq!(s.feed(&reply).unwrap(), Progress::Done(b"xy".to_vec()));
    }

    #[test]
    fn failures_carry_the_reply_code() {
        let mut s = Socks5::new(Target::Addr("127.0.0.1:1".parse().unwrap()), None).unwrap();
        drain(&mut s);
        s.feed(&[5, 0]).unwrap();
        drain(&mut s);
        assert!(matches!(
            s.feed(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]),
            Err(ProxyError::Socks { reply: 5 })
        ));
        assert_eq!(reply_text(5), "connection refused");
    }

    #[test]
    fn authentication_failures() {
        let mut s = Socks5::new(Target::Name("h".into(), 1), None).unwrap();
        assert!(matches!(s.feed(&[5, 0xFF]), Err(ProxyError::Auth { .. })));
        let mut s = Socks5::new(Target::Name("h".into(), 1), Some(("u".into(), "p".into()))).unwrap();
        s.feed(&[5, 2]).unwrap();
        assert!(matches!(s.feed(&[1, 1]), Err(ProxyError::Auth { .. })));
        assert!(Socks5::new(Target::Name("h".into(), 1), Some((String::new(), "p".into()))).is_err());
    }

    #[test]
    fn a_non_socks_answer_fails() {
        let mut s = Socks5::new(Target::Name("h".into(), 1), None).unwrap();
        assert!(matches!(
            s.feed(b"HTTP/1.1 400 Bad"),
            Err(ProxyError::Protocol(_))
        ));
        let mut s = Socks5::new(Target::Name("h".into(), 1), None).unwrap();
        assert!(matches!(s.feed(&[5, 7]), Err(ProxyError::Protocol(_))));
    }
}
