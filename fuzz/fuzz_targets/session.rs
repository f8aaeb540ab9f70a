//! A whole session, stateful: a client and a server `Endpoint` (handshake included), the bytes
//! between them moved, cut, held back, corrupted or dropped as the input says, with the
//! application's calls in between (sends, fragmented sends, pings, closes, aborts, pause and
//! resume of either direction, and "remote" sends queued to run at the next step, as
//! `net::Remote` commands do). The server reads as `net::Context` does (`fuzzing::Feed`: the fast
//! path, then the general one); the client through `Endpoint::receive`.
//!
//! Input: byte 0 flags (bit 0 server streaming, bit 1 client streaming, bit 2 server auto-pong
//! off, bit 3 server reads byte by byte), then operations: one byte each (the op in the low 4
//! bits, an argument in the high 4), some followed by bytes of their own (see `Op`).
//!
//! Oracle, on both ends: no panic; at most one `Closed`, nothing after it, and once it was
//! reported and its output written, no further output, whatever the application calls; an
//! `Error` is followed at once by `Closed`; payloads within the limits; memory within
//! `2 * max_message_size + 64 KiB` besides unsent output; and at the end, once the transport
//! closes, every end that opened has reported exactly one `Closed`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wskit::proto::fuzzing::{EndpointFed, Feed};
use wskit::proto::handshake::{AcceptOptions, ClientOptions, RequestLimits, url};
use wskit::proto::{Config, Endpoint, EndpointEvent, Event, MessageKind, State};

const MAX_MESSAGE: u64 = 1 << 16;
const MAX_FRAME: u64 = 1 << 15;
const MAX_FRAGMENTS: u32 = 64;
const HEAP_LIMIT: usize = 2 * MAX_MESSAGE as usize + (64 << 10);

fn fixed_mask() -> [u8; 4] {
    [0x37, 0xfa, 0x21, 0x3d]
}

/// What one end has reported, checked as it goes.
#[derive(Default)]
struct Seen {
    opened: bool,
    closed: bool,
    pending_error: bool,
    /// Output was fully written after `Closed`: nothing may be queued again.
    sealed: bool,
}

impl Seen {
    fn see(&mut self, event: &Event<'_>, streaming: bool) {
        assert!(!self.closed, "event after Closed: {event:?}");
        if self.pending_error {
            assert!(matches!(event, Event::Closed(_)), "{event:?} after an Error");
            self.pending_error = false;
        }
        match event {
            Event::Text(t) => {
                assert!(!streaming && t.len() as u64 <= MAX_MESSAGE, "text of {}", t.len())
            }
            Event::Binary(b) => {
                assert!(!streaming && b.len() as u64 <= MAX_MESSAGE, "binary of {}", b.len())
            }
            Event::Fragment { data, .. } => {
                assert!(streaming && data.len() as u64 <= MAX_FRAME, "fragment of {}", data.len())
            }
            Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= 125),
            Event::Error(_) => self.pending_error = true,
            Event::Closed(info) => {
                assert!(info.reason.len() <= 123);
                self.closed = true;
            }
        }
    }
}

/// One end: its endpoint, what it reported, and the bytes on their way to the other end.
struct End {
    endpoint: Endpoint,
    seen: Seen,
    streaming: bool,
    /// Written by this end, not yet delivered to the other (the "network").
    wire: Vec<u8>,
    /// Delivery to the other end paused (the other end stopped reading).
    paused: bool,
    /// The transport was dropped (abort or reset): nothing moves any more.
    dropped: bool,
}

impl End {
    fn new(endpoint: Endpoint, streaming: bool) -> Self {
        Self {
            endpoint,
            seen: Seen::default(),
            streaming,
            wire: Vec::new(),
            paused: false,
            dropped: false,
        }
    }

    /// Moves the endpoint's output onto the wire; checks "no output after close".
    fn flush(&mut self) {
        let out = self.endpoint.take_output();
        assert!(
            !(self.seen.sealed && !out.is_empty()),
            "{} bytes of output after Closed was reported and written",
            out.len()
        );
        if !self.dropped {
            self.wire.extend_from_slice(&out);
        }
        if self.seen.closed {
            self.seen.sealed = true;
        }
    }

