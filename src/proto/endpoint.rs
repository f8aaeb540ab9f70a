//! One object per role for a whole WebSocket connection: the opening handshake, then the frames.
//!
//! [`Endpoint::client`] sends the upgrade request and reports [`EndpointEvent::Open`] when the
//! server accepts; [`Endpoint::server`] reports the upgrade [`EndpointEvent::Request`] for the
//! application to [`Endpoint::accept`] or [`Endpoint::reject`]. After that every event is a
//! [`Event`] of the inner [`Connection`]. Bytes that arrive in the same read as the handshake are the
//! first frames: they are kept and reported (for a server, once it accepts: call
//! [`Endpoint::receive`] with an empty buffer to pull them).

use super::connection::{Connection, Incoming, RawEvent};
use super::deflate::{DeflateConfig, DeflateParams};
use super::event::Event;
use super::handshake::{
    AcceptOptions, ClientHandshake, ClientOptions, HandshakeError, Request, RequestLimits, Response, WsUrl,
    parse_request, write_reject,
};
use super::http::{HttpConnection, HttpError, HttpEvent, HttpLimits, HttpRequest};
use super::{Config, Role};

/// Events of an [`Endpoint`].
#[derive(Debug)]
pub enum EndpointEvent<'a> {
    /// Server: a valid upgrade request arrived. Accept or reject it; until then nothing more is read.
    Request(&'a Request),
    /// Client: the server accepted; messages may flow. Carries the server's response.
    Open(Response),
    /// The handshake failed. A server has queued the HTTP error response (400, 405, 426, 431, ...);
    /// write it, then close the transport. Nothing follows.
    HandshakeFailed(HandshakeError),
    /// An event of the open connection.
    Message(Event<'a>),
    /// Server with HTTP on ([`Endpoint::server_with_http`]): a plain HTTP request (not an
    /// upgrade). Answer it through [`Endpoint::http`]; the next request is read after the answer.
    HttpRequest(HttpRequest),
    /// Server with HTTP on: the request stream is broken; the error response is queued and the
    /// transport closes once it is written.
    HttpFailed(HttpError),
}

/// An [`EndpointEvent`] that borrows nothing (see [`Endpoint::read_event`]).
#[derive(Debug)]
pub enum RawEndpointEvent {
    /// Server: the upgrade request is ready; see [`Endpoint::request`].
    Request,
    /// Client: the server accepted.
    Open(Response),
    /// The handshake failed (a server has queued the HTTP error response).
    HandshakeFailed(HandshakeError),
    /// An event of the open connection.
    Message(RawEvent),
    /// A plain HTTP request (see [`EndpointEvent::HttpRequest`]).
    HttpRequest(HttpRequest),
    /// The HTTP request stream is broken (see [`EndpointEvent::HttpFailed`]).
    HttpFailed(HttpError),
}

/// The result of [`Endpoint::read_event`].
#[derive(Debug)]
pub struct EndpointStep {
    /// Bytes of the input used.
    pub consumed: usize,
    /// The event, if one is ready.
    pub event: Option<RawEndpointEvent>,
}

// `Open` is the steady state and the large one; the handshake is boxed so it costs nothing after.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum State {
    /// Server, before the first byte of the request: nothing on the heap yet, so a burst of
    /// accepted connections holds no handshake state until each one's request is read.
    /// With HTTP on, the body limit plus one (a `NonZeroU32` so the slot of an idle server
    /// connection does not grow: `net` keeps it at 128 bytes).
    AwaitingRequest(RequestLimits, Config, Option<std::num::NonZeroU32>),
    Handshake(Box<Handshake>),
    /// Server with HTTP on: plain HTTP requests until one asks to upgrade.
    Http(Box<HttpSide>),
    Open(Connection),
    /// The handshake failed or was rejected; the bytes are the HTTP response still to write.
    Failed(Vec<u8>),
}

