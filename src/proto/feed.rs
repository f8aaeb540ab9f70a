//! The event loop's way of reading one buffer of received bytes: the fast path for whole messages
//! ([`Connection::read_message`]'s), the general path for everything else
//! ([`Connection::read_event`]), and the reassembly buffer handed back for reuse
//! ([`Connection::recycle`]), written once.
//!
//! A [`Feed`] owns the unread input; the connection is passed to each call and borrowed only
//! during it. That is the point: an event loop hands each event to code that may call back into
//! the connection (send on it, close it, drop it), so nothing may hold the connection while an
//! event is out, which a callback API (`feed(input, |event| ...)`) would. An event borrows the
//! input (fast path) or the `Feed` (general path), until the next call.
//!
//! - [`Feed::next`]: both paths, for a [`Connection`] (the proptests and the fuzz target);
//! - [`Feed::fast_endpoint`], then [`Feed::general_endpoint`] when it declines: the same for an
//!   [`Endpoint`], handshake included (`net`'s read loop).
//!
//! Cost: the fast path is `read_message`'s code, inlined, plus splitting the message off the
//! unread input; no check of the general path's state is on it (callgrind, `bench/callgrind.sh
//! a16`: 318 instructions per echoed message, as with `net`'s own loop before). The event of the
//! general path is kept in the `Feed` while it is out, and its buffer goes back to the connection
//! at the start of the next general-path call (a held reassembled message keeps the connection on
//! the general path until then, as it did before).

use super::connection::{Connection, RawEvent};
use super::endpoint::{Endpoint, RawEndpointEvent};
use super::event::Event;
use super::handshake::{HandshakeError, Response};
use super::http::{HttpError, HttpRequest};

/// One buffer of received bytes, read event by event (see the documentation of `proto::feed`).
///
/// When [`Feed::next`] returns `None`, all of the input was used (an incomplete frame is kept
/// inside the connection). Dropping a `Feed` earlier (e.g. because the connection went away)
/// leaves the rest unread.
#[derive(Debug)]
pub struct Feed<'i> {
    /// The bytes not read yet. Read bytes are split off the front and leave the `Feed`, so a
    /// message of the fast path borrows the input, not the `Feed`.
    rest: &'i mut [u8],
    /// The event of the general path last handed out: its view borrows it.
    held: Option<RawEvent>,
}

/// What [`Feed::next`] read from an open connection.
#[derive(Debug)]
pub enum Fed<'a> {
    /// The fast path: a whole text or binary message, and the connection changed in no other way
    /// (no output queued, no frame header recorded).
    Fast(Event<'a>),
    /// The general path: any event. It may have queued output (a pong, a close reply, the close
    /// frame of a failure) and recorded frame headers (when the frame log is on).
    General(Event<'a>),
}

impl<'a> Fed<'a> {
    /// The event, whichever path read it.
    pub fn event(self) -> Event<'a> {
        match self {
            Fed::Fast(event) | Fed::General(event) => event,
        }
    }
}

/// What [`Feed::general_endpoint`] read: an event of the open connection (the general path, see
/// [`Fed::General`]) or a handshake step (as [`RawEndpointEvent`] reports them).
#[derive(Debug)]
pub enum EndpointFed<'a> {
    /// An event of the open connection, from the general path.
    Event(Event<'a>),
    /// Server: the upgrade request is ready; see [`Endpoint::request`].
    Request,
    /// Client: the server accepted.
    Open(Response),
    /// The handshake failed (a server has queued the HTTP error response).
    HandshakeFailed(HandshakeError),
    /// Server with HTTP on: a plain HTTP request (see [`Endpoint::http`]).
    HttpRequest(HttpRequest),
    /// Server with HTTP on: the request stream broke; the error response is queued.
    HttpFailed(HttpError),
}

