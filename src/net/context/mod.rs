//! The event loop: one `mio::Poll`, its listeners and connections. This file holds the state
//! (`Context`, `Conn`) and the poll loop; each sibling file holds one job of the loop:
//! `listen` (listening sockets, accepting TCP), `accept` (the upgrade decision), `connect` (client
//! connections up to open), `read` (socket to handler), `write` (queue to socket), `send` (the
//! application's sends and closes), `info` (what the application may ask about a connection),
//! `deadlines` (timers), `end` (how a connection ends and its close report), `shutdown`, `tracing`,
//! `unix` (Unix domain sockets: listening on and connecting to socket paths).

mod accept;
mod connect;
mod deadlines;
mod end;
mod http;
mod info;
mod listen;
mod proxy;
mod read;
mod reconnect;
mod send;
mod shutdown;
mod tracing;
mod unix;
mod write;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token, Waker};

use super::config::{ConnectOptions, ConnectionOptions, ContextOptions, KeepHeaders, ListenOptions};
use super::error::{Error, Result};
use super::handler::{Decision, Handler};
use super::id::{ConnId, ListenerId, Slab};
use super::remote::{Command, Inbox, Remote, Shared};
use super::timers::Timers;
use super::tls::{Stream, TlsClientConfig};
use super::trace::Tracer;
use crate::proto::handshake::{Request, WsUrl};
use crate::proto::{CloseInfo, DeflateParams, DeflatePool, Endpoint, MessageKind, OutputBuffer};

pub use reconnect::ReconnectState;

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
    /// Compressors and decompressors of permessage-deflate directions without context takeover,
    /// lent to a connection for each message it reads or sends and taken back after it, so idle
    /// compressed connections hold none (see `ListenOptions::deflate`).
    deflate_pool: DeflatePool,
    /// Connections whose socket may hold data not read because the handler asked to pause (or
    /// whose reading resumed after a flow-control pause).
    unread: Vec<ConnId>,
    /// Input read but not decoded yet of connections whose reading paused in the middle of a
    /// read (flow control), delivered first when reading resumes. At most one read buffer each.
    held: Vec<(ConnId, Vec<u8>)>,
    /// Readiness taken from `events`, reused between polls.
    ready: Vec<Readiness>,
    start: Instant,
    now_ms: u64,
    in_poll: bool,
    /// Size of `read_buf` (recreated after a panic unwound through `poll`).
    read_buf_size: usize,
    /// The connection being read (set around each socket read): if a handler panics meanwhile, the
    /// rest of that read is lost, so the connection is aborted (see `recover_from_panic`).
    reading: Option<ConnId>,
    /// The connection whose `on_accept` is running, and the answer given for it through
    /// `Context::accept`/`reject` during that call (applied when it returns).
    deciding: Option<ConnId>,
    decided: Option<Decision>,
    /// A connection whose slot is gone and whose deferred `on_close`/`on_error` is being delivered,
    /// with its user data (so `Context::user_data` still answers).
    departed: Option<(ConnId, u64)>,
    /// Client TLS configuration from the system trust store, loaded on the first wss:// connect.
    system_tls: Option<TlsClientConfig>,
    tracer: Option<Box<dyn Tracer>>,
    /// The earliest `Listener::retry_ms` (0: no listener is backing off).
    accept_retry_ms: u64,
    /// Static files being streamed as HTTP response bodies.
    files: Vec<http::FileSend>,
    /// The buffer file pieces are read into (allocated on the first file served).
    file_buf: Vec<u8>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("listeners", &self.listeners.iter().flatten().count())
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

/// What a [`Context`] holds ([`Context::stats`]). With no connection left, `timer_entries`,
/// `pooled_buffers` and `held_inputs` are 0: the context frees them with the last connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContextStats {
    /// Connection slots in use (any state: handshake, open, closing).
    pub connections: usize,
    /// Listening sockets.
    pub listeners: usize,
    /// Timer entries in the deadline heap, live and stale (stale ones are dropped as they come due,
    /// once they are most of the heap, or with the last connection).
    pub timer_entries: usize,
    /// Drained send buffers kept for reuse (at most 64, each at most 1 MiB).
    pub pooled_buffers: usize,
    /// Their capacity in bytes.
    pub pooled_bytes: usize,
    /// Connections whose reading paused in the middle of a read, with the rest of that read held.
    pub held_inputs: usize,
    /// Bytes held for them (at most one read buffer each).
    pub held_bytes: usize,
    /// Events waiting for delivery at the next `poll` (closes, errors, writable...).
    pub pending_events: usize,
    /// Listeners backing off after `accept` ran out of descriptors.
    pub accept_backoffs: usize,
}

