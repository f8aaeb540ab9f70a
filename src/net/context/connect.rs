//! Client connections: parsing the URL, resolving, connecting address after address, failing
//! before open, and the open once the server's response is in.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use mio::net::TcpStream;
use mio::{Interest, Token};

use crate::net::config::ConnectOptions;
use crate::net::error::{Error, Result};
use crate::net::handler::{Handler, OpenInfo};
use crate::net::id::ConnId;
use crate::net::proxy::{self, Kind, env};
use crate::net::tls::{Stream, TlsClientConfig};
use crate::proto::handshake::{WsUrl, url};
use crate::proto::{Endpoint, Role};

use super::proxy::{Phase, ProxyLink};
use super::{
    ClientLink, Conn, Context, Details, Kept, Lost, Origin, WRITABLE_REGISTERED, millis, reconnect, stamp,
};

impl Context {
    /// Opens a client connection to a `ws://` URL (or `ws+unix:///path/to.sock:/request/path`: see
    /// [`Context::connect_unix`]). Returns at once: name resolution runs on a helper
    /// thread, the TCP connect and handshake are non-blocking. `on_open` or (`on_error` then)
    /// `on_close` follows.
    pub fn connect(&mut self, url: &str, options: ConnectOptions) -> Result<ConnId> {
        if let Some(unix) = crate::net::unix::parse_url(url) {
            let unix = unix?;
            return self.connect_unix(&unix.socket, &unix.url, options);
        }
        let url = url::parse(url)?;
        let id = self.new_client(url, options, None)?;
        self.start_connect(id)?;
        Ok(id)
    }

    /// Sets the attempt's deadline (the handshake timeout; the proxy timeout first while a
    /// proxy's tunnel opens), then starts the first hop: the first connect and every reconnect
    /// attempt.
    pub(super) fn start_connect(&mut self, id: ConnId) -> Result<()> {
        let now = self.now();
        let Some(conn) = self.conns.get_mut(id) else {
            return Err(Error::NotFound);
        };
        let Origin::Client(link) = &mut conn.origin else {
            return Err(Error::NotFound);
        };
        let handshake_deadline = now + millis(link.options.connection.handshake_timeout);
        let proxy_timeout = link.options.proxy.timeout;
        let deadline = match link.proxy.as_deref_mut() {
            Some(p) => {
                p.handshake_deadline = handshake_deadline;
                handshake_deadline.min(now + millis(proxy_timeout))
            }
            None => handshake_deadline,
        };
        let unix = link.unix.is_some();
        conn.deadline = stamp(deadline);
        self.timers.push(deadline, id);
        if unix {
            self.connect_unix_socket(id);
            return Ok(());
        }
        self.resolve_first_hop(id)
    }

    /// Decides where a client connection goes first and starts resolving it: the target, or its
    /// proxy (the proxy's name is resolved, not the target's; `socks5://` resolves the target
    /// first, for its address goes in the request, then the proxy). The one place that decides
    /// the first hop: a connection started again runs it again.
    pub(super) fn resolve_first_hop(&mut self, id: ConnId) -> Result<()> {
        let Some(conn) = self.conns.get_mut(id) else {
            return Ok(());
        };
        let Origin::Client(link) = &mut conn.origin else {
            return Ok(());
        };
        link.addrs.clear();
        link.next_addr = 0;
        link.connected = false;
        link.last_error = None;
        let (host, port) = match link.proxy.as_deref_mut() {
            None => (link.url.host.clone(), link.url.port),
            Some(p) if p.needs_target_addr() => {
                p.phase = Phase::ResolvingTarget;
                (link.url.host.clone(), link.url.port)
            }
            Some(p) => {
                p.phase = Phase::Connecting;
                (p.proxy.host.clone(), p.proxy.port)
            }
        };
        self.resolve(id, host, port)
    }

    /// Resolves `host` on a helper thread (a literal address at once); `resolved` follows.
    fn resolve(&mut self, id: ConnId, host: String, port: u16) -> Result<()> {
        match host.parse::<IpAddr>() {
            Ok(ip) => self.resolved(id, Ok(vec![SocketAddr::new(ip, port)])),
            Err(_) => {
                let shared = self.shared.clone();
                std::thread::Builder::new()
                    .name("wskit-resolve".into())
                    .spawn(move || {
                        let result = (host.as_str(), port).to_socket_addrs().map(Iterator::collect);
                        shared
                            .inbox
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .resolved
                            .push((id, result));
                        let _ = shared.waker.wake();
                    })
                    .map_err(Error::Io)?;
            }
        }
        Ok(())
    }

    /// A client connection's slot, before its socket exists (`start_connect` sets its deadline
    /// and starts it). A Unix socket never goes through a proxy.
    pub(super) fn new_client(
        &mut self,
        url: WsUrl,
        mut options: ConnectOptions,
        unix: Option<PathBuf>,
    ) -> Result<ConnId> {
        options.handshake.deflate = options.deflate;
        let endpoint = Endpoint::client(&url, &options.handshake, options.connection.protocol)?;
        let chosen = match unix {
            Some(_) => None,
            None => proxy::choose(&options.proxy, url.secure, &url.host, url.port, &env::process_env)
                .map_err(Error::Proxy)?,
        };
        let seed = self.start.elapsed().as_nanos() as u64 ^ self.conns.len() as u64;
        let reconnect = reconnect::Link::new(options.reconnect.as_ref(), seed)?;
        let now = self.now();
        let link = ClientLink {
            url,
            options,
            addrs: Vec::new(),
            next_addr: 0,
            connected: false,
            last_error: None,
            unix,
            proxy: chosen.map(|p| Box::new(ProxyLink::new(p, 0))),
            reconnect,
        };
        let id = self.conns.insert_with(|_| Conn {
            socket: Stream::None,
            endpoint,
            origin: Origin::Client(Box::new(link)),
            user_data: 0,
            deadline: 0,
            last_read_ms: now as u32,
            last_message_ms: now as u32,
            details: None,
            flags: 0,
            flow: 0,
        });
        Ok(id)
    }

