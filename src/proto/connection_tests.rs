//! Every RFC 6455 rule the connection enforces, one test each, plus property tests.

use proptest::prelude::*;

use super::*;
use crate::proto::Event;
use crate::proto::OwnedEvent as E;
use crate::proto::feed::{Fed, Feed};
use crate::proto::frame::{FrameHeader, encode_frame};
use crate::proto::mask::apply_mask;
use crate::proto::opcode::{MessageKind, Opcode};
use crate::proto::testing::*;
use crate::proto::{SendError, Sender};

fn server() -> Connection {
    Connection::new(Role::Server, test_config())
}

fn client() -> Connection {
    Connection::new(Role::Client, test_config())
}

/// A frame as a client would send it (masked), with explicit header bits.
fn masked(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let opcode = Opcode::from_u8(first_byte & 0x0F).unwrap_or(Opcode::Binary);
    encode_frame(
        &mut out,
        first_byte & 0x80 != 0,
        opcode,
        payload,
        Some(rfc_mask()),
    );
    out[0] = first_byte;
    out
}

fn unmasked(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, true, Opcode::Binary, payload, None);
    out[0] = first_byte;
    out
}

/// Parses the frames in `bytes` (as a peer would see them) into (opcode, payload) pairs.
fn frames_in(bytes: &[u8]) -> Vec<(Opcode, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (h, n) = FrameHeader::parse(rest).unwrap().unwrap();
        let mut payload = rest[n..n + h.payload_len as usize].to_vec();
        if let Some(mask) = h.mask {
            apply_mask(&mut payload, mask, 0);
        }
        frames.push((h.opcode, payload));
        rest = &rest[n + h.payload_len as usize..];
    }
    frames
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason.as_bytes()].concat()
}

/// Asserts the connection failed with `err`: Error event, then Closed with the code, and a close
/// frame carrying that code in the output.
fn assert_failed(conn: &mut Connection, events: &[E], err: ProtocolError) {
    let code = err.close_code();
    assert_eq!(events.first(), Some(&E::Error(err)), "events: {events:?}");
    assert!(
        matches!(events.get(1), Some(E::Closed { code: c, clean: false, initiated_locally: true, .. }) if *c == code),
        "events: {events:?}"
    );
    assert_eq!(events.len(), 2, "nothing after Closed: {events:?}");
    let frames = frames_in(&conn.take_output());
    let (op, payload) = frames.last().expect("a close frame");
    assert_eq!(*op, Opcode::Close);
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.should_close_transport());
}

#[test]
fn rfc_examples_are_received() {
    let mut c = client();
    assert_eq!(
        feed(&mut c, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
        [E::Text("Hello".into())]
    );
    assert_eq!(
        feed(&mut c, &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]),
        [E::Text("Hello".into())]
    );
    let mut s = server();
    let masked_hello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(feed(&mut s, &masked_hello), [E::Text("Hello".into())]);
}