#[derive(Debug)]
struct Handshake {
    side: Side,
    config: Config,
    /// Handshake bytes received so far.
    received: Vec<u8>,
    /// Bytes to send before the connection opens (the client's request).
    out: Vec<u8>,
}

#[derive(Debug)]
struct HttpSide {
    conn: HttpConnection,
    limits: RequestLimits,
    config: Config,
}

#[derive(Debug)]
enum Side {
    Client(ClientHandshake),
    Server(RequestLimits),
    ServerDecision(Request),
}

/// A client or server WebSocket connection from the first byte: handshake, then frames. After the
/// handshake it costs exactly a [`Connection`].
#[derive(Debug)]
pub struct Endpoint {
    state: State,
}

impl Endpoint {
    /// A client about to connect to `url`; the upgrade request is already in [`Endpoint::output`].
    /// With [`ClientOptions::deflate`] enabled, permessage-deflate is offered and, if the server
    /// agrees, the connection compresses.
    pub fn client(url: &WsUrl, options: &ClientOptions, config: Config) -> Result<Self, HandshakeError> {
        let handshake = ClientHandshake::new(url, options)?;
        Ok(Self::with_client_handshake(handshake, config))
    }

    /// A client with a prepared handshake (e.g. one built with a fixed key for tests).
    pub fn with_client_handshake(handshake: ClientHandshake, config: Config) -> Self {
        let out = handshake.request().to_vec();
        Self::handshaking(Side::Client(handshake), config, out)
    }

    /// A server waiting for the upgrade request.
    pub fn server(limits: RequestLimits, config: Config) -> Self {
        Self {
            state: State::AwaitingRequest(limits, config, None),
        }
    }

    /// A server that also answers plain HTTP on the same connection: requests that do not ask to
    /// upgrade are reported as [`EndpointEvent::HttpRequest`] (bodies up to `max_body_bytes`),
    /// answered in order through [`Endpoint::http`], until one asks to upgrade; that one goes
    /// through the WebSocket handshake exactly as on a fresh connection.
    pub fn server_with_http(limits: RequestLimits, max_body_bytes: usize, config: Config) -> Self {
        Self {
            // Bodies of 4 GiB or more are not buffered anyway: the limit saturates.
            state: State::AwaitingRequest(
                limits,
                config,
                std::num::NonZeroU32::new(max_body_bytes.min(u32::MAX as usize - 1) as u32 + 1),
            ),
        }
    }

    fn handshaking(side: Side, config: Config, out: Vec<u8>) -> Self {
        Self {
            state: State::Handshake(Box::new(Handshake {
                side,
                config,
                received: Vec::new(),
                out,
            })),
        }
    }

    /// Feeds received bytes; pull the events from the returned [`EndpointIncoming`].
    pub fn receive<'c>(&'c mut self, input: &'c mut [u8]) -> EndpointIncoming<'c> {
        if self.is_open() {
            let State::Open(conn) = &mut self.state else {
                unreachable!()
            };
            return EndpointIncoming {
                inner: Inner::Frames(conn.receive(input)),
            };
        }
        EndpointIncoming {
            inner: Inner::Handshake {
                endpoint: self,
                input,
                pos: 0,
            },
        }
    }

    /// Decodes bytes until one event is ready, borrowing nothing afterwards (for event loops; see
    /// [`Connection::read_event`]). Handshake bytes are copied in until the handshake completes;
    /// frame bytes that came with it are kept and reported by the following calls.
    #[inline]
    pub fn read_event(&mut self, input: &mut [u8]) -> EndpointStep {
        if let State::Open(conn) = &mut self.state {
            let step = conn.read_event(input);
            return EndpointStep {
                consumed: step.consumed,
                event: step.event.map(RawEndpointEvent::Message),
            };
        }
        self.read_handshake_event(input)
    }

