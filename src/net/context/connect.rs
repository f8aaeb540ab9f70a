//! Client connections: parsing the URL, resolving, connecting address after address, failing
//! before open, and the open once the server's response is in.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use mio::net::TcpStream;
use mio::{Interest, Token};

use crate::net::config::ConnectOptions;
use crate::net::error::{Error, Result};
use crate::net::handler::{Handler, OpenInfo};
use crate::net::id::ConnId;
use crate::net::tls::{Stream, TlsClientConfig};
use crate::proto::handshake::url;
use crate::proto::{Endpoint, Role};

use super::{
    ClientLink, Conn, Context, Details, Kept, Lost, Origin, WRITABLE_REGISTERED, millis, reconnect, stamp,
};

impl Context {
    /// Opens a client connection to a `ws://` URL. Returns at once: name resolution runs on a helper
    /// thread, the TCP connect and handshake are non-blocking. `on_open` or (`on_error` then)
    /// `on_close` follows.
    pub fn connect(&mut self, url: &str, mut options: ConnectOptions) -> Result<ConnId> {
        let url = url::parse(url)?;
        options.handshake.deflate = options.deflate;
        let endpoint = Endpoint::client(&url, &options.handshake, options.connection.protocol)?;
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
        self.start_connect(id)?;
        Ok(id)
    }

    /// Sets the handshake deadline, then resolves (on a helper thread unless the host is an IP
    /// literal) and connects: the first connect and every reconnect attempt.
    pub(super) fn start_connect(&mut self, id: ConnId) -> Result<()> {
        let now = self.now();
        let Some(conn) = self.conns.get_mut(id) else {
            return Err(Error::NotFound);
        };
        let Origin::Client(link) = &conn.origin else {
            return Err(Error::NotFound);
        };
        let deadline = now + millis(link.options.connection.handshake_timeout);
        let literal = link
            .url
            .host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| vec![SocketAddr::new(ip, link.url.port)]);
        let host = link.url.host.clone();
        let port = link.url.port;
        conn.deadline = stamp(deadline);
        self.timers.push(deadline, id);
        match literal {
            Some(addrs) => self.resolved(id, Ok(addrs)),
            None => {
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

    fn default_client_tls(&mut self) -> Result<TlsClientConfig> {
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
        let host = link.url.host.clone();
        match result {
            Ok(addrs) if !addrs.is_empty() => {
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
                let _ = self.poll.registry().deregister(old.tcp_mut());
            }
            let Some(&addr) = link.addrs.get(link.next_addr) else {
                let detail = link
                    .last_error
                    .take()
                    .unwrap_or_else(|| "no address accepted".into());
                let msg = format!("{}:{}: {detail}", link.url.host, link.url.port);
                return self.fail_client(id, Error::Connect(msg));
            };
            link.next_addr += 1;
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
            let connected =
                TcpStream::connect(addr).and_then(|tcp| Stream::client(tcp, tls.as_ref(), &link.url.host));
            match connected {
                Ok(mut socket) => {
                    let token = Token(id.index().unwrap_or(0));
                    if let Err(err) = self.poll.registry().register(
                        socket.tcp_mut(),
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
        let peer = conn.socket.as_ref().and_then(|s| s.tcp().peer_addr().ok());
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