#[test]
fn single_frame_messages_are_delivered_without_copying() {
    let mut s = server();
    let mut bytes = masked(0x82, b"zero copy payload");
    let range = bytes.as_ptr_range();
    let mut incoming = s.receive(&mut bytes);
    match incoming.next_event() {
        Some(Event::Binary(data)) => {
            assert_eq!(data, b"zero copy payload");
            assert!(
                range.contains(&data.as_ptr()),
                "payload points into the caller's buffer"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(incoming.next_event().is_none());
    drop(incoming);
    assert_eq!(s.heap_bytes(), 0, "nothing buffered for a whole message");
}

#[test]
fn ping_gets_automatic_pong_with_its_payload_even_inside_a_fragmented_message() {
    let mut s = server();
    let bytes = [
        masked(0x01, b"Hel"),
        masked(0x89, b"are you there"),
        masked(0x80, b"lo"),
    ]
    .concat();
    let events = feed(&mut s, &bytes);
    assert_eq!(
        events,
        [E::Ping(b"are you there".to_vec()), E::Text("Hello".into())]
    );
    assert_eq!(
        frames_in(&s.take_output()),
        [(Opcode::Pong, b"are you there".to_vec())]
    );
    // Unsolicited pongs are reported and not answered.
    assert_eq!(feed(&mut s, &masked(0x8A, b"beat")), [E::Pong(b"beat".to_vec())]);
    assert!(s.output().is_empty());
}

#[test]
fn auto_pong_can_be_turned_off() {
    let mut s = Connection::new(
        Role::Server,
        Config {
            auto_pong: false,
            ..test_config()
        },
    );
    assert_eq!(feed(&mut s, &masked(0x89, b"x")), [E::Ping(b"x".to_vec())]);
    assert!(s.output().is_empty());
}

#[test]
fn reserved_opcodes_fail_with_1002() {
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let mut s = server();
        let events = feed(&mut s, &masked(0x80 | op, b""));
        assert_failed(&mut s, &events, ProtocolError::ReservedOpcode(op));
    }
}

#[test]
fn rsv_bits_without_extension_fail_with_1002_and_are_allowed_when_negotiated() {
    for rsv in 1u8..8 {
        let mut s = server();
        let events = feed(&mut s, &masked(0x82 | (rsv << 4), b"x"));
        assert_failed(&mut s, &events, ProtocolError::ReservedBits(rsv));
    }
    let mut s = Connection::new(
        Role::Server,
        Config {
            allowed_rsv: 0b100,
            ..test_config()
        },
    );
    assert_eq!(feed(&mut s, &masked(0xC2, b"x")), [E::Binary(b"x".to_vec())]);
}

#[test]
fn control_frame_rules_fail_with_1002() {
    let mut s = server();
    let events = feed(&mut s, &masked(0x89, &[0; 126]));
    assert_failed(&mut s, &events, ProtocolError::ControlFrameTooLong);
    let mut s = server();
    let events = feed(&mut s, &masked(0x09, b"x"));
    assert_failed(&mut s, &events, ProtocolError::FragmentedControlFrame);
    let mut s = server();
    assert_eq!(feed(&mut s, &masked(0x89, &[7; 125])), [E::Ping(vec![7; 125])]);
}

#[test]
fn length_with_top_bit_fails_with_1002() {
    let mut s = server();
    let events = feed(&mut s, &[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
    assert_failed(&mut s, &events, ProtocolError::LengthTopBitSet);
}

#[test]
fn masking_direction_is_enforced() {
    let mut s = server();
    let events = feed(&mut s, &unmasked(0x81, b"hi"));
    assert_failed(&mut s, &events, ProtocolError::UnmaskedFrame);
    let mut c = client();
    let events = feed(&mut c, &masked(0x81, b"hi"));
    assert_failed(&mut c, &events, ProtocolError::MaskedFrame);
}

#[test]
fn continuation_rules() {
    let mut s = server();
    let events = feed(&mut s, &masked(0x80, b"orphan"));
    assert_failed(&mut s, &events, ProtocolError::UnexpectedContinuation);
    let mut s = server();
    let events = feed(&mut s, &[masked(0x01, b"a"), masked(0x81, b"b")].concat());
    assert_failed(&mut s, &events, ProtocolError::ExpectedContinuation);
    let mut s = server();
    let events = feed(&mut s, &[masked(0x02, b"a"), masked(0x02, b"b")].concat());
    assert_failed(&mut s, &events, ProtocolError::ExpectedContinuation);
}

#[test]
fn frame_and_message_limits_fail_with_1009_before_buffering() {
    let config = Config {
        max_frame_size: 1000,
        max_message_size: 2500,
        ..test_config()
    };
    let mut s = Connection::new(Role::Server, config);
    // Only the header of an oversized frame is needed to fail.
    let frame = masked(0x82, &[1; 1001]);
    let events = feed(&mut s, &frame[..8]);
    assert_failed(
        &mut s,
        &events,
        ProtocolError::FrameTooLarge {
            size: 1001,
            limit: 1000,
        },
    );

    let mut s = Connection::new(Role::Server, config);
    let bytes = [
        masked(0x02, &[1; 1000]),
        masked(0x00, &[2; 1000]),
        masked(0x80, &[3; 501]),
    ]
    .concat();
    let events = feed_chunked(&mut s, &bytes, 100);
    assert_failed(
        &mut s,
        &events,
        ProtocolError::MessageTooLarge {
            size: 2501,
            limit: 2500,
        },
    );
    assert_eq!(s.heap_bytes(), 0, "the partial message was freed");

    // Exactly at the limits is fine, and the buffer never grew past the message limit.
    let mut s = Connection::new(Role::Server, config);
    let bytes = [
        masked(0x02, &[1; 1000]),
        masked(0x00, &[2; 1000]),
        masked(0x80, &[3; 500]),
    ]
    .concat();
    let (mut max_buffer, mut max_heap) = (0, 0);
    let mut events = Vec::new();
    for chunk in bytes.chunks(7) {
        events.extend(feed(&mut s, chunk));
        max_buffer = max_buffer.max(s.assembly_capacity());
        max_heap = max_heap.max(s.heap_bytes());
    }
    assert_eq!(events.len(), 1);
    assert!(max_buffer <= 2500, "reassembly buffer peaked at {max_buffer}");
    // Besides the buffer, only the fixed-size state of a message in progress is on the heap.
    let fixed = std::mem::size_of::<Partial>();
    assert!(max_heap <= 2500 + fixed, "peak {max_heap} (fixed state {fixed})");
}

/// `count` frames of one byte each making one message (`first_byte` on the first frame), with a
/// ping after every `ping_every` frames (0: none).
fn one_byte_fragments(first_opcode: u8, count: usize, ping_every: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(count * 8);
    for i in 0..count {
        let opcode = if i == 0 { first_opcode } else { 0x00 };
        let fin = if i + 1 == count { 0x80 } else { 0 };
        bytes.extend(masked(fin | opcode, b"a"));
        if ping_every != 0 && i % ping_every == 0 && i + 1 != count {
            bytes.extend(masked(0x89, b"p"));
        }
    }
    bytes
}

#[test]
fn a_message_in_more_frames_than_max_fragments_fails_with_1009() {
    let config = Config {
        max_fragments: 100,
        ..test_config()
    };
    // Exactly at the cap, with pings between the frames: delivered.
    let mut s = Connection::new(Role::Server, config);
    let events = feed_chunked(&mut s, &one_byte_fragments(0x01, 100, 1), 4096);
    let text: Vec<_> = events.iter().filter(|e| !matches!(e, E::Ping(_))).collect();
    assert_eq!(text, [&E::Text("a".repeat(100))]);
    assert_eq!(events.len(), 100, "99 pings and the message");
    // One more frame: fails when the 101st frame's header arrives.
    let mut s = Connection::new(Role::Server, config);
    let events = feed_chunked(&mut s, &one_byte_fragments(0x02, 101, 0), 4096);
    assert_failed(&mut s, &events, ProtocolError::TooManyFragments { limit: 100 });
    assert_eq!(s.heap_bytes(), 0, "the partial message was freed");
    // Streaming counts frames the same way.
    let mut s = Connection::new(
        Role::Server,
        Config {
            streaming: true,
            ..config
        },
    );
    let events = feed_chunked(&mut s, &one_byte_fragments(0x02, 101, 0), 4096);
    assert_eq!(
        events.len(),
        102,
        "100 fragments, the error and the close: {:?}",
        &events[98..]
    );
    assert_eq!(
        events[100],
        E::Error(ProtocolError::TooManyFragments { limit: 100 })
    );
    // The count starts again with each message.
    let mut s = Connection::new(Role::Server, config);
    let bytes = [one_byte_fragments(0x01, 100, 0), one_byte_fragments(0x01, 100, 0)].concat();
    assert_eq!(feed_chunked(&mut s, &bytes, 4096).len(), 2);
}

#[test]
fn the_default_fragment_cap_passes_autobahn_9_and_stops_a_million_one_byte_frames() {
    // Autobahn 9.3.1 / 9.4.1: 4 MiB in 64-byte frames, 65,536 frames.
    assert!(Config::default().max_fragments >= 65_536);
    let cap = Config::default().max_fragments as usize;
    // A million 1-byte frames with a ping after every tenth: the connection fails at the cap,
    // having held at most one byte per frame plus its fixed state, and no more after it.
    let bytes = one_byte_fragments(0x02, 1_000_000, 10);
    let mut s = server();
    let (mut events, mut peak, mut pings) = (Vec::new(), 0, 0);
    for chunk in bytes.chunks(64 << 10) {
        for event in feed(&mut s, chunk) {
            if matches!(event, E::Ping(_)) {
                pings += 1;
            } else {
                events.push(event);
            }
        }
        peak = peak.max(s.heap_bytes());
        // The pongs would be written out by the transport.
        drop(s.take_output());
    }
    assert_eq!(
        events[0],
        E::Error(ProtocolError::TooManyFragments { limit: cap as u32 })
    );
    assert!(
        matches!(events[1], E::Closed { code: 1009, .. }),
        "{:?}",
        events[1]
    );
    assert_eq!(events.len(), 2);
    assert_eq!(
        pings,
        cap.div_ceil(10),
        "pings between the frames were answered up to the cap"
    );
    // The reassembly buffer doubles, so it may reach twice the bytes received; the pongs of one
    // 64 KiB read are under 8 KiB.
    let fixed = std::mem::size_of::<Partial>();
    assert!(
        peak <= 2 * cap + fixed + (8 << 10),
        "peak heap {peak} for {cap} one-byte frames"
    );
}

#[test]
fn invalid_utf8_fails_fast_with_1007() {
    // A text frame announcing 1000 bytes whose 6th byte is invalid: fails as soon as it arrives.
    let mut payload = b"hello".to_vec();
    payload.push(0xFF);
    payload.resize(1000, b'a');
    let frame = masked(0x81, &payload);
    let mut s = server();
    let events = feed(&mut s, &frame[..8 + 6]);
    assert_failed(&mut s, &events, ProtocolError::InvalidUtf8);

    // Across fragments: the invalid continuation of a code point split between frames.
    let mut s = server();
    let events = feed(&mut s, &[masked(0x01, &[0xCE]), masked(0x80, &[0x41])].concat());
    assert_failed(&mut s, &events, ProtocolError::InvalidUtf8);

    // A message ending inside a code point.
    let mut s = server();
    let events = feed(&mut s, &masked(0x81, &[b'a', 0xE2, 0x82]));
    assert_failed(&mut s, &events, ProtocolError::InvalidUtf8);

    // Valid text split inside a code point across frames is fine.
    let mut s = server();
    let euro = "€".as_bytes();
    let bytes = [
        masked(0x01, &euro[..1]),
        masked(0x00, &euro[1..2]),
        masked(0x80, &euro[2..]),
    ]
    .concat();
    assert_eq!(feed_chunked(&mut s, &bytes, 1), [E::Text("€".into())]);
}

#[test]
fn close_codes_are_validated() {
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ] {
        let mut s = server();
        let events = feed(&mut s, &masked(0x88, &close_payload(code, "ok")));
        assert_eq!(
            events,
            [E::Closed {
                code,
                reason: "ok".into(),
                clean: true,
                initiated_locally: false
            }],
            "{code}"
        );
        assert_eq!(
            frames_in(&s.take_output()),
            [(Opcode::Close, code.to_be_bytes().to_vec())]
        );
    }
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535] {
        let mut s = server();
        let events = feed(&mut s, &masked(0x88, &close_payload(code, "")));
        assert_failed(&mut s, &events, ProtocolError::InvalidCloseCode(code));
    }
    let mut s = server();
    let events = feed(&mut s, &masked(0x88, &[0x03]));
    assert_failed(&mut s, &events, ProtocolError::CloseFrameTooShort);
    let mut s = server();
    let events = feed(&mut s, &masked(0x88, &[0x03, 0xE8, 0xFF]));
    assert_failed(&mut s, &events, ProtocolError::InvalidUtf8);
}

#[test]
fn empty_close_is_answered_with_an_empty_close_and_reported_as_1005() {
    let mut s = server();
    let events = feed(&mut s, &masked(0x88, b""));
    assert_eq!(
        events,
        [E::Closed {
            code: 1005,
            reason: String::new(),
            clean: true,
            initiated_locally: false
        }]
    );
    assert_eq!(frames_in(&s.take_output()), [(Opcode::Close, vec![])]);
}

#[test]
fn closing_handshake_initiated_locally() {
    let mut pipe = Pipe::new(test_config());
    pipe.client.close(4000, "done").unwrap();
    assert_eq!(pipe.client.state(), State::Closing);
    assert_eq!(pipe.client.send_text("late"), Err(SendError::Closed));
    assert_eq!(pipe.client.sender().ping(b""), Err(SendError::Closed));
    assert_eq!(pipe.client.close(1000, ""), Err(SendError::Closed));
    // The server may still send data before it sees the close; the client still receives it.
    pipe.server.send_text("in flight").unwrap();
    assert_eq!(pipe.server_to_client(), [E::Text("in flight".into())]);
    assert_eq!(
        pipe.client_to_server(),
        [E::Closed {
            code: 4000,
            reason: "done".into(),
            clean: true,
            initiated_locally: false
        }]
    );
    assert_eq!(pipe.server.state(), State::Closed);
    assert!(
        !pipe.server.should_close_transport(),
        "close reply not written yet"
    );
    assert_eq!(
        pipe.server_to_client(),
        [E::Closed {
            code: 4000,
            reason: String::new(),
            clean: true,
            initiated_locally: true
        }]
    );
    assert!(pipe.server.should_close_transport() && pipe.client.should_close_transport());
    assert_eq!(pipe.client.connection_lost(), None, "already closed cleanly");
}

#[test]
fn data_after_a_close_frame_is_ignored() {
    let mut s = server();
    let bytes = [masked(0x88, &close_payload(1000, "")), masked(0x81, b"ignored")].concat();
    assert_eq!(feed(&mut s, &bytes).len(), 1);
    assert!(feed(&mut s, &masked(0x81, b"also ignored")).is_empty());
}

#[test]
fn pongs_are_not_sent_after_close() {
    let mut s = server();
    s.close(1000, "").unwrap();
    s.take_output();
    assert_eq!(feed(&mut s, &masked(0x89, b"p")), [E::Ping(b"p".to_vec())]);
    assert!(s.output().is_empty());
}

#[test]
fn transport_loss_reports_1006_unclean_once() {
    let mut s = server();
    assert_eq!(
        s.connection_lost(),
        Some(CloseInfo {
            code: 1006,
            reason: "",
            clean: false,
            initiated_locally: false
        })
    );
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.connection_lost(), None);
    // Nothing may be queued after the loss (the session fuzz target's "no output after close").
    assert_eq!(s.send_text("late"), Err(SendError::Closed));
    assert_eq!(s.sender().ping(b""), Err(SendError::Closed));
    assert!(s.output().is_empty());
}

#[test]
fn failure_not_yet_reported_is_reported_by_connection_lost() {
    let mut s = server();
    let mut bytes = masked(0x83, b"");
    let mut incoming = s.receive(&mut bytes);
    assert!(matches!(incoming.next_event(), Some(Event::Error(_))));
    drop(incoming);
    let info = s.connection_lost().unwrap();
    assert_eq!((info.code, info.clean), (1002, false));
}

#[test]
fn dropping_incoming_early_keeps_the_unread_bytes() {
    let mut s = server();
    let mut bytes = [masked(0x81, b"one"), masked(0x81, b"two"), masked(0x81, b"three")].concat();
    let mut incoming = s.receive(&mut bytes);
    assert_eq!(incoming.next_event(), Some(Event::Text("one")));
    drop(incoming);
    assert_eq!(
        feed(&mut s, &masked(0x81, b"four")),
        ["two", "three", "four"].map(|t| E::Text(t.into()))
    );
}

#[test]
fn streaming_mode_hands_up_pieces_as_they_arrive() {
    let config = Config {
        streaming: true,
        max_message_size: 10,
        ..test_config()
    };
    let mut s = Connection::new(Role::Server, config);
    let bytes = [masked(0x01, b"abcd"), masked(0x89, b""), masked(0x80, b"efgh")].concat();
    let events = feed_chunked(&mut s, &bytes, 9);
    let text: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            E::Fragment { data, .. } => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(text, b"abcdefgh");
    let flags: Vec<(bool, bool)> = events
        .iter()
        .filter_map(|e| match e {
            E::Fragment {
                first,
                last,
                kind: MessageKind::Text,
                ..
            } => Some((*first, *last)),
            _ => None,
        })
        .collect();
    assert_eq!(flags.first(), Some(&(true, false)));
    assert_eq!(flags.last(), Some(&(false, true)));
    assert_eq!(flags.iter().filter(|f| f.0).count(), 1);
    assert!(events.contains(&E::Ping(vec![])));
    s.take_output(); // the pong
    assert_eq!(s.heap_bytes(), 0, "streaming buffers nothing");
    // Limits still apply in streaming mode.
    let events = feed(&mut s, &masked(0x82, &[0; 11]));
    assert_failed(
        &mut s,
        &events,
        ProtocolError::MessageTooLarge { size: 11, limit: 10 },
    );
}

#[test]
fn sending_fragmented_messages_with_control_frames_between() {
    let mut pipe = Pipe::new(test_config());
    let tx: &mut Sender = pipe.client.sender();
    tx.begin_message(MessageKind::Text, "hé".as_bytes()[..2].as_ref())
        .unwrap();
    assert_eq!(tx.send_text("x"), Err(SendError::MessageInProgress));
    assert_eq!(
        tx.begin_message(MessageKind::Binary, b""),
        Err(SendError::MessageInProgress)
    );
    tx.ping(b"mid").unwrap();
    tx.continue_message(&"hé".as_bytes()[2..]).unwrap();
    tx.finish_message(b" world").unwrap();
    assert_eq!(tx.continue_message(b"x"), Err(SendError::NoMessageInProgress));
    assert_eq!(
        pipe.client_to_server(),
        [E::Ping(b"mid".to_vec()), E::Text("hé world".into())]
    );
    assert_eq!(pipe.server_to_client(), [E::Pong(b"mid".to_vec())]);
}

#[test]
fn sender_rejects_what_may_not_be_sent() {
    let mut c = client();
    let tx = c.sender();
    assert_eq!(tx.ping(&[0; 126]), Err(SendError::ControlPayloadTooLong));
    assert_eq!(tx.close(1005, ""), Err(SendError::InvalidCloseCode(1005)));
    assert_eq!(
        tx.close(1000, &"x".repeat(124)),
        Err(SendError::ControlPayloadTooLong)
    );
    assert_eq!(
        tx.send_message(MessageKind::Text, &[0xFF]),
        Err(SendError::InvalidUtf8)
    );
    tx.begin_message(MessageKind::Text, &[0xE2]).unwrap();
    assert_eq!(
        tx.finish_message(&[0x82]),
        Err(SendError::InvalidUtf8),
        "ends inside a code point"
    );
    assert_eq!(tx.continue_message(&[0x41]), Err(SendError::InvalidUtf8));
    assert!(tx.message_in_progress());
    assert_eq!(c.output().len(), 2 + 4 + 1, "only the first frame was queued");
}

#[test]
fn client_frames_are_masked_with_fresh_keys_and_server_frames_are_not() {
    let mut c = Connection::new(Role::Client, Config::default());
    c.send_binary(&[0; 8]).unwrap();
    c.send_binary(&[0; 8]).unwrap();
    let out = c.take_output();
    let (h1, _) = FrameHeader::parse(&out).unwrap().unwrap();
    let (h2, _) = FrameHeader::parse(&out[14..]).unwrap().unwrap();
    assert!(h1.mask.is_some() && h1.mask != h2.mask);
    let mut s = server();
    s.send_binary(b"x").unwrap();
    assert_eq!(s.output(), [0x82, 0x01, b'x']);
}

#[test]
fn large_messages_round_trip_in_any_chunking() {
    let mut pipe = Pipe::new(Config {
        max_message_size: 20 << 20,
        max_frame_size: 20 << 20,
        ..test_config()
    });
    let big: Vec<u8> = (0..(16 << 20) as u32).map(|i| (i % 251) as u8).collect();
    pipe.client.send_binary(&big).unwrap();
    let bytes = pipe.client.take_output();
    let events = feed_chunked(&mut pipe.server, &bytes, 65536 + 3);
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0], E::Binary(data) if *data == big));
}