struct Listener {
    socket: Option<unix::ListenSocket>,
    options: ListenOptions,
    active: usize,
    /// `accept` ran out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): when to try
    /// again (ms since start; 0 = not backing off) and the next back-off. See `listen::accept_ready`.
    retry_ms: u64,
    backoff_ms: u64,
    /// The socket path of a Unix listener (kept after it closes, for `Context::unix_path`).
    unix_path: Option<Box<std::path::Path>>,
}

/// One connection. Kept small: the handshake state and client setup are boxed and dropped once open.
struct Conn {
    socket: Stream,
    endpoint: Endpoint,
    origin: Origin,
    user_data: u64,
    /// The connection's one timer: `Deadline::stamp` of its deadline (ms since the context
    /// started), 0 when none is set. 32 bits, so `last_message_ms` fits in the slot.
    deadline: u32,
    /// When data last arrived, in ms since the context started (wraps after 49 days; only compared
    /// with wrapping arithmetic over ping intervals).
    last_read_ms: u32,
    /// When the last whole data message arrived (same clock as `last_read_ms`), for
    /// `ConnectionOptions::idle_timeout`.
    last_message_ms: u32,
    /// The negotiated subprotocol and what the options keep after the handshake; `None` (8 bytes,
    /// no heap) when there is neither.
    details: Option<Box<Details>>,
    flags: u8,
    /// Receive-side flow control: `PAUSED_AUTO`, `PAUSED_MANUAL`, `HELD` (fits in the padding
    /// after `flags`).
    flow: u8,
}

/// What an open connection holds beyond its slot. 24 bytes, so a connection with only a
/// subprotocol pays what it did when the slot held a `Box<Box<str>>` (one malloc chunk).
struct Details {
    subprotocol: Option<Box<str>>,
    kept: Option<Box<Kept>>,
}

/// Request or response information kept on request (`ListenOptions::keep_request`,
/// `keep_headers`, `ConnectOptions::keep_headers`).
struct Kept {
    /// The request's path and query (servers with `keep_request`).
    request: Option<(Box<str>, Option<Box<str>>)>,
    /// The kept headers: the request's (servers) or the response's (clients).
    headers: Option<Box<[(String, String)]>>,
}

impl Details {
    /// `None` when there is nothing to hold.
    fn new(subprotocol: Option<&str>, kept: Option<Kept>) -> Option<Box<Self>> {
        if subprotocol.is_none() && kept.is_none() {
            return None;
        }
        Some(Box::new(Details {
            subprotocol: subprotocol.map(Box::from),
            kept: kept.map(Box::new),
        }))
    }
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
    /// The socket path of a client over a Unix socket (`Context::connect_unix`).
    unix: Option<std::path::PathBuf>,
    /// The proxy this connection goes through, and how far its tunnel is (`proxy.rs`).
    proxy: Option<Box<proxy::ProxyLink>>,
    /// Auto-reconnect state (`ConnectOptions::reconnect`); `None` when off.
    reconnect: Option<Box<reconnect::Link>>,
}

const WRITABLE_REGISTERED: u8 = 1;
const DIRTY: u8 = 2;
const WANTS_WRITABLE: u8 = 4;
const CLOSE_REPORTED: u8 = 8;
const AWAITING_PONG: u8 = 16;
const AWAITING_EOF: u8 = 32;
/// A server connection whose upgrade request waits for `Context::accept`/`reject`
/// (`Decision::Defer`): nothing is read from it meanwhile.
const ACCEPT_PENDING: u8 = 64;
/// Accepted after its `on_accept`: frames that came with the request may wait in the connection
/// for `readable` to decode them.
const PULL_BUFFERED: u8 = 128;

