//! Unix domain sockets in the loop: listening on a socket path, connecting to one, and what the
//! application may ask about them. Accepted and connected Unix sockets then go through the same
//! read/write paths as plain TCP (`Stream::Unix`).

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mio::net::TcpListener;
use mio::{Interest, Registry, Token};

use crate::net::config::{ConnectOptions, ListenOptions};
use crate::net::error::{Error, Result};
use crate::net::id::{ConnId, ListenerId};
use crate::net::tls::Stream;
use crate::net::unix::{self, UnixListenOptions, UnixListenSocket};
use crate::proto::handshake::url;

use super::{Context, Deferred, LISTENER_BASE, Listener, Origin, WRITABLE_REGISTERED, not_found};

/// A listening socket: TCP or Unix.
pub(super) enum ListenSocket {
    Tcp(TcpListener),
    Unix(UnixListenSocket),
}

impl ListenSocket {
    /// Accepts one connection: a plain TCP or a Unix stream.
    #[inline]
    pub(super) fn accept(&self) -> io::Result<Stream> {
        match self {
            ListenSocket::Tcp(tcp) => tcp.accept().map(|(stream, _)| Stream::Plain(stream)),
            ListenSocket::Unix(unix) => unix.socket.accept().map(|(stream, _)| Stream::Unix(stream)),
        }
    }

    pub(super) fn deregister(&mut self, registry: &Registry) {
        let _ = match self {
            ListenSocket::Tcp(tcp) => registry.deregister(tcp),
            ListenSocket::Unix(unix) => registry.deregister(&mut unix.socket),
        };
    }

    pub(super) fn local_addr(&self) -> Result<SocketAddr> {
        match self {
            ListenSocket::Tcp(tcp) => Ok(tcp.local_addr()?),
            ListenSocket::Unix(_) => Err(Error::InvalidState(
                "a Unix socket listener has no IP address (see Context::unix_listener_path)",
            )),
        }
    }
}

impl Context {
    /// Starts listening on the Unix domain socket `path` (`@name`: a Linux abstract socket, no
    /// file). The handler's `on_listen_unix` runs at the next `poll`.
    ///
    /// The socket file is created with the mode of `unix` (default: what the umask leaves), set
    /// before any process can connect, and removed when the listener closes
    /// ([`Context::close_listener`], [`Context::begin_shutdown`], dropping the context), if it is
    /// still the file this listener created. An existing path fails with an I/O error ("address in
    /// use") unless [`UnixListenOptions::remove_stale`] is set and it is a socket nobody listens
    /// on. `options.tls` is refused ([`Error::InvalidArgument`]): no TLS over Unix sockets.
    /// `options.reuse_port` is ignored.
    pub fn listen_unix(
        &mut self,
        path: impl AsRef<Path>,
        unix: UnixListenOptions,
        mut options: ListenOptions,
    ) -> Result<ListenerId> {
        let path = path.as_ref();
        if options.tls.is_some() {
            return Err(Error::InvalidArgument(
                "TLS over a Unix socket is not supported (ListenOptions::tls with listen_unix)".into(),
            ));
        }
        super::listen::check_static_dir(&mut options)?;
        let socket = unix::bind(path, &unix, options.backlog)?;
        self.add_listener(ListenSocket::Unix(socket), options, Some(path.to_path_buf()))
    }

    /// Registers a bound listener and queues its listen event.
    pub(super) fn add_listener(
        &mut self,
        mut socket: ListenSocket,
        options: ListenOptions,
        unix_path: Option<PathBuf>,
    ) -> Result<ListenerId> {
        let index = self.listeners.len();
        let token = Token(LISTENER_BASE + index);
        let registry = self.poll.registry();
        match &mut socket {
            ListenSocket::Tcp(tcp) => registry.register(tcp, token, Interest::READABLE)?,
            ListenSocket::Unix(unix) => registry.register(&mut unix.socket, token, Interest::READABLE)?,
        }
        let id = ListenerId(index as u32 + 1);
        match &unix_path {
            Some(path) => self.deferred.push_back(Deferred::ListeningUnix(id, path.clone())),
            None => self
                .deferred
                .push_back(Deferred::Listening(id, socket.local_addr()?)),
        }
        self.listeners.push(Some(Listener {
            socket: Some(socket),
            options,
            active: 0,
            retry_ms: 0,
            backoff_ms: 0,
            unix_path: unix_path.map(PathBuf::into_boxed_path),
        }));
        Ok(id)
    }