#[derive(Debug, Clone)]
enum Send {
    Text(String),
    Binary(Vec<u8>),
    Fragmented(bool, Vec<Vec<u8>>),
    Ping(Vec<u8>),
}

fn any_send() -> impl Strategy<Value = Send> {
    prop_oneof![
        any::<String>().prop_map(Send::Text),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Send::Binary),
        (
            any::<bool>(),
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..5)
        )
            .prop_map(|(text, pieces)| Send::Fragmented(text, pieces)),
        prop::collection::vec(any::<u8>(), 0..126).prop_map(Send::Ping),
    ]
}

/// Queues `sends` on `tx` and returns the events the peer must see.
fn queue(tx: &mut Sender, sends: &[Send]) -> Vec<E> {
    let mut expected = Vec::new();
    for send in sends {
        match send {
            Send::Text(text) => {
                tx.send_text(text).unwrap();
                expected.push(E::Text(text.clone()));
            }
            Send::Binary(data) => {
                tx.send_binary(data).unwrap();
                expected.push(E::Binary(data.clone()));
            }
            Send::Fragmented(text, pieces) => {
                let whole: Vec<u8> = pieces.concat();
                // Text: send the hex of the bytes so it is valid UTF-8 however it is split.
                let (kind, whole, event) = if *text {
                    let hex: String = whole.iter().map(|b| format!("{b:02x}é")).collect();
                    (MessageKind::Text, hex.clone().into_bytes(), E::Text(hex))
                } else {
                    (MessageKind::Binary, whole.clone(), E::Binary(whole))
                };
                let n = pieces.len();
                let cuts: Vec<usize> = (0..=n).map(|i| whole.len() * i / n).collect();
                tx.begin_message(kind, &whole[cuts[0]..cuts[1]]).unwrap();
                for i in 1..n {
                    tx.continue_message(&whole[cuts[i]..cuts[i + 1]]).unwrap();
                }
                tx.finish_message(&[]).unwrap();
                expected.push(event);
            }
            Send::Ping(data) => {
                tx.ping(data).unwrap();
                expected.push(E::Ping(data.clone()));
            }
        }
    }
    expected
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Encode -> decode round trip, both directions, for any messages and fragmentation.
    #[test]
    fn round_trip_any_messages(sends in prop::collection::vec(any_send(), 0..8), piece in 1usize..200) {
        let mut pipe = Pipe::new(test_config());
        let expected = queue(pipe.client.sender(), &sends);
        let bytes = pipe.client.take_output();
        prop_assert_eq!(feed_chunked(&mut pipe.server, &bytes, piece), expected.clone());
        pipe.server.take_output(); // pongs for the client's pings
        let expected = queue(pipe.server.sender(), &sends);
        let bytes = pipe.server.take_output();
        prop_assert_eq!(feed_chunked(&mut pipe.client, &bytes, piece), expected);
    }

    /// Byte-at-a-time delivery gives exactly the events of all-at-once delivery, for any stream,
    /// valid or not (including errors).
    #[test]
    fn one_byte_at_a_time_equals_all_at_once(sends in prop::collection::vec(any_send(), 0..6), junk: Vec<u8>) {
        let mut pipe = Pipe::new(test_config());
        queue(pipe.client.sender(), &sends);
        let mut bytes = pipe.client.take_output();
        bytes.extend_from_slice(&junk);
        let mut whole = server();
        let mut bytewise = server();
        let expected = feed(&mut whole, &bytes);
        prop_assert_eq!(feed_chunked(&mut bytewise, &bytes, 1), expected);
        prop_assert_eq!(whole.take_output(), bytewise.take_output());
    }

    /// The event loop's way of reading ([`Feed`]: `read_message`, falling back to `read_event`)
    /// gives exactly the events and output of `read_event` alone, for any stream (valid or not) and
    /// any split.
    #[test]
    fn read_message_fast_path_equals_read_event(
        sends in prop::collection::vec(any_send(), 0..8),
        junk: Vec<u8>,
        piece in 1usize..300,
        streaming: bool,
    ) {
        let config = Config { streaming, ..test_config() };
        let mut pipe = Pipe::new(config);
        queue(pipe.client.sender(), &sends);
        let mut bytes = pipe.client.take_output();
        bytes.extend_from_slice(&junk);
        let mut slow = Connection::new(Role::Server, config);
        let mut fast = Connection::new(Role::Server, config);
        let expected = feed_chunked(&mut slow, &bytes, piece);
        prop_assert_eq!(feed_with_read_message(&mut fast, &bytes, piece), expected);
        prop_assert_eq!(fast.take_output(), slow.take_output());
    }

    /// Arbitrary bytes never panic and never make the connection hold more than the limits allow.
    #[test]
    fn arbitrary_input_is_safe(bytes: Vec<u8>, piece in 1usize..64, streaming: bool) {
        let config = Config { max_message_size: 4096, max_frame_size: 2048, streaming, ..test_config() };
        for role in [Role::Server, Role::Client] {
            let mut conn = Connection::new(role, config);
            for chunk in bytes.chunks(piece) {
                feed(&mut conn, chunk);
                prop_assert!(conn.heap_bytes() <= 4096 + 4096, "heap {}", conn.heap_bytes());
            }
        }
    }
}

