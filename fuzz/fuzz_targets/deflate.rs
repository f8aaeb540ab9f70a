//! permessage-deflate: the extension header parser and negotiation, and the inflate path.
//!
//! Input: byte 0 picks the parameters (bit 0 client role, bits 1-2 no-context-takeover both ways,
//! bits 3-5 window bits 9 + n (n <= 6), bit 6 streaming); byte 1 is the length of a
//! `Sec-WebSocket-Extensions` value that follows; the rest is a frame stream fed to a connection
//! with deflate negotiated, in pieces of 1 + byte 0's top bit * 63 bytes, and also sent as one
//! binary message through a compressing client/server pair.
//!
//! Oracles: no panic; an accepted offer's response element parses back to the same parameters and a
//! client that made that offer accepts it; inflated messages never pass `max_message_size`; a
//! failure closes with 1002, 1007 or 1009; the compressed round trip gives the payload back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wskit::proto::deflate::{DeflateOffer, parse_element};
use wskit::proto::{Config, Connection, DeflateConfig, DeflateParams, Event, Role};

const LIMIT: u64 = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let [mode, header_len, rest @ ..] = data else {
        return;
    };
    let header_len = usize::from(*header_len).min(rest.len());
    let (header, frames) = rest.split_at(header_len);
    negotiation(&String::from_utf8_lossy(header));

    let bits = 9 + ((mode >> 3) & 7).min(6);
    let params = DeflateParams {
        server_no_context_takeover: mode & 2 != 0,
        client_no_context_takeover: mode & 4 != 0,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    };
    let role = if mode & 1 != 0 { Role::Client } else { Role::Server };
    let config = Config {
        max_message_size: LIMIT,
        max_frame_size: LIMIT,
        streaming: mode & 0x40 != 0,
        mask_source: || [1, 2, 3, 4],
        ..Config::default()
    };
    let policy = DeflateConfig {
        min_size: 0,
        ..DeflateConfig::default()
    };
    inflate_stream(
        role,
        config,
        params,
        &policy,
        frames,
        if mode & 0x80 != 0 { 64 } else { 1 },
    );
    round_trip(config, params, &policy, frames);
});

fn negotiation(header: &str) {
    let elements: Vec<&str> = header.split(',').collect();
    for element in &elements {
        let _ = parse_element(element);
    }
    let server = DeflateConfig::default();
    if let Some((params, response)) = server.accept_offers(elements.iter().copied()) {
        let answer: DeflateOffer = parse_element(&response)
            .expect("own element parses")
            .expect("is deflate");
        assert_eq!(
            answer.server_no_context_takeover,
            params.server_no_context_takeover
        );
        assert_eq!(
            answer.client_no_context_takeover,
            params.client_no_context_takeover
        );
        assert_eq!(
            answer.server_max_window_bits.unwrap_or(15),
            params.server_max_window_bits
        );
        assert!((9..=15).contains(&params.server_max_window_bits));
        assert!((8..=15).contains(&params.client_max_window_bits));
    }
    // A client's own offer is always accepted by a server of the same policy, and the answer
    // validates against it.
    let client = DeflateConfig::default();
    let offer = client.offer().expect("enabled");
    let (params, response) = server
        .accept_offers([offer.as_str()])
        .expect("own offer is acceptable");
    assert_eq!(client.validate_response([response.as_str()]), Ok(Some(params)));
    let _ = client.validate_response(elements.iter().copied());
}

fn inflate_stream(
    role: Role,
    config: Config,
    params: DeflateParams,
    policy: &DeflateConfig,
    frames: &[u8],
    piece: usize,
) {
    let mut conn = Connection::new(role, config);
    conn.set_deflate(params, policy);
    let mut message = 0u64;
    let mut failed = false;
    for chunk in frames.chunks(piece) {
        let mut chunk = chunk.to_vec();
        let mut incoming = conn.receive(&mut chunk);
        while let Some(event) = incoming.next_event() {
            match event {
                Event::Text(t) => assert!(t.len() as u64 <= LIMIT),
                Event::Binary(b) => assert!(b.len() as u64 <= LIMIT),
                Event::Fragment {
                    data, first, last, ..
                } => {
                    if first {
                        message = 0;
                    }
                    message += data.len() as u64;
                    assert!(message <= LIMIT);
                    let _ = last;
                }
                Event::Error(err) => {
                    assert!(matches!(err.close_code(), 1002 | 1007 | 1009), "{err}");
                    failed = true;
                }
                Event::Closed(info) => {
                    if failed {
                        assert!(matches!(info.code, 1002 | 1007 | 1009));
                    }
                }
                Event::Ping(_) | Event::Pong(_) => {}
            }
        }
    }
    conn.release_memory();
}

fn round_trip(config: Config, params: DeflateParams, policy: &DeflateConfig, payload: &[u8]) {
    let mut client = Connection::new(Role::Client, config);
    let mut server = Connection::new(Role::Server, config);
    client.set_deflate(params, policy);
    server.set_deflate(params, policy);
    for _ in 0..2 {
        client.send_binary(payload).expect("open");
        let mut wire = client.take_output();
        let mut incoming = server.receive(&mut wire);
        match incoming.next_event() {
            Some(Event::Binary(got)) => assert_eq!(got, payload),
            Some(Event::Fragment { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
