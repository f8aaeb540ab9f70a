//! Options for contexts, listeners, client connections and the connections themselves, with safe
//! defaults.

use std::path::PathBuf;
use std::time::Duration;

use super::proxy::ProxyOptions;
use super::reconnect::ReconnectOptions;
use super::tls::{TlsClientConfig, TlsServerConfig};
use crate::proto::Config as ProtocolConfig;
use crate::proto::DeflateConfig;
use crate::proto::handshake::{ClientOptions, RequestLimits};

/// Limits and timers of one connection (client or server).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionOptions {
    /// Protocol limits: frame and message sizes (16 MiB by default), streaming, auto-pong.
    pub protocol: ProtocolConfig,
    /// Cap on bytes queued for sending. A send that would go past it fails with
    /// [`crate::net::Error::WouldBlock`] (a message is always accepted when nothing is queued, so any
    /// message up to the protocol limit can be sent). Default 16 MiB.
    pub max_buffered: usize,
    /// When the queue drains to this many bytes after a send failed with `WouldBlock`, the
    /// `on_writable` handler runs; a connection whose reading was paused automatically
    /// (`read_pause_high_water`) resumes at the same mark. Default 64 KiB.
    pub low_water_mark: usize,
    /// Receive-side flow control: once a message send takes the queue to this many bytes or more
    /// (payloads counted; a message sent onto an empty queue never pauses, the next one does), the
    /// connection stops reading its socket and delivers no more of its events (messages, pings,
    /// closes) until the queue drains to `low_water_mark`; TCP then pushes back on the peer. The
    /// rest of the read being decoded is held (at most one read buffer per paused connection) and
    /// delivered first when reading resumes, so a handler that sends one echo per message keeps
    /// the queue under this mark plus one message (two messages when one alone is larger than
    /// the mark). Pings and the peer's close are behind the held
    /// data in the stream, so they are answered when reading resumes; a close started by this end
    /// ([`crate::net::Context::close`]) lifts the pause so the handshake completes. `0` turns the
    /// automatic pause off. Default 1 MiB (`ConnectionOptions::default`, used by listeners), far
    /// below `max_buffered`, so a handler that answers each message with one of similar size never
    /// sees [`crate::net::Error::WouldBlock`] unless a single message exceeds `max_buffered` minus
    /// this mark. [`ConnectOptions::default`] turns it off (0) for client connections: a client
    /// usually produces what it sends rather than answering what it reads, and pausing its reads on
    /// its own queue would stall a client that pipelines against an echoing server (both ends
    /// waiting for the other to read).
    pub read_pause_high_water: usize,
    /// Time allowed from TCP accept/connect to the end of the opening handshake (slowloris defence).
    /// Default 10 s.
    pub handshake_timeout: Duration,
    /// Time allowed for the closing handshake before the TCP connection is dropped. Default 5 s.
    pub close_timeout: Duration,
    /// Send a ping after this much silence from the peer. Default off.
    pub ping_interval: Option<Duration>,
    /// With `ping_interval`: drop the connection (1006) if nothing arrives this long after a ping.
    /// Default 20 s.
    pub pong_timeout: Duration,
    /// Close an open connection whose peer sent no whole data message for this long: this end
    /// starts the closing handshake with 1001 (Going Away, reason "idle timeout"; the close
    /// timeout then bounds the wait for the answer) after reporting
    /// [`crate::net::Error::Timeout`] to `on_error`. Activity is a text or binary message
    /// received whole (streaming: its last piece). Pings, pongs, parts of a frame or of a
    /// fragmented message and this end's own sends do not count, so a peer that trickles a frame
    /// header byte by byte, or only pings, is closed; a message must arrive whole within the
    /// timeout. While reading is paused (flow control) the silence is this end's and the clock
    /// restarts. Default off, as uWebSockets' `idleTimeout`.
    pub idle_timeout: Option<Duration>,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        Self {
            protocol: ProtocolConfig::default(),
            max_buffered: 16 << 20,
            low_water_mark: 64 << 10,
            read_pause_high_water: 1 << 20,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            ping_interval: None,
            pong_timeout: Duration::from_secs(20),
            idle_timeout: None,
        }
    }
}