    /// [`Endpoint::read_event`] before the connection opened.
    fn read_handshake_event(&mut self, input: &mut [u8]) -> EndpointStep {
        if let State::AwaitingRequest(limits, config, http) = self.state {
            if input.is_empty() {
                return EndpointStep {
                    consumed: 0,
                    event: None,
                };
            }
            self.state = match http {
                Some(body_limit) => State::Http(Box::new(HttpSide {
                    conn: HttpConnection::new(HttpLimits {
                        head: limits,
                        max_body_bytes: body_limit.get() as usize - 1,
                    }),
                    limits,
                    config,
                })),
                None => Self::handshaking(Side::Server(limits), config, Vec::new()).state,
            };
        }
        if let State::Http(side) = &mut self.state {
            side.conn.receive(input);
            let event = match side.conn.next_event() {
                None => None,
                Some(HttpEvent::Request(request)) => Some(RawEndpointEvent::HttpRequest(request)),
                Some(HttpEvent::Failed(err)) => Some(RawEndpointEvent::HttpFailed(err)),
                Some(HttpEvent::Upgrade) => {
                    // The upgrade request goes through the handshake as on a fresh connection;
                    // the unsent rest of earlier responses goes out before its answer.
                    let mut request = side.conn.take_input();
                    let out = side.conn.take_output();
                    self.state = Self::handshaking(Side::Server(side.limits), side.config, out).state;
                    self.read_handshake_event(&mut request).event
                }
            };
            return EndpointStep {
                consumed: input.len(),
                event,
            };
        }
        let handshake = match &mut self.state {
            State::Open(_) | State::AwaitingRequest(..) | State::Http(_) => unreachable!("handled above"),
            State::Failed(_) => {
                return EndpointStep {
                    consumed: input.len(),
                    event: None,
                };
            }
            State::Handshake(handshake) => handshake,
        };
        handshake.received.extend_from_slice(input);
        let consumed = input.len();
        let event = match &handshake.side {
            Side::ServerDecision(_) => None,
            Side::Client(client) => match client.parse_response(&handshake.received) {
                Ok(None) => None,
                Ok(Some((response, used))) => {
                    let mut conn = Connection::new(Role::Client, handshake.config);
                    if let Some(params) = response.deflate {
                        conn.set_deflate(params, client.deflate_config());
                    }
                    conn.sender().write_raw(&handshake.out);
                    conn.push_unread(&handshake.received[used..]);
                    self.state = State::Open(conn);
                    Some(RawEndpointEvent::Open(response))
                }
                Err(err) => {
                    self.state = State::Failed(Vec::new());
                    Some(RawEndpointEvent::HandshakeFailed(err))
                }
            },
            Side::Server(limits) => match parse_request(&handshake.received, limits) {
                Ok(None) => None,
                Ok(Some((request, used))) => {
                    handshake.received.drain(..used);
                    handshake.side = Side::ServerDecision(request);
                    Some(RawEndpointEvent::Request)
                }
                Err(err) => {
                    let mut response = Vec::new();
                    err.write_error_response(&mut response);
                    self.state = State::Failed(response);
                    Some(RawEndpointEvent::HandshakeFailed(err))
                }
            },
        };
        EndpointStep { consumed, event }
    }

    /// Server: accepts the request reported by [`EndpointEvent::Request`], queuing the 101 response.
    /// Frames that came with the request are reported by the next [`Endpoint::receive`] (call it with
    /// an empty buffer if no new bytes arrived).
    pub fn accept(&mut self, options: &AcceptOptions<'_>) -> Result<(), HandshakeError> {
        self.accept_with_deflate(options, &DeflateConfig::DISABLED)
            .map(|_| ())
    }

