//! The receive state machine, fed arbitrary bytes in arbitrary pieces, with sends in between.
//!
//! Input layout (see fuzz/README.md):
//! - byte 0, flags: bit 0 role (0 server, 1 client), bit 1 `streaming`, bit 2 `auto_pong` off,
//!   bit 3 write output only after each piece (else after every event), bits 4-6 `allowed_rsv`;
//! - bytes 1-4, piece lengths used in turn: 0 = all the rest, 1-127 as is, 128-255 = (n - 127) * 256;
//! - bytes 5-6, sends: two bits per piece (cycling), 0 none, 1 `send_text`, 2 `ping`, 3 `close`;
//! - the rest: the byte stream from the peer.
//!
//! Oracle: no panic; `heap_bytes()` stays within 2 * max_message_size + 64 KiB (only the library's own
//! buffers are counted when output is written only once per piece); an `Error` is followed at once by
//! `Closed`; after `Closed` nothing more is reported, ever; message and control payloads respect the
//! limits; sends return `Ok` or a `SendError`; and, when this end never sent a close, cutting the
//! stream into pieces does not change the events (streaming: the same once adjacent pieces of a
//! message are joined); and the event loop's way of reading (`wskit::proto::fuzzing::Feed`, the code
//! `net` runs: `read_message`, then `read_event` when it declines) gives exactly the events of
//! `receive`, piece for piece, its fast path only whole messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wskit::proto::fuzzing::{Fed, Feed};
use wskit::proto::{Config, Connection, Event, OwnedEvent, Role};

const MAX_MESSAGE: u64 = 1 << 16;
const MAX_FRAME: u64 = 1 << 15;
const HEAP_LIMIT: usize = 2 * MAX_MESSAGE as usize + (64 << 10);
const PREFIX: usize = 7;

/// A fixed key keeps runs reproducible (the default draws from the OS).
fn fixed_mask() -> [u8; 4] {
    [0x37, 0xfa, 0x21, 0x3d]
}

struct Setup {
    role: Role,
    config: Config,
    write_per_event: bool,
}

impl Setup {
    // `..Default::default()` keeps the target building when Config gains fields.
    #[allow(clippy::needless_update)]
    fn new(flags: u8) -> Self {
        let config = Config {
            max_message_size: MAX_MESSAGE,
            max_frame_size: MAX_FRAME,
            streaming: flags & 0b10 != 0,
            auto_pong: flags & 0b100 == 0,
            allowed_rsv: (flags >> 4) & 0b111,
            mask_source: fixed_mask,
            ..Default::default()
        };
        let role = if flags & 1 == 0 {
            Role::Server
        } else {
            Role::Client
        };
        Self {
            role,
            config,
            write_per_event: flags & 0b1000 == 0,
        }
    }
}

/// What the harness has seen so far on one connection.
#[derive(Default)]
struct Observer {
    events: Vec<OwnedEvent>,
    pending_error: Option<wskit::proto::ProtocolError>,
    closed: bool,
}

impl Observer {
    fn see(&mut self, event: &Event<'_>, streaming: bool) {
        assert!(!self.closed, "event after Closed: {event:?}");
        if let Some(err) = self.pending_error.take() {
            let Event::Closed(info) = event else {
                panic!("{event:?} after Error({err:?}), expected Closed");
            };
            assert!(!info.clean, "failed connection reported clean");
            assert!(info.initiated_locally, "failure not initiated locally");
            assert_eq!(info.code, err.close_code(), "close code of {err:?}");
        }
        match *event {
            Event::Text(text) => {
                assert!(!streaming, "whole message in streaming mode");
                assert!(text.len() as u64 <= MAX_MESSAGE, "text of {} bytes", text.len());
            }
            Event::Binary(data) => {
                assert!(!streaming, "whole message in streaming mode");
                assert!(data.len() as u64 <= MAX_MESSAGE, "binary of {} bytes", data.len());
            }
            Event::Fragment { data, .. } => {
                assert!(streaming, "fragment without streaming");
                assert!(data.len() as u64 <= MAX_FRAME, "fragment of {} bytes", data.len());
            }
            Event::Ping(data) | Event::Pong(data) => {
                assert!(data.len() <= 125, "control payload {}", data.len())
            }
            Event::Closed(info) => {
                assert!(
                    info.reason.len() <= 123,
                    "close reason of {} bytes",
                    info.reason.len()
                );
                self.closed = true;
            }
            Event::Error(err) => self.pending_error = Some(err),
        }
        self.events.push(event.to_owned());
    }

    /// Called when a drain ended: an `Error` must never be the last event of a drain.
    fn drain_ended(&self) {
        assert!(self.pending_error.is_none(), "Error not followed by Closed");
    }
}

fn check_heap(conn: &mut Connection, write_per_event: bool) {
    let heap = conn.heap_bytes();
    let own = heap - conn.sender().capacity();
    let counted = if write_per_event { heap } else { own };
    assert!(
        counted <= HEAP_LIMIT,
        "heap {heap} bytes ({own} without output), limit {HEAP_LIMIT}"
    );
}

/// Feeds one piece and drains its events.
fn feed(conn: &mut Connection, setup: &Setup, obs: &mut Observer, piece: &[u8]) {
    let mut buf = piece.to_vec();
    let streaming = setup.config.streaming;
    let mut incoming = conn.receive(&mut buf);
    while let Some((event, sender)) = incoming.next_with_sender() {
        obs.see(&event, streaming);
        if setup.write_per_event {
            let n = sender.output().len();
            sender.consume_output(n);
        }
    }
    obs.drain_ended();
    drop(incoming);
    check_heap(conn, setup.write_per_event);
    let n = conn.output().len();
    conn.consume_output(n);
}

