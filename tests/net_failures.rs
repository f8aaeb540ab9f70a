//! Abrupt disconnects, timeouts and protocol violations.

mod common;

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::{
    Err, Ev, FrameReader, Pair, Recorder, client_frame, listen, raw_client, unmasked_frame, url, wait_eof,
};
use wskit::net::{ConnectOptions, Context, ListenOptions};
use wskit::proto::{ProtocolError, Role};

#[test]
fn raw_client_dropped_mid_frame_and_mid_handshake() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    let healthy = p.sid;

    // Open, then half a masked frame, then gone.
    let (mut raw, _) = raw_client(&mut p.s, &mut p.sh, p.addr);
    p.pump("raw connection open", |p| p.sh.opens(Role::Server).len() == 2);
    let raw_id = p.sh.opens(Role::Server)[1];
    let frame = client_frame(true, 0x1, &[b'z'; 200]);
    raw.write_all(&frame[..frame.len() / 2]).unwrap();
    raw.shutdown(Shutdown::Both).unwrap();
    drop(raw);
    p.pump("raw connection closed", |p| p.sh.is_closed(raw_id));
    assert_eq!(p.sh.closes(raw_id), vec![(1006, String::new(), false, false)]);
    assert!(p.sh.messages(raw_id).is_empty());
    p.pump("slot freed", |p| p.s.connection_count() == 1);

    // Half a request, then gone: the connection never opened, so no events at all.
    let before = p.sh.events.len();
    let mut half = TcpStream::connect(p.addr).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
        .unwrap();
    p.pump("half-handshake accepted", |p| p.s.connection_count() == 2);
    drop(half);
    p.pump("half-handshake dropped", |p| p.s.connection_count() == 1);
    assert_eq!(
        p.sh.events[before..],
        [],
        "no events for a connection that never opened"
    );

    // The healthy connection was not disturbed.
    p.c.send_text(p.cid, "still fine").unwrap();
    p.pump("echo", |p| p.ch.messages(p.cid).len() == 1);
    assert!(!p.sh.is_closed(healthy));
    p.c.close(p.cid, 1000, "").unwrap();
    p.drain();
    assert_eq!(p.sh.closes(healthy), vec![(1000, String::new(), true, false)]);
}

/// Reads stop at the first short read unless the peer closed its side: messages that arrive in
/// the same segments as the FIN (and a FIN that arrives after the data was read) must still be
/// seen, then the end of the stream, with no further readiness to wake the loop.
#[test]
fn messages_followed_at_once_by_the_peers_fin_are_all_delivered_then_the_close() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    for (round, pause) in [(0, false), (1, true)] {
        let (mut raw, _) = raw_client(&mut p.s, &mut p.sh, p.addr);
        let opened = 2 + round;
        p.pump("raw connection open", |p| {
            p.sh.opens(Role::Server).len() == opened
        });
        let raw_id = p.sh.opens(Role::Server)[1 + round];
        let frames: Vec<u8> = (0..50)
            .flat_map(|i| client_frame(true, 0x1, format!("message {i}").as_bytes()))
            .collect();
        raw.write_all(&frames).unwrap();
        if pause {
            // Let the server read the data first: the FIN then comes as a later edge of its own.
            p.pump("messages read", |p| p.sh.messages(raw_id).len() == 50);
        }
        raw.shutdown(Shutdown::Write).unwrap();
        p.pump("end of stream seen", |p| p.sh.is_closed(raw_id));
        let got: Vec<String> =
            p.sh.messages(raw_id)
                .into_iter()
                .map(|(_, bytes)| String::from_utf8(bytes).unwrap())
                .collect();
        let want: Vec<String> = (0..50).map(|i| format!("message {i}")).collect();
        assert_eq!(got, want, "round {round}");
        assert_eq!(p.sh.closes(raw_id), vec![(1006, String::new(), false, false)]);
    }
}

#[test]
fn server_dropped_mid_frame_gives_client_1006() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let (head, _) = common::read_http_head(&mut stream, Instant::now() + Duration::from_secs(5));
        let key = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_owned())
            })
            .expect("key");
        let accept = wskit::proto::handshake::accept_key(key.as_bytes());
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .into_bytes();
        out.extend_from_slice(&unmasked_frame(true, 0x2, &[1; 100])[..40]);
        stream.write_all(&out).unwrap();
        stream.shutdown(Shutdown::Both).unwrap();
    });
    let mut c = Context::new().unwrap();
    let mut ch = Recorder::new();
    let cid = c.connect(&url(addr, "/"), ConnectOptions::default()).unwrap();
    common::pump(
        &mut c,
        &mut ch,
        Duration::from_secs(5),
        "client closed",
        |_, h| h.is_closed(cid),
    );
    server.join().unwrap();
    let events = ch.events_of(cid);
    assert!(matches!(events[0], Ev::Open { .. }), "{events:?}");
    assert!(
        matches!(
            events.last(),
            Some(Ev::Close {
                code: 1006,
                clean: false,
                ..
            })
        ),
        "{events:?}"
    );
    assert!(ch.messages(cid).is_empty());
    assert_eq!(ch.closes(cid).len(), 1);
    common::pump(
        &mut c,
        &mut ch,
        Duration::from_secs(5),
        "no connections",
        |c, _| c.connection_count() == 0,
    );
}

