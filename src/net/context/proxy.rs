//! The proxy tunnel of a client connection: once TCP (and TLS, for an https:// proxy) to the
//! proxy is up, the CONNECT or SOCKS5 exchange runs here, on the loop's read and write events,
//! before any byte of the TLS or WebSocket handshake with the target. `ClientLink::connected`
//! stays false meanwhile, so the normal read and write paths leave the socket alone; when the
//! tunnel is up, the target's TLS wraps the socket (or the proxy's TLS) and the handshake starts.

use std::io;
use std::net::SocketAddr;

use crate::net::error::Error;
use crate::net::id::ConnId;
use crate::net::proxy::http_connect::{HttpConnect, Progress};
use crate::net::proxy::socks5::{Socks5, Target};
use crate::net::proxy::{Kind, Proxy, ProxyError};
use crate::net::tls::{self, Stream};

use super::{Conn, Context, Origin};

/// A client connection's proxy and the state of its tunnel.
pub(super) struct ProxyLink {
    pub(super) proxy: Proxy,
    pub(super) phase: Phase,
    /// `socks5://`: the target's address, resolved here before the proxy's.
    pub(super) target: Option<SocketAddr>,
    /// The opening handshake's deadline (ms since start), restored once the tunnel is up.
    pub(super) handshake_deadline: u64,
}

pub(super) enum Phase {
    /// Resolving the target's name (`socks5://`).
    ResolvingTarget,
    /// Resolving the proxy's name and connecting to it.
    Connecting,
    Http(HttpConnect),
    Socks(Socks5),
    /// The tunnel is up.
    Done,
}

impl ProxyLink {
    pub(super) fn new(proxy: Proxy, handshake_deadline: u64) -> Self {
        Self {
            proxy,
            phase: Phase::Connecting,
            target: None,
            handshake_deadline,
        }
    }

    /// True until the tunnel is up.
    pub(super) fn pending(&self) -> bool {
        !matches!(self.phase, Phase::Done)
    }

    /// True while the exchange with the proxy runs (TCP to it is up).
    pub(super) fn exchanging(&self) -> bool {
        matches!(self.phase, Phase::Http(_) | Phase::Socks(_))
    }

    /// `socks5://` resolves the target here first.
    pub(super) fn needs_target_addr(&self) -> bool {
        self.proxy.kind == Kind::Socks5 && self.target.is_none()
    }
}

/// True if `conn` is a client whose proxy tunnel is not up yet.
pub(super) fn proxy_pending(conn: &Conn) -> bool {
    match &conn.origin {
        Origin::Client(link) => link.proxy.as_ref().is_some_and(|p| p.pending()),
        Origin::Accepted(_) => false,
    }
}

/// True if `conn` is a client whose exchange with its proxy is running.
pub(super) fn proxy_exchanging(conn: &Conn) -> bool {
    match &conn.origin {
        Origin::Client(link) => link.proxy.as_ref().is_some_and(|p| p.exchanging()),
        Origin::Accepted(_) => false,
    }
}

impl Phase {
    fn output(&self) -> &[u8] {
        match self {
            Phase::Http(c) => c.output(),
            Phase::Socks(s) => s.output(),
            _ => &[],
        }
    }

