use proptest::prelude::*;

use super::*;
use crate::proto::testing::{Pipe, feed, test_config};
use crate::proto::{Connection, MessageKind, OwnedEvent, ProtocolError};

fn p(sn: bool, cn: bool, sb: u8, cb: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: sn,
        client_no_context_takeover: cn,
        server_max_window_bits: sb,
        client_max_window_bits: cb,
    }
}

fn pipe_with(params: DeflateParams, streaming: bool, min_size: usize) -> Pipe {
    pipe_compacting(params, streaming, min_size, false)
}

fn pipe_compacting(params: DeflateParams, streaming: bool, min_size: usize, compact_idle: bool) -> Pipe {
    let config = crate::proto::Config {
        streaming,
        ..test_config()
    };
    let mut pipe = Pipe::new(config);
    let dc = DeflateConfig {
        min_size,
        compact_idle,
        ..DeflateConfig::default()
    };
    pipe.client.set_deflate(params, &dc);
    pipe.server.set_deflate(params, &dc);
    pipe
}

// ---- negotiation ----

#[test]
fn parses_all_parameters() {
    let o = parse_element(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits",
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        o,
        DeflateOffer {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(None),
        }
    );
    let o = parse_element("Permessage-Deflate;client_max_window_bits=\"9\"")
        .unwrap()
        .unwrap();
    assert_eq!(o.client_max_window_bits, Some(Some(9)));
    assert_eq!(parse_element("x-foo; bar").unwrap(), None);
}

#[test]
fn rejects_bad_parameters() {
    for bad in [
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits=10; client_max_window_bits",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=1a",
        "permessage-deflate; client_max_window_bits=\"10",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; x_unknown",
        "permessage-deflate; ;",
    ] {
        assert!(parse_element(bad).is_err(), "{bad}");
    }
}

#[test]
fn server_takes_first_acceptable_offer() {
    let c = DeflateConfig::default();
    let offers = [
        "x-foo",
        "permessage-deflate; bogus",
        "permessage-deflate; server_max_window_bits=8",
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
        "permessage-deflate",
    ];
    let (params, element) = c.accept_offers(offers).unwrap();
    assert_eq!(params, p(false, false, 10, 12));
    assert_eq!(
        element,
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12"
    );
    // Across several headers: Request::extensions holds every element in order.
    let values = vec![
        "x-foo, permessage-deflate; x=1".to_string(),
        "permessage-deflate".to_string(),
    ];
    let (params, _) = c.accept_offers(elements(&values)).unwrap();
    // Without client_max_window_bits in the offer the client cannot be limited.
    assert_eq!(params, p(false, false, 12, 15));
    assert_eq!(c.accept_offers(["permessage-deflate; bogus"]), None);
    assert_eq!(
        DeflateConfig::DISABLED.accept_offers(["permessage-deflate"]),
        None
    );
    let nct = DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..c
    };
    let (params, element) = nct
        .accept_offers(["permessage-deflate; client_max_window_bits=9"])
        .unwrap();
    assert_eq!(params, p(true, true, 12, 9));
    assert_eq!(
        element,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=12; client_max_window_bits=9"
    );
}