/// Feeds one piece as `net::Context` does: through a `Feed` (`read_message`'s fast path for whole
/// messages, `read_event` for the rest, `recycle` in between). Returns the events, owned.
fn feed_like_the_event_loop(conn: &mut Connection, piece: &[u8]) -> Vec<OwnedEvent> {
    let mut buf = piece.to_vec();
    let mut events = Vec::new();
    let mut feed = Feed::new(&mut buf);
    let mut output = conn.output().len();
    while let Some(fed) = feed.next(conn) {
        if let Fed::Fast(event) = &fed {
            // What net relies on to skip its bookkeeping for these.
            assert!(
                matches!(event, Event::Text(_) | Event::Binary(_)),
                "fast path gave {event:?}"
            );
            assert_eq!(conn.output().len(), output, "fast path queued output");
        }
        events.push(fed.event().to_owned());
        output = conn.output().len();
    }
    assert!(feed.unread().is_empty(), "Feed ended with input left");
    drop(feed);
    let n = conn.output().len();
    conn.consume_output(n);
    events
}

/// Joins adjacent fragments of a message, so event lists from different cuts of a stream compare.
fn normalize(events: &[OwnedEvent]) -> Vec<OwnedEvent> {
    let mut out: Vec<OwnedEvent> = Vec::new();
    for event in events {
        if let OwnedEvent::Fragment {
            kind,
            data,
            first,
            last,
        } = event
            && let Some(OwnedEvent::Fragment {
                kind: prev_kind,
                data: prev_data,
                last: prev_last,
                ..
            }) = out.last_mut()
            && !*prev_last
            && !*first
        {
            assert_eq!(prev_kind, kind, "message kind changed between pieces");
            prev_data.extend_from_slice(data);
            *prev_last = *last;
            continue;
        }
        out.push(event.clone());
    }
    out
}

fn piece_len(code: u8, rest: usize) -> usize {
    match code {
        0 => rest,
        1..=127 => usize::from(code),
        _ => usize::from(code - 127) * 256,
    }
}

fn send(conn: &mut Connection, op: u16, round: usize, piece: &[u8]) -> bool {
    match op {
        1 => {
            let text = ["", "Hello", "κόσμε", "𝄞 wskit"][round % 4];
            let _ = conn.send_text(text);
        }
        2 => {
            let payload = &piece[..piece.len().min(130)];
            let _ = conn.sender().ping(payload);
        }
        3 => {
            let code = match piece {
                [a, b, ..] if round % 2 == 1 => u16::from_be_bytes([*a, *b]),
                _ => 1000,
            };
            let reason = std::str::from_utf8(piece.get(2..).unwrap_or(&[])).unwrap_or("bye");
            return conn.close(code, reason).is_ok();
        }
        _ => {}
    }
    false
}

fuzz_target!(|data: &[u8]| {
    if data.len() < PREFIX {
        return;
    }
    let setup = Setup::new(data[0]);
    let lens = [data[1], data[2], data[3], data[4]];
    let ops = u16::from_le_bytes([data[5], data[6]]);
    let stream = &data[PREFIX..];

    let mut conn = Connection::new(setup.role, setup.config);
    let mut obs = Observer::default();
    let mut like_loop = Connection::new(setup.role, setup.config);
    let mut like_loop_events = Vec::new();
    let mut closed_by_us = false;
    let mut rest = stream;
    let mut round = 0;
    while !rest.is_empty() {
        let len = piece_len(lens[round % 4], rest.len()).min(rest.len());
        let (piece, tail) = rest.split_at(len);
        rest = tail;
        let op = (ops >> ((round * 2) % 16)) & 0b11;
        closed_by_us |= send(&mut conn, op, round, piece);
        send(&mut like_loop, op, round, piece);
        check_heap(&mut conn, setup.write_per_event);
        feed(&mut conn, &setup, &mut obs, piece);
        like_loop_events.extend(feed_like_the_event_loop(&mut like_loop, piece));
        round += 1;
    }
    assert_eq!(
        like_loop_events, obs.events,
        "Feed (read_message + read_event) differs from receive"
    );

    // The transport drops: a closed connection has nothing more to say, an open one reports 1006.
    let lost = conn.connection_lost();
    if obs.closed {
        assert!(lost.is_none(), "connection_lost after Closed: {lost:?}");
    } else {
        let info = lost.expect("connection_lost reports how an open connection ended");
        assert_eq!(info.code, 1006);
        obs.closed = true;
    }
    // ... and nothing is reported afterwards, whatever arrives.
    let mut late = stream.to_vec();
    late.extend_from_slice(&[0x82, 0x80, 1, 2, 3, 4, 0x81, 0x00]);
    feed(&mut conn, &setup, &mut obs, &late);

    // Any cut of the stream gives the same events as the whole stream at once.
    if !closed_by_us {
        let mut whole = Connection::new(setup.role, setup.config);
        let mut whole_obs = Observer::default();
        feed(&mut whole, &setup, &mut whole_obs, stream);
        let pieces = &obs.events;
        let at_once = &whole_obs.events;
        if setup.config.streaming {
            // A streamed text piece is delivered before later bytes of the stream are seen, so a
            // cut can deliver more of a message before a UTF-8 failure: compare only clean runs.
            let failed = |events: &[OwnedEvent]| events.iter().any(|e| matches!(e, OwnedEvent::Error(_)));
            if !failed(pieces) && !failed(at_once) {
                assert_eq!(
                    normalize(pieces),
                    normalize(at_once),
                    "events depend on the cut (streaming)"
                );
            }
        } else {
            assert_eq!(pieces, at_once, "events depend on how the stream was cut");
        }
    }
});
