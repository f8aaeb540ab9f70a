//! What the event loop tells the application, and how the application answers upgrade requests.

use std::net::SocketAddr;

use super::Context;
use super::error::Error;
use super::id::{ConnId, ListenerId};
use super::reconnect::{ReconnectDecision, ReconnectEvent, UndeliveredReason};
use crate::proto::handshake::Request;
use crate::proto::http::HttpRequest;
use crate::proto::{CloseInfo, DeflateParams, MessageKind, Role};

/// Receives the events of a [`Context`] during [`Context::poll`]. Every method has a default that
/// does nothing (the accept hook accepts), so implement only what you need.
///
/// Handlers get the context back and may call anything on it — send, close, abort, connect, listen —
/// including on the connection whose event is being handled. Only `poll` itself is refused
/// ([`Error::Reentrant`]). Payload slices are valid only during the call.
#[allow(unused_variables)]
pub trait Handler {
    /// Asked before each socket read: return true to make `poll` stop reading (e.g. the host's own
    /// event queue is full). Sockets not read are read first by the next `poll`, which then does not
    /// block. Events of data already read are still delivered.
    fn should_pause(&self) -> bool {
        false
    }

    /// A listener is accepting connections on `addr`.
    fn on_listen(&mut self, ctx: &mut Context, listener: ListenerId, addr: SocketAddr) {}

    /// A Unix socket listener ([`Context::listen_unix`]) is accepting connections on `path`.
    fn on_listen_unix(&mut self, ctx: &mut Context, listener: ListenerId, path: &std::path::Path) {}

    /// A client asked to upgrade (after the listener's Origin allowlist passed). Return whether to
    /// accept, choosing a subprotocol and extra response headers, or reject with a status and body,
    /// or [`Decision::Defer`] to answer later with [`Context::accept`] / [`Context::reject`].
    ///
    /// The default accepts with the listener's default subprotocol
    /// ([`AcceptRequest::accept_default`]).
    ///
    /// The handler may also answer from inside this call with [`Context::accept`] or
    /// [`Context::reject`] for `request.conn`: the answer is checked at once (an invalid one returns
    /// an error and leaves the request waiting), applied right after this method returns, and the
    /// returned `Decision` is then ignored.
    fn on_accept(&mut self, ctx: &mut Context, request: &AcceptRequest<'_>) -> Decision {
        request.accept_default()
    }

    /// A plain HTTP request arrived (one that does not ask to upgrade; upgrades go to
    /// `on_accept`). Answer it with [`Context::http_respond`], or stream the body with
    /// [`Context::http_begin`] / [`Context::http_write`] / [`Context::http_end`], now or later
    /// (from another handler, from outside `poll`, or from another thread through
    /// [`crate::net::Remote`]). Nothing more is read from the connection until the response ends;
    /// the next pipelined request follows then. An unanswered request holds its connection.
    ///
    /// The default serves the listener's `static_dir` ([`Context::serve_static`]) and, without one,
    /// answers as an invalid upgrade request is answered (405, 505 or 400, then close):
    /// [`Context::http_serve_default`].
    fn on_http_request(&mut self, ctx: &mut Context, request: &HttpRequestInfo<'_>) {
        let _ = ctx.http_serve_default(request.conn, request.request);
    }

    /// The connection is open (both roles). Every connection reported here, and every client
    /// connection returned by [`Context::connect`], later gets exactly one `on_close`. A request
    /// accepted later ([`Decision::Defer`], then [`Context::accept`]) is reported at the next
    /// `poll`, in order with the other events. A reconnecting client
    /// ([`crate::net::ConnectOptions::reconnect`]) is reported open again after each reconnect,
    /// under the same id; its one `on_close` comes when reconnecting ends.
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {}

    /// A whole message arrived (text is valid UTF-8).
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {}