#[test]
fn client_offer_and_validation() {
    let c = DeflateConfig::default();
    assert_eq!(
        c.offer().unwrap(),
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    );
    let full = DeflateConfig {
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        ..c
    };
    assert_eq!(
        full.offer().unwrap(),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(DeflateConfig::DISABLED.offer(), None);
    assert_eq!(c.validate_response(["x-foo"]), Ok(None));
    assert_eq!(
        c.validate_response(["permessage-deflate; server_max_window_bits=10"]),
        Ok(Some(p(false, false, 10, 12)))
    );
    assert_eq!(
        c.validate_response(["permessage-deflate; server_max_window_bits=12; client_no_context_takeover; client_max_window_bits=9"]),
        Ok(Some(p(false, true, 12, 9)))
    );
    for bad in [
        "permessage-deflate",                            // window not confirmed
        "permessage-deflate; server_max_window_bits=13", // larger than offered
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits", // value required
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=8", // unsupported
        "permessage-deflate; server_max_window_bits=12; foo",
        "permessage-deflate; server_max_window_bits=12; server_max_window_bits=12",
    ] {
        let err = c.validate_response([bad]).unwrap_err();
        assert!(
            matches!(err, HandshakeError::InvalidExtension(_)),
            "{bad}: {err:?}"
        );
        assert!(!err.to_string().is_empty());
    }
    let twice = [
        "permessage-deflate; server_max_window_bits=12",
        "permessage-deflate; server_max_window_bits=12",
    ];
    assert!(matches!(
        c.validate_response(twice),
        Err(HandshakeError::InvalidExtension(_))
    ));
    let nct = DeflateConfig {
        server_no_context_takeover: true,
        ..full
    };
    assert!(nct.validate_response(["permessage-deflate"]).is_err());
    assert_eq!(
        nct.validate_response(["permessage-deflate; server_no_context_takeover"]),
        Ok(Some(p(true, false, 15, 15)))
    );
    assert_eq!(
        DeflateConfig::DISABLED.validate_response(["permessage-deflate"]),
        Err(HandshakeError::UnexpectedExtension("permessage-deflate".into()))
    );
}

// ---- RFC 7692 7.2.3 examples ----

fn server_receive(pipe_params: DeflateParams, wire: &[u8]) -> Vec<OwnedEvent> {
    let mut c = Connection::new(crate::proto::Role::Client, test_config());
    c.set_deflate(pipe_params, &DeflateConfig::default());
    feed(&mut c, wire)
}

#[test]
fn rfc_7692_examples() {
    let u = DeflateParams::UNRESTRICTED;
    // 7.2.3.1: "Hello" in one compressed frame.
    let hello = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(server_receive(u, &hello), vec![OwnedEvent::Text("Hello".into())]);
    // 7.2.3.1: the same, fragmented.
    let frag = [0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(server_receive(u, &frag), vec![OwnedEvent::Text("Hello".into())]);
    // 7.2.3.2: two messages sharing the window.
    let mut two = hello.to_vec();
    two.extend_from_slice(&[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
    assert_eq!(
        server_receive(u, &two),
        vec![OwnedEvent::Text("Hello".into()), OwnedEvent::Text("Hello".into())]
    );
    // 7.2.3.3: a no-compression block.
    let stored = [
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(server_receive(u, &stored), vec![OwnedEvent::Text("Hello".into())]);
    // 7.2.3.5: a block with BFINAL set, then another message.
    let bfinal = [0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    let mut again = bfinal.to_vec();
    again.extend_from_slice(&hello);
    assert_eq!(
        server_receive(u, &again),
        vec![OwnedEvent::Text("Hello".into()), OwnedEvent::Text("Hello".into())]
    );
    // 7.2.3.6: an empty message is the single byte 0x00.
    assert_eq!(
        server_receive(u, &[0xc1, 0x01, 0x00]),
        vec![OwnedEvent::Text(String::new())]
    );
}

#[test]
fn sends_rfc_hello_bytes() {
    let mut pipe = pipe_with(DeflateParams::UNRESTRICTED, false, 0);
    pipe.server.send_text("Hello").unwrap();
    let out = pipe.server.take_output();
    assert_eq!(out, [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    // With takeover the second "Hello" refers back to the first.
    pipe.server.send_text("Hello").unwrap();
    let second = pipe.server.take_output();
    assert!(second.len() < out.len(), "{second:02x?}");
    let mut all = out;
    all.extend_from_slice(&second);
    assert_eq!(
        feed(&mut pipe.client, &all),
        vec![OwnedEvent::Text("Hello".into()), OwnedEvent::Text("Hello".into())]
    );
}

// ---- per-message rules ----

fn first_error(events: &[OwnedEvent]) -> Option<ProtocolError> {
    events.iter().find_map(|e| match e {
        OwnedEvent::Error(err) => Some(*err),
        _ => None,
    })
}

fn close_code(events: &[OwnedEvent]) -> Option<u16> {
    events.iter().find_map(|e| match e {
        OwnedEvent::Closed { code, .. } => Some(*code),
        _ => None,
    })
}

#[test]
fn rsv1_on_continuation_or_control_is_a_protocol_error() {
    let u = DeflateParams::UNRESTRICTED;
    let cont = [0x41, 0x03, 0xf2, 0x48, 0xcd, 0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00];
    let ev = server_receive(u, &cont);
    assert_eq!(first_error(&ev), Some(ProtocolError::ReservedBits(0b100)));
    assert_eq!(close_code(&ev), Some(1002));
    let ping = [0xc9, 0x00];
    assert_eq!(close_code(&server_receive(u, &ping)), Some(1002));
    // Without deflate RSV1 stays an error on data frames too.
    let mut plain = Connection::new(crate::proto::Role::Client, test_config());
    assert_eq!(close_code(&feed(&mut plain, &[0xc1, 0x01, 0x00])), Some(1002));
}

#[test]
fn invalid_deflate_data_closes_with_1007() {
    let ev = server_receive(DeflateParams::UNRESTRICTED, &[0xc1, 0x03, 0xff, 0xff, 0xff]);
    assert_eq!(first_error(&ev), Some(ProtocolError::InvalidCompressedData));
    assert_eq!(close_code(&ev), Some(1007));
}

#[test]
fn inflated_text_is_validated() {
    let mut pipe = pipe_with(DeflateParams::UNRESTRICTED, false, 0);
    pipe.server.send_binary(&[0xff, 0xfe, 0xfd]).unwrap();
    let mut out = pipe.server.take_output();
    out[0] = 0xc1; // claim text
    let ev = feed(&mut pipe.client, &out);
    assert_eq!(first_error(&ev), Some(ProtocolError::InvalidUtf8));
}

#[test]
fn bomb_closes_with_1009_before_the_limit() {
    const LIMIT: u64 = 1 << 20;
    let mut c = zlib_rs::Deflate::new(9, false, 15);
    let mut wire = vec![0u8; 2 << 20];
    let zeros = vec![0u8; 1 << 20];
    for i in 0..=1024 {
        let (input, flush) = if i < 1024 {
            (&zeros[..], zlib_rs::DeflateFlush::NoFlush)
        } else {
            (&[][..], zlib_rs::DeflateFlush::SyncFlush)
        };
        let before = c.total_in();
        let at = c.total_out() as usize;
        c.compress(input, &mut wire[at..], flush).unwrap();
        assert_eq!(c.total_in() - before, input.len() as u64);
    }
    wire.truncate(c.total_out() as usize);
    assert!(
        wire.len() < 2 << 20,
        "1 GiB of zeros deflates to {} bytes",
        wire.len()
    );
    let mut frame = Vec::new();
    crate::proto::frame::encode_frame(&mut frame, true, crate::proto::Opcode::Binary, &wire, None);
    frame[0] |= 0x40;
    let mut conn = Connection::new(
        crate::proto::Role::Client,
        crate::proto::Config {
            max_message_size: LIMIT,
            ..test_config()
        },
    );
    conn.set_deflate(DeflateParams::UNRESTRICTED, &DeflateConfig::default());
    // Feed it in pieces and watch the connection's heap.
    let mut peak = 0;
    let mut events = Vec::new();
    for piece in frame.chunks(4096) {
        let mut piece = piece.to_vec();
        let mut incoming = conn.receive(&mut piece);
        while let Some(e) = incoming.next_event() {
            events.push(e.to_owned());
        }
        drop(incoming);
        peak = peak.max(conn.assembly_capacity());
        if close_code(&events).is_some() {
            break;
        }
    }
    assert!(
        matches!(first_error(&events), Some(ProtocolError::MessageTooLarge { .. })),
        "{events:?}"
    );
    assert_eq!(close_code(&events), Some(1009));
    assert!(peak as u64 <= LIMIT + 1, "reassembly buffer peaked at {peak}");
}

#[test]
fn streaming_bomb_stops_at_the_limit_too() {
    const LIMIT: u64 = 256 << 10;
    let mut c = zlib_rs::Deflate::new(9, false, 15);
    let zeros = vec![0u8; 16 << 20];
    let mut wire = vec![0u8; 64 << 10];
    c.compress(&zeros, &mut wire, zlib_rs::DeflateFlush::SyncFlush)
        .unwrap();
    assert_eq!(c.total_in(), zeros.len() as u64);
    wire.truncate(c.total_out() as usize);
    let mut frame = Vec::new();
    crate::proto::frame::encode_frame(&mut frame, true, crate::proto::Opcode::Binary, &wire, None);
    frame[0] |= 0x40;
    let mut conn = Connection::new(
        crate::proto::Role::Client,
        crate::proto::Config {
            max_message_size: LIMIT,
            streaming: true,
            ..test_config()
        },
    );
    conn.set_deflate(DeflateParams::UNRESTRICTED, &DeflateConfig::default());
    let events = crate::proto::testing::feed_chunked(&mut conn, &frame, 512);
    let delivered: usize = events
        .iter()
        .map(|e| match e {
            OwnedEvent::Fragment { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert!(delivered as u64 <= LIMIT, "{delivered}");
    assert_eq!(close_code(&events), Some(1009));
}

#[test]
fn message_exactly_at_the_limit_passes() {
    let config = crate::proto::Config {
        max_message_size: 1000,
        ..test_config()
    };
    let mut pipe = Pipe::new(config);
    pipe.client
        .set_deflate(DeflateParams::UNRESTRICTED, &DeflateConfig::default());
    pipe.server
        .set_deflate(DeflateParams::UNRESTRICTED, &DeflateConfig::default());
    pipe.client.send_binary(&[7u8; 1000]).unwrap();
    assert_eq!(pipe.client_to_server(), vec![OwnedEvent::Binary(vec![7; 1000])]);
    pipe.client.send_binary(&[7u8; 1001]).unwrap();
    assert_eq!(close_code(&pipe.client_to_server()), Some(1009));
}

#[test]
fn small_messages_go_uncompressed() {
    let mut pipe = pipe_with(DeflateParams::UNRESTRICTED, false, 64);
    pipe.client.send_text("tiny").unwrap();
    let out = pipe.client.take_output();
    assert_eq!(out[0], 0x81, "RSV1 clear below min_size");
    assert_eq!(
        feed(&mut pipe.server, &out),
        vec![OwnedEvent::Text("tiny".into())]
    );
    let big = "x".repeat(200);
    pipe.client.send_text(&big).unwrap();
    let out = pipe.client.take_output();
    assert_eq!(out[0], 0xc1);
    assert!(out.len() < 40);
    assert_eq!(feed(&mut pipe.server, &out), vec![OwnedEvent::Text(big)]);
}

#[test]
fn fragmented_send_with_interleaved_control_frames() {
    for streaming in [false, true] {
        let mut pipe = pipe_with(p(false, false, 10, 11), streaming, 0);
        let s = pipe.server.sender();
        s.begin_message(MessageKind::Text, b"Hello, ").unwrap();
        s.ping(b"p").unwrap();
        s.continue_message(b"wor").unwrap();
        s.continue_message(b"").unwrap();
        s.finish_message(b"ld!").unwrap();
        let out = pipe.server.take_output();
        assert_eq!(out[0], 0x41, "RSV1 on the first frame only");
        let mut events = feed(&mut pipe.client, &out);
        let ping = events.iter().position(|e| *e == OwnedEvent::Ping(b"p".to_vec()));
        events.remove(ping.expect("the ping arrives between the fragments"));
        let text: Vec<u8> = if streaming {
            events[..]
                .iter()
                .flat_map(|e| match e {
                    OwnedEvent::Fragment { data, .. } => data.clone(),
                    other => panic!("{other:?}"),
                })
                .collect()
        } else {
            assert_eq!(events.len(), 1);
            match &events[0] {
                OwnedEvent::Text(t) => t.clone().into_bytes(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(text, b"Hello, world!");
        if streaming {
            assert!(matches!(
                events.last(),
                Some(OwnedEvent::Fragment { last: true, .. })
            ));
        }
    }
}

#[test]
fn idle_no_takeover_connection_holds_no_codec_state() {
    let mut pipe = pipe_with(p(true, true, 12, 12), false, 0);
    pipe.client.release_memory();
    pipe.server.release_memory();
    let idle_client = pipe.client.heap_bytes();
    let idle_server = pipe.server.heap_bytes();
    let msg = "some JSON-like text {\"a\": 1, \"b\": [1,2,3]} ".repeat(20);
    for _ in 0..3 {
        pipe.client.send_text(&msg).unwrap();
        assert_eq!(pipe.client_to_server(), vec![OwnedEvent::Text(msg.clone())]);
        pipe.server.send_text(&msg).unwrap();
        assert_eq!(pipe.server_to_client(), vec![OwnedEvent::Text(msg.clone())]);
        assert!(pipe.server.heap_bytes() > idle_server, "codecs in use");
        pipe.client.release_memory();
        pipe.server.release_memory();
        assert_eq!(pipe.client.heap_bytes(), idle_client);
        assert_eq!(pipe.server.heap_bytes(), idle_server);
    }
    // With a pool: codecs move to it and back, and the connection's size stays the same.
    let mut pool = DeflatePool::new();
    pipe.server.send_text(&msg).unwrap();
    let sent = pipe.server.take_output();
    pipe.server.return_deflate_state(&mut pool);
    assert_eq!(pool.len(), (1, 0));
    pipe.server.release_memory();
    assert_eq!(pipe.server.heap_bytes(), idle_server);
    pipe.server.lend_deflate_state(&mut pool);
    assert!(pool.is_empty());
    pipe.server.send_text(&msg).unwrap();
    let mut both = sent;
    both.extend_from_slice(&pipe.server.take_output());
    assert_eq!(
        feed(&mut pipe.client, &both),
        vec![OwnedEvent::Text(msg.clone()), OwnedEvent::Text(msg.clone())]
    );
    assert!(std::mem::size_of::<Connection>() <= 64);
}

#[test]
fn takeover_keeps_codec_state() {
    let mut pipe = pipe_with(p(false, false, 12, 12), false, 0);
    pipe.client.send_text(&"abc".repeat(50)).unwrap();
    pipe.client_to_server();
    pipe.server.release_memory();
    assert!(pipe.server.heap_bytes() >= super::codec::decompressor_bytes(12));
}

/// The wire bytes of one text message from the server, after which the server hands its spare
/// codecs to `pool`.
fn server_sends(pipe: &mut Pipe, text: &str, pool: &mut DeflatePool) -> Vec<u8> {
    pipe.server.lend_deflate_state(pool);
    pipe.server.send_text(text).unwrap();
    pipe.server.return_deflate_state(pool);
    pipe.server.take_output()
}

#[test]
fn compacted_takeover_idles_on_its_history_and_keeps_the_stream() {
    // Hex digits of a pseudo-random sequence: compressible only to about half on its own, so
    // a much shorter second copy can only come from the history.
    let mut x = 7u32;
    let msg: String = (0..3000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from_digit((x >> 16) % 16, 16).unwrap()
        })
        .collect();
    let (mut server_pool, mut client_pool) = (DeflatePool::new(), DeflatePool::new());
    let mut pipe = pipe_compacting(p(false, false, 12, 12), false, 0, true);
    let idle = pipe.server.heap_bytes();
    let client_idle = pipe.client.heap_bytes();
    let first = server_sends(&mut pipe, &msg, &mut server_pool);
    // The compressor went back to the pool; the connection keeps at most one window of text.
    assert_eq!(server_pool.len(), (1, 0));
    let after = pipe.server.heap_bytes();
    assert!(after <= idle + 4096 + 64, "idle {idle} -> {after}");
    assert!(after < super::codec::compressor_bytes(12, 5) / 16);
    pipe.client.lend_deflate_state(&mut client_pool);
    assert_eq!(
        feed(&mut pipe.client, &first),
        vec![OwnedEvent::Text(msg.clone())]
    );
    pipe.client.return_deflate_state(&mut client_pool);
    assert_eq!(client_pool.len(), (0, 1), "the decompressor went back too");
    pipe.client.release_memory();
    let client_after = pipe.client.heap_bytes();
    assert!(
        client_after <= client_idle + 4096 + 64,
        "client {client_idle} -> {client_after}"
    );
    // The same text again refers back to the history: context takeover survived the pool.
    let second = server_sends(&mut pipe, &msg, &mut server_pool);
    assert!(
        second.len() * 4 < first.len(),
        "{} vs {}",
        second.len(),
        first.len()
    );
    pipe.client.lend_deflate_state(&mut client_pool);
    assert_eq!(
        feed(&mut pipe.client, &second),
        vec![OwnedEvent::Text(msg.clone())]
    );
    pipe.client.return_deflate_state(&mut client_pool);
    // Without compaction the codecs stay with the connection.
    let mut kept = pipe_compacting(p(false, false, 12, 12), false, 0, false);
    let mut pool = DeflatePool::new();
    let kept_first = server_sends(&mut kept, &msg, &mut pool);
    assert_eq!(
        kept_first, first,
        "compaction does not change the bytes of a first message"
    );
    assert!(pool.is_empty());
    assert!(kept.server.heap_bytes() >= super::codec::compressor_bytes(12, 5));
}

fn params_strategy() -> impl Strategy<Value = DeflateParams> {
    (any::<bool>(), any::<bool>(), 9u8..=15, 9u8..=15).prop_map(|(a, b, c, d)| p(a, b, c, d))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn round_trips_in_every_parameter_combination(
        params in params_strategy(),
        streaming in any::<bool>(),
        messages in prop::collection::vec(prop::collection::vec(prop::sample::select(b"abcab {}:\"0123".to_vec()), 0..3000), 1..5),
        fragment in 1usize..700,
        piece in 1usize..512,
        compact in any::<bool>(),
        release in 0u8..3,
    ) {
        let mut pipe = pipe_compacting(params, streaming, 16, compact);
        let mut pools = (DeflatePool::new(), DeflatePool::new());
        for (i, m) in messages.iter().enumerate() {
            // Between messages: nothing, hand spare codecs to a pool and take them back, or drop them.
            match release {
                1 => {
                    pipe.client.return_deflate_state(&mut pools.0);
                    pipe.server.return_deflate_state(&mut pools.1);
                    pipe.client.lend_deflate_state(&mut pools.0);
                    pipe.server.lend_deflate_state(&mut pools.1);
                }
                2 => {
                    pipe.client.release_memory();
                    pipe.server.release_memory();
                }
                _ => {}
            }
            let text = String::from_utf8(m.clone()).unwrap();
            let (from_client, to) = if i % 2 == 0 { (true, &mut pipe.client) } else { (false, &mut pipe.server) };
            if i % 3 == 2 && m.len() > fragment {
                let s = to.sender();
                let mut chunks = m.chunks(fragment);
                s.begin_message(MessageKind::Text, chunks.next().unwrap()).unwrap();
                for c in chunks { s.continue_message(c).unwrap(); }
                s.finish_message(b"").unwrap();
            } else {
                to.send_text(&text).unwrap();
            }
            let bytes = to.take_output();
            let receiver = if from_client { &mut pipe.server } else { &mut pipe.client };
            let events = crate::proto::testing::feed_chunked(receiver, &bytes, piece);
            let got: Vec<u8> = if streaming {
                events.iter().flat_map(|e| match e {
                    OwnedEvent::Fragment { data, .. } => data.clone(),
                    other => panic!("{other:?}"),
                }).collect()
            } else {
                prop_assert_eq!(events.len(), 1);
                match &events[0] { OwnedEvent::Text(t) => t.clone().into_bytes(), other => panic!("{other:?}") }
            };
            prop_assert_eq!(&got, m);
        }
    }
}