/// `flow`: reading stopped because a send left the queue above `read_pause_high_water`.
const PAUSED_AUTO: u8 = 1;
/// `flow`: reading stopped by `Context::pause_reading`.
const PAUSED_MANUAL: u8 = 2;
const PAUSED: u8 = PAUSED_AUTO | PAUSED_MANUAL;
/// `flow`: undecoded input of a read that a pause interrupted waits in `Context::held`.
const HELD: u8 = 4;

impl Conn {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Sets the connection's timer to `deadline_ms` (0: none) and returns it, for `Timers::push`.
    fn set_deadline(&mut self, deadline_ms: u64) -> u64 {
        self.deadline = stamp(deadline_ms);
        deadline_ms
    }

    /// True if the connection has no timer, or one due after `deadline_ms` (stamps compared
    /// modulo 2^32: deadlines are never weeks apart).
    fn deadline_unset_or_after(&self, deadline_ms: u64) -> bool {
        self.deadline == 0 || (self.deadline.wrapping_sub(stamp(deadline_ms)) as i32) > 0
    }

    /// True if a timer entry due at `deadline_ms` is this connection's current one (entries of
    /// moved or cleared deadlines are stale).
    fn deadline_is(&self, deadline_ms: u64) -> bool {
        self.deadline != 0 && self.deadline == stamp(deadline_ms)
    }
}