    fn check_memory(&mut self) {
        let unsent = self.endpoint.output().len();
        if let Some(conn) = self.endpoint.connection() {
            let heap = conn.heap_bytes();
            let own = heap.saturating_sub(conn.sender().capacity().max(unsent));
            assert!(own <= HEAP_LIMIT, "heap {heap} ({own} without output)");
        }
    }

    /// The application's calls. Errors are fine (a `SendError`); after `Closed` they must queue
    /// nothing, which `flush` checks.
    fn call(&mut self, op: u8, arg: u8, data: &[u8]) {
        let Some(conn) = self.endpoint.connection() else {
            return;
        };
        let text = String::from_utf8_lossy(data);
        let _ = match op {
            0 => conn.send_text(&text),
            1 => conn.send_binary(data),
            2 => conn.sender().begin_message(
                if arg & 1 == 0 { MessageKind::Text } else { MessageKind::Binary },
                text.as_bytes(),
            ),
            3 => conn.sender().continue_message(text.as_bytes()),
            4 => conn.sender().finish_message(text.as_bytes()),
            5 => conn.sender().ping(data),
            6 => conn.sender().pong(data),
            _ => conn.close(
                [1000, 1001, 1008, 1011, 3000, 4999, 999, 1005][usize::from(arg & 7)],
                &text,
            ),
        };
    }
}

/// Server: reads as `net` does, accepting the request when it comes.
fn server_read(end: &mut End, mut input: Vec<u8>) {
    let mut feed = Feed::new(&mut input);
    loop {
        if let Some(event) = feed.fast_endpoint(&mut end.endpoint) {
            assert!(matches!(event, Event::Text(_) | Event::Binary(_)));
            end.seen.see(&event, end.streaming);
            continue;
        }
        let Some(fed) = feed.general_endpoint(&mut end.endpoint) else {
            break;
        };
        match fed {
            EndpointFed::Event(event) => end.seen.see(&event, end.streaming),
            EndpointFed::Request => {
                assert!(!end.seen.opened);
                let _ = end.endpoint.accept(&AcceptOptions::default());
                end.seen.opened = end.endpoint.is_open();
            }
            EndpointFed::Open(_) => panic!("a server got a response"),
            EndpointFed::HandshakeFailed(_) => break,
        }
    }
    assert!(!end.seen.pending_error, "a read ended on an Error");
}

/// Client: `Endpoint::receive`.
fn client_read(end: &mut End, mut input: Vec<u8>) {
    let mut incoming = end.endpoint.receive(&mut input);
    let mut opened = false;
    while let Some(event) = incoming.next_event() {
        match event {
            EndpointEvent::Open(_) => opened = true,
            EndpointEvent::Message(event) => end.seen.see(&event, end.streaming),
            EndpointEvent::Request(_) => panic!("a client got a request"),
            EndpointEvent::HandshakeFailed(_) => break,
        }
    }
    drop(incoming);
    if opened {
        assert!(!end.seen.opened);
        end.seen.opened = true;
    }
    assert!(!end.seen.pending_error, "a read ended on an Error");
}

/// Delivers up to `n` bytes (0: all) of `from`'s wire to `to`.
fn deliver(from: &mut End, to: &mut End, to_is_server: bool, n: usize, byte_by_byte: bool) {
    if from.paused || to.dropped || from.wire.is_empty() {
        return;
    }
    let n = if n == 0 { from.wire.len() } else { n.min(from.wire.len()) };
    let piece: Vec<u8> = from.wire.drain(..n).collect();
    if to_is_server {
        if byte_by_byte {
            for byte in piece {
                server_read(to, vec![byte]);
            }
        } else {
            server_read(to, piece);
        }
    } else {
        client_read(to, piece);
    }
    to.flush();
    to.check_memory();
}