    /// [`Endpoint::accept`], negotiating permessage-deflate by `deflate`'s policy: the first
    /// acceptable offer of the request is answered (unless `options.extensions` already answer
    /// `permessage-deflate`) and the connection compresses. Returns the agreed parameters.
    pub fn accept_with_deflate(
        &mut self,
        options: &AcceptOptions<'_>,
        deflate: &DeflateConfig,
    ) -> Result<Option<DeflateParams>, HandshakeError> {
        let State::Handshake(handshake) = &mut self.state else {
            return Err(no_request("accepted"));
        };
        let Side::ServerDecision(request) = &handshake.side else {
            return Err(no_request("accepted"));
        };
        let mut response = Vec::new();
        let negotiated = if offers_deflate(options.extensions) {
            None
        } else {
            deflate.accept_offers(request.extensions.iter().map(String::as_str))
        };
        let mut conn = Connection::new(Role::Server, handshake.config);
        let params = negotiated.as_ref().map(|(params, _)| *params);
        match negotiated {
            Some((params, element)) => {
                let mut extensions = options.extensions.to_vec();
                extensions.push(element);
                let options = AcceptOptions {
                    extensions: &extensions,
                    ..*options
                };
                request.write_accept(&options, &mut response)?;
                conn.set_deflate(params, deflate);
            }
            None => request.write_accept(options, &mut response)?,
        }
        // Output still unsent from HTTP responses before the upgrade goes first.
        conn.sender().write_raw(&handshake.out);
        conn.sender().write_raw(&response);
        conn.push_unread(&handshake.received);
        self.state = State::Open(conn);
        Ok(params)
    }

    /// Server: rejects the request with an HTTP `status` (e.g. 403), extra headers and a body. Write
    /// the output, then close the transport.
    pub fn reject(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), HandshakeError> {
        if self.request().is_none() {
            return Err(no_request("rejected"));
        }
        let mut response = Vec::new();
        write_reject(status, headers, body, &mut response)?;
        if let State::Handshake(handshake) = &mut self.state {
            // Output still unsent from HTTP responses before the upgrade goes first.
            response.splice(0..0, std::mem::take(&mut handshake.out));
        }
        self.state = State::Failed(response);
        Ok(())
    }

    /// The open connection, once the handshake succeeded.
    pub fn connection(&mut self) -> Option<&mut Connection> {
        match &mut self.state {
            State::Open(conn) => Some(conn),
            _ => None,
        }
    }

    /// The permessage-deflate parameters agreed on, once open (`None` without compression).
    pub fn deflate_params(&self) -> Option<DeflateParams> {
        match &self.state {
            State::Open(conn) => conn.deflate_params(),
            _ => None,
        }
    }

    /// True once open with permessage-deflate negotiated.
    #[inline]
    pub fn is_compressed(&self) -> bool {
        matches!(&self.state, State::Open(conn) if conn.is_compressed())
    }

    /// The HTTP side of a server with HTTP on, until a request upgrades: answer requests here.
    pub fn http(&mut self) -> Option<&mut HttpConnection> {
        match &mut self.state {
            State::Http(side) => Some(&mut side.conn),
            _ => None,
        }
    }

    /// [`Endpoint::http`], shared.
    pub fn http_ref(&self) -> Option<&HttpConnection> {
        match &self.state {
            State::Http(side) => Some(&side.conn),
            _ => None,
        }
    }

    /// True while the connection speaks plain HTTP (see [`Endpoint::server_with_http`]).
    pub fn is_http(&self) -> bool {
        matches!(self.state, State::Http(_))
    }

    /// The request waiting for a decision (server, after [`EndpointEvent::Request`]).
    pub fn request(&self) -> Option<&Request> {
        match &self.state {
            State::Handshake(handshake) => match &handshake.side {
                Side::ServerDecision(request) => Some(request),
                _ => None,
            },
            _ => None,
        }
    }