#[test]
fn slowloris_is_cut_off_by_handshake_timeout() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    let mut options = ListenOptions::default();
    options.connection.handshake_timeout = Duration::from_millis(300);
    let (_, addr) = listen(&mut s, &mut sh, options);
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let (took, data) = wait_eof(&mut raw, &mut s, &mut sh, Duration::from_secs(2));
    assert!(took < Duration::from_secs(1), "closed only after {took:?}");
    assert!(
        took >= Duration::from_millis(250),
        "closed too early, after {took:?}"
    );
    assert!(data.is_empty() || data.starts_with(b"HTTP/1.1 "), "{data:?}");
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "slot freed", |s, _| {
        s.connection_count() == 0
    });
    assert!(
        !sh.events.iter().any(|e| !matches!(e, Ev::Listen(..))),
        "no events for a connection that never opened: {:?}",
        sh.events
    );
}

#[test]
fn client_handshake_timeout_when_server_never_answers() {
    // The kernel completes the TCP handshake (backlog); nobody ever answers the upgrade.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let mut c = Context::new().unwrap();
    let mut ch = Recorder::new();
    let mut options = ConnectOptions::default();
    options.connection.handshake_timeout = Duration::from_millis(300);
    let start = Instant::now();
    let cid = c.connect(&url(addr, "/"), options).unwrap();
    common::pump(
        &mut c,
        &mut ch,
        Duration::from_secs(3),
        "client closed",
        |_, h| h.is_closed(cid),
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(1),
        "{took:?}"
    );
    let events = ch.events_of(cid);
    assert!(
        matches!(
            events.as_slice(),
            [
                Ev::Error(Some(_), Err::Timeout(_)),
                Ev::Close {
                    code: 1006,
                    clean: false,
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    assert_eq!(c.connection_count(), 0);
    drop(silent);
}

#[test]
fn client_connect_to_closed_port() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut c = Context::new().unwrap();
    let mut ch = Recorder::new();
    let cid = c.connect(&url(port, "/"), ConnectOptions::default()).unwrap();
    common::pump(
        &mut c,
        &mut ch,
        Duration::from_secs(3),
        "client closed",
        |_, h| h.is_closed(cid),
    );
    let events = ch.events_of(cid);
    assert!(
        matches!(
            events.as_slice(),
            [
                Ev::Error(Some(_), Err::Connect(_)),
                Ev::Close {
                    code: 1006,
                    clean: false,
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    assert_eq!(c.connection_count(), 0);
}

fn pinging_server() -> (Context, Recorder, std::net::SocketAddr) {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let mut options = ListenOptions::default();
    options.connection.ping_interval = Some(Duration::from_millis(100));
    options.connection.pong_timeout = Duration::from_millis(200);
    let (_, addr) = listen(&mut s, &mut sh, options);
    (s, sh, addr)
}

#[test]
fn ping_timeout_drops_a_silent_peer() {
    let (mut s, mut sh, addr) = pinging_server();
    let (mut raw, leftover) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    let start = Instant::now();
    let mut frames = FrameReader::with(leftover);
    let (fin, opcode, _) = frames.read_frame(&mut raw, &mut s, &mut sh, Duration::from_secs(1));
    assert!(fin && opcode == 0x9, "expected a ping, got opcode {opcode:#x}");
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "closed", |_, h| {
        h.is_closed(sid)
    });
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "dropped only after {took:?}");
    assert_eq!(sh.closes(sid), vec![(1006, String::new(), false, true)]);
    assert!(
        matches!(sh.errors(sid).as_slice(), [Err::Timeout(_)]),
        "{:?}",
        sh.errors(sid)
    );
    wait_eof(&mut raw, &mut s, &mut sh, Duration::from_secs(1));
    assert_eq!(s.connection_count(), 0);
}

#[test]
fn ping_interval_keeps_an_answering_peer() {
    let (s, sh, addr) = pinging_server();
    let mut p = Pair::start(ListenOptions::default(), Recorder::new());
    // Swap in the pinging server.
    p.s = s;
    p.sh = sh;
    p.addr = addr;
    let cid = p.connect(ConnectOptions::default());
    p.pump("open", |p| p.ch.opens(Role::Client).contains(&cid));
    let end = Instant::now() + Duration::from_millis(800);
    p.pump("800 ms", |_| Instant::now() >= end);
    let pongs = p.sh.events.iter().filter(|e| matches!(e, Ev::Pong(..))).count();
    assert!(pongs >= 3, "expected a pong every ~100 ms, got {pongs}");
    assert!(p.c.is_open(cid) && !p.ch.is_closed(cid));
    assert!(p.sh.closes(p.sh.opens(Role::Server)[0]).is_empty());
}

#[test]
fn unmasked_client_frame_fails_with_1002() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    let (_, addr) = listen(&mut s, &mut sh, ListenOptions::default());
    let (mut raw, leftover) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    raw.write_all(&unmasked_frame(true, 0x1, b"hello")).unwrap();
    let mut frames = FrameReader::with(leftover);
    let (fin, opcode, payload) = frames.read_frame(&mut raw, &mut s, &mut sh, Duration::from_secs(2));
    assert!(
        fin && opcode == 0x8,
        "expected a close frame, got opcode {opcode:#x}"
    );
    assert!(payload.len() >= 2);
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1002);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "closed", |_, h| {
        h.is_closed(sid)
    });
    let events = sh.events_of(sid);
    let n = events.len();
    assert!(
        matches!(
            events[n - 2],
            Ev::Error(Some(_), Err::Protocol(ProtocolError::UnmaskedFrame))
        ),
        "{events:?}"
    );
    assert!(
        matches!(
            &events[n - 1],
            Ev::Close {
                code: 1002,
                clean: false,
                local: true,
                ..
            }
        ),
        "{events:?}"
    );
    assert!(sh.messages(sid).is_empty());
    wait_eof(&mut raw, &mut s, &mut sh, Duration::from_secs(2));
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "slot freed", |s, _| {
        s.connection_count() == 0
    });
}

#[test]
fn close_timeout_when_peer_never_answers_the_close() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    let mut options = ListenOptions::default();
    options.connection.close_timeout = Duration::from_millis(200);
    let (_, addr) = listen(&mut s, &mut sh, options);
    let (mut raw, leftover) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    let start = Instant::now();
    s.close(sid, 1000, "bye").unwrap();
    let mut frames = FrameReader::with(leftover);
    let (_, opcode, payload) = frames.read_frame(&mut raw, &mut s, &mut sh, Duration::from_secs(1));
    assert_eq!(opcode, 0x8);
    assert_eq!(&payload[..2], &1000u16.to_be_bytes());
    // The raw client never answers.
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "closed", |_, h| {
        h.is_closed(sid)
    });
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(1),
        "{took:?}"
    );
    let closes = sh.closes(sid);
    assert_eq!(closes.len(), 1);
    assert_eq!(
        (closes[0].0, closes[0].2, closes[0].3),
        (1006, false, true),
        "{closes:?}"
    );
    wait_eof(&mut raw, &mut s, &mut sh, Duration::from_secs(1));
    assert_eq!(s.connection_count(), 0);
}

