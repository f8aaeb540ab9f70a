//! Listening sockets: binding, closing, and accepting TCP connections into new slots.

use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};

use mio::net::TcpListener;
use mio::{Interest, Token};

use crate::net::config::ListenOptions;
use crate::net::error::{Error, Result};
use crate::net::id::ListenerId;
use crate::net::tls::Stream;
use crate::proto::Endpoint;

use super::unix::ListenSocket;
use super::{Conn, Context, Listener, Origin, millis, not_found, stamp};

impl Context {
    /// Starts listening on `addr` (e.g. `"127.0.0.1:9001"`, `"[::]:0"`; port 0 picks a free port).
    /// The handler's `on_listen` runs at the next `poll`.
    ///
    /// `addr` goes through [`ToSocketAddrs`]: a host name (`"localhost:9001"`) is resolved here, on
    /// the calling thread, and that may block. Pass a [`SocketAddr`] (or a numeric `"ip:port"`
    /// string) to avoid any resolution.
    ///
    /// A `static_dir` is resolved (symlinks included) here: it must exist.
    pub fn listen(&mut self, addr: impl ToSocketAddrs, mut options: ListenOptions) -> Result<ListenerId> {
        check_static_dir(&mut options)?;
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| Error::InvalidArgument("listen address resolves to nothing".into()))?;
        let socket = bind_listener(addr, &options)?;
        self.add_listener(ListenSocket::Tcp(TcpListener::from_std(socket)), options, None)
    }

    /// The address a listener is bound to.
    pub fn local_addr(&self, listener: ListenerId) -> Result<SocketAddr> {
        let socket = self.listener(listener)?.socket.as_ref().ok_or_else(not_found)?;
        socket.local_addr()
    }

    /// Stops accepting on a listener. Its open connections stay open.
    pub fn close_listener(&mut self, listener: ListenerId) -> Result<()> {
        let index = (listener.0 as usize).checked_sub(1).ok_or_else(not_found)?;
        let entry = self
            .listeners
            .get_mut(index)
            .and_then(Option::as_mut)
            .ok_or_else(not_found)?;
        let mut socket = entry.socket.take().ok_or_else(not_found)?;
        socket.deregister(self.poll.registry());
        Ok(())
    }

    fn listener(&self, listener: ListenerId) -> Result<&Listener> {
        let index = (listener.0 as usize).checked_sub(1).ok_or_else(not_found)?;
        self.listeners
            .get(index)
            .and_then(Option::as_ref)
            .ok_or_else(not_found)
    }

    /// Accepts every pending connection of listener `index`.
    ///
    /// When `accept` runs out of file descriptors or kernel memory (EMFILE, ENFILE, ENOBUFS,
    /// ENOMEM), the connections wait in the kernel's backlog, and the listener's readiness
    /// (edge-triggered) will not fire again until another connection arrives. So the listener backs
    /// off: it tries again on a timer, after 10 ms, doubling up to 1 s while the shortage lasts
    /// (never a busy loop), and reports the shortage once to `on_error` (`conn` = `None`,
    /// [`Error::Io`]) when it starts; the next accept that succeeds ends it.
    pub(super) fn accept_ready(&mut self, index: usize) {
        loop {
            let Some(Some(listener)) = self.listeners.get_mut(index) else {
                return;
            };
            if listener.retry_ms != 0 {
                return; // backing off: the retry timer calls again
            }
            let Some(socket) = listener.socket.as_ref() else {
                return;
            };
            let mut stream = match socket.accept() {
                Ok(pair) => pair,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) if is_resource_shortage(&err) => {
                    let first = listener.backoff_ms == 0;
                    let backoff = listener
                        .backoff_ms
                        .clamp(ACCEPT_BACKOFF_MIN_MS, ACCEPT_BACKOFF_MAX_MS);
                    listener.backoff_ms = (backoff * 2).min(ACCEPT_BACKOFF_MAX_MS);
                    listener.retry_ms = self.now_ms + backoff;
                    self.accept_retry_ms = match self.accept_retry_ms {
                        0 => self.now_ms + backoff,
                        at => at.min(self.now_ms + backoff),
                    };
                    if first {
                        self.defer_error(None, Error::Io(err));
                    }
                    return;
                }
                // ECONNABORTED and the like: that connection is gone; accept the next.
                Err(_) => continue,
            };
            // The shortage (if any) is over.
            listener.backoff_ms = 0;
            if listener.active >= listener.options.max_connections {
                let _ = stream.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                stream.shutdown(Shutdown::Both);
                continue;
            }
            stream.set_nodelay();
            listener.active += 1;
            let endpoint = Endpoint::server_with_http(
                listener.options.request_limits,
                listener.options.max_http_body,
                listener.options.connection.protocol,
            );
            let deadline = self.now_ms + millis(listener.options.connection.handshake_timeout);
            let now = self.now_ms;
            let id = self.conns.insert_with(|_| Conn {
                socket: Stream::None,
                endpoint,
                origin: Origin::Accepted(index as u32),
                user_data: 0,
                deadline: stamp(deadline),
                last_read_ms: now as u32,
                last_message_ms: now as u32,
                details: None,
                flags: 0,
                flow: 0,
            });
            let token = Token(id.index().unwrap_or(0));
            if stream
                .register(self.poll.registry(), token, Interest::READABLE)
                .is_err()
            {
                self.drop_conn(id, None);
                continue;
            }
            let tls = self.listeners[index]
                .as_ref()
                .and_then(|l| l.options.tls.as_ref());
            match stream.server(tls) {
                Ok(stream) => {
                    if let Some(conn) = self.conns.get_mut(id) {
                        conn.socket = stream;
                    }
                }
                Err(_) => {
                    self.drop_conn(id, None);
                    continue;
                }
            }
            self.timers.push(deadline, id);
        }
    }

    /// The accept retry timer is due: listeners whose back-off ended try again.
    pub(super) fn retry_accepts(&mut self) {
        let now = self.now_ms;
        for index in 0..self.listeners.len() {
            if let Some(Some(listener)) = self.listeners.get_mut(index) {
                if listener.retry_ms != 0 && listener.retry_ms <= now {
                    listener.retry_ms = 0;
                    self.accept_ready(index);
                }
            }
        }
        self.accept_retry_ms = self
            .listeners
            .iter()
            .flatten()
            .map(|l| l.retry_ms)
            .filter(|&at| at != 0)
            .min()
            .unwrap_or(0);
    }
}

/// Resolves a listener's `static_dir` (symlinks included): it must exist.
pub(super) fn check_static_dir(options: &mut ListenOptions) -> Result<()> {
    if let Some(dir) = &options.static_dir {
        let root = dir
            .canonicalize()
            .map_err(|err| Error::InvalidArgument(format!("static_dir '{}': {err}", dir.display())))?;
        if !root.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "static_dir '{}' is not a directory",
                dir.display()
            )));
        }
        options.static_dir = Some(root);
    }
    Ok(())
}

/// First and longest wait before `accept` is tried again after a resource shortage.
const ACCEPT_BACKOFF_MIN_MS: u64 = 10;
const ACCEPT_BACKOFF_MAX_MS: u64 = 1000;

/// EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection is still in the backlog; retrying at once would
/// fail the same way.
fn is_resource_shortage(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

fn bind_listener(addr: SocketAddr, options: &ListenOptions) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if options.reuse_port {
        socket.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        // "[::]:port" serves IPv6 only; listen on "0.0.0.0:port" too for IPv4.
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(options.backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}