    /// True once the handshake completed.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open(_))
    }

    /// Bytes waiting to be written to the transport.
    pub fn output(&self) -> &[u8] {
        match &self.state {
            State::Open(conn) => conn.output(),
            State::AwaitingRequest(..) => &[],
            State::Http(side) => side.conn.output(),
            State::Handshake(handshake) => &handshake.out,
            State::Failed(out) => out,
        }
    }

    /// Marks the first `n` bytes of [`Endpoint::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        let out = match &mut self.state {
            State::Open(conn) => return conn.consume_output(n),
            State::AwaitingRequest(..) => return,
            State::Http(side) => return side.conn.consume_output(n),
            State::Handshake(handshake) => &mut handshake.out,
            State::Failed(out) => out,
        };
        out.drain(..n.min(out.len()));
    }

    /// Takes every byte waiting to be written.
    pub fn take_output(&mut self) -> Vec<u8> {
        match &mut self.state {
            State::Open(conn) => conn.take_output(),
            State::AwaitingRequest(..) => Vec::new(),
            State::Http(side) => side.conn.take_output(),
            State::Handshake(handshake) => std::mem::take(&mut handshake.out),
            State::Failed(out) => std::mem::take(out),
        }
    }

    /// True when the transport should be closed once the output is written: the handshake failed or
    /// was rejected, or the connection closed.
    pub fn should_close_transport(&self) -> bool {
        match &self.state {
            State::Open(conn) => conn.should_close_transport(),
            State::Failed(out) => out.is_empty(),
            State::Http(side) => side.conn.should_close_transport(),
            State::AwaitingRequest(..) | State::Handshake(_) => false,
        }
    }
}

/// Whether raw extension values already name permessage-deflate (the application negotiates it).
fn offers_deflate(values: &[String]) -> bool {
    crate::proto::deflate::elements(values).iter().any(|e| {
        crate::proto::handshake::extension_name(e).eq_ignore_ascii_case(crate::proto::deflate::EXTENSION_NAME)
    })
}

fn no_request(what: &str) -> HandshakeError {
    HandshakeError::MalformedRequest(format!("no upgrade request is waiting to be {what}"))
}

/// The events of one [`Endpoint::receive`] call.
#[derive(Debug)]
pub struct EndpointIncoming<'c> {
    inner: Inner<'c>,
}

#[derive(Debug)]
enum Inner<'c> {
    Handshake {
        endpoint: &'c mut Endpoint,
        input: &'c mut [u8],
        pos: usize,
    },
    Frames(Incoming<'c>),
    Done,
}