    /// The socket path a Unix listener was opened on (as given to [`Context::listen_unix`]).
    /// [`Error::InvalidState`] for a TCP listener, [`Error::NotFound`] for an unknown one.
    pub fn unix_listener_path(&self, listener: ListenerId) -> Result<&Path> {
        let index = (listener.0 as usize).checked_sub(1).ok_or_else(not_found)?;
        let entry = self
            .listeners
            .get(index)
            .and_then(Option::as_ref)
            .ok_or_else(not_found)?;
        entry
            .unix_path
            .as_deref()
            .ok_or(Error::InvalidState("not a Unix socket listener"))
    }

    /// Opens a client connection over the Unix domain socket `socket_path` (`@name`: abstract),
    /// sending the request of the `ws://` `url` (its host goes in `Host`, its path and query in
    /// the request line; e.g. `"ws://localhost/chat"`). [`Context::connect`] with a
    /// `ws+unix:///path/to.sock:/chat` URL does the same with `Host: localhost`. `wss://` is
    /// refused (no TLS over Unix sockets).
    ///
    /// Returns at once; a Unix connect completes or fails immediately, so a missing socket file or
    /// a refused connect (nobody listening) is reported as for TCP: `on_error` with
    /// [`Error::Connect`] naming the path, then `on_close` (1006), at the next `poll`.
    pub fn connect_unix(
        &mut self,
        socket_path: impl AsRef<Path>,
        url: &str,
        options: ConnectOptions,
    ) -> Result<ConnId> {
        let path = socket_path.as_ref();
        unix::sock_addr(path)?;
        let url = url::parse(url)?;
        if url.secure {
            return Err(Error::InvalidArgument(
                "wss:// over a Unix socket is not supported; use ws://".into(),
            ));
        }
        let id = self.new_client(url, options, Some(path.to_path_buf()))?;
        self.start_connect(id)?;
        Ok(id)
    }

    /// Connects a client's Unix socket (its first attempt, and each reconnect attempt): done or
    /// failed at once, reported as for TCP.
    pub(super) fn connect_unix_socket(&mut self, id: ConnId) {
        let Some(path) = self.conns.get(id).and_then(|conn| match &conn.origin {
            Origin::Client(link) => link.unix.clone(),
            _ => None,
        }) else {
            return;
        };
        let stream = match unix::connect(&path) {
            Ok(stream) => stream,
            Err(err) => return self.fail_client(id, err),
        };
        let mut socket = Stream::Unix(stream);
        let token = Token(id.index().unwrap_or(0));
        if let Err(err) = socket.register(
            self.poll.registry(),
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            return self.fail_client(id, Error::Io(err));
        }
        if let Some(conn) = self.conns.get_mut(id) {
            conn.flags |= WRITABLE_REGISTERED;
            conn.socket = socket;
        }
    }

    /// The Unix socket path of a connection: the path a client connected to, or the path of the
    /// listener that accepted it. `Ok(None)` for a TCP connection. (A Unix connection has no IP
    /// address: [`Context::peer_addr`] fails for it with [`Error::InvalidState`].)
    pub fn unix_path(&self, conn: ConnId) -> Result<Option<&Path>> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(match &entry.origin {
            Origin::Client(link) => link.unix.as_deref(),
            Origin::Accepted(index) => self.listeners[*index as usize]
                .as_ref()
                .and_then(|l| l.unix_path.as_deref()),
        })
    }
}
