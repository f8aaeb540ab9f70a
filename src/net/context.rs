//! The event loop: one `mio::Poll`, its listeners and connections.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::config::{ConnectOptions, ConnectionOptions, ContextOptions, ListenOptions};
use super::error::{Error, Result};
use super::handler::{AcceptRequest, Decision, Fragment, Handler, Message, OpenInfo};
use super::id::{ConnId, ListenerId, Slab};
use super::remote::{Command, Inbox, Remote, Shared};
use super::timers::Timers;
use super::tls::{Stream, TlsClientConfig, describe as describe_tls, tls_failure};
use super::trace::{Direction, TraceEvent, Tracer};
use crate::proto::handshake::{AcceptOptions, WsUrl, url};
use crate::proto::{
    CloseInfo, Endpoint, Event, MessageKind, OutputBuffer, RawEndpointEvent, Role, Sender, State, close,
};

const WAKER: Token = Token(usize::MAX);
/// Drained send buffers kept for reuse (at most this many, each at most this large).
const BUFFER_POOL_SIZE: usize = 64;
const BUFFER_POOL_MAX_CAPACITY: usize = 1 << 20;
const LISTENER_BASE: usize = 1 << 40;

/// An event loop: owns one `mio::Poll`, any number of listeners and connections, one shared read
/// buffer, the timers and the cross-thread inbox.
///
/// # Threads
/// A `Context` is `Send` but not `Sync`: use it from one thread at a time (the loop thread). Other
/// threads use a [`Remote`] (from [`Context::remote`]).
///
/// # Driving it
/// Call [`Context::poll`] with a [`Handler`]. A timeout of zero never blocks (a game calls it once per
/// frame); otherwise it waits for I/O, a timer ([`Context::next_timeout`]) or a wake-up. Hosts with
/// their own epoll/select loop wait on [`Context::fd`] and call `poll` with a zero timeout when it is
/// readable. Sends made outside `poll` are written at the next `poll` (or by [`Context::flush`]);
/// everything queued during a `poll` is written before it returns.
pub struct Context {
    poll: Poll,
    events: Events,
    shared: Arc<Shared>,
    listeners: Vec<Option<Listener>>,
    conns: Slab<Conn>,
    read_buf: Vec<u8>,
    timers: Timers,
    /// Connections with output to write.
    dirty: Vec<ConnId>,
    /// Events produced outside a handler (or for later in this poll), delivered in order.
    deferred: VecDeque<Deferred>,
    /// Timer entries known to be stale since the last clean-up (see `opened`).
    stale_timers: usize,
    /// Drained send buffers, reused by the next send of any connection. Boxed as the senders hold
    /// them, so handing one over moves a pointer and allocates nothing.
    #[allow(clippy::vec_box)]
    buffer_pool: Vec<Box<OutputBuffer>>,
    /// Connections whose socket may hold data not read because the handler asked to pause.
    unread: Vec<ConnId>,
    /// Readiness taken from `events`, reused between polls.
    ready: Vec<Readiness>,
    start: Instant,
    now_ms: u64,
    in_poll: bool,
    /// Client TLS configuration from the system trust store, loaded on the first wss:// connect.
    system_tls: Option<TlsClientConfig>,
    tracer: Option<Box<dyn Tracer>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("listeners", &self.listeners.iter().flatten().count())
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

struct Listener {
    socket: Option<TcpListener>,
    options: ListenOptions,
    active: usize,
}

/// One connection. Kept small: the handshake state and client setup are boxed and dropped once open.
struct Conn {
    socket: Stream,
    endpoint: Endpoint,
    origin: Origin,
    user_data: u64,
    deadline_ms: u64,
    /// When data last arrived, in ms since the context started (wraps after 49 days; only compared
    /// with wrapping arithmetic over ping intervals).
    last_read_ms: u32,
    /// The negotiated subprotocol; boxed twice so connections without one pay 8 bytes.
    #[allow(clippy::redundant_allocation)]
    subprotocol: Option<Box<Box<str>>>,
    flags: u8,
}

enum Origin {
    Accepted(u32),
    Client(Box<ClientLink>),
}

struct ClientLink {
    url: WsUrl,
    options: ConnectOptions,
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    connected: bool,
    last_error: Option<String>,
}

const WRITABLE_REGISTERED: u8 = 1;
const DIRTY: u8 = 2;
const WANTS_WRITABLE: u8 = 4;
const CLOSE_REPORTED: u8 = 8;
const AWAITING_PONG: u8 = 16;
const AWAITING_EOF: u8 = 32;

impl Conn {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// How to report a connection dropped without a closing handshake: 1006, not clean.
#[derive(Clone, Copy)]
struct Lost {
    /// This end dropped it (abort, timeout) rather than the peer or the network.
    initiated_locally: bool,
}

/// One event of a poll, copied out of `events` so handlers can run while it is walked.
#[derive(Clone, Copy)]
struct Readiness {
    token: Token,
    readable: bool,
    writable: bool,
    /// The peer closed its side or the socket failed: read until the end, however short a read.
    read_closed: bool,
}

/// How far `Context::readable` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drain {
    /// Until the socket would block or ends.
    Fully,
    /// Until a read comes back shorter than the buffer (see `Context::readable`).
    UntilShortRead,
}

enum Deferred {
    Listening(ListenerId, SocketAddr),
    Error(Option<ConnId>, Error),
    Closed(ConnId, u16, String, bool, bool),
    Writable(ConnId),
}

impl Context {
    /// A context with default options.
    pub fn new() -> Result<Self> {
        Self::with_options(ContextOptions::default())
    }

    /// A context with the given options.
    pub fn with_options(options: ContextOptions) -> Result<Self> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        Ok(Self {
            poll,
            events: Events::with_capacity(options.events_capacity.max(16)),
            shared: Arc::new(Shared {
                waker,
                inbox: Mutex::new(Inbox::default()),
            }),
            listeners: Vec::new(),
            conns: Slab::new(),
            read_buf: vec![0; options.read_buffer_size.max(4096)],
            timers: Timers::default(),
            dirty: Vec::new(),
            deferred: VecDeque::new(),
            stale_timers: 0,
            buffer_pool: Vec::new(),
            unread: Vec::new(),
            ready: Vec::new(),
            start: Instant::now(),
            now_ms: 0,
            in_poll: false,
            system_tls: None,
            tracer: None,
        })
    }