    pub(super) fn default_client_tls(&mut self) -> Result<TlsClientConfig> {
        if self.system_tls.is_none() {
            self.system_tls = Some(TlsClientConfig::system_roots()?);
        }
        Ok(self.system_tls.clone().expect("just set"))
    }

    pub(super) fn resolved(&mut self, id: ConnId, result: io::Result<Vec<SocketAddr>>) {
        if !self.wants_resolution(id) {
            return; // a late answer for an attempt that already ended (reconnect)
        }
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let Origin::Client(link) = &mut conn.origin else {
            return;
        };
        let host = match link.proxy.as_deref() {
            Some(p) if !matches!(p.phase, Phase::ResolvingTarget) => format!("proxy {}", p.proxy.host),
            _ => link.url.host.clone(),
        };
        match result {
            Ok(addrs) if !addrs.is_empty() => {
                if let Some(p) = link.proxy.as_deref_mut() {
                    if matches!(p.phase, Phase::ResolvingTarget) {
                        // socks5://: the target's address is known; now the proxy's.
                        p.target = Some(addrs[0]);
                        if let Err(err) = self.resolve_first_hop(id) {
                            self.fail_client(id, err);
                        }
                        return;
                    }
                }
                link.addrs = addrs;
                self.connect_next(id);
            }
            Ok(_) => self.fail_client(id, Error::Resolve(format!("{host}: no addresses"))),
            Err(err) => self.fail_client(id, Error::Resolve(format!("{host}: {err}"))),
        }
    }

    /// Starts a non-blocking connect to the next resolved address.
    pub(super) fn connect_next(&mut self, id: ConnId) {
        loop {
            let Some(conn) = self.conns.get_mut(id) else {
                return;
            };
            let Origin::Client(link) = &mut conn.origin else {
                return;
            };
            if let Some(mut old) = conn.socket.take() {
                let _ = old.deregister(self.poll.registry());
            }
            let Some(&addr) = link.addrs.get(link.next_addr) else {
                let detail = link
                    .last_error
                    .take()
                    .unwrap_or_else(|| "no address accepted".into());
                let msg = match (&link.unix, link.proxy.as_deref()) {
                    (Some(path), _) => format!("{}: {detail}", path.display()),
                    (None, Some(p)) => format!("proxy {}:{}: {detail}", p.proxy.host, p.proxy.port),
                    (None, None) => format!("{}:{}: {detail}", link.url.host, link.url.port),
                };
                return self.fail_client(id, Error::Connect(msg));
            };
            link.next_addr += 1;
            // TLS of the first hop: the target's (wss://), or an https:// proxy's; through any
            // other proxy the target's TLS starts once the tunnel is up (`proxy.rs`).
            let (host, hop_tls) = match link.proxy.as_deref() {
                Some(p) => (
                    p.proxy.host.clone(),
                    (p.proxy.kind == Kind::Https).then(|| link.options.proxy.tls.clone()),
                ),
                None => (
                    link.url.host.clone(),
                    link.url.secure.then(|| link.options.tls.clone()),
                ),
            };
            let tls = match hop_tls {
                Some(custom_tls) => match custom_tls.map_or_else(|| self.default_client_tls(), Ok) {
                    Ok(config) => Some(config),
                    Err(err) => return self.fail_client(id, err),
                },
                None => None,
            };
            let Some(conn) = self.conns.get_mut(id) else {
                return;
            };
            let Origin::Client(link) = &mut conn.origin else {
                return;
            };
            let connected = TcpStream::connect(addr).and_then(|tcp| Stream::client(tcp, tls.as_ref(), &host));
            match connected {
                Ok(mut socket) => {
                    let token = Token(id.index().unwrap_or(0));
                    if let Err(err) = socket.register(
                        self.poll.registry(),
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        link.last_error = Some(format!("{addr}: {err}"));
                        continue;
                    }
                    conn.flags |= WRITABLE_REGISTERED;
                    conn.socket = socket;
                    return;
                }
                Err(err) => link.last_error = Some(format!("{addr}: {err}")),
            }
        }
    }

    /// A client connection failed before opening: report the error, then the close.
    pub(super) fn fail_client(&mut self, id: ConnId, error: Error) {
        self.defer_error(Some(id), error);
        self.drop_conn(
            id,
            Some(Lost {
                initiated_locally: false,
            }),
        );
    }

    pub(super) fn handle_client_open(
        &mut self,
        handler: &mut dyn Handler,
        id: ConnId,
        response: crate::proto::handshake::Response,
    ) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let keep = match &conn.origin {
            Origin::Client(link) => link.options.keep_headers.select(&response.headers),
            Origin::Accepted(_) => None,
        };
        let kept = keep.map(|headers| Kept {
            request: None,
            headers: Some(headers),
        });
        conn.details = Details::new(response.subprotocol.as_deref(), kept);
        let peer = conn.socket.as_ref().and_then(|s| s.peer_addr().ok());
        let (path, query) = match &conn.origin {
            Origin::Client(link) => (link.url.path.clone(), link.url.query.clone()),
            Origin::Accepted(_) => (String::from("/"), None),
        };
        self.opened(id);
        self.link_opened(id);
        let info = OpenInfo {
            role: Role::Client,
            listener: None,
            subprotocol: response.subprotocol.as_deref(),
            path: &path,
            query: query.as_deref(),
            headers: &response.headers,
            peer,
            deflate: response.deflate,
        };
        handler.on_open(self, id, &info);
    }
}