impl<'i> Feed<'i> {
    /// Starts reading `input` (masked payloads are unmasked in place).
    #[inline]
    pub fn new(input: &'i mut [u8]) -> Self {
        Self {
            rest: input,
            held: None,
        }
    }

    /// The bytes not read yet.
    pub fn unread(&self) -> &[u8] {
        self.rest
    }

    /// The next event of `conn`, or `None` when the input is used up. Pass the same connection
    /// every time.
    #[inline(always)]
    pub fn next(&mut self, conn: &mut Connection) -> Option<Fed<'_>> {
        if let Some(event) = self.fast(conn) {
            return Some(Fed::Fast(event));
        }
        self.general(conn).map(Fed::General)
    }

    /// The fast path for an [`Endpoint`]: a whole message of an open connection (see
    /// [`Fed::Fast`]), or `None` when it declines (nothing was read or changed): then call
    /// [`Feed::general_endpoint`]. Two calls, not one returning both kinds, so the hot loop of an
    /// event loop handles a small `Option<Event>` (one call returning [`EndpointFed`] measured 16%
    /// more instructions per echoed message).
    #[inline(always)]
    pub fn fast_endpoint(&mut self, endpoint: &mut Endpoint) -> Option<Event<'i>> {
        self.fast(endpoint.connection()?)
    }

    /// Everything but the fast path for an [`Endpoint`]: the handshake steps, then the
    /// connection's general path. `None` when the input is used up. Pass the same endpoint every
    /// time.
    #[inline]
    pub fn general_endpoint(&mut self, endpoint: &mut Endpoint) -> Option<EndpointFed<'_>> {
        match endpoint.connection() {
            Some(conn) => self.general(conn).map(EndpointFed::Event),
            None => self.handshake(endpoint),
        }
    }

    /// Splits the first `n` bytes off the unread input.
    #[inline(always)]
    fn take_front(&mut self, n: usize) -> &'i mut [u8] {
        let (front, rest) = std::mem::take(&mut self.rest).split_at_mut(n);
        self.rest = rest;
        front
    }

    /// The fast path: [`Connection::read_message`]'s.
    #[inline(always)]
    fn fast(&mut self, conn: &mut Connection) -> Option<Event<'i>> {
        let whole = conn.read_whole(self.rest)?;
        let message = self.take_front(whole.used);
        // SAFETY: `message` is the start of the slice `read_whole` just read, up to the end of
        // the message (its payload lies within), and it has left the `Feed`: nothing else can
        // reach it, so it stays unchanged while the event borrows it.
        Some(unsafe { whole.event(message) })
    }

    /// The general path of an open connection: gives the previous event's buffer back, then reads
    /// with [`Connection::read_event`].
    #[inline]
    fn general(&mut self, conn: &mut Connection) -> Option<Event<'_>> {
        if let Some(previous) = self.held.take() {
            conn.recycle(previous);
        }
        let step = conn.read_event(self.rest);
        let read = self.take_front(step.consumed);
        let raw = self.held.insert(step.event?);
        // SAFETY: `raw` was decoded by `read_event` from the slice whose first `consumed` bytes
        // are `read` (its payload ranges lie within them), and `read` has left the `Feed`: nothing
        // else can reach it, so it stays unchanged while the event borrows it.
        Some(unsafe { raw.event_unchecked(read) })
    }

    /// An endpoint that is not open: the handshake reads the input (or, once it completes, the
    /// connection reads it, the next time round).
    #[cold]
    fn handshake(&mut self, endpoint: &mut Endpoint) -> Option<EndpointFed<'_>> {
        // Events are not held across the handshake: a new connection starts with nothing to reuse.
        self.held = None;
        let step = endpoint.read_event(self.rest);
        let read = self.take_front(step.consumed);
        Some(match step.event? {
            RawEndpointEvent::Request => EndpointFed::Request,
            RawEndpointEvent::Open(response) => EndpointFed::Open(response),
            RawEndpointEvent::HandshakeFailed(err) => EndpointFed::HandshakeFailed(err),
            RawEndpointEvent::HttpRequest(request) => EndpointFed::HttpRequest(request),
            RawEndpointEvent::HttpFailed(err) => EndpointFed::HttpFailed(err),
            // The handshake reports no frames (those that came with it wait in the connection
            // for the next call); should it ever, they are read like any general event.
            RawEndpointEvent::Message(raw) => {
                let raw = self.held.insert(raw);
                // SAFETY: as in `general`.
                EndpointFed::Event(unsafe { raw.event_unchecked(read) })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::OwnedEvent as E;
    use crate::proto::handshake::{AcceptOptions, ClientOptions, RequestLimits, url};
    use crate::proto::testing::test_config;
    use crate::proto::{Config, MessageKind, Role};

    fn client_bytes(sends: impl FnOnce(&mut Connection)) -> Vec<u8> {
        let mut client = Connection::new(Role::Client, test_config());
        sends(&mut client);
        client.take_output()
    }

    fn read_all(conn: &mut Connection, input: &mut [u8]) -> Vec<(bool, E)> {
        let mut feed = Feed::new(input);
        let mut seen = Vec::new();
        while let Some(fed) = feed.next(conn) {
            seen.push(match fed {
                Fed::Fast(event) => (true, event.to_owned()),
                Fed::General(event) => (false, event.to_owned()),
            });
        }
        assert!(feed.unread().is_empty(), "None means all input was used");
        seen
    }

    #[test]
    fn whole_messages_take_the_fast_path_and_the_rest_the_general_one() {
        let mut bytes = client_bytes(|c| {
            c.send_text("one").unwrap();
            c.sender().ping(b"p").unwrap();
            c.send_binary(&[1, 2, 3]).unwrap();
            c.sender().begin_message(MessageKind::Text, b"fr").unwrap();
            c.sender().finish_message(b"ag").unwrap();
            c.send_text("two").unwrap();
        });
        let mut server = Connection::new(Role::Server, test_config());
        let seen = read_all(&mut server, &mut bytes);
        assert_eq!(
            seen,
            [
                (true, E::Text("one".into())),
                (false, E::Ping(b"p".to_vec())),
                (true, E::Binary(vec![1, 2, 3])),
                (false, E::Text("frag".into())),
                // The reassembly buffer was kept for reuse: the connection stays on the general
                // path (same events, same bytes).
                (false, E::Text("two".into())),
            ]
        );
        assert!(!server.output().is_empty(), "the pong is queued");
    }

    #[test]
    fn a_fast_message_changes_nothing_but_the_position() {
        let mut bytes = client_bytes(|c| c.send_text("hi").unwrap());
        let mut server = Connection::new(Role::Server, test_config());
        let mut feed = Feed::new(&mut bytes);
        assert!(matches!(
            feed.next(&mut server),
            Some(Fed::Fast(Event::Text("hi")))
        ));
        assert!(server.output().is_empty() && server.heap_bytes() == 0);
        assert!(feed.next(&mut server).is_none());
    }

    #[test]
    fn the_reassembly_buffer_goes_back_for_the_next_message() {
        let mut bytes = client_bytes(|c| {
            for fill in [7, 8] {
                c.sender()
                    .begin_message(MessageKind::Binary, &[fill; 150])
                    .unwrap();
                c.sender().finish_message(&[fill; 150]).unwrap();
            }
        });
        let mut server = Connection::new(Role::Server, test_config());
        let mut feed = Feed::new(&mut bytes);
        let Some(Fed::General(Event::Binary(first))) = feed.next(&mut server) else {
            panic!("a reassembled message")
        };
        assert_eq!(first, [7; 300]);
        let first = first.as_ptr();
        assert_eq!(server.assembly_capacity(), 0, "the buffer is out with the event");
        let Some(Fed::General(Event::Binary(second))) = feed.next(&mut server) else {
            panic!("a reassembled message")
        };
        assert_eq!(second, [8; 300]);
        assert_eq!(
            second.as_ptr(),
            first,
            "the second message reused the first one's buffer"
        );
        assert!(feed.next(&mut server).is_none());
        assert!(server.assembly_capacity() >= 300, "and it came back again");
    }

    #[test]
    fn streaming_and_errors_take_the_general_path() {
        let config = Config {
            streaming: true,
            ..test_config()
        };
        let mut bytes = client_bytes(|c| c.send_text("hi").unwrap());
        let mut server = Connection::new(Role::Server, config);
        let seen = read_all(&mut server, &mut bytes);
        assert!(matches!(seen[..], [(false, E::Fragment { .. })]), "{seen:?}");

        // Unmasked frames to a server: an error, then Closed.
        let mut server = Connection::new(Role::Server, test_config());
        let seen = read_all(&mut server, &mut [0x81, 0x02, b'h', b'i']);
        assert!(
            matches!(seen[..], [(false, E::Error(_)), (false, E::Closed { .. })]),
            "{seen:?}"
        );
    }

    /// As `net` reads an endpoint: the fast path, then the general one. `true` for the fast path.
    fn next_of<'f, 'i>(feed: &'f mut Feed<'i>, endpoint: &mut Endpoint) -> Option<(bool, EndpointFed<'f>)> {
        if let Some(event) = feed.fast_endpoint(endpoint) {
            return Some((true, EndpointFed::Event(event)));
        }
        feed.general_endpoint(endpoint).map(|fed| (false, fed))
    }

    #[test]
    fn an_endpoint_reads_the_handshake_then_frames_from_the_same_buffer() {
        let url = url::parse("ws://example.com/").unwrap();
        let mut client = Endpoint::client(&url, &ClientOptions::default(), test_config()).unwrap();
        let mut server = Endpoint::server(RequestLimits::default(), test_config());
        let mut request = client.take_output();
        let mut feed = Feed::new(&mut request);
        assert!(matches!(
            next_of(&mut feed, &mut server),
            Some((false, EndpointFed::Request))
        ));
        assert!(
            next_of(&mut feed, &mut server).is_none(),
            "nothing is read until a decision"
        );
        drop(feed);
        server.accept(&AcceptOptions::default()).unwrap();
        server.connection().unwrap().send_text("welcome").unwrap();
        let mut reply = server.take_output();

        let mut feed = Feed::new(&mut reply);
        assert!(matches!(
            next_of(&mut feed, &mut client),
            Some((false, EndpointFed::Open(_)))
        ));
        // The frame came with the response: the connection kept it, the general path reads it.
        match next_of(&mut feed, &mut client) {
            Some((false, EndpointFed::Event(Event::Text("welcome")))) => {}
            other => panic!("{other:?}"),
        }
        assert!(next_of(&mut feed, &mut client).is_none());

        // Open now: whole messages take the fast path, pings the general one.
        let mut more = client_bytes(|c| {
            c.send_text("fast").unwrap();
            c.sender().ping(b"p").unwrap();
        });
        let mut feed = Feed::new(&mut more);
        assert!(matches!(
            next_of(&mut feed, &mut server),
            Some((true, EndpointFed::Event(Event::Text("fast"))))
        ));
        assert!(matches!(
            next_of(&mut feed, &mut server),
            Some((false, EndpointFed::Event(Event::Ping(b"p"))))
        ));
        assert!(next_of(&mut feed, &mut server).is_none());
        assert!(feed.unread().is_empty());

        // A failed handshake is reported once; nothing is read after it.
        let mut bad_server = Endpoint::server(RequestLimits::default(), test_config());
        let mut bad = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        let mut feed = Feed::new(&mut bad);
        assert!(matches!(
            next_of(&mut feed, &mut bad_server),
            Some((false, EndpointFed::HandshakeFailed(_)))
        ));
        assert!(next_of(&mut feed, &mut bad_server).is_none());
    }
}