    /// A handle for other threads (see [`Remote`]).
    pub fn remote(&self) -> Remote {
        Remote {
            shared: self.shared.clone(),
        }
    }

    /// The file descriptor of the poll (epoll) instance: readable when `poll` has work to do.
    #[cfg(unix)]
    pub fn fd(&self) -> std::os::unix::io::RawFd {
        use std::os::unix::io::AsRawFd;
        self.poll.as_raw_fd()
    }

    /// Installs a tracer that sees handshakes and frame headers (see [`Tracer`]); `None` removes it.
    /// Without one, tracing costs nothing.
    pub fn set_tracer(&mut self, tracer: Option<Box<dyn Tracer>>) {
        let enabled = tracer.is_some();
        self.tracer = tracer;
        for id in self.conns.ids() {
            if let Some(connection) = self.conns.get_mut(id).and_then(|c| c.endpoint.connection()) {
                connection.set_frame_log(enabled);
            }
        }
    }

    /// Hands recorded frame headers of `id` to the tracer.
    fn drain_frame_log(&mut self, id: ConnId) {
        let Some(tracer) = self.tracer.as_mut() else {
            return;
        };
        let Some(connection) = self.conns.get_mut(id).and_then(|c| c.endpoint.connection()) else {
            return;
        };
        for record in connection.take_frame_log() {
            let direction = if record.sent {
                Direction::Sent
            } else {
                Direction::Received
            };
            let h = record.header;
            let event = TraceEvent::Frame {
                direction,
                opcode: h.opcode,
                fin: h.fin,
                rsv: h.rsv,
                len: h.payload_len,
            };
            tracer.trace(id, &event);
        }
    }

    /// How long the host may sleep before `poll` has timer work: `None` when no timer is set,
    /// zero when work is pending now.
    pub fn next_timeout(&self) -> Option<Duration> {
        if !self.deferred.is_empty() || !self.dirty.is_empty() || !self.unread.is_empty() {
            return Some(Duration::ZERO);
        }
        let deadline = self.timers.next_deadline()?;
        let now = self.start.elapsed().as_millis() as u64;
        Some(Duration::from_millis(deadline.saturating_sub(now)))
    }

    /// Timer entries held, live and not yet cleaned up (for memory diagnostics: stale handshake
    /// deadlines are dropped once they are most of the heap).
    pub fn timer_entries(&self) -> usize {
        self.timers.len()
    }

    /// Number of connections (in any state).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    // ----- listeners -------------------------------------------------------------------------