impl EndpointIncoming<'_> {
    /// The next event, or `None` when the input is used up (or a server request awaits a decision).
    pub fn next_event(&mut self) -> Option<EndpointEvent<'_>> {
        loop {
            match std::mem::replace(&mut self.inner, Inner::Done) {
                Inner::Done => return None,
                Inner::Frames(incoming) => {
                    self.inner = Inner::Frames(incoming);
                    let Inner::Frames(incoming) = &mut self.inner else {
                        unreachable!()
                    };
                    return incoming.next_event().map(EndpointEvent::Message);
                }
                Inner::Handshake { endpoint, input, pos } => {
                    let step = endpoint.read_event(&mut input[pos..]);
                    let pos = pos + step.consumed;
                    match step.event {
                        None => return None,
                        Some(RawEndpointEvent::Open(response)) => {
                            // Frames that came with the response: the connection holds them.
                            if let State::Open(conn) = &mut endpoint.state {
                                self.inner = Inner::Frames(conn.receive(&mut input[pos..]));
                            }
                            return Some(EndpointEvent::Open(response));
                        }
                        Some(RawEndpointEvent::Request) => {
                            let endpoint: &Endpoint = endpoint;
                            return endpoint.request().map(EndpointEvent::Request);
                        }
                        Some(RawEndpointEvent::HandshakeFailed(err)) => {
                            return Some(EndpointEvent::HandshakeFailed(err));
                        }
                        Some(RawEndpointEvent::HttpRequest(request)) => {
                            self.inner = Inner::Handshake { endpoint, input, pos };
                            return Some(EndpointEvent::HttpRequest(request));
                        }
                        Some(RawEndpointEvent::HttpFailed(err)) => {
                            return Some(EndpointEvent::HttpFailed(err));
                        }
                        Some(RawEndpointEvent::Message(_)) => {
                            self.inner = Inner::Handshake { endpoint, input, pos };
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::OwnedEvent;
    use crate::proto::handshake::url;
    use crate::proto::testing::test_config;

    #[derive(Debug, PartialEq)]
    enum Seen {
        Request(String, Vec<String>),
        Open(Option<String>),
        Failed(u16),
        Ws(OwnedEvent),
        Http(String, String),
    }

    fn feed(endpoint: &mut Endpoint, bytes: &[u8], piece: usize) -> Vec<Seen> {
        let mut seen = Vec::new();
        let mut chunks: Vec<Vec<u8>> = bytes.chunks(piece.max(1)).map(<[u8]>::to_vec).collect();
        if chunks.is_empty() {
            chunks.push(Vec::new());
        }
        for mut chunk in chunks {
            let mut incoming = endpoint.receive(&mut chunk);
            while let Some(event) = incoming.next_event() {
                seen.push(match event {
                    EndpointEvent::Request(r) => Seen::Request(r.path.clone(), r.subprotocols.clone()),
                    EndpointEvent::Open(response) => Seen::Open(response.subprotocol),
                    EndpointEvent::HandshakeFailed(err) => Seen::Failed(err.http_status()),
                    EndpointEvent::Message(event) => Seen::Ws(event.to_owned()),
                    EndpointEvent::HttpRequest(r) => Seen::Http(r.method, r.path),
                    EndpointEvent::HttpFailed(err) => Seen::Failed(err.status()),
                });
            }
        }
        seen
    }

    fn client() -> Endpoint {
        let url = url::parse("ws://example.com/chat?room=1").unwrap();
        let options = ClientOptions {
            subprotocols: vec!["v2".into(), "v1".into()],
            ..Default::default()
        };
        Endpoint::client(&url, &options, test_config()).unwrap()
    }

    fn server() -> Endpoint {
        Endpoint::server(RequestLimits::default(), test_config())
    }

    #[test]
    fn http_requests_then_an_upgrade_on_one_connection() {
        for piece in [1, 5, usize::MAX] {
            let mut client = client();
            let mut server = Endpoint::server_with_http(RequestLimits::default(), 1024, test_config());
            let mut bytes = b"GET /page HTTP/1.1\r\nHost: h\r\n\r\n".to_vec();
            bytes.extend(client.take_output());
            assert_eq!(
                feed(&mut server, &bytes, piece),
                [Seen::Http("GET".into(), "/page".into())],
                "the upgrade waits for the answer (piece {piece})"
            );
            server.http().unwrap().respond(200, &[], b"page").unwrap();
            // Nothing sent yet: the response goes out before the 101.
            assert_eq!(
                feed(&mut server, &[], piece),
                [Seen::Request("/chat".into(), vec!["v2".into(), "v1".into()])]
            );
            assert!(!server.is_http());
            server.accept(&AcceptOptions::default()).unwrap();
            let out = server.take_output();
            assert!(out.starts_with(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npageHTTP/1.1 101 "));
            assert_eq!(feed(&mut client, &out[42..], piece), [Seen::Open(None)]);
        }
    }

    #[test]
    fn http_off_keeps_the_handshake_errors() {
        let mut server = server();
        assert_eq!(
            feed(&mut server, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 64),
            [Seen::Failed(400)]
        );
        let mut server = Endpoint::server_with_http(RequestLimits::default(), 4, test_config());
        assert_eq!(
            feed(
                &mut server,
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
                64
            ),
            [Seen::Failed(413)]
        );
        assert!(server.take_output().starts_with(b"HTTP/1.1 413 "));
        assert!(server.should_close_transport());
    }

    #[test]
    fn full_handshake_then_messages_with_frames_in_the_same_reads() {
        for piece in [1, 7, usize::MAX] {
            let mut client = client();
            let mut server = server();
            // The client sends a message right behind its request, before the server answered:
            // the server must not lose it.
            let mut first_flight = client.take_output();
            let mut early = crate::proto::Connection::new(Role::Client, test_config());
            early.send_text("early").unwrap();
            first_flight.extend(early.take_output());

            let seen = feed(&mut server, &first_flight, piece);
            assert_eq!(
                seen,
                [Seen::Request("/chat".into(), vec!["v2".into(), "v1".into()])]
            );
            server
                .accept(&AcceptOptions {
                    subprotocol: Some("v1"),
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(
                feed(&mut server, &[], piece),
                [Seen::Ws(OwnedEvent::Text("early".into()))]
            );

            // The server answers and sends a message in the same write.
            server.connection().unwrap().send_text("welcome").unwrap();
            let reply = server.take_output();
            assert!(reply.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
            let seen = feed(&mut client, &reply, piece);
            assert_eq!(
                seen,
                [
                    Seen::Open(Some("v1".into())),
                    Seen::Ws(OwnedEvent::Text("welcome".into()))
                ]
            );
            assert!(client.is_open() && server.is_open());
        }
    }

    #[test]
    fn bad_requests_get_an_http_error_and_close() {
        let mut server = server();
        let seen = feed(&mut server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", usize::MAX);
        assert_eq!(seen, [Seen::Failed(400)]);
        assert!(server.output().starts_with(b"HTTP/1.1 400 "));
        assert!(!server.should_close_transport(), "write the response first");
        server.take_output();
        assert!(server.should_close_transport());
        assert!(
            feed(&mut server, b"more", usize::MAX).is_empty(),
            "nothing is read after failing"
        );
    }

    #[test]
    fn oversized_headers_get_431_before_the_request_ends() {
        let mut server = Endpoint::server(
            RequestLimits {
                max_header_bytes: 1024,
                ..Default::default()
            },
            test_config(),
        );
        let mut request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: ".to_vec();
        request.extend(vec![b'a'; 2000]);
        assert_eq!(feed(&mut server, &request, 100), [Seen::Failed(431)]);
        assert!(server.output().starts_with(b"HTTP/1.1 431 "));
    }

    #[test]
    fn rejected_requests_get_the_chosen_status_and_body() {
        let mut client = client();
        let mut server = server();
        let request = client.take_output();
        assert_eq!(feed(&mut server, &request, usize::MAX).len(), 1);
        server.reject(403, &[], b"origin not allowed").unwrap();
        let response = server.take_output();
        assert!(server.should_close_transport());
        let seen = feed(&mut client, &response, 5);
        assert_eq!(
            seen,
            [Seen::Failed(400)],
            "a client-side failure maps to status 400 for reporting"
        );
        let mut client2 = self::client();
        let mut response2 = response.clone();
        let mut incoming = client2.receive(&mut response2);
        match incoming.next_event() {
            Some(EndpointEvent::HandshakeFailed(HandshakeError::Rejected { status, body, .. })) => {
                assert_eq!(status, 403);
                assert_eq!(body, b"origin not allowed");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn accept_without_request_is_an_error() {
        let mut server = server();
        assert!(server.accept(&AcceptOptions::default()).is_err());
        assert!(server.reject(400, &[], b"").is_err());
        let mut incoming = server.receive(&mut []);
        assert!(incoming.next_event().is_none());
    }

    fn deflate_client(deflate: DeflateConfig) -> Endpoint {
        let url = url::parse("ws://example.com/").unwrap();
        let options = ClientOptions {
            deflate,
            ..Default::default()
        };
        Endpoint::client(&url, &options, test_config()).unwrap()
    }

    #[test]
    fn negotiates_permessage_deflate_end_to_end() {
        let policy = DeflateConfig::default();
        let mut client = deflate_client(policy);
        let mut server = server();
        let request = client.take_output();
        let text = String::from_utf8_lossy(&request).into_owned();
        assert!(text.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12\r\n"
        ));
        feed(&mut server, &request, usize::MAX);
        let server_policy = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..policy
        };
        let params = server
            .accept_with_deflate(&AcceptOptions::default(), &server_policy)
            .unwrap()
            .unwrap();
        assert!(params.server_no_context_takeover && params.client_no_context_takeover);
        let big = "{\"key\": \"value\"} ".repeat(30);
        server.connection().unwrap().send_text(&big).unwrap();
        let reply = server.take_output();
        let seen = feed(&mut client, &reply, 5);
        assert_eq!(seen, [Seen::Open(None), Seen::Ws(OwnedEvent::Text(big.clone()))]);
        assert!(
            reply.len() < big.len(),
            "compressed: {} bytes with the 101 response",
            reply.len()
        );
        assert_eq!(client.connection().unwrap().deflate_params(), Some(params));
        client.connection().unwrap().send_text(&big).unwrap();
        let out = client.take_output();
        assert_eq!(out[0], 0xc1);
        assert_eq!(feed(&mut server, &out, 3), [Seen::Ws(OwnedEvent::Text(big))]);
    }

    #[test]
    fn server_without_policy_declines_and_client_stays_uncompressed() {
        let mut client = deflate_client(DeflateConfig::default());
        let mut server = server();
        feed(&mut server, &client.take_output(), usize::MAX);
        server.accept(&AcceptOptions::default()).unwrap();
        let reply = server.take_output();
        assert!(!String::from_utf8_lossy(&reply).contains("Extensions"));
        assert_eq!(feed(&mut client, &reply, usize::MAX), [Seen::Open(None)]);
        assert_eq!(client.connection().unwrap().deflate_params(), None);
        assert_eq!(server.connection().unwrap().deflate_params(), None);
    }

    #[test]
    fn client_fails_a_response_that_breaks_its_offer() {
        let mut client = deflate_client(DeflateConfig::default());
        let request = client.take_output();
        let key = String::from_utf8_lossy(&request)
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ").map(str::to_owned))
            .unwrap();
        let accept = crate::proto::handshake::accept_key(key.as_bytes());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; mystery\r\n\r\n"
        );
        let mut bytes = response.into_bytes();
        let step = client.read_event(&mut bytes);
        match step.event {
            Some(RawEndpointEvent::HandshakeFailed(HandshakeError::InvalidExtension(why))) => {
                assert!(why.contains("mystery"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_picks_the_first_acceptable_offer_across_headers() {
        let mut server = server();
        let request = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
                       Sec-WebSocket-Extensions: x-foo, permessage-deflate; bogus\r\n\
                       Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8, \
                       permessage-deflate; client_max_window_bits; server_no_context_takeover\r\n\r\n";
        assert_eq!(feed(&mut server, request.as_bytes(), 9).len(), 1);
        let params = server
            .accept_with_deflate(&AcceptOptions::default(), &DeflateConfig::default())
            .unwrap();
        assert_eq!(
            params,
            Some(DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: false,
                server_max_window_bits: 12,
                client_max_window_bits: 12,
            })
        );
        let reply = String::from_utf8(server.take_output()).unwrap();
        assert!(
            reply.contains(
                "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
                 server_max_window_bits=12; client_max_window_bits=12\r\n"
            ),
            "{reply}"
        );
        // RSV1 frames are accepted from now on.
        let mut client = crate::proto::Connection::new(Role::Client, test_config());
        client.set_deflate(params.unwrap(), &DeflateConfig::default());
        client.send_text(&"compress me ".repeat(10)).unwrap();
        let out = client.take_output();
        assert_eq!(out[0], 0xc1);
        assert_eq!(
            feed(&mut server, &out, 4),
            [Seen::Ws(OwnedEvent::Text("compress me ".repeat(10)))]
        );
    }
}