/// Feeds `bytes` in pieces as `net::Context` does: through a [`Feed`] (`read_message`'s fast path
/// first, `read_event` when it declines, `recycle` in between).
fn feed_with_read_message(conn: &mut Connection, bytes: &[u8], piece: usize) -> Vec<E> {
    let mut events = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        let mut chunk = chunk.to_vec();
        let mut feed = Feed::new(&mut chunk);
        let mut output = conn.output().len();
        while let Some(fed) = feed.next(conn) {
            if let Fed::Fast(event) = &fed {
                assert!(matches!(event, Event::Text(_) | Event::Binary(_)), "{event:?}");
                assert_eq!(conn.output().len(), output, "the fast path queued output");
            }
            events.push(fed.event().to_owned());
            output = conn.output().len();
        }
        assert!(feed.unread().is_empty());
    }
    events
}

#[test]
fn read_message_takes_whole_messages_and_declines_the_rest() {
    let mut s = server();
    let mut bytes = [
        masked(0x81, b"hello"),
        masked(0x89, b"p"),
        masked(0x82, &[7; 200]),
    ]
    .concat();
    let first = masked(0x81, b"hello").len();
    let (used, event) = s.read_message(&mut bytes).expect("a whole text message");
    assert_eq!((used, event), (first, Event::Text("hello")));
    assert!(
        s.read_message(&mut bytes[first..]).is_none(),
        "a ping is for read_event"
    );
    assert!(s.output().is_empty(), "declining changed nothing");
    // Invalid UTF-8 is declined with the bytes left as they were, then failed by read_event.
    let mut bad = masked(0x81, b"ab\xFFcd");
    let original = bad.clone();
    assert!(s.read_message(&mut bad).is_none());
    assert_eq!(bad, original, "unmasking was undone");
    // A message split across reads is declined.
    let mut half = masked(0x82, &[1; 50]);
    half.truncate(20);
    assert!(s.read_message(&mut half).is_none());
}