    /// Starts listening on `addr` (e.g. `"127.0.0.1:9001"`, `"[::]:0"`; port 0 picks a free port).
    /// The handler's `on_listen` runs at the next `poll`.
    pub fn listen(&mut self, addr: impl ToSocketAddrs, options: ListenOptions) -> Result<ListenerId> {
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| Error::InvalidArgument("listen address resolves to nothing".into()))?;
        let socket = bind_listener(addr, &options)?;
        let mut socket = TcpListener::from_std(socket);
        let local = socket.local_addr()?;
        let index = self.listeners.len();
        self.poll
            .registry()
            .register(&mut socket, Token(LISTENER_BASE + index), Interest::READABLE)?;
        self.listeners.push(Some(Listener {
            socket: Some(socket),
            options,
            active: 0,
        }));
        let id = ListenerId(index as u32 + 1);
        self.deferred.push_back(Deferred::Listening(id, local));
        Ok(id)
    }

    /// The address a listener is bound to.
    pub fn local_addr(&self, listener: ListenerId) -> Result<SocketAddr> {
        let socket = self.listener(listener)?.socket.as_ref().ok_or_else(not_found)?;
        Ok(socket.local_addr()?)
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
        let _ = self.poll.registry().deregister(&mut socket);
        Ok(())
    }

    fn listener(&self, listener: ListenerId) -> Result<&Listener> {
        let index = (listener.0 as usize).checked_sub(1).ok_or_else(not_found)?;
        self.listeners
            .get(index)
            .and_then(Option::as_ref)
            .ok_or_else(not_found)
    }

    // ----- clients ---------------------------------------------------------------------------

    /// Opens a client connection to a `ws://` URL. Returns at once: name resolution runs on a helper
    /// thread, the TCP connect and handshake are non-blocking. `on_open` or (`on_error` then)
    /// `on_close` follows.
    pub fn connect(&mut self, url: &str, options: ConnectOptions) -> Result<ConnId> {
        let url = url::parse(url)?;
        let endpoint = Endpoint::client(&url, &options.handshake, options.connection.protocol)?;
        let now = self.now();
        let deadline = now + millis(options.connection.handshake_timeout);
        let literal = url
            .host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| vec![SocketAddr::new(ip, url.port)]);
        let host = url.host.clone();
        let port = url.port;
        let link = ClientLink {
            url,
            options,
            addrs: Vec::new(),
            next_addr: 0,
            connected: false,
            last_error: None,
        };
        let id = self.conns.insert_with(|_| Conn {
            socket: Stream::None,
            endpoint,
            origin: Origin::Client(Box::new(link)),
            user_data: 0,
            deadline_ms: deadline,
            last_read_ms: now as u32,
            subprotocol: None,
            flags: 0,
        });
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
        Ok(id)
    }

    fn default_client_tls(&mut self) -> Result<TlsClientConfig> {
        if self.system_tls.is_none() {
            self.system_tls = Some(TlsClientConfig::system_roots()?);
        }
        Ok(self.system_tls.clone().expect("just set"))
    }

    fn resolved(&mut self, id: ConnId, result: io::Result<Vec<SocketAddr>>) {
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
    fn connect_next(&mut self, id: ConnId) {
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
    fn fail_client(&mut self, id: ConnId, error: Error) {
        self.deferred.push_back(Deferred::Error(Some(id), error));
        self.drop_conn(
            id,
            Some(Lost {
                initiated_locally: false,
            }),
        );
    }

    // ----- per-connection calls ----------------------------------------------------------------

    /// Queues a text message (not validated again: a `&str` is UTF-8). See [`Context::send`].
    #[inline]
    pub fn send_text(&mut self, conn: ConnId, text: &str) -> Result<()> {
        self.with_sender(conn, text.len(), true, |sender| sender.send_text(text))
    }

    /// Queues a binary message. See [`Context::send`].
    pub fn send_binary(&mut self, conn: ConnId, data: &[u8]) -> Result<()> {
        self.send(conn, MessageKind::Binary, data)
    }

    /// Queues a whole message (text must be UTF-8). Fails with [`Error::WouldBlock`] when the
    /// connection's queue is at `max_buffered` (wait for `on_writable`), [`Error::InvalidState`]
    /// before the connection opened, [`Error::Send`] after a close was sent, [`Error::NotFound`] for
    /// a closed or unknown id.
    #[inline]
    pub fn send(&mut self, conn: ConnId, kind: MessageKind, data: &[u8]) -> Result<()> {
        self.with_sender(conn, data.len(), true, |sender| sender.send_message(kind, data))
    }

    /// Begins a fragmented message of unknown total length (see [`Sender::begin_message`]).
    pub fn begin_message(&mut self, conn: ConnId, kind: MessageKind, data: &[u8]) -> Result<()> {
        self.with_sender(conn, data.len(), true, |sender| sender.begin_message(kind, data))
    }

    /// Sends the next fragment of the message begun with [`Context::begin_message`].
    pub fn continue_message(&mut self, conn: ConnId, data: &[u8]) -> Result<()> {
        self.with_sender(conn, data.len(), true, |sender| sender.continue_message(data))
    }

    /// Sends the last fragment of the message begun with [`Context::begin_message`].
    pub fn finish_message(&mut self, conn: ConnId, data: &[u8]) -> Result<()> {
        self.with_sender(conn, data.len(), true, |sender| sender.finish_message(data))
    }

    /// Queues a ping (payload at most 125 bytes). Control frames ignore `max_buffered`.
    pub fn ping(&mut self, conn: ConnId, payload: &[u8]) -> Result<()> {
        self.with_sender(conn, payload.len(), false, |sender| sender.ping(payload))
    }

    /// Queues an unsolicited pong.
    pub fn pong(&mut self, conn: ConnId, payload: &[u8]) -> Result<()> {
        self.with_sender(conn, payload.len(), false, |sender| sender.pong(payload))
    }

    /// Starts the closing handshake with `code` and `reason`. The `on_close` handler runs when the
    /// peer answers, or after `close_timeout`. Before the connection opened, the connection is
    /// dropped instead (a client's connect is cancelled) and `on_close` reports 1006.
    pub fn close(&mut self, conn: ConnId, code: u16, reason: &str) -> Result<()> {
        let now = self.now();
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        let Some(connection) = entry.endpoint.connection() else {
            self.abort(conn)?;
            return Ok(());
        };
        connection.close(code, reason)?;
        let timeout = match &entry.origin {
            Origin::Accepted(index) => self.listeners[*index as usize]
                .as_ref()
                .map_or(Duration::from_secs(5), |l| l.options.connection.close_timeout),
            Origin::Client(link) => link.options.connection.close_timeout,
        };
        entry.deadline_ms = now + millis(timeout);
        self.timers.push(entry.deadline_ms, conn);
        self.mark_dirty(conn);
        Ok(())
    }

    /// Drops the connection at once, without a closing handshake. `on_close` reports 1006 (not
    /// clean) at the next `poll` if the connection had been reported open. The id is invalid after.
    pub fn abort(&mut self, conn: ConnId) -> Result<()> {
        if self.conns.get(conn).is_none() {
            return Err(Error::NotFound);
        }
        self.drop_conn(
            conn,
            Some(Lost {
                initiated_locally: true,
            }),
        );
        Ok(())
    }

    /// Bytes queued for sending and not yet taken by the socket (the browser's `bufferedAmount`).
    pub fn buffered_amount(&self, conn: ConnId) -> Result<usize> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(entry.endpoint.output().len())
    }

    /// Attaches a value to the connection (e.g. an index into the host's own tables).
    pub fn set_user_data(&mut self, conn: ConnId, value: u64) -> Result<()> {
        self.conns.get_mut(conn).ok_or_else(not_found)?.user_data = value;
        Ok(())
    }

    /// The value set by [`Context::set_user_data`] (0 by default).
    pub fn user_data(&self, conn: ConnId) -> Result<u64> {
        Ok(self.conns.get(conn).ok_or_else(not_found)?.user_data)
    }

    /// The negotiated subprotocol, once open.
    pub fn subprotocol(&self, conn: ConnId) -> Result<Option<&str>> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(entry.subprotocol.as_deref().map(|s| &**s))
    }

    /// The peer's address.
    pub fn peer_addr(&self, conn: ConnId) -> Result<SocketAddr> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        let socket = entry
            .socket
            .as_ref()
            .ok_or(Error::InvalidState("not connected yet"))?;
        Ok(socket.tcp().peer_addr()?)
    }

    /// True once the connection's handshake completed (until it is closed).
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.conns
            .get(conn)
            .is_some_and(|c| c.endpoint.is_open() && !c.has(CLOSE_REPORTED))
    }

    /// Runs `send` on the connection's sender and schedules the write. One slot lookup: sending is
    /// the hot path of every echo, chat or game server.
    #[inline]
    fn with_sender(
        &mut self,
        conn: ConnId,
        size: usize,
        capped: bool,
        send: impl FnOnce(&mut Sender) -> std::result::Result<(), crate::proto::SendError>,
    ) -> Result<()> {
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        let max_buffered = match &entry.origin {
            Origin::Accepted(index) => {
                self.listeners[*index as usize]
                    .as_ref()
                    .expect("listeners are never removed")
                    .options
                    .connection
                    .max_buffered
            }
            Origin::Client(link) => link.options.connection.max_buffered,
        };
        let Some(connection) = entry.endpoint.connection() else {
            return Err(Error::InvalidState("the connection is not open yet"));
        };
        let sender = connection.sender();
        if sender.capacity() == 0 {
            if let Some(buf) = self.buffer_pool.pop() {
                sender.give_buffer(buf);
            }
        }
        let buffered = sender.buffered_amount();
        if capped && buffered > 0 && buffered.saturating_add(size) > max_buffered {
            entry.flags |= WANTS_WRITABLE;
            return Err(Error::WouldBlock);
        }
        send(sender)?;
        if !entry.has(DIRTY) {
            entry.flags |= DIRTY;
            self.dirty.push(conn);
        }
        Ok(())
    }

    fn options_of(&self, conn: ConnId) -> Result<&ConnectionOptions> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(self.conn_options(entry))
    }

    fn conn_options<'a>(&'a self, entry: &'a Conn) -> &'a ConnectionOptions {
        match &entry.origin {
            Origin::Accepted(index) => {
                &self.listeners[*index as usize]
                    .as_ref()
                    .expect("listeners are never removed")
                    .options
                    .connection
            }
            Origin::Client(link) => &link.options.connection,
        }
    }

    fn mark_dirty(&mut self, conn: ConnId) {
        if let Some(entry) = self.conns.get_mut(conn) {
            if !entry.has(DIRTY) {
                entry.flags |= DIRTY;
                self.dirty.push(conn);
            }
        }
    }

    fn now(&mut self) -> u64 {
        self.now_ms = self.start.elapsed().as_millis() as u64;
        self.now_ms
    }

    // ----- the loop -----------------------------------------------------------------------------

    /// Performs all ready I/O, fires due timers and delivers events to `handler`, waiting up to
    /// `timeout` for something to happen (`None` = until something happens, zero = never block).
    /// Everything sent during the call is written before it returns. Returns the number of events
    /// delivered. Calling it from inside a handler of the same context fails with
    /// [`Error::Reentrant`].
    pub fn poll(&mut self, handler: &mut dyn Handler, timeout: Option<Duration>) -> Result<usize> {
        if self.in_poll {
            return Err(Error::Reentrant);
        }
        self.in_poll = true;
        let result = self.poll_inner(handler, timeout);
        self.in_poll = false;
        result
    }

    /// Polls until [`Remote::stop`] is called or `handler` calls [`Context::stop`]... or until there
    /// is nothing left to do (no listener, no connection).
    pub fn run(&mut self, handler: &mut dyn Handler) -> Result<()> {
        loop {
            self.poll(handler, None)?;
            let mut inbox = self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner());
            if std::mem::take(&mut inbox.stop) {
                return Ok(());
            }
            drop(inbox);
            if self.conns.len() == 0 && self.listeners.iter().flatten().all(|l| l.socket.is_none()) {
                return Ok(());
            }
        }
    }

    /// Makes [`Context::run`] return after the current iteration.
    pub fn stop(&self) {
        self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        let _ = self.shared.waker.wake();
    }

    /// Writes what sends outside `poll` queued. Events this causes (a failed write) are delivered
    /// at the next `poll`.
    pub fn flush(&mut self) {
        self.flush_dirty();
    }

    fn poll_inner(&mut self, handler: &mut dyn Handler, timeout: Option<Duration>) -> Result<usize> {
        let mut delivered = 0;
        self.now();
        self.flush_dirty();
        delivered += self.deliver_deferred(handler);
        let wait = if self.deferred.is_empty() && self.dirty.is_empty() && self.unread.is_empty() {
            let timer = self
                .timers
                .next_deadline()
                .map(|d| Duration::from_millis(d.saturating_sub(self.now_ms)));
            match (timeout, timer) {
                (Some(t), Some(d)) => Some(t.min(d)),
                (None, Some(d)) => Some(d),
                (t, None) => t,
            }
        } else {
            Some(Duration::ZERO)
        };
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err.into()),
        }
        self.now();
        for id in std::mem::take(&mut self.unread) {
            delivered += self.readable(handler, id, Drain::Fully);
        }
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| Readiness {
            token: e.token(),
            readable: e.is_readable() || e.is_read_closed() || e.is_error(),
            writable: e.is_writable() || e.is_error(),
            read_closed: e.is_read_closed() || e.is_error(),
        }));
        for event in &ready {
            match event.token {
                WAKER => self.drain_inbox(),
                Token(t) if t >= LISTENER_BASE => self.accept_ready(t - LISTENER_BASE),
                Token(index) => {
                    let Some(id) = self.conns.id_at(index) else {
                        continue;
                    };
                    if event.writable {
                        self.writable(id);
                    }
                    if event.readable {
                        let drain = if event.read_closed {
                            Drain::Fully
                        } else {
                            Drain::UntilShortRead
                        };
                        delivered += self.readable(handler, id, drain);
                    }
                }
            }
            delivered += self.deliver_deferred(handler);
        }
        self.ready = ready;
        delivered += self.fire_timers(handler);
        // Handlers may send while others are handled: write until nothing new is queued.
        loop {
            self.flush_dirty();
            let more = self.deliver_deferred(handler);
            delivered += more;
            if more == 0 && self.dirty.is_empty() {
                break;
            }
        }
        Ok(delivered)
    }

    fn deliver_deferred(&mut self, handler: &mut dyn Handler) -> usize {
        let mut count = 0;
        while let Some(event) = self.deferred.pop_front() {
            count += 1;
            match event {
                Deferred::Listening(id, addr) => handler.on_listen(self, id, addr),
                Deferred::Error(conn, error) => handler.on_error(self, conn, &error),
                Deferred::Closed(conn, code, reason, clean, initiated_locally) => {
                    let info = CloseInfo {
                        code,
                        reason: &reason,
                        clean,
                        initiated_locally,
                    };
                    handler.on_close(self, conn, &info);
                }
                Deferred::Writable(conn) => {
                    if self.conns.get(conn).is_some() {
                        handler.on_writable(self, conn);
                    }
                }
            }
        }
        count
    }

    fn drain_inbox(&mut self) {
        let (commands, resolved) = {
            let mut inbox = self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner());
            inbox.queued_bytes = 0;
            (
                std::mem::take(&mut inbox.commands),
                std::mem::take(&mut inbox.resolved),
            )
        };
        for (id, result) in resolved {
            self.resolved(id, result);
        }
        for command in commands {
            let (conn, result) = match command {
                Command::Send(conn, kind, data) => (
                    conn,
                    self.with_sender(conn, data.len(), false, |s| s.send_message(kind, &data)),
                ),
                Command::Ping(conn, data) => (conn, self.ping(conn, &data)),
                Command::Close(conn, code, reason) => (conn, self.close(conn, code, &reason)),
            };
            if let Err(error) = result {
                self.deferred.push_back(Deferred::Error(Some(conn), error));
            }
        }
    }

    // ----- accepting -----------------------------------------------------------------------------

    fn accept_ready(&mut self, index: usize) {
        loop {
            let Some(Some(listener)) = self.listeners.get_mut(index) else {
                return;
            };
            let Some(socket) = listener.socket.as_ref() else {
                return;
            };
            let (mut stream, _peer) = match socket.accept() {
                Ok(pair) => pair,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    // ECONNABORTED and the like: skip this connection. EMFILE: report and stop.
                    if matches!(err.raw_os_error(), Some(libc_emfile) if libc_emfile == 24 || libc_emfile == 23)
                    {
                        self.deferred.push_back(Deferred::Error(None, Error::Io(err)));
                        return;
                    }
                    continue;
                }
            };
            if listener.active >= listener.options.max_connections {
                let _ = stream.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let _ = stream.shutdown(Shutdown::Both);
                continue;
            }
            let _ = stream.set_nodelay(true);
            listener.active += 1;
            let endpoint = Endpoint::server(
                listener.options.request_limits,
                listener.options.connection.protocol,
            );
            let deadline = self.now_ms + millis(listener.options.connection.handshake_timeout);
            let now = self.now_ms;
            let id = self.conns.insert_with(|_| Conn {
                socket: Stream::None,
                endpoint,
                origin: Origin::Accepted(index as u32),
                user_data: 0,
                deadline_ms: deadline,
                last_read_ms: now as u32,
                subprotocol: None,
                flags: 0,
            });
            let token = Token(id.index().unwrap_or(0));
            if self
                .poll
                .registry()
                .register(&mut stream, token, Interest::READABLE)
                .is_err()
            {
                self.drop_conn(id, None);
                continue;
            }
            let tls = self.listeners[index]
                .as_ref()
                .and_then(|l| l.options.tls.as_ref());
            match Stream::server(stream, tls) {
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

    // ----- reading -------------------------------------------------------------------------------

    /// Reads and processes what the socket holds. Readiness is edge-triggered, so the socket must
    /// be left empty; but a plain TCP read that returns less than asked for already emptied the
    /// receive queue, and data arriving later raises a new edge. Stopping there (`UntilShortRead`,
    /// as nginx does) saves the read that would only say "would block": a third of the system calls
    /// of a small echo. Not for TLS (rustls buffers records, so a short plaintext read says nothing
    /// about the socket) and not once the peer closed its side (its FIN raises no new edge).
    fn readable(&mut self, handler: &mut dyn Handler, id: ConnId, drain: Drain) -> usize {
        let mut buf = std::mem::take(&mut self.read_buf);
        let mut delivered = 0;
        while let Some(conn) = self.conns.get_mut(id) {
            if handler.should_pause() {
                // Edge-triggered readiness: remember that this socket may hold unread data.
                self.unread.push(id);
                break;
            }
            let Some(socket) = conn.socket.as_mut() else { break };
            if let Origin::Client(link) = &conn.origin {
                if !link.connected {
                    break; // wait for the connect to complete (writable)
                }
            }
            match socket.read(&mut buf) {
                Ok(0) => {
                    self.peer_closed(id, None);
                    break;
                }
                Ok(n) => {
                    let drained = drain == Drain::UntilShortRead && n < buf.len() && socket.is_plain();
                    conn.last_read_ms = self.now_ms as u32;
                    conn.flags &= !AWAITING_PONG;
                    if socket.wants_write() {
                        self.mark_dirty(id);
                    }
                    let (count, alive) = self.process_input(handler, id, &mut buf[..n]);
                    delivered += count;
                    if !alive || drained {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    // The TLS handshake may have produced records to send.
                    if socket.wants_write() {
                        self.mark_dirty(id);
                    }
                    break;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    self.peer_closed(id, Some(err));
                    break;
                }
            }
        }
        self.read_buf = buf;
        delivered
    }

    /// Decodes `input` and delivers its events. Returns the event count and whether the connection
    /// is still there to read from.
    fn process_input(&mut self, handler: &mut dyn Handler, id: ConnId, input: &mut [u8]) -> (usize, bool) {
        let mut pos = 0;
        let mut delivered = 0;
        loop {
            let Some(conn) = self.conns.get_mut(id) else {
                return (delivered, false);
            };
            // The steady state, kept lean: an open connection, nothing to trace, a whole message.
            // Everything else (and the message of a traced connection) takes the general path.
            if self.tracer.is_none() {
                if let Some((used, event)) = conn
                    .endpoint
                    .connection()
                    .and_then(|connection| connection.read_message(&mut input[pos..]))
                {
                    pos += used;
                    delivered += 1;
                    self.deliver(handler, id, event);
                    continue;
                }
            }
            let was_open = conn.endpoint.is_open();
            if self.tracer.is_some() && !was_open {
                if let Some(tracer) = self.tracer.as_mut() {
                    tracer.trace(
                        id,
                        &TraceEvent::Handshake {
                            direction: Direction::Received,
                            bytes: &input[pos..],
                        },
                    );
                }
            }
            let conn = self.conns.get_mut(id).expect("checked above");
            let step = conn.endpoint.read_event(&mut input[pos..]);
            let base = pos;
            pos += step.consumed;
            let Some(event) = step.event else {
                if !conn.endpoint.output().is_empty() {
                    self.mark_dirty(id);
                }
                return (delivered, true);
            };
            if !conn.endpoint.output().is_empty() {
                self.mark_dirty(id);
            }
            delivered += 1;
            if self.tracer.is_some() {
                self.drain_frame_log(id);
            }
            match event {
                RawEndpointEvent::Request => self.handle_request(handler, id),
                RawEndpointEvent::Open(response) => self.handle_client_open(handler, id, response),
                RawEndpointEvent::HandshakeFailed(err) => {
                    self.mark_dirty(id);
                    if matches!(self.conns.get(id).map(|c| &c.origin), Some(Origin::Client(_))) {
                        self.fail_client(id, Error::Handshake(err));
                    }
                    return (delivered, false);
                }
                RawEndpointEvent::Message(raw) => {
                    // SAFETY: `raw` was decoded by `read_event` from `input[base..]`, which nothing has
                    // written since: the buffer is owned by this call chain, not by the context.
                    let event = unsafe { raw.event_unchecked(&input[base..]) };
                    self.deliver(handler, id, event);
                    if let Some(connection) = self.conns.get_mut(id).and_then(|c| c.endpoint.connection()) {
                        connection.recycle(raw);
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn deliver(&mut self, handler: &mut dyn Handler, id: ConnId, event: Event<'_>) {
        match event {
            Event::Text(text) => handler.on_message(self, id, Message::Text(text)),
            Event::Binary(data) => handler.on_message(self, id, Message::Binary(data)),
            Event::Fragment {
                kind,
                data,
                first,
                last,
            } => handler.on_fragment(
                self,
                id,
                Fragment {
                    kind,
                    data,
                    first,
                    last,
                },
            ),
            Event::Ping(payload) => {
                self.mark_dirty(id);
                handler.on_ping(self, id, payload)
            }
            Event::Pong(payload) => handler.on_pong(self, id, payload),
            Event::Error(err) => {
                self.mark_dirty(id);
                handler.on_error(self, Some(id), &Error::Protocol(err))
            }
            Event::Closed(info) => {
                let Some(conn) = self.conns.get_mut(id) else {
                    return;
                };
                if conn.has(CLOSE_REPORTED) {
                    return;
                }
                conn.flags |= CLOSE_REPORTED;
                self.mark_dirty(id);
                handler.on_close(self, id, &info);
            }
        }
    }

    fn handle_request(&mut self, handler: &mut dyn Handler, id: ConnId) {
        let Some(conn) = self.conns.get(id) else { return };
        let Origin::Accepted(index) = conn.origin else {
            return;
        };
        let Some(request) = conn.endpoint.request().cloned() else {
            return;
        };
        let peer = conn.socket.as_ref().and_then(|s| s.tcp().peer_addr().ok());
        let listener = self.listeners[index as usize]
            .as_ref()
            .expect("listeners are never removed");
        let allowed = &listener.options.allowed_origins;
        let decision = match &request.origin {
            Some(origin)
                if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) =>
            {
                Decision::reject(403, "origin not allowed")
            }
            _ => {
                let accept = AcceptRequest {
                    conn: id,
                    listener: ListenerId(index + 1),
                    request: &request,
                    peer,
                };
                handler.on_accept(self, &accept)
            }
        };
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        match decision {
            Decision::Accept { subprotocol, headers } => {
                let options = AcceptOptions {
                    subprotocol: subprotocol.as_deref(),
                    extensions: &[],
                    headers: &headers,
                };
                if let Err(err) = conn.endpoint.accept(&options) {
                    // The application's answer was invalid (e.g. a subprotocol not offered).
                    let _ = conn.endpoint.reject(500, &[], b"invalid accept decision");
                    self.mark_dirty(id);
                    self.deferred
                        .push_back(Deferred::Error(Some(id), Error::Handshake(err)));
                    return;
                }
                conn.subprotocol = subprotocol.as_deref().map(|s| Box::new(Box::from(s)));
                conn.flags &= !AWAITING_PONG;
                self.trace_output(id);
                self.opened(id);
                self.mark_dirty(id);
                let info = OpenInfo {
                    role: Role::Server,
                    listener: Some(ListenerId(index + 1)),
                    subprotocol: subprotocol.as_deref(),
                    path: &request.path,
                    query: request.query.as_deref(),
                    headers: &request.headers,
                    peer,
                };
                handler.on_open(self, id, &info);
            }
            Decision::Reject {
                status,
                headers,
                body,
            } => {
                if let Err(err) = conn.endpoint.reject(status, &headers, &body) {
                    let _ = conn.endpoint.reject(500, &[], b"invalid reject decision");
                    self.deferred
                        .push_back(Deferred::Error(Some(id), Error::Handshake(err)));
                }
                self.trace_output(id);
                self.mark_dirty(id);
            }
        }
    }

    fn handle_client_open(
        &mut self,
        handler: &mut dyn Handler,
        id: ConnId,
        response: crate::proto::handshake::Response,
    ) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        conn.subprotocol = response.subprotocol.clone().map(|s| Box::new(s.into_boxed_str()));
        let peer = conn.socket.as_ref().and_then(|s| s.tcp().peer_addr().ok());
        let (path, query) = match &conn.origin {
            Origin::Client(link) => (link.url.path.clone(), link.url.query.clone()),
            Origin::Accepted(_) => (String::from("/"), None),
        };
        self.opened(id);
        let info = OpenInfo {
            role: Role::Client,
            listener: None,
            subprotocol: response.subprotocol.as_deref(),
            path: &path,
            query: query.as_deref(),
            headers: &response.headers,
            peer,
        };
        handler.on_open(self, id, &info);
    }

    /// The handshake completed: switch the deadline to the ping timer (or none).
    fn opened(&mut self, id: ConnId) {
        let ping = self.options_of(id).ok().and_then(|o| o.ping_interval);
        let now = self.now_ms;
        let tracing = self.tracer.is_some();
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if let Some(connection) = conn.endpoint.connection() {
            connection.set_frame_log(tracing);
        }
        conn.last_read_ms = now as u32;
        conn.deadline_ms = ping.map_or(0, |interval| now + millis(interval));
        if conn.deadline_ms != 0 {
            self.timers.push(conn.deadline_ms, id);
        }
        // The handshake deadline just went stale. Once stale entries are most of the heap, drop
        // them, so 10k idle connections do not keep 10k dead timers (16 B each) until they fire.
        self.stale_timers += 1;
        if self.stale_timers > 256 && self.stale_timers * 2 > self.timers.len() {
            let conns = &self.conns;
            self.timers
                .retain(|deadline, conn| conns.get(conn).is_some_and(|c| c.deadline_ms == deadline));
            self.stale_timers = 0;
        }
    }

    /// The peer closed the TCP connection (or it failed).
    fn peer_closed(&mut self, id: ConnId, error: Option<io::Error>) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let is_client = matches!(conn.origin, Origin::Client(_));
        if let Some(tls) = error.as_ref().and_then(tls_failure) {
            let host = match &conn.origin {
                Origin::Client(link) => Some(link.url.host.clone()),
                Origin::Accepted(_) => None,
            };
            let err = Error::Tls(describe_tls(tls, host.as_deref()));
            if is_client && !conn.endpoint.is_open() {
                return self.fail_client(id, err);
            }
            if conn.endpoint.is_open() {
                self.deferred.push_back(Deferred::Error(Some(id), err));
            }
            return self.drop_conn(
                id,
                Some(Lost {
                    initiated_locally: false,
                }),
            );
        }
        if !conn.endpoint.is_open() {
            if is_client {
                let detail = error.map_or_else(|| "connection closed by peer".to_string(), |e| e.to_string());
                let err = Error::Handshake(crate::proto::handshake::HandshakeError::MalformedResponse(
                    format!("no handshake response: {detail}"),
                ));
                self.fail_client(id, err);
            } else {
                self.drop_conn(id, None);
            }
            return;
        }
        if let Some(err) = error {
            self.deferred.push_back(Deferred::Error(Some(id), Error::Io(err)));
        }
        self.drop_conn(
            id,
            Some(Lost {
                initiated_locally: false,
            }),
        );
    }

    /// Closes the socket and frees the slot. If the connection's close was not reported yet and it
    /// should be (open, or a client), report it with `fallback` (unless the protocol layer knows better).
    fn drop_conn(&mut self, id: ConnId, report: Option<Lost>) {
        let Some(mut conn) = self.conns.remove(id) else {
            return;
        };
        if let Some(mut socket) = conn.socket.take() {
            let _ = self.poll.registry().deregister(socket.tcp_mut());
        }
        if let Origin::Accepted(index) = conn.origin {
            if let Some(Some(listener)) = self.listeners.get_mut(index as usize) {
                listener.active -= 1;
            }
        }
        let reportable = conn.endpoint.is_open() || matches!(conn.origin, Origin::Client(_));
        if conn.has(CLOSE_REPORTED) || !reportable {
            return;
        }
        let lost = conn.endpoint.connection().and_then(|c| c.connection_lost());
        match (lost, report) {
            // The protocol layer failed the connection before: report that failure.
            (Some(info), _) if info.code != close::ABNORMAL_CLOSURE => {
                self.deferred.push_back(Deferred::Closed(
                    id,
                    info.code,
                    info.reason.to_owned(),
                    info.clean,
                    info.initiated_locally,
                ))
            }
            (_, Some(Lost { initiated_locally })) => self.deferred.push_back(Deferred::Closed(
                id,
                close::ABNORMAL_CLOSURE,
                String::new(),
                false,
                initiated_locally,
            )),
            _ => {}
        }
    }

    // ----- writing -------------------------------------------------------------------------------

    fn writable(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if let Origin::Client(link) = &mut conn.origin {
            if !link.connected {
                let Some(socket) = conn.socket.as_ref() else {
                    return;
                };
                match socket.tcp().take_error() {
                    Ok(None) => {}
                    Ok(Some(err)) | Err(err) => {
                        link.last_error = Some(err.to_string());
                        return self.connect_next(id);
                    }
                }
                match socket.tcp().peer_addr() {
                    Ok(_) => {
                        link.connected = true;
                        let _ = socket.tcp().set_nodelay(true);
                        self.trace_output(id);
                    }
                    Err(err) if err.kind() == io::ErrorKind::NotConnected => return,
                    Err(err) => {
                        link.last_error = Some(err.to_string());
                        return self.connect_next(id);
                    }
                }
            }
        }
        self.flush_conn(id);
    }

    fn flush_dirty(&mut self) {
        while !self.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.dirty);
            for id in &dirty {
                if let Some(conn) = self.conns.get_mut(*id) {
                    conn.flags &= !DIRTY;
                }
            }
            for id in dirty {
                self.flush_conn(id);
            }
        }
    }

    /// Writes as much output as the socket takes; manages write interest, the writable event and
    /// the end of the connection.
    fn flush_conn(&mut self, id: ConnId) {
        if self.tracer.is_some() {
            self.drain_frame_log(id);
        }
        let low_water = match self.options_of(id) {
            Ok(options) => options.low_water_mark,
            Err(_) => return,
        };
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let connected = match &conn.origin {
            Origin::Client(link) => link.connected,
            Origin::Accepted(_) => true,
        };
        let registered = conn.has(WRITABLE_REGISTERED);
        let Some(socket) = conn.socket.as_mut() else {
            return;
        };
        if !connected {
            return;
        }
        let mut failed = match socket.flush_tls() {
            Err(err) if err.kind() != io::ErrorKind::WouldBlock => Some(err),
            _ => None,
        };
        while failed.is_none() {
            let out = conn.endpoint.output();
            if out.is_empty() {
                break;
            }
            match socket.write(out) {
                Ok(0) => {
                    failed = Some(io::Error::new(io::ErrorKind::WriteZero, "socket took no bytes"));
                    break;
                }
                Ok(n) => conn.endpoint.consume_output(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        if let Some(err) = failed {
            return self.peer_closed(id, Some(err));
        }
        let pending = conn.endpoint.output().len();
        let want_write = pending > 0 || socket.wants_write();
        if want_write != registered {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let token = Token(id.index().unwrap_or(0));
            if self
                .poll
                .registry()
                .reregister(socket.tcp_mut(), token, interest)
                .is_ok()
            {
                conn.flags ^= WRITABLE_REGISTERED;
            }
        }
        if conn.has(WANTS_WRITABLE) && pending <= low_water {
            conn.flags &= !WANTS_WRITABLE;
            self.deferred.push_back(Deferred::Writable(id));
        }
        if pending == 0 {
            if let Some(connection) = conn.endpoint.connection() {
                // Keep drained send buffers for the next sender instead of freeing and allocating
                // one per message; idle connections still hold none.
                if let Some(buf) = connection.sender().take_spare_buffer() {
                    if self.buffer_pool.len() < BUFFER_POOL_SIZE && buf.capacity() <= BUFFER_POOL_MAX_CAPACITY
                    {
                        self.buffer_pool.push(buf);
                    }
                }
                connection.release_memory();
            }
        }
        if conn.endpoint.should_close_transport() {
            self.transport_done(id);
        }
    }

    /// The connection is closed and its output written: close TCP (a client waits briefly for the
    /// server to close first, RFC 6455 7.1.1).
    fn transport_done(&mut self, id: ConnId) {
        let close_timeout = self.options_of(id).map(|o| o.close_timeout).unwrap_or_default();
        let now = self.now_ms;
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let client_waits = matches!(conn.origin, Origin::Client(_))
            && conn
                .endpoint
                .connection()
                .is_some_and(|c| c.state() == State::Closed)
            && !conn.has(AWAITING_EOF);
        if client_waits && conn.endpoint.is_open() {
            conn.flags |= AWAITING_EOF;
            conn.deadline_ms = now + millis(close_timeout).min(2000);
            self.timers.push(conn.deadline_ms, id);
            return;
        }
        let awaiting_eof = conn.has(AWAITING_EOF);
        if let Some(socket) = conn.socket.as_mut() {
            socket.close_notify();
            if !awaiting_eof {
                let _ = socket.tcp().shutdown(Shutdown::Write);
            }
        }
        self.drop_conn(id, None);
    }

    // ----- timers --------------------------------------------------------------------------------

    fn fire_timers(&mut self, handler: &mut dyn Handler) -> usize {
        let mut fired = 0;
        while let Some((deadline, id)) = self.timers.pop_due(self.now_ms) {
            let Ok(options) = self.options_of(id).copied() else {
                continue;
            };
            let Some(conn) = self.conns.get_mut(id) else {
                continue;
            };
            if conn.deadline_ms != deadline {
                continue; // moved or cleared
            }
            fired += 1;
            conn.deadline_ms = 0;
            if !conn.endpoint.is_open() {
                if matches!(conn.origin, Origin::Client(_)) {
                    self.fail_client(id, Error::Timeout("opening handshake"));
                } else {
                    self.drop_conn(id, None); // slowloris: never finished the request
                }
                continue;
            }
            let state = conn.endpoint.connection().map_or(State::Closed, |c| c.state());
            if state != State::Open || conn.has(AWAITING_EOF) {
                // Closing handshake (or the wait for the server's FIN) timed out.
                self.drop_conn(
                    id,
                    Some(Lost {
                        initiated_locally: true,
                    }),
                );
                continue;
            }
            let Some(interval) = options.ping_interval else {
                continue;
            };
            if conn.has(AWAITING_PONG) {
                self.deferred
                    .push_back(Deferred::Error(Some(id), Error::Timeout("no pong from peer")));
                self.drop_conn(
                    id,
                    Some(Lost {
                        initiated_locally: true,
                    }),
                );
                continue;
            }
            let silent_for = u64::from((self.now_ms as u32).wrapping_sub(conn.last_read_ms));
            let due = self.now_ms - silent_for.min(self.now_ms) + millis(interval);
            if due > self.now_ms {
                conn.deadline_ms = due;
            } else {
                if let Some(connection) = conn.endpoint.connection() {
                    let _ = connection.sender().ping(b"");
                }
                conn.flags |= AWAITING_PONG;
                conn.deadline_ms = self.now_ms + millis(options.pong_timeout);
                self.mark_dirty(id);
            }
            let deadline = self.conns.get(id).map_or(0, |c| c.deadline_ms);
            self.timers.push(deadline, id);
        }
        fired + self.deliver_deferred(handler)
    }

    // ----- shutdown ------------------------------------------------------------------------------

    /// Starts a graceful shutdown without blocking: stops every listener and closes every open
    /// connection with 1001; connections still in their handshake are dropped. Keep polling until
    /// [`Context::connection_count`] is 0 (the close timeout bounds it).
    pub fn begin_shutdown(&mut self) {
        for index in 0..self.listeners.len() {
            let _ = self.close_listener(ListenerId(index as u32 + 1));
        }
        for id in self.conns.ids() {
            if self.is_open(id) {
                let _ = self.close(id, close::GOING_AWAY, "server shutting down");
            } else if !self.conns.get(id).is_some_and(|c| c.endpoint.is_open()) {
                let _ = self.abort(id);
            }
        }
    }

    /// Graceful shutdown: [`Context::begin_shutdown`], then polls until every connection closed or
    /// `timeout` passed; what is left is dropped (reported as 1006).
    pub fn shutdown(&mut self, handler: &mut dyn Handler, timeout: Duration) -> Result<()> {
        if self.in_poll {
            return Err(Error::Reentrant);
        }
        self.begin_shutdown();
        let end = Instant::now() + timeout;
        while self.conns.len() > 0 {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.poll(handler, Some(left.min(Duration::from_millis(50))))?;
        }
        for id in self.conns.ids() {
            let _ = self.abort(id);
        }
        self.poll(handler, Some(Duration::ZERO))?;
        Ok(())
    }

    // ----- tracing -------------------------------------------------------------------------------

    fn trace_output(&mut self, id: ConnId) {
        if let Some(tracer) = self.tracer.as_mut() {
            if let Some(conn) = self.conns.get(id) {
                let out = conn.endpoint.output();
                if !out.is_empty() {
                    tracer.trace(
                        id,
                        &TraceEvent::Handshake {
                            direction: Direction::Sent,
                            bytes: out,
                        },
                    );
                }
            }
        }
    }
}

/// The error of a lookup that found nothing: built only when needed, since `Error` has drop glue
/// and `ok_or(Error::NotFound)` would build and drop one on every successful lookup.
#[cold]
fn not_found() -> Error {
    Error::NotFound
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis().min(u128::from(u64::MAX / 4)) as u64
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

#[cfg(test)]
mod tests {
    /// Idle memory per connection is a headline number (goal: at most 256 bytes of user space per
    /// idle ws:// connection, measured by `bench/compare.sh`). The slot is most of it.
    #[test]
    fn a_connection_slot_stays_small() {
        let size = std::mem::size_of::<super::Conn>();
        // Debug builds of mio add a selector id (8 bytes) to every socket.
        let budget = if cfg!(debug_assertions) { 136 } else { 128 };
        assert!(size <= budget, "Conn grew to {size} bytes (budget {budget})");
    }
}