/// A deadline (ms since the context started) in 32 bits: wraps after 49 days, never 0 (0 means
/// none). Timer entries keep the whole value; an entry is matched by its stamp, and two entries of
/// one connection 2^32 ms apart cannot both be pending (every timeout is far shorter).
fn stamp(deadline_ms: u64) -> u32 {
    if deadline_ms == 0 {
        0
    } else {
        (deadline_ms as u32).max(1)
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
    /// As `Fully`: the readiness said the peer closed its side or the socket failed.
    PeerClosed,
    /// Until a read comes back shorter than the buffer (see `Context::readable`).
    UntilShortRead,
}

enum Deferred {
    Listening(ListenerId, SocketAddr),
    ListeningUnix(ListenerId, std::path::PathBuf),
    /// An error, with the connection's user data when it was reported (the slot may be gone by
    /// delivery).
    Error(Option<ConnId>, Error, u64),
    Closed(Closed),
    Writable(ConnId),
    /// A request accepted by `Context::accept` after `on_accept` returned.
    Opened(ConnId, Box<Opening>),
    /// A reconnecting client dropped: attempt, delay, why (see `reconnect.rs`).
    Reconnect(ConnId, u32, Duration, String),
    /// A queued message not delivered, with the connection's user data.
    Undelivered(
        ConnId,
        MessageKind,
        Vec<u8>,
        super::reconnect::UndeliveredReason,
        u64,
    ),
}

/// A close to report; the slot is gone, so it carries the user data.
struct Closed {
    conn: ConnId,
    code: u16,
    reason: String,
    clean: bool,
    initiated_locally: bool,
    user_data: u64,
}

/// What `on_open` reports for a request accepted after its `on_accept`.
struct Opening {
    listener: ListenerId,
    request: Request,
    subprotocol: Option<String>,
    peer: Option<SocketAddr>,
    deflate: Option<DeflateParams>,
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
            read_buf_size: options.read_buffer_size.max(4096),
            reading: None,
            deciding: None,
            decided: None,
            departed: None,
            timers: Timers::default(),
            dirty: Vec::new(),
            deferred: VecDeque::new(),
            stale_timers: 0,
            buffer_pool: Vec::new(),
            deflate_pool: DeflatePool::new(),
            unread: Vec::new(),
            held: Vec::new(),
            ready: Vec::new(),
            start: Instant::now(),
            now_ms: 0,
            in_poll: false,
            system_tls: None,
            tracer: None,
            accept_retry_ms: 0,
            files: Vec::new(),
            file_buf: Vec::new(),
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

    /// How long the host may sleep before `poll` has timer work: `None` when no timer is set,
    /// zero when work is pending now.
    pub fn next_timeout(&self) -> Option<Duration> {
        if !self.deferred.is_empty() || !self.dirty.is_empty() || !self.unread.is_empty() {
            return Some(Duration::ZERO);
        }
        let deadline = earliest_of(self.timers.next_deadline(), self.accept_retry_ms)?;
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

    /// What the context holds now, for tests, soak runs and memory diagnostics. Cheap: no
    /// connection is visited.
    pub fn stats(&self) -> ContextStats {
        ContextStats {
            connections: self.conns.len(),
            listeners: self
                .listeners
                .iter()
                .flatten()
                .filter(|l| l.socket.is_some())
                .count(),
            timer_entries: self.timers.len(),
            pooled_buffers: self.buffer_pool.len(),
            pooled_bytes: self.buffer_pool.iter().map(|b| b.capacity()).sum(),
            held_inputs: self.held.len(),
            held_bytes: self.held.iter().map(|(_, input)| input.capacity()).sum(),
            pending_events: self.deferred.len(),
            accept_backoffs: self
                .listeners
                .iter()
                .flatten()
                .filter(|l| l.retry_ms != 0)
                .count(),
        }
    }

    /// The last connection is gone: every timer entry left is stale and the send buffers kept for
    /// reuse have no one to serve, so an idle context holds neither (a soak run ends where it
    /// started).
    fn reclaim_when_empty(&mut self) {
        if self.conns.len() == 0 {
            self.timers.clear();
            self.stale_timers = 0;
            self.buffer_pool = Vec::new();
        }
    }

    fn options_of(&self, conn: ConnId) -> Result<&ConnectionOptions> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(self.conn_options(entry))
    }

    fn conn_options<'a>(&'a self, entry: &'a Conn) -> &'a ConnectionOptions {
        self.origin_options(entry).0
    }

    /// The connection options and header retention of the listener or `connect` call a connection
    /// came from.
    #[inline]
    fn origin_options<'a>(&'a self, entry: &'a Conn) -> (&'a ConnectionOptions, &'a KeepHeaders) {
        match &entry.origin {
            Origin::Accepted(index) => {
                let options = &self.listeners[*index as usize]
                    .as_ref()
                    .expect("listeners are never removed")
                    .options;
                (&options.connection, &options.keep_headers)
            }
            Origin::Client(link) => (&link.options.connection, &link.options.keep_headers),
        }
    }

    /// Queues `error` for `on_error`, with the connection's user data (the slot may be gone when it
    /// is delivered).
    fn defer_error(&mut self, conn: Option<ConnId>, error: Error) {
        let user_data = conn.and_then(|c| self.conns.get(c)).map_or(0, |c| c.user_data);
        self.deferred.push_back(Deferred::Error(conn, error, user_data));
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

    /// Performs all ready I/O, fires due timers and delivers events to `handler`, waiting up to
    /// `timeout` for something to happen (`None` = until something happens, zero = never block).
    /// Everything sent during the call is written before it returns. Returns the number of events
    /// delivered. Calling it from inside a handler of the same context fails with
    /// [`Error::Reentrant`].
    ///
    /// # Panics in handlers
    /// A panic in a handler unwinds out of `poll`. If the caller catches it
    /// (`std::panic::catch_unwind`), the context stays usable: the next `poll` works, every
    /// connection is read again (readiness not handled before the panic is not lost), and the
    /// connection whose input was being processed when the panic came is aborted, since the rest of
    /// that read is lost (its `on_close`, 1006, follows at the next `poll` if it is reportable).
    /// Events still queued for delivery are delivered by the next `poll`; the one whose handler
    /// panicked is not delivered again.
    pub fn poll(&mut self, handler: &mut dyn Handler, timeout: Option<Duration>) -> Result<usize> {
        if self.in_poll {
            return Err(Error::Reentrant);
        }
        self.in_poll = true;
        let guard = InPoll(self);
        guard.0.poll_inner(handler, timeout)
    }

    /// The end of a `poll`, normal or unwinding (see [`InPoll`]).
    fn end_poll(&mut self) {
        self.in_poll = false;
        if std::thread::panicking() {
            self.recover_from_panic();
        }
    }

    /// Puts the context back in order after a handler panicked inside `poll`.
    #[cold]
    fn recover_from_panic(&mut self) {
        self.deciding = None;
        self.decided = None;
        self.departed = None;
        if self.read_buf.len() != self.read_buf_size {
            self.read_buf = vec![0; self.read_buf_size];
        }
        if let Some(id) = self.reading.take() {
            self.drop_conn(
                id,
                Some(Lost {
                    initiated_locally: true,
                }),
            );
        }
        // Readiness is edge-triggered and the rest of this poll's events are lost: read every
        // socket at the next poll (those with nothing to read answer "would block").
        self.unread = self.conns.ids();
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
            let timer = earliest_of(self.timers.next_deadline(), self.accept_retry_ms)
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
            // An `on_open` deferred by `Context::accept` comes before its connection's messages.
            delivered += self.deliver_deferred(handler);
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
                            Drain::PeerClosed
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
        if self.accept_retry_ms != 0 && self.accept_retry_ms <= self.now_ms {
            self.retry_accepts();
            delivered += self.deliver_deferred(handler);
        }
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
                Deferred::ListeningUnix(id, path) => handler.on_listen_unix(self, id, &path),
                Deferred::Error(conn, error, user_data) => {
                    self.departed = conn.map(|conn| (conn, user_data));
                    handler.on_error(self, conn, &error);
                    self.departed = None;
                }
                Deferred::Closed(closed) => {
                    let info = CloseInfo {
                        code: closed.code,
                        reason: &closed.reason,
                        clean: closed.clean,
                        initiated_locally: closed.initiated_locally,
                    };
                    self.departed = Some((closed.conn, closed.user_data));
                    handler.on_close(self, closed.conn, &info);
                    self.departed = None;
                }
                Deferred::Writable(conn) => {
                    if self.conns.get(conn).is_some() {
                        handler.on_writable(self, conn);
                    }
                }
                Deferred::Opened(conn, opening) => self.deliver_opened(handler, conn, &opening),
                Deferred::Reconnect(conn, attempt, delay, error) => {
                    self.deliver_reconnect(handler, conn, attempt, delay, &error)
                }
                Deferred::Undelivered(conn, kind, data, reason, user_data) => {
                    self.deliver_undelivered(handler, conn, kind, &data, reason, user_data)
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
                // The same `max_buffered` check as a send on the loop thread.
                Command::Send(conn, kind, data) => (
                    conn,
                    self.send(conn, kind, &data).map_err(|err| match err {
                        Error::WouldBlock => Error::QueueFull { dropped: data.len() },
                        other => other,
                    }),
                ),
                Command::Ping(conn, data) => (conn, self.ping(conn, &data)),
                Command::Close(conn, code, reason) => (conn, self.close(conn, code, &reason)),
                Command::PauseReading(conn) => (conn, self.pause_reading(conn)),
                Command::ResumeReading(conn) => (conn, self.resume_reading(conn)),
                Command::HttpBegin(conn, status, headers, length) => {
                    (conn, self.http_begin(conn, status, &headers, length))
                }
                Command::HttpWrite(conn, data) => (
                    conn,
                    self.http_write(conn, &data).map_err(|err| match err {
                        Error::WouldBlock => Error::QueueFull { dropped: data.len() },
                        other => other,
                    }),
                ),
                Command::HttpEnd(conn) => (conn, self.http_end(conn)),
            };
            if let Err(error) = result {
                self.defer_error(Some(conn), error);
            }
        }
    }
}

