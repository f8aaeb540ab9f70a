//! Deciding upgrade requests: answers inside `on_accept`, `Decision::Defer` and a later
//! `Context::accept`/`reject`, invalid answers, and the listener's default subprotocol.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Ev, FrameReader, Recorder, client_frame, listen, read_http_head, wait_eof};
use wskit::net::{
    AcceptRequest, ConnId, ConnectOptions, Context, Decision, Error, Handler, ListenOptions, OpenInfo,
};
use wskit::proto::Role;

const SECS: Duration = Duration::from_secs(5);

fn request_text(addr: SocketAddr, extra: &str) -> String {
    format!(
        "GET /room?id=7 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Connects and writes `bytes` (the request, maybe with frames after it) in one write.
fn raw(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    stream.write_all(bytes).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    stream
}

fn accepts(h: &Recorder) -> Vec<ConnId> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Ev::Accept { conn, .. } => Some(*conn),
            _ => None,
        })
        .collect()
}

/// Polls until `count` requests reached `on_accept`.
fn wait_accepts(ctx: &mut Context, h: &mut Recorder, count: usize) -> Vec<ConnId> {
    common::pump(ctx, h, SECS, "on_accept", |_, h| accepts(h).len() >= count);
    accepts(h)
}

/// Polls for a while and asserts the raw client received nothing.
fn assert_silent(ctx: &mut Context, h: &mut Recorder, stream: &mut TcpStream) {
    let mut buf = [0u8; 256];
    for _ in 0..10 {
        ctx.poll(h, Some(Duration::from_millis(2))).unwrap();
        match stream.read(&mut buf) {
            Ok(n) => panic!("got {n} bytes while the decision was pending: {:?}", &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn deferring_server(options: ListenOptions) -> (Context, Recorder, SocketAddr) {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::echoing();
    h.accept = Some(Box::new(|_| Decision::Defer));
    let (_, addr) = listen(&mut ctx, &mut h, options);
    (ctx, h, addr)
}

#[test]
fn a_deferred_request_accepted_from_outside_poll_opens_at_the_next_poll_with_its_early_frames() {
    let (mut ctx, mut h, addr) = deferring_server(ListenOptions::default());
    let mut bytes = request_text(addr, "Sec-WebSocket-Protocol: chat, superchat\r\n").into_bytes();
    bytes.extend(client_frame(true, 0x1, b"with the request"));
    let mut stream = raw(addr, &bytes);
    let sid = wait_accepts(&mut ctx, &mut h, 1)[0];
    assert!(ctx.is_accept_pending(sid));
    assert_silent(&mut ctx, &mut h, &mut stream);
    // Sent while the decision is pending: not read until it is accepted.
    stream
        .write_all(&client_frame(true, 0x1, b"while pending"))
        .unwrap();
    assert_silent(&mut ctx, &mut h, &mut stream);
    assert!(ctx.is_accept_pending(sid));
    assert!(h.opens(Role::Server).is_empty());
    assert_eq!(ctx.path(sid).unwrap(), "/room", "the pending request is readable");
    assert_eq!(ctx.query(sid).unwrap(), Some("id=7"));
    assert_eq!(
        ctx.header(sid, "sec-websocket-protocol").unwrap(),
        Some("chat, superchat")
    );

    let headers = [("X-Decided".to_string(), "later".to_string())];
    ctx.accept(sid, Some("superchat"), &headers).unwrap();
    assert!(!ctx.is_accept_pending(sid));
    assert!(
        h.opens(Role::Server).is_empty(),
        "on_open comes from the next poll"
    );
    common::pump(&mut ctx, &mut h, SECS, "both messages", |_, h| {
        h.messages(sid).len() == 2
    });
    let events = h.events_of(sid);
    assert!(
        matches!(
            &events[..],
            [
                Ev::Accept { .. },
                Ev::Open { role: Role::Server, subprotocol: Some(p), ctx_subprotocol: Some(q), path, .. },
                Ev::Msg { data: first, .. },
                Ev::Msg { data: second, .. },
            ] if p == "superchat" && q == "superchat" && path == "/room"
                && first == b"with the request" && second == b"while pending"
        ),
        "{events:?}"
    );
    let (head, rest) = read_http_head(&mut stream, Instant::now() + SECS);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("Sec-WebSocket-Protocol: superchat\r\n"), "{head}");
    assert!(head.contains("X-Decided: later\r\n"), "{head}");
    // The echoes of both, then a live round trip.
    let mut frames = FrameReader::with(rest);
    assert_eq!(
        frames.read_frame(&mut stream, &mut ctx, &mut h, SECS).2,
        b"with the request"
    );
    assert_eq!(
        frames.read_frame(&mut stream, &mut ctx, &mut h, SECS).2,
        b"while pending"
    );
    stream.write_all(&client_frame(true, 0x1, b"live")).unwrap();
    assert_eq!(frames.read_frame(&mut stream, &mut ctx, &mut h, SECS).2, b"live");
}

#[test]
fn a_deferred_request_can_be_answered_from_another_connections_handler() {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::echoing();
    let first: Arc<Mutex<Option<ConnId>>> = Arc::default();
    let answers = Arc::new(Mutex::new(Vec::new()));
    let (f, a) = (first.clone(), answers.clone());
    h.accept_ctx = Some(Box::new(move |ctx, request| {
        let mut first = f.lock().unwrap();
        match *first {
            None => {
                *first = Some(request.conn);
                Decision::Defer
            }
            Some(pending) => {
                // The second request arrives: answer the first from here.
                a.lock()
                    .unwrap()
                    .push(format!("{:?}", ctx.accept(pending, None, &[])));
                Decision::accept()
            }
        }
    }));
    let (_, addr) = listen(&mut ctx, &mut h, ListenOptions::default());
    let mut one = raw(addr, request_text(addr, "").as_bytes());
    let a1 = wait_accepts(&mut ctx, &mut h, 1)[0];
    assert_silent(&mut ctx, &mut h, &mut one);
    let mut two = raw(addr, request_text(addr, "").as_bytes());
    let a2 = wait_accepts(&mut ctx, &mut h, 2)[1];
    common::pump(&mut ctx, &mut h, SECS, "both open", |_, h| {
        h.opens(Role::Server).len() == 2
    });
    assert_eq!(answers.lock().unwrap()[..], ["Ok(())".to_string()]);
    assert_eq!(
        h.opens(Role::Server),
        vec![a2, a1],
        "the deferred on_open follows in order"
    );
    for stream in [&mut one, &mut two] {
        let (head, _) = read_http_head(stream, Instant::now() + SECS);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    }
}

#[test]
fn answers_given_inside_on_accept_win_over_the_returned_decision() {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    h.accept_ctx = Some(Box::new(move |ctx, request| {
        let conn = request.conn;
        let mut log = l.lock().unwrap();
        log.push(format!("pending {}", ctx.is_accept_pending(conn)));
        if request.request.path == "/accept" {
            // An invalid answer is refused at once and changes nothing.
            let bad = ctx.accept(conn, Some("not-offered"), &[]);
            log.push(format!("bad {}", matches!(bad, Err(Error::InvalidArgument(_)))));
            log.push(format!("pending {}", ctx.is_accept_pending(conn)));
            ctx.accept(conn, Some("b"), &[]).unwrap();
            log.push(format!("pending {}", ctx.is_accept_pending(conn)));
            let again = ctx.reject(conn, 400, &[], b"");
            log.push(format!("again {}", matches!(again, Err(Error::InvalidState(_)))));
            Decision::reject(500, "ignored")
        } else {
            ctx.reject(conn, 418, &[("X-Why".into(), "tea".into())], b"teapot")
                .unwrap();
            Decision::accept()
        }
    }));
    let (_, addr) = listen(&mut ctx, &mut h, ListenOptions::default());
    let text = request_text(addr, "Sec-WebSocket-Protocol: a, b\r\n").replace("/room", "/accept");
    let mut accepted = raw(addr, text.as_bytes());
    common::pump(&mut ctx, &mut h, SECS, "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let (head, _) = read_http_head(&mut accepted, Instant::now() + SECS);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("Sec-WebSocket-Protocol: b\r\n"), "{head}");
    assert!(matches!(&h.events_of(h.opens(Role::Server)[0])[1],
        Ev::Open { subprotocol: Some(p), .. } if p == "b"));
    assert_eq!(
        log.lock().unwrap()[..],
        [
            "pending true",
            "bad true",
            "pending true",
            "pending false",
            "again true"
        ]
        .map(String::from)
    );

    let mut rejected = raw(addr, request_text(addr, "").as_bytes());
    let (_, data) = wait_eof(&mut rejected, &mut ctx, &mut h, SECS);
    let text = String::from_utf8_lossy(&data);
    assert!(text.starts_with("HTTP/1.1 418"), "{text}");
    assert!(
        text.contains("X-Why: tea\r\n") && text.ends_with("teapot"),
        "{text}"
    );
    assert_eq!(h.opens(Role::Server).len(), 1);
}

#[test]
fn invalid_answers_fail_at_once_and_leave_the_request_pending() {
    let (mut ctx, mut h, addr) = deferring_server(ListenOptions::default());
    let mut stream = raw(
        addr,
        request_text(addr, "Sec-WebSocket-Protocol: chat\r\n").as_bytes(),
    );
    let sid = wait_accepts(&mut ctx, &mut h, 1)[0];
    let header = |n: &str, v: &str| vec![(n.to_string(), v.to_string())];
    let invalid: Vec<(&str, Result<(), Error>)> = vec![
        ("unoffered subprotocol", ctx.accept(sid, Some("other"), &[])),
        (
            "reserved header",
            ctx.accept(sid, None, &header("Sec-WebSocket-Accept", "x")),
        ),
        (
            "CRLF in a value",
            ctx.accept(sid, None, &header("X-A", "1\r\nX-B: 2")),
        ),
        ("not a token", ctx.accept(sid, None, &header("X A", "1"))),
        ("status 101", ctx.reject(sid, 101, &[], b"")),
        ("status 99", ctx.reject(sid, 99, &[], b"")),
        ("status 600", ctx.reject(sid, 600, &[], b"")),
        ("204 with a body", ctx.reject(sid, 204, &[], b"body")),
        (
            "reserved reject header",
            ctx.reject(sid, 403, &header("Content-Length", "0"), b""),
        ),
    ];
    for (what, result) in invalid {
        assert!(
            matches!(result, Err(Error::InvalidArgument(_))),
            "{what}: {result:?}"
        );
        assert!(ctx.is_accept_pending(sid), "{what}: still pending");
    }
    assert_silent(&mut ctx, &mut h, &mut stream);
    assert!(
        h.errors(sid).is_empty(),
        "nothing is reported later: {:?}",
        h.errors(sid)
    );
    ctx.accept(sid, Some("chat"), &[]).unwrap();
    common::pump(&mut ctx, &mut h, SECS, "open", |_, h| {
        h.opens(Role::Server) == vec![sid]
    });
    let (head, _) = read_http_head(&mut stream, Instant::now() + SECS);
    assert!(head.starts_with("HTTP/1.1 101") && head.contains("Sec-WebSocket-Protocol: chat\r\n"));
}

#[test]
fn accept_and_reject_refuse_what_is_not_pending() {
    let mut p = common::Pair::open(ListenOptions::default(), ConnectOptions::default());
    let (sid, cid) = (p.sid, p.cid);
    for (ctx, conn) in [(&mut p.s, sid), (&mut p.c, cid)] {
        assert!(!ctx.is_accept_pending(conn));
        assert!(matches!(ctx.accept(conn, None, &[]), Err(Error::InvalidState(_))));
        assert!(matches!(
            ctx.reject(conn, 403, &[], b""),
            Err(Error::InvalidState(_))
        ));
    }
    let unknown = ConnId::from_u64(0xFFFF_0000_0001);
    assert!(matches!(p.s.accept(unknown, None, &[]), Err(Error::NotFound)));
    assert!(matches!(p.s.reject(unknown, 403, &[], b""), Err(Error::NotFound)));
    assert!(!p.s.is_accept_pending(unknown));
}

#[test]
fn a_pending_request_obeys_the_handshake_timeout() {
    let mut options = ListenOptions::default();
    options.connection.handshake_timeout = Duration::from_millis(100);
    let (mut ctx, mut h, addr) = deferring_server(options);
    let mut stream = raw(addr, request_text(addr, "").as_bytes());
    let sid = wait_accepts(&mut ctx, &mut h, 1)[0];
    let (took, data) = wait_eof(&mut stream, &mut ctx, &mut h, SECS);
    assert!(data.is_empty(), "no response to a request dropped while pending");
    assert!(took < Duration::from_secs(2), "dropped after {took:?}");
    assert!(matches!(ctx.accept(sid, None, &[]), Err(Error::NotFound)));
    ctx.poll(&mut h, Some(Duration::from_millis(5))).unwrap();
    assert!(
        h.closes(sid).is_empty(),
        "no user data, no on_close: {:?}",
        h.events_of(sid)
    );
}

/// Records what the default `on_accept` chose; everything else is the trait's default.
#[derive(Default)]
struct Defaults {
    opened: Vec<Option<String>>,
}

impl Handler for Defaults {
    fn on_open(&mut self, _ctx: &mut Context, _conn: ConnId, info: &OpenInfo<'_>) {
        if info.role == Role::Server {
            self.opened.push(info.subprotocol.map(str::to_owned));
        }
    }
}

#[test]
fn the_default_on_accept_selects_the_listeners_default_subprotocol_in_the_clients_order() {
    let mut server = Context::new().unwrap();
    let mut sh = Defaults::default();
    let options = ListenOptions {
        subprotocols: vec!["b".into(), "a".into()],
        ..ListenOptions::default()
    };
    let listener = server.listen("127.0.0.1:0", options).unwrap();
    let addr = server.local_addr(listener).unwrap();
    let mut client = Context::new().unwrap();
    let mut ch = Recorder::new();
    let offers: [&[&str]; 4] = [&["x", "a", "b"], &["b", "a"], &["x"], &[]];
    for offer in offers {
        let mut options = ConnectOptions::default();
        options.handshake.subprotocols = offer.iter().map(|s| s.to_string()).collect();
        let cid = client.connect(&format!("ws://{addr}/"), options).unwrap();
        common::pump2(
            &mut server,
            &mut sh,
            &mut client,
            &mut ch,
            SECS,
            "open",
            |_, _, _, ch| ch.opens(Role::Client).contains(&cid),
        );
        assert_eq!(
            client.subprotocol(cid).unwrap(),
            match offer {
                ["x", "a", "b"] => Some("a"),
                ["b", "a"] => Some("b"),
                _ => None,
            },
            "offer {offer:?}"
        );
    }
    let expected: Vec<Option<String>> = vec![Some("a".into()), Some("b".into()), None, None];
    assert_eq!(sh.opened, expected);
}

#[test]
fn accept_request_reports_the_default_subprotocol() {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    h.accept = Some(Box::new(move |request: &AcceptRequest<'_>| {
        s.lock()
            .unwrap()
            .push(request.default_subprotocol().map(str::to_owned));
        assert_eq!(
            request.accept_default(),
            Decision::Accept {
                subprotocol: request.default_subprotocol().map(str::to_owned),
                headers: Vec::new()
            }
        );
        request.accept_default()
    }));
    let options = ListenOptions {
        subprotocols: vec!["v2".into(), "v1".into()],
        ..ListenOptions::default()
    };
    let (_, addr) = listen(&mut ctx, &mut h, options);
    let mut one = raw(
        addr,
        request_text(addr, "Sec-WebSocket-Protocol: v0, v1, v2\r\n").as_bytes(),
    );
    let mut two = raw(
        addr,
        request_text(addr, "Sec-WebSocket-Protocol: v3\r\n").as_bytes(),
    );
    common::pump(&mut ctx, &mut h, SECS, "both open", |_, h| {
        h.opens(Role::Server).len() == 2
    });
    let (head, _) = read_http_head(&mut one, Instant::now() + SECS);
    assert!(head.contains("Sec-WebSocket-Protocol: v1\r\n"), "{head}");
    let (head, _) = read_http_head(&mut two, Instant::now() + SECS);
    assert!(!head.contains("Sec-WebSocket-Protocol"), "{head}");
    assert_eq!(seen.lock().unwrap()[..], [Some("v1".to_string()), None]);
}