/// The peer closes while this end still has much to write (a big echo, then the close reply): the
/// ping timer set while open must not end the connection as a timed-out closing handshake while
/// that output drains (the soak found clean closes reported as 1006 by the peer).
#[test]
fn a_peer_close_with_output_pending_is_answered_even_when_the_ping_timer_fires_meanwhile() {
    let mut s = Context::new().unwrap();
    let mut sh = common::Recorder::echoing();
    let mut options = ListenOptions::default();
    options.connection.ping_interval = Some(Duration::from_millis(50));
    options.connection.pong_timeout = Duration::from_millis(50);
    let (_, addr) = listen(&mut s, &mut sh, options);
    let (mut raw, leftover) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    let big = vec![7u8; 12 << 20];
    let mut request = client_frame(true, 0x2, &big);
    request.extend(client_frame(true, 0x8, &1000u16.to_be_bytes()));
    raw.set_nonblocking(true).unwrap();
    let mut written = 0;
    let mut frames = FrameReader::with(leftover);
    let start = Instant::now();
    let mut chunk = vec![0u8; 1 << 20];
    // Write everything, reading nothing for the first 400 ms (several ping intervals).
    let mut close = None;
    while close.is_none() {
        assert!(start.elapsed() < Duration::from_secs(20), "no close reply");
        if written < request.len() {
            match raw.write(&request[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("write: {e}"),
            }
        }
        s.poll(&mut sh, Some(Duration::from_millis(2))).unwrap();
        if start.elapsed() < Duration::from_millis(400) {
            continue;
        }
        match std::io::Read::read(&mut raw, &mut chunk) {
            Ok(0) => panic!("EOF before the close reply: the server dropped the connection"),
            Ok(n) => frames.buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
        while let Some((_, opcode, payload)) = frames.next_frame() {
            match opcode {
                0x2 => assert_eq!(payload.len(), big.len()),
                0x9 => {}
                0x8 => close = Some(u16::from_be_bytes([payload[0], payload[1]])),
                other => panic!("opcode {other:#x}"),
            }
        }
    }
    assert_eq!(close, Some(1000));
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "closed", |_, h| {
        h.is_closed(sid)
    });
    assert_eq!(sh.closes(sid), vec![(1000, String::new(), true, false)]);
}
