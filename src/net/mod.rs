//! The event loop: non-blocking ws:// servers and clients over mio.
//!
//! `net` moves bytes between sockets and [`crate::proto`]; it makes no protocol decisions.
//!
//! # The contract
//! - **One thread drives a [`Context`]** with [`Context::poll`]; handlers ([`Handler`]) run on that
//!   thread, inside `poll`. Other threads use a [`Remote`] (`Send + Sync`, cloneable), which queues
//!   work and wakes the loop through a `mio::Waker`.
//! - **Re-entrancy:** handlers may call any method of the context they are given, on any
//!   connection, including closing or aborting the one being handled; only `poll`/`run`/`shutdown`
//!   are refused. After a connection is aborted inside a handler, no further events are delivered for
//!   it (any remaining bytes of the read are discarded).
//! - **Ids:** [`ConnId`]s are generation-checked: a stale id gives [`Error::NotFound`], never another
//!   connection.
//! - **Writes** are batched: sends append encoded frames to the connection's queue; the queue is
//!   written once per `poll` iteration (and before `poll` returns), as far as the socket takes it.
//!   `max_buffered` caps the queue ([`Error::WouldBlock`], then `on_writable`).
//! - **Reads:** readiness is edge-triggered; a socket is read until it would block, or, for plain
//!   TCP whose peer has not closed its side, until a read returns less than the buffer holds (the
//!   receive queue is then empty and new data raises a new edge). Whole messages are handed to
//!   the handler as slices of the read buffer.
//! - **Memory:** one read buffer per context; an idle connection is a 128-byte slot and holds no
//!   heap memory; a connection keeps only a partial frame and unsent bytes, and frees both (send
//!   buffers go to a per-context pool) when drained.
//! - **Lifecycle events:** every connection reported by `on_open`, every client connection
//!   returned by [`Context::connect`], and every connection whose user data was set
//!   ([`Context::set_user_data`], even one that never opened) gets exactly one `on_close`, during
//!   which [`Context::user_data`] still answers.
//! - **Accepting:** [`Handler::on_accept`] answers with a [`Decision`], or defers it
//!   ([`Decision::Defer`]) to [`Context::accept`] / [`Context::reject`] later; the default accepts
//!   with the listener's default subprotocol (`ListenOptions::subprotocols`). Path, query and
//!   headers outlive the handshake only when the options keep them ([`KeepHeaders`]).
//! - **Plain HTTP** on the same listeners: a request that does not ask to upgrade reaches
//!   [`Handler::on_http_request`] (default: the listener's `static_dir`, else the 4xx an invalid
//!   upgrade gets). It is answered with [`Context::http_respond`] or streamed with
//!   [`Context::http_begin`] / [`Context::http_write`] / [`Context::http_end`], at once or later
//!   (also from other threads through [`Remote`]); nothing more is read from the connection until
//!   it is. Keep-alive and pipelined requests are answered in order.
//! - **Panics** in handlers unwind out of `poll`; a caller that catches them keeps a usable context
//!   (see [`Context::poll`]).
//! - **Timers:** handshake timeout (slowloris defence), closing-handshake timeout, optional ping
//!   interval with pong timeout; a heap with lazy deletion, so 100k connections stay cheap.
//! - **Host loops:** [`Context::fd`] is readable when there is work; [`Context::next_timeout`] says
//!   how long the host may sleep.

mod config;
mod context;
mod error;
mod handler;
mod id;
mod proxy;
mod reconnect;
mod remote;
mod static_files;
mod timers;
mod tls;
mod trace;
mod unix;

pub use config::{ConnectOptions, ConnectionOptions, ContextOptions, KeepHeaders, ListenOptions};
pub use context::{Context, ContextStats, ReconnectState};
pub use error::{Error, Result};
pub use handler::{
    AcceptRequest, Decision, Fragment, Handler, HttpRequestInfo, Message, NoHandler, OpenInfo,
};
pub use id::{ConnId, ListenerId};
pub use proxy::{ProxyError, ProxyOptions};
pub use reconnect::{ReconnectDecision, ReconnectEvent, ReconnectOptions, UndeliveredReason};
pub use remote::{REMOTE_QUEUE_CAP, Remote};
pub use tls::{TlsClientConfig, TlsServerConfig};
pub use trace::{Direction, TraceEvent, Tracer};
pub use unix::UnixListenOptions;