/// Options of a listening socket.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// Length of the kernel's queue of not-yet-accepted connections. Default 1024.
    pub backlog: i32,
    /// Set SO_REUSEPORT so several processes or threads can listen on the same port. Default off.
    /// (SO_REUSEADDR is always set, so a restarted server can bind at once.)
    pub reuse_port: bool,
    /// Most connections this listener holds at once; more are answered with HTTP 503 and closed.
    /// Default 65,536.
    pub max_connections: usize,
    /// If not empty, only requests whose `Origin` is in this list are accepted; others get 403
    /// before the accept handler runs (defence against cross-site WebSocket hijacking). Requests
    /// without an Origin (non-browser clients) are accepted. Default empty (all origins).
    pub allowed_origins: Vec<String>,
    /// Limits of the upgrade request (16 KiB of headers, 64 lines by default; 431 beyond).
    pub request_limits: RequestLimits,
    /// Options of each accepted connection.
    pub connection: ConnectionOptions,
    /// Serve wss:// with this certificate and key. Default none (ws://).
    pub tls: Option<TlsServerConfig>,
    /// Subprotocols this listener speaks, in order of preference. The default choice for a request
    /// ([`crate::net::AcceptRequest::default_subprotocol`], used by the default
    /// [`crate::net::Handler::on_accept`]) is the first subprotocol the client offered that is in this
    /// list, in the client's order. Default empty (no subprotocol is selected by default).
    pub subprotocols: Vec<String>,
    /// Keep the request's path and query after the handshake, for [`crate::net::Context::path`] and
    /// [`crate::net::Context::query`]. Default false: an open connection costs nothing for them.
    pub keep_request: bool,
    /// Which request headers to keep after the handshake, for [`crate::net::Context::headers`] and
    /// [`crate::net::Context::header`]. Default [`KeepHeaders::None`]. (During `on_accept` and
    /// `on_open`, and while a decision is pending, everything is readable regardless.)
    pub keep_headers: KeepHeaders,
    /// permessage-deflate (RFC 7692) policy of accepted connections: the first acceptable offer of
    /// a request is answered, and the connection compresses. Default [`DeflateConfig::SERVER`]:
    /// enabled, with no context takeover asked for both ways, so codecs are lent per message from
    /// the context's one pool and an idle compressed connection holds no codec state; messages
    /// under 64 bytes go uncompressed. [`DeflateConfig::DISABLED`] declines every offer. The
    /// negotiated parameters: [`crate::net::OpenInfo::deflate`], [`crate::net::Context::deflate_params`].
    /// The inflated size of a message counts against `connection.protocol.max_message_size`
    /// (1009 past it, checked while inflating); invalid compressed data closes with 1007.
    pub deflate: DeflateConfig,
    /// Serve the files under this directory to plain HTTP `GET`/`HEAD` requests (those that do not
    /// ask to upgrade), through the default [`crate::net::Handler::on_http_request`]. Paths are
    /// resolved safely (no `..`, no symlinks leading out of the directory); `index.html` serves a
    /// directory. Upgrades on the same listener work as without it. Default none: plain HTTP
    /// requests get the 4xx an invalid upgrade gets (400, 405, 505).
    pub static_dir: Option<PathBuf>,
    /// Largest body of a plain HTTP request (`Content-Length` or chunked); 413 and close beyond.
    /// Default 1 MiB. (The head is bounded by `request_limits`, 431 beyond.)
    pub max_http_body: usize,
    /// How long an HTTP keep-alive connection may wait for its next request (and take to send
    /// it) after a response; it is closed then. Default 15 s. (The first request has
    /// `connection.handshake_timeout`.)
    pub http_keep_alive: Duration,
}

impl ListenOptions {
    /// These options with [`ListenOptions::static_dir`] set.
    pub fn static_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }
}

/// Which headers a connection keeps after its opening handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KeepHeaders {
    /// None: asking for headers later fails with [`crate::net::Error::Unavailable`].
    #[default]
    None,
    /// Every header, in order, as received.
    All,
    /// Only these headers (names compared case-insensitively); asking for another name fails with
    /// [`crate::net::Error::Unavailable`].
    Names(Vec<String>),
}

