//! Options for contexts, listeners, client connections and the connections themselves, with safe
//! defaults.

use std::time::Duration;

use super::tls::{TlsClientConfig, TlsServerConfig};
use crate::proto::Config as ProtocolConfig;
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
    /// `on_writable` handler runs. Default 64 KiB.
    pub low_water_mark: usize,
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
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        Self {
            protocol: ProtocolConfig::default(),
            max_buffered: 16 << 20,
            low_water_mark: 64 << 10,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            ping_interval: None,
            pong_timeout: Duration::from_secs(20),
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
        }
    }
}

/// Options of a client connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Subprotocols, Origin, extra headers (e.g. Authorization, Cookie) and response limits.
    pub handshake: ClientOptions,
    /// Limits and timers. `handshake_timeout` covers name resolution, TCP connect and the handshake.
    pub connection: ConnectionOptions,
    /// How wss:// servers are verified. Default (`None`): the system trust store, with SNI and the
    /// host name check from the URL. ws:// URLs ignore it.
    pub tls: Option<TlsClientConfig>,
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