#[test]
fn read_event_borrows_nothing_and_reports_consumed_bytes() {
    let mut s = server();
    let mut bytes = [masked(0x81, b"one"), masked(0x01, b"tw"), masked(0x80, b"o")].concat();
    let first_len = masked(0x81, b"one").len();
    let step = s.read_event(&mut bytes);
    assert_eq!(step.consumed, first_len);
    let raw = step.event.unwrap();
    assert_eq!(raw.event(&bytes), Event::Text("one"));
    // The connection is free to use while the event is held (e.g. to send on it).
    s.send_text("reply").unwrap();
    // Changing the buffer can never produce invalid text through the safe view.
    bytes[first_len - 1] = 0xFF;
    assert_eq!(raw.event(&bytes), Event::Text(""));
    s.recycle(raw);
    let step = s.read_event(&mut bytes[first_len..]);
    assert_eq!(step.consumed, bytes.len() - first_len);
    assert_eq!(
        step.event.unwrap().event(&[]),
        Event::Text("two"),
        "reassembled text is owned by the event"
    );
    assert!(s.read_event(&mut []).event.is_none());
}

#[test]
fn frame_log_records_both_directions_only_when_enabled() {
    let mut s = server();
    feed(&mut s, &masked(0x89, b"p"));
    assert!(s.take_frame_log().is_empty(), "off by default");
    s.set_frame_log(true);
    feed(&mut s, &masked(0x82, b"abc"));
    s.send_text("hi").unwrap();
    let log = s.take_frame_log();
    assert_eq!(log.len(), 2);
    assert!(!log[0].sent && log[0].header.opcode == Opcode::Binary && log[0].header.payload_len == 3);
    assert!(log[1].sent && log[1].header.opcode == Opcode::Text && log[1].header.payload_len == 2);
    assert!(s.take_frame_log().is_empty());
}

#[test]
fn connection_stays_small_and_idle_connections_hold_no_heap() {
    // Per-connection memory is a headline number: keep the struct small (the event loop adds its
    // own ~64 bytes) and free every buffer between messages.
    assert!(
        std::mem::size_of::<Connection>() <= 64,
        "{}",
        std::mem::size_of::<Connection>()
    );
    let mut s = server();
    let bytes = [masked(0x01, b"frag"), masked(0x89, b"p"), masked(0x80, b"mented")].concat();
    let mut events = Vec::new();
    for chunk in bytes.chunks(3) {
        events.extend(feed(&mut s, chunk));
    }
    assert_eq!(events, [E::Ping(b"p".to_vec()), E::Text("fragmented".into())]);
    s.take_output();
    s.release_memory();
    assert_eq!(s.heap_bytes(), 0);
}