/// Resets `Context::in_poll` when `poll` returns or a handler's panic unwinds through it.
struct InPoll<'a>(&'a mut Context);

impl Drop for InPoll<'_> {
    fn drop(&mut self) {
        self.0.end_poll();
    }
}

/// The error of a lookup that found nothing: built only when needed, since `Error` has drop glue
/// and `ok_or(Error::NotFound)` would build and drop one on every successful lookup.
#[cold]
fn not_found() -> Error {
    Error::NotFound
}

/// The earlier of the next timer and an accept retry (0: none).
fn earliest_of(timer: Option<u64>, accept_retry_ms: u64) -> Option<u64> {
    match (timer, accept_retry_ms) {
        (Some(t), 0) => Some(t),
        (Some(t), r) => Some(t.min(r)),
        (None, 0) => None,
        (None, r) => Some(r),
    }
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis().min(u128::from(u64::MAX / 4)) as u64
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

    /// A connection with a subprotocol and nothing kept allocates one 24-byte `Details`: the same
    /// malloc chunk as the `Box<Box<str>>` it replaced.
    #[test]
    fn details_stay_one_small_allocation() {
        assert_eq!(std::mem::size_of::<super::Details>(), 24);
        assert_eq!(std::mem::size_of::<Option<Box<super::Details>>>(), 8);
    }
}