/// The transport closed under both ends: each that opened and did not report `Closed` yet must
/// report it now, once.
fn transport_gone(end: &mut End) {
    if let Some(conn) = end.endpoint.connection() {
        let reported = end.seen.closed;
        let lost = conn.connection_lost();
        assert_eq!(lost.is_some(), !reported, "Closed reported {} times", u8::from(reported) + 1);
        if lost.is_some() {
            end.seen.closed = true;
        }
        assert_eq!(conn.state(), State::Closed);
        let _ = conn.send_text("after the end");
        let _ = conn.sender().ping(b"");
        let _ = conn.close(1000, "");
    }
    end.dropped = true;
    end.flush();
    end.flush();
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, mut ops)) = input.split_first() else {
        return;
    };
    let config = |streaming: bool, auto_pong: bool| Config {
        max_message_size: MAX_MESSAGE,
        max_frame_size: MAX_FRAME,
        max_fragments: MAX_FRAGMENTS,
        streaming,
        auto_pong,
        mask_source: fixed_mask,
        ..Config::default()
    };
    let byte_by_byte = flags & 8 != 0;
    let url = url::parse("ws://example.com/chat").unwrap();
    let client = Endpoint::client(&url, &ClientOptions::default(), config(flags & 2 != 0, true)).unwrap();
    let server = Endpoint::server(RequestLimits::default(), config(flags & 1 != 0, flags & 4 == 0));
    let mut ends = [End::new(client, flags & 2 != 0), End::new(server, flags & 1 != 0)];
    ends[0].flush();
    // Remote sends: queued by "another thread", run at the next step (after whatever came between).
    let mut remote: Vec<(usize, u8, u8, Vec<u8>)> = Vec::new();

    while let Some((&op_byte, rest)) = ops.split_first() {
        ops = rest;
        let (op, arg) = (op_byte & 0x0F, op_byte >> 4);
        let side = usize::from(arg & 1);
        for (who, op, arg, data) in remote.drain(..) {
            ends[who].call(op, arg, &data);
            ends[who].flush();
        }
        match op {
            // An application call, with a payload of `len` bytes from the input.
            0..=8 => {
                let len = usize::from(ops.first().copied().unwrap_or(0));
                let take = (1 + len).min(ops.len());
                let data = ops.get(1..take).unwrap_or_default().to_vec();
                ops = &ops[take.max(usize::from(!ops.is_empty()))..];
                let call = if op == 8 { 7 } else { op };
                if arg & 0b1000 != 0 {
                    remote.push((side, call, arg >> 1, data));
                } else {
                    ends[side].call(call, arg >> 1, &data);
                    ends[side].flush();
                    ends[side].check_memory();
                }
            }
            // Move bytes: `arg >> 1` selects the amount (0: all).
            9 => {
                let n = [0, 1, 2, 3, 7, 14, 100, 1000][usize::from((arg >> 1) & 7)];
                let [client, server] = &mut ends;
                if side == 0 {
                    deliver(client, server, true, n, byte_by_byte);
                } else {
                    deliver(server, client, false, n, false);
                }
            }
            // The peer stops / starts reading `side`'s output (flow control, pause_reading).
            10 => ends[side].paused = true,
            11 => ends[side].paused = false,
            // Corrupt the wire: `len` bytes from the input appended to what `side` sent.
            12 => {
                let len = usize::from(ops.first().copied().unwrap_or(0)).min(ops.len().saturating_sub(1));
                let bytes = ops.get(1..1 + len).unwrap_or_default().to_vec();
                ops = &ops[(1 + len).min(ops.len())..];
                ends[side].wire.extend_from_slice(&bytes);
            }
            // Drop bytes in flight (a lossy middlebox: the stream is now garbage for the reader).
            13 => {
                let n = usize::from(arg >> 1).min(ends[side].wire.len());
                ends[side].wire.drain(..n);
            }
            // Abort or reset: the transport goes away under both ends.
            14 => {
                for end in &mut ends {
                    transport_gone(end);
                }
            }
            // Everything in flight both ways, as a poll with both directions ready would.
            _ => {
                for _ in 0..4 {
                    let [client, server] = &mut ends;
                    deliver(client, server, true, 0, byte_by_byte);
                    deliver(server, client, false, 0, false);
                }
            }
        }
    }
    // The end: deliver what is left (unpaused), then the transport closes.
    for end in &mut ends {
        end.paused = false;
    }
    for _ in 0..8 {
        let [client, server] = &mut ends;
        deliver(client, server, true, 0, byte_by_byte);
        deliver(server, client, false, 0, false);
    }
    for end in &mut ends {
        if !end.dropped {
            transport_gone(end);
        }
        assert!(!end.seen.opened || end.seen.closed, "an open end never reported Closed");
    }
});