    /// Streaming mode only (`ConnectionOptions::protocol.streaming`): a piece of a message arrived.
    fn on_fragment(&mut self, ctx: &mut Context, conn: ConnId, fragment: Fragment<'_>) {}

    /// A ping arrived; the pong is already queued unless auto-pong is off.
    fn on_ping(&mut self, ctx: &mut Context, conn: ConnId, payload: &[u8]) {}

    /// A pong arrived.
    fn on_pong(&mut self, ctx: &mut Context, conn: ConnId, payload: &[u8]) {}

    /// A send failed with [`Error::WouldBlock`] earlier and the queue has drained to the low-water
    /// mark: sending may resume.
    fn on_writable(&mut self, ctx: &mut Context, conn: ConnId) {}

    /// The connection closed: close handshake done, failed, timed out or dropped (code 1006). The id
    /// is invalid afterwards (or soon: no more events are reported for it).
    ///
    /// Exactly one `on_close` comes for every connection reported by `on_open`, for every client
    /// connection returned by [`Context::connect`], and for every connection whose user data was set
    /// to a non-zero value ([`Context::set_user_data`]) even if it never opened (rejected, dropped,
    /// timed out while its accept decision was pending, or reset by the peer during the handshake;
    /// such closes report 1006). During this call [`Context::user_data`] still returns the
    /// connection's user data on every path (clean close, reset, timeouts, abort, shutdown), so
    /// whatever it refers to can be freed here. (Dropping the `Context` reports nothing.)
    fn on_close(&mut self, ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {}

    /// Something failed: a protocol violation by the peer (followed by `on_close`), a failed
    /// connect or handshake of a client connection (followed by `on_close`), or an error not tied to
    /// a connection (`conn` is `None`, e.g. `accept` failing for lack of file descriptors).
    fn on_error(&mut self, ctx: &mut Context, conn: Option<ConnId>, error: &Error) {}

    /// A reconnecting client connection ([`crate::net::ConnectOptions::reconnect`]) dropped, or
    /// an attempt failed, and attempt `event.attempt` is about to be scheduled after
    /// `event.delay`. The connection keeps its id. Return [`ReconnectDecision::Proceed`] (the
    /// default), a different delay, or [`ReconnectDecision::Stop`]. (Errors of the dropped
    /// connection are in `event.error`, not reported to `on_error`; `on_close` comes once, when
    /// reconnecting ends.)
    fn on_reconnect(
        &mut self,
        ctx: &mut Context,
        conn: ConnId,
        event: &ReconnectEvent<'_>,
    ) -> ReconnectDecision {
        ReconnectDecision::Proceed
    }

    /// A message queued while a reconnecting connection was not open was not delivered (see
    /// [`crate::net::ReconnectOptions::offline_queue_bytes`]). For `Exhausted` and `Stopped`
    /// these come right before the connection's `on_close`.
    fn on_undelivered(
        &mut self,
        ctx: &mut Context,
        conn: ConnId,
        message: Message<'_>,
        reason: UndeliveredReason,
    ) {
    }
}

/// A handler that ignores every event (accepting every request).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHandler;

impl Handler for NoHandler {}

/// A whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes.
    Binary(&'a [u8]),
}

impl<'a> Message<'a> {
    /// The payload bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }
}

/// A piece of a message (streaming mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Text or binary.
    pub kind: MessageKind,
    /// The bytes (text may split a code point; the message as a whole is valid UTF-8).
    pub data: &'a [u8],
    /// First piece of its message.
    pub first: bool,
    /// Last piece of its message.
    pub last: bool,
}

/// What the application learns when a connection opens.
#[derive(Debug, Clone, Copy)]
pub struct OpenInfo<'a> {
    /// Client or server.
    pub role: Role,
    /// The listener that accepted it (server connections).
    pub listener: Option<ListenerId>,
    /// The negotiated subprotocol.
    pub subprotocol: Option<&'a str>,
    /// The request path (the URL's path for clients).
    pub path: &'a str,
    /// The request query, without `?`.
    pub query: Option<&'a str>,
    /// The request headers (server) or response headers (client), as received.
    pub headers: &'a [(String, String)],
    /// The peer's address (`None` for a Unix socket connection: see `Context::unix_path`).
    pub peer: Option<SocketAddr>,
    /// The permessage-deflate parameters agreed on, if compression was negotiated.
    pub deflate: Option<DeflateParams>,
}

