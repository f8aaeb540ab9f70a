//! The wskit server against real clients: Python `websockets` and Node `ws`.

mod peer_support;

use peer_support::{PEERS, WskitServer};

#[test]
fn echoes_every_size_text_and_binary() {
    let server = WskitServer::start();
    for peer in PEERS {
        assert_eq!(
            peer.run_client(&server.url("/"), "echo-sizes", &[]),
            r#"{"checked":20}"#,
            "{peer:?}"
        );
    }
}

#[test]
fn reassembles_fragmented_messages_with_a_ping_between_fragments() {
    let server = WskitServer::start();
    for peer in PEERS {
        assert_eq!(
            peer.run_client(&server.url("/"), "fragmented", &[]),
            r#"{"checked":2}"#,
            "{peer:?}"
        );
    }
}

#[test]
fn answers_pings_and_sends_pings() {
    let server = WskitServer::start();
    for peer in PEERS {
        assert_eq!(
            peer.run_client(&server.url("/"), "ping", &["hello", "wskit"]),
            r#"{"pong":"hello wskit"}"#
        );
        assert_eq!(peer.run_client(&server.url("/"), "ping", &[]), r#"{"pong":""}"#);
        assert_eq!(
            peer.run_client(&server.url("/"), "server-ping", &["from", "server"]),
            r#"{"ok":true}"#
        );
    }
}

#[test]
fn every_close_path_carries_code_and_reason() {
    let server = WskitServer::start();
    for peer in PEERS {
        for (code, reason) in [
            ("1000", "bye"),
            ("1001", ""),
            ("3000", "app"),
            ("4999", "last code"),
        ] {
            let expected = format!(r#"{{"code":{code},"reason":"{reason}"}}"#);
            let mut args = vec![code];
            args.extend(reason.split(' ').filter(|s| !s.is_empty()));
            // Server initiates: the peer reports the server's close frame.
            assert_eq!(
                peer.run_client(&server.url("/"), "server-close", &args),
                expected,
                "{peer:?}"
            );
            // Client initiates: wskit echoes the code (without a reason, as RFC 6455 5.5.1 allows).
            let echoed = peer.run_client(&server.url("/"), "client-close", &args);
            assert_eq!(echoed, format!(r#"{{"code":{code},"reason":""}}"#), "{peer:?}");
        }
    }
}

#[test]
fn negotiates_subprotocols() {
    let server = WskitServer::start();
    for peer in PEERS {
        let chosen = peer.run_client(&server.url("/"), "subprotocol", &["chat.v2,chat.v1"]);
        assert_eq!(chosen, r#"{"subprotocol":"chat.v2"}"#, "{peer:?}");
        let none = peer.run_client(&server.url("/"), "subprotocol", &[""]);
        assert_eq!(none, r#"{"subprotocol":null}"#, "{peer:?}");
    }
}

#[test]
fn sees_extra_request_headers() {
    let server = WskitServer::start();
    for peer in PEERS {
        let out = peer.run_client(&server.url("/"), "headers", &[]);
        for expected in [
            r#""x-wskit-test":"peer""#,
            r#""authorization":"Bearer token123""#,
            r#""origin":"http://example.test""#,
            r#""sec-websocket-version":"13""#,
        ] {
            assert!(out.contains(expected), "{peer:?}: {expected} missing in {out}");
        }
        assert!(!out.contains("permessage-deflate\"") || out.contains("sec-websocket-extensions"));
    }
}

#[test]
fn many_concurrent_connections() {
    let server = WskitServer::start();
    for peer in PEERS {
        let out = peer.run_client(&server.url("/"), "concurrent", &["200", "20"]);
        assert_eq!(out, r#"{"connections":200,"messages":4000}"#, "{peer:?}");
    }
}