    fn consume_output(&mut self, n: usize) {
        match self {
            Phase::Http(c) => c.consume_output(n),
            Phase::Socks(s) => s.consume_output(n),
            _ => {}
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        match self {
            Phase::Http(c) => c.feed(data),
            Phase::Socks(s) => s.feed(data),
            _ => Ok(Progress::NeedMore),
        }
    }

    fn eof(&self) -> ProxyError {
        match self {
            Phase::Http(c) => c.eof(),
            Phase::Socks(s) => s.eof(),
            _ => ProxyError::Protocol("the proxy closed the connection".into()),
        }
    }
}

impl Context {
    /// TCP to the proxy is up or its socket has news: start or continue the exchange, and open
    /// the target's handshake once the tunnel is up.
    pub(super) fn proxy_progress(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let Origin::Client(link) = &mut conn.origin else {
            return;
        };
        let Some(p) = link.proxy.as_deref_mut() else {
            return;
        };
        let Some(socket) = conn.socket.as_mut() else {
            return;
        };
        if matches!(p.phase, Phase::Connecting) {
            socket.set_nodelay();
            let credentials = p.proxy.credentials.clone();
            p.phase = match p.proxy.kind {
                Kind::Http | Kind::Https => Phase::Http(HttpConnect::new(
                    &link.url.host,
                    link.url.port,
                    credentials.as_ref().map(|(u, pw)| (u.as_str(), pw.as_str())),
                )),
                Kind::Socks5 | Kind::Socks5h => {
                    let target = match (p.proxy.kind, p.target) {
                        (Kind::Socks5, Some(addr)) => Target::Addr(SocketAddr::new(addr.ip(), link.url.port)),
                        _ => match link.url.host.parse() {
                            Ok(ip) => Target::Addr(SocketAddr::new(ip, link.url.port)),
                            Err(_) => Target::Name(link.url.host.clone(), link.url.port),
                        },
                    };
                    match Socks5::new(target, credentials) {
                        Ok(socks) => Phase::Socks(socks),
                        Err(err) => return self.fail_client(id, Error::Proxy(err)),
                    }
                }
            };
        }
        let host = p.proxy.host.clone();
        match exchange(socket, &mut p.phase) {
            Ok(false) => {}
            Ok(true) => self.tunnel_up(id),
            Err(err) => {
                let error = match tls::tls_failure(&err) {
                    Some(tls_err) => {
                        Error::Tls(format!("proxy {host}: {}", tls::describe(tls_err, Some(&host))))
                    }
                    None => match err.get_ref().and_then(|e| e.downcast_ref::<ProxyError>()) {
                        Some(proxy_err) => Error::Proxy(proxy_err.clone()),
                        None => Error::Proxy(ProxyError::Protocol(format!(
                            "connection to the proxy {host} failed: {err}"
                        ))),
                    },
                };
                self.fail_client(id, error);
            }
        }
    }

    /// The tunnel is up: wrap it in the target's TLS (wss://), then let the handshake go.
    fn tunnel_up(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let Origin::Client(link) = &mut conn.origin else {
            return;
        };
        let secure = link.url.secure;
        let custom_tls = link.options.tls.clone();
        let tls = if secure {
            match custom_tls.map_or_else(|| self.default_client_tls(), Ok) {
                Ok(config) => Some(config),
                Err(err) => return self.fail_client(id, err),
            }
        } else {
            None
        };
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let Origin::Client(link) = &mut conn.origin else {
            return;
        };
        let Some(p) = link.proxy.as_deref_mut() else {
            return;
        };
        p.phase = Phase::Done;
        let handshake_deadline = p.handshake_deadline;
        let host = link.url.host.clone();
        link.connected = true;
        let deadline = conn.set_deadline(handshake_deadline);
        self.timers.push(deadline, id);
        if let Some(tls) = tls {
            let wrapped = match conn.socket.take() {
                Some(Stream::Plain(tcp)) => Stream::client(tcp, Some(&tls), &host),
                Some(Stream::Tls(outer)) => Stream::nested_client(outer, &tls, &host),
                _ => Err(io::Error::new(io::ErrorKind::NotConnected, "no socket")),
            };
            match wrapped {
                Ok(socket) => conn.socket = socket,
                Err(err) => return self.fail_client(id, Error::Tls(err.to_string())),
            }
        }
        self.trace_output(id);
        self.mark_dirty(id);
    }
}

/// Moves the exchange's bytes: writes what it has to say, reads and feeds the answer. `Ok(true)`
/// once the tunnel is up, `Ok(false)` while waiting for the socket. A failure of the exchange
/// comes back as an `io::Error` holding the [`ProxyError`].
fn exchange(socket: &mut Stream, phase: &mut Phase) -> io::Result<bool> {
    let mut buf = [0u8; 2048];
    loop {
        loop {
            let out = phase.output();
            if out.is_empty() {
                break;
            }
            match socket.write(out) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => phase.consume_output(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        match socket.flush_tls() {
            Err(err) if err.kind() != io::ErrorKind::WouldBlock => return Err(err),
            _ => {}
        }
        match socket.read(&mut buf) {
            Ok(0) => return Err(io::Error::other(phase.eof())),
            Ok(n) => match phase.feed(&buf[..n]).map_err(io::Error::other)? {
                Progress::NeedMore => {}
                Progress::Done(rest) if rest.is_empty() => return Ok(true),
                Progress::Done(_) => {
                    return Err(io::Error::other(ProxyError::Protocol(
                        "the proxy sent data through the tunnel before the client spoke".into(),
                    )));
                }
            },
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}
