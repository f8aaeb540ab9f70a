//! permessage-deflate against real peers with compression on (Python `websockets` with
//! compression="deflate", Node `ws` with perMessageDeflate; tests/peers/{py,node}_deflate.*), in
//! both roles: the tests assert that compression was negotiated, as both ends see it, and that
//! text and binary messages of 200 B and 64 KiB, whole and fragmented, come back unchanged.

mod common;
mod peer_support;

use std::time::Duration;

use common::Recorder;
use peer_support::{PEERS, WskitServer};
use wskit::net::{ConnId, ConnectOptions, Context};
use wskit::proto::{DeflateConfig, MessageKind, Role};

fn json_like(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"score\":{},\"tags\":[\"a\",\"b{}\"]}},",
            i % 97,
            i * 31 % 1000,
            i % 7
        ));
        i += 1;
    }
    s.truncate(len);
    s
}

/// Connects to `url` with `deflate`, waits for the open; returns the context, recorder and id.
fn open(url: &str, deflate: DeflateConfig) -> (Context, Recorder, ConnId) {
    let mut options = ConnectOptions {
        deflate,
        ..ConnectOptions::default()
    };
    common::big_limits(&mut options.connection);
    let mut ctx = Context::new().unwrap();
    let mut rec = Recorder::new();
    let conn = ctx.connect(url, options).unwrap();
    common::pump(&mut ctx, &mut rec, Duration::from_secs(10), "open", |_, r| {
        r.opens(Role::Client).contains(&conn)
    });
    (ctx, rec, conn)
}

/// Sends every shape (text and binary, 200 B and 64 KiB, whole and in three fragments) and checks
/// the echoes; then asks the peer server which extension it negotiated and returns its answer.
fn round_trip(ctx: &mut Context, rec: &mut Recorder, conn: ConnId, what: &str) -> String {
    let mut sent = Vec::new();
    for len in [200, 64 << 10] {
        let text = json_like(len).into_bytes();
        let binary: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
        for (kind, data) in [(MessageKind::Text, &text), (MessageKind::Binary, &binary)] {
            ctx.send(conn, kind, data).unwrap();
            let (a, rest) = data.split_at(len / 3);
            let (b, c) = rest.split_at(len / 3);
            ctx.begin_message(conn, kind, a).unwrap();
            ctx.continue_message(conn, b).unwrap();
            ctx.finish_message(conn, c).unwrap();
            sent.push((kind == MessageKind::Text, data.clone()));
            sent.push((kind == MessageKind::Text, data.clone()));
        }
    }
    ctx.send_text(conn, "extensions?").unwrap();
    let n = sent.len() + 1;
    common::pump(ctx, rec, Duration::from_secs(20), "echoes", |_, r| {
        r.messages(conn).len() >= n
    });
    let got = rec.messages(conn);
    for (i, (got, want)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(got.0, want.0, "{what}: message {i} kind");
        assert!(
            got.1 == want.1,
            "{what}: message {i} ({} bytes) differs",
            want.1.len()
        );
    }
    String::from_utf8(got[sent.len()].1.clone()).unwrap()
}

#[test]
fn wskit_client_compresses_with_peer_servers() {
    let no_takeover = DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..DeflateConfig::CLIENT
    };
    for peer in PEERS {
        let server = peer.start_server_of("deflate");
        let compacting = DeflateConfig {
            compact_idle: true,
            ..DeflateConfig::CLIENT
        };
        for (policy, deflate) in [
            ("default", DeflateConfig::CLIENT),
            ("no takeover", no_takeover),
            ("takeover, idle compaction", compacting),
        ] {
            let what = format!("{peer:?} server, {policy} offer");
            let (mut ctx, mut rec, conn) = open(&server.url("/"), deflate);
            let params = ctx
                .deflate_params(conn)
                .unwrap()
                .unwrap_or_else(|| panic!("{what}: compression not negotiated"));
            assert_eq!(
                params.server_no_context_takeover, deflate.server_no_context_takeover,
                "{what}: {params:?}"
            );
            let header = ctx
                .header(conn, "sec-websocket-extensions")
                .unwrap()
                .unwrap_or_else(|| panic!("{what}: no Sec-WebSocket-Extensions in the response"))
                .to_owned();
            assert!(header.starts_with("permessage-deflate"), "{what}: {header}");
            let peer_says = round_trip(&mut ctx, &mut rec, conn, &what);
            assert!(
                peer_says.starts_with("permessage-deflate"),
                "{what}: the peer reports {peer_says:?}"
            );
            ctx.close(conn, 1000, "").unwrap();
            common::pump(&mut ctx, &mut rec, Duration::from_secs(5), "closed", |_, r| {
                r.is_closed(conn)
            });
        }
    }
}

#[test]
fn peer_clients_compress_with_the_wskit_server() {
    let server = WskitServer::start();
    for peer in PEERS {
        let out = peer.run_client_of("deflate", &server.url("/"));
        // {"extensions": <the 101's header>, "negotiated": <the peer's own view>, "echoed": n}
        assert!(
            out.contains(
                r#""extensions": "permessage-deflate; server_no_context_takeover; client_no_context_takeover"#
            ) || out.contains(
                r#""extensions":"permessage-deflate; server_no_context_takeover; client_no_context_takeover"#
            ),
            "{peer:?}: {out}"
        );
        // websockets lists its extension objects, ws names the negotiated extension.
        let in_use = match peer {
            peer_support::Peer::Python => out.contains(
                "PerMessageDeflate(remote_no_context_takeover=True, local_no_context_takeover=True",
            ),
            peer_support::Peer::Node => out.contains(r#""negotiated":"permessage-deflate""#),
        };
        assert!(
            in_use,
            "{peer:?}: the peer did not report the extension in use: {out}"
        );
        assert!(
            out.contains(r#""echoed": 8"#) || out.contains(r#""echoed":8"#),
            "{peer:?}: {out}"
        );
    }
}

/// A listener that allows context takeover (12-bit windows, as Python `websockets` offers) and
/// compacts idle codecs (`compact_idle`, on in `DeflateConfig::SERVER`): between messages its
/// codecs go back to the pool and the next message primes one with the history. The peers' zlib
/// must read that stream, and send theirs with context kept, over all 8 echoed messages.
#[test]
fn peer_clients_keep_context_with_a_compacting_wskit_server() {
    let deflate = DeflateConfig {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 12,
        client_max_window_bits: 12,
        mem_level: 5,
        ..DeflateConfig::SERVER
    };
    assert!(deflate.compact_idle);
    let server = WskitServer::start_listening(wskit::net::ListenOptions {
        deflate,
        ..peer_support::echo_listen_options()
    });
    for peer in PEERS {
        let out = peer.run_client_of("deflate", &server.url("/"));
        assert!(out.contains("permessage-deflate"), "{peer:?}: {out}");
        // The 101's header (before the peer's own view, which names its takeover flags).
        let answer = out.split("negotiated").next().unwrap_or_default();
        assert!(
            answer.contains("permessage-deflate; server_max_window_bits=12"),
            "{peer:?}: {out}"
        );
        assert!(
            !answer.contains("no_context_takeover"),
            "{peer:?}: takeover was not agreed: {out}"
        );
        assert!(
            out.contains(r#""echoed": 8"#) || out.contains(r#""echoed":8"#),
            "{peer:?}: {out}"
        );
    }
}