impl KeepHeaders {
    /// True if nothing is kept.
    pub fn is_none(&self) -> bool {
        matches!(self, KeepHeaders::None)
    }

    /// True if the header `name` is kept (case-insensitive).
    pub fn keeps(&self, name: &str) -> bool {
        match self {
            KeepHeaders::None => false,
            KeepHeaders::All => true,
            KeepHeaders::Names(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }

    /// The kept subset of `headers`, in order; `None` when nothing is kept.
    pub(crate) fn select(&self, headers: &[(String, String)]) -> Option<Box<[(String, String)]>> {
        match self {
            KeepHeaders::None => None,
            KeepHeaders::All => Some(headers.into()),
            KeepHeaders::Names(_) => Some(headers.iter().filter(|(n, _)| self.keeps(n)).cloned().collect()),
        }
    }
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self {
            backlog: 1024,
            reuse_port: false,
            max_connections: 65_536,
            allowed_origins: Vec::new(),
            request_limits: RequestLimits::default(),
            connection: ConnectionOptions::default(),
            tls: None,
            subprotocols: Vec::new(),
            keep_request: false,
            keep_headers: KeepHeaders::None,
            deflate: DeflateConfig::SERVER,
            static_dir: None,
            max_http_body: 1 << 20,
            http_keep_alive: Duration::from_secs(15),
        }
    }
}

/// Options of a client connection.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Subprotocols, Origin, extra headers (e.g. Authorization, Cookie) and response limits.
    pub handshake: ClientOptions,
    /// Limits and timers. `handshake_timeout` covers name resolution, TCP connect and the handshake.
    pub connection: ConnectionOptions,
    /// How wss:// servers are verified. Default (`None`): the system trust store, with SNI and the
    /// host name check from the URL. ws:// URLs ignore it.
    pub tls: Option<TlsClientConfig>,
    /// Which response headers to keep after the handshake, for [`crate::net::Context::headers`] and
    /// [`crate::net::Context::header`]. Default [`KeepHeaders::All`]. (A client's path and query are
    /// always known: they come from its URL.)
    pub keep_headers: KeepHeaders,
    /// permessage-deflate (RFC 7692) policy: offered when enabled, and the server's answer is
    /// checked against the offer (a bad answer fails the connect with a handshake error). It
    /// replaces `handshake.deflate`. Default [`DeflateConfig::CLIENT`]: offered with context
    /// takeover allowed and 12-bit windows, memory level 5 (Python `websockets`' memory-saving
    /// settings); a server that asks for no context takeover makes this end lend its codecs from
    /// the context's pool too. [`DeflateConfig::DISABLED`] offers nothing.
    pub deflate: DeflateConfig,
    /// The proxy to go through: explicit, from the environment (`http_proxy`, `https_proxy`,
    /// `all_proxy`, `no_proxy`; the default) or none. See [`ProxyOptions`] and docs/proxy.md.
    pub proxy: ProxyOptions,
    /// Reconnect automatically when the connection drops or a connect attempt fails (see
    /// [`ReconnectOptions`] and `docs/reconnect.md`). Default `None`: the connection ends with
    /// its first drop.
    pub reconnect: Option<ReconnectOptions>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            handshake: ClientOptions::default(),
            // Receive-side flow control is for connections that answer what they read (servers).
            connection: ConnectionOptions {
                read_pause_high_water: 0,
                ..ConnectionOptions::default()
            },
            tls: None,
            keep_headers: KeepHeaders::All,
            deflate: DeflateConfig::CLIENT,
            proxy: ProxyOptions::default(),
            reconnect: None,
        }
    }
}

/// Options of a [`crate::net::Context`].
#[derive(Debug, Clone, Copy)]
pub struct ContextOptions {
    /// Size of the one read buffer the context shares among all connections. Default 256 KiB.
    pub read_buffer_size: usize,
    /// Most readiness events taken from the OS per wait. Default 1024.
    pub events_capacity: usize,
}

impl Default for ContextOptions {
    fn default() -> Self {
        Self {
            read_buffer_size: 256 << 10,
            events_capacity: 1024,
        }
    }
}