/// A plain HTTP request for [`Handler::on_http_request`].
#[derive(Debug, Clone, Copy)]
pub struct HttpRequestInfo<'a> {
    /// The connection: answer with [`Context::http_respond`] and friends.
    pub conn: ConnId,
    /// The listener it came to.
    pub listener: ListenerId,
    /// Method, path (not percent-decoded), query, headers and body.
    pub request: &'a HttpRequest,
    /// The client's address (`None` for a Unix socket connection).
    pub peer: Option<SocketAddr>,
}

/// An upgrade request for [`Handler::on_accept`].
#[derive(Debug, Clone, Copy)]
pub struct AcceptRequest<'a> {
    /// The connection (valid for sending once accepted and opened).
    pub conn: ConnId,
    /// The listener it came to.
    pub listener: ListenerId,
    /// The parsed request: path, query, headers, Origin, offered subprotocols.
    pub request: &'a Request,
    /// The client's address (`None` for a Unix socket connection).
    pub peer: Option<SocketAddr>,
    /// The listener's subprotocols (`ListenOptions::subprotocols`).
    pub(crate) supported: &'a [String],
}

impl<'a> AcceptRequest<'a> {
    /// A request header by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.request.header(name)
    }

    /// The listener's default choice: the first subprotocol the client offered (in the client's
    /// order) that `ListenOptions::subprotocols` lists; `None` if there is none.
    pub fn default_subprotocol(&self) -> Option<&'a str> {
        let supported = self.supported;
        self.request
            .subprotocols
            .iter()
            .find(|offered| supported.iter().any(|s| s == *offered))
            .map(String::as_str)
    }

    /// Accepts with [`AcceptRequest::default_subprotocol`] and no extra headers (what the default
    /// [`Handler::on_accept`] returns).
    pub fn accept_default(&self) -> Decision {
        Decision::Accept {
            subprotocol: self.default_subprotocol().map(str::to_owned),
            headers: Vec::new(),
        }
    }
}

/// The answer to an upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Upgrade the connection.
    Accept {
        /// The subprotocol to select (must be one the client offered).
        subprotocol: Option<String>,
        /// Extra response headers (e.g. Set-Cookie).
        headers: Vec<(String, String)>,
    },
    /// Refuse with an HTTP response; the connection is closed after it is written.
    Reject {
        /// HTTP status (200-599, not 101).
        status: u16,
        /// Extra response headers.
        headers: Vec<(String, String)>,
        /// Response body.
        body: Vec<u8>,
    },
    /// Decide later: the request waits (nothing more is read from the connection meanwhile) until
    /// [`Context::accept`] or [`Context::reject`] answers it, from any handler or from outside
    /// `poll` (e.g. after a worker thread checked a token and woke the loop). The handshake timeout
    /// still applies: a request not answered in time is dropped (with `on_close` only if its user
    /// data was set). See [`Context::is_accept_pending`].
    Defer,
}

impl Decision {
    /// Accept without a subprotocol.
    pub fn accept() -> Self {
        Decision::Accept {
            subprotocol: None,
            headers: Vec::new(),
        }
    }

    /// Accept selecting `subprotocol`.
    pub fn accept_subprotocol(subprotocol: impl Into<String>) -> Self {
        Decision::Accept {
            subprotocol: Some(subprotocol.into()),
            headers: Vec::new(),
        }
    }

    /// Reject with `status` and a plain-text `body`.
    pub fn reject(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Decision::Reject {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}
