//! End to end over 127.0.0.1: messages of every length class, fragmentation, pings, subprotocols,
//! headers, rejection, the Origin allowlist and every close path.

mod common;

use std::time::Duration;

use common::{Err, Ev, Pair, Recorder, big_limits, listen, url};
use wskit::net::{ConnId, ConnectOptions, Context, Decision, Error, ListenOptions};
use wskit::proto::handshake::HandshakeError;
use wskit::proto::{MessageKind, Role, SendError};

const SIZES: [usize; 7] = [0, 1, 125, 126, 65535, 65536, 16 << 20];

fn payload(kind: MessageKind, len: usize) -> Vec<u8> {
    match kind {
        MessageKind::Text => (0..len).map(|i| b'a' + (i % 26) as u8).collect(),
        MessageKind::Binary => (0..len).map(|i| (i * 7 + 3) as u8).collect(),
    }
}

fn pick<'a, T>(same: bool, server: &'a mut T, client: &'a mut T) -> &'a mut T {
    if same { server } else { client }
}

/// Sends every size as text and binary from a client and checks the echoes, in order.
fn echo_every_size(same_context: bool) {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let mut c = Context::new().unwrap();
    let mut ch = Recorder::new();
    let mut options = ListenOptions::default();
    big_limits(&mut options.connection);
    let (_, addr) = listen(&mut s, &mut sh, options);
    let mut connect = ConnectOptions::default();
    big_limits(&mut connect.connection);
    let cid = pick(same_context, &mut s, &mut c)
        .connect(&url(addr, "/echo"), connect)
        .unwrap();
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(5),
        "client open",
        |_, sh, _, ch| pick(same_context, sh, ch).opens(Role::Client) == vec![cid],
    );
    let mut sent = Vec::new();
    for &len in &SIZES {
        for kind in [MessageKind::Text, MessageKind::Binary] {
            let data = payload(kind, len);
            pick(same_context, &mut s, &mut c)
                .send(cid, kind, &data)
                .unwrap_or_else(|e| panic!("send {kind:?} {len}: {e}"));
            sent.push((kind == MessageKind::Text, data));
        }
    }
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(30),
        "all echoes",
        |_, sh, _, ch| pick(same_context, sh, ch).messages(cid).len() >= sent.len(),
    );
    let got = pick(same_context, &mut sh, &mut ch).messages(cid);
    assert_eq!(got.len(), sent.len());
    for (i, (got, want)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(got.0, want.0, "message {i}: kind");
        assert_eq!(got.1.len(), want.1.len(), "message {i}: length");
        assert!(
            got.1 == want.1,
            "message {i} ({} bytes): payload differs",
            want.1.len()
        );
    }
    // The server saw the same messages, in the same order.
    let sid = sh.opens(Role::Server)[0];
    let at_server = sh.messages(sid);
    assert_eq!(at_server.len(), sent.len());
    assert!(at_server == sent, "server received different messages");
    assert!(pick(same_context, &mut sh, &mut ch).errors(cid).is_empty());
}

#[test]
fn echo_every_size_two_contexts() {
    echo_every_size(false);
}

#[test]
fn echo_every_size_one_context() {
    echo_every_size(true);
}

#[test]
fn fragmented_messages_with_a_ping_in_between() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    let cid = p.cid;
    // "héllo wörld" with both two-byte characters split across fragments.
    let text = "héllo wörld".as_bytes();
    p.c.begin_message(cid, MessageKind::Text, &text[..2]).unwrap();
    p.c.ping(cid, b"mid-message").unwrap();
    assert!(matches!(
        p.c.send_text(cid, "interleaved"),
        Err(Error::Send(SendError::MessageInProgress))
    ));
    p.c.continue_message(cid, &text[2..8]).unwrap();
    p.c.continue_message(cid, &[]).unwrap();
    p.c.finish_message(cid, &text[8..]).unwrap();
    assert!(matches!(
        p.c.continue_message(cid, b"x"),
        Err(Error::Send(SendError::NoMessageInProgress))
    ));
    p.c.begin_message(cid, MessageKind::Binary, &[]).unwrap();
    p.c.continue_message(cid, &[1, 2, 3]).unwrap();
    p.c.finish_message(cid, &[4]).unwrap();
    p.pump("two echoes and the pong", |p| {
        p.ch.messages(cid).len() == 2 && p.ch.events.iter().any(|e| matches!(e, Ev::Pong(..)))
    });
    assert_eq!(
        p.sh.messages(p.sid),
        vec![(true, text.to_vec()), (false, vec![1, 2, 3, 4])]
    );
    assert_eq!(p.ch.messages(cid), p.sh.messages(p.sid));
    // The ping went out between the fragments and was answered.
    assert_eq!(
        p.sh.events_of(p.sid)
            .iter()
            .filter(|e| matches!(e, Ev::Ping(..)))
            .count(),
        1
    );
    assert!(p.sh.events.contains(&Ev::Ping(p.sid, b"mid-message".to_vec())));
    assert!(p.ch.events.contains(&Ev::Pong(cid, b"mid-message".to_vec())));
    assert!(p.sh.errors(p.sid).is_empty() && p.ch.errors(cid).is_empty());
}

#[test]
fn ping_pong_payloads_both_ways() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    let (cid, sid) = (p.cid, p.sid);
    let payloads: Vec<Vec<u8>> = vec![vec![], b"x".to_vec(), vec![0xAB; 125]];
    for payload in &payloads {
        p.c.ping(cid, payload).unwrap();
    }
    p.s.ping(sid, b"from-server").unwrap();
    assert!(matches!(
        p.c.ping(cid, &[0; 126]),
        Err(Error::Send(SendError::ControlPayloadTooLong))
    ));
    p.pump("pongs", |p| {
        p.ch.events.iter().filter(|e| matches!(e, Ev::Pong(..))).count() == 3
            && p.sh.events.iter().any(|e| matches!(e, Ev::Pong(..)))
    });
    let pongs: Vec<Vec<u8>> =
        p.ch.events
            .iter()
            .filter_map(|e| match e {
                Ev::Pong(c, data) if *c == cid => Some(data.clone()),
                _ => None,
            })
            .collect();
    assert_eq!(pongs, payloads);
    let pings: Vec<Vec<u8>> =
        p.sh.events
            .iter()
            .filter_map(|e| match e {
                Ev::Ping(c, data) if *c == sid => Some(data.clone()),
                _ => None,
            })
            .collect();
    assert_eq!(pings, payloads);
    assert!(p.ch.events.contains(&Ev::Ping(cid, b"from-server".to_vec())));
    assert!(p.sh.events.contains(&Ev::Pong(sid, b"from-server".to_vec())));
}

#[test]
fn subprotocol_negotiation() {
    let mut server = Recorder::echoing();
    server.accept = Some(Box::new(|req| {
        assert_eq!(req.request.subprotocols, vec!["v1.chat", "v2.chat"]);
        Decision::accept_subprotocol("v2.chat")
    }));
    let mut p = Pair::start(ListenOptions::default(), server);
    let mut connect = ConnectOptions::default();
    connect.handshake.subprotocols = vec!["v1.chat".into(), "v2.chat".into()];
    let cid = p.connect(connect);
    p.pump("both open", |p| {
        !p.sh.opens(Role::Server).is_empty() && !p.ch.opens(Role::Client).is_empty()
    });
    let sid = p.sh.opens(Role::Server)[0];
    for (rec, id) in [(&p.sh, sid), (&p.ch, cid)] {
        let open = rec
            .events
            .iter()
            .find(|e| matches!(e, Ev::Open { conn, .. } if *conn == id))
            .unwrap();
        let Ev::Open {
            subprotocol,
            ctx_subprotocol,
            ..
        } = open
        else {
            unreachable!()
        };
        assert_eq!(subprotocol.as_deref(), Some("v2.chat"), "{open:?}");
        assert_eq!(ctx_subprotocol.as_deref(), Some("v2.chat"), "{open:?}");
    }
    assert_eq!(p.s.subprotocol(sid).unwrap(), Some("v2.chat"));
    assert_eq!(p.c.subprotocol(cid).unwrap(), Some("v2.chat"));
}

#[test]
fn no_subprotocol_when_none_offered() {
    let p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    assert_eq!(p.s.subprotocol(p.sid).unwrap(), None);
    assert_eq!(p.c.subprotocol(p.cid).unwrap(), None);
}

#[test]
fn extra_client_headers_reach_on_accept() {
    let mut connect = ConnectOptions::default();
    connect.handshake.headers = vec![("Authorization".into(), "Bearer s3cr3t".into())];
    let p = Pair::open(ListenOptions::default(), connect);
    let accept =
        p.sh.events
            .iter()
            .find(|e| matches!(e, Ev::Accept { .. }))
            .expect("on_accept ran");
    let Ev::Accept {
        authorization,
        path,
        conn,
        ..
    } = accept
    else {
        unreachable!()
    };
    assert_eq!(authorization.as_deref(), Some("Bearer s3cr3t"));
    assert_eq!(path, "/test");
    assert_eq!(*conn, p.sid, "the accept request's id is the opened connection's");
}

fn assert_rejected(p: &Pair, cid: ConnId, status: u16, body: Option<&[u8]>) {
    let events = p.ch.events_of(cid);
    assert_eq!(events.len(), 2, "client events: {events:?}");
    match &events[0] {
        Ev::Error(
            Some(_),
            Err::Handshake(HandshakeError::Rejected {
                status: got,
                body: got_body,
                ..
            }),
        ) => {
            assert_eq!(*got, status);
            if let Some(body) = body {
                assert_eq!(got_body.as_slice(), body);
            }
        }
        other => panic!("expected on_error(Handshake(Rejected)), got {other:?}"),
    }
    match &events[1] {
        Ev::Close { code, clean, .. } => {
            assert_eq!(*code, 1006);
            assert!(!clean);
        }
        other => panic!("expected on_close, got {other:?}"),
    }
}

#[test]
fn rejected_upgrade_reports_status_and_body() {
    let mut server = Recorder::new();
    server.accept = Some(Box::new(|_| Decision::reject(403, "nope")));
    let mut p = Pair::start(ListenOptions::default(), server);
    let cid = p.connect(ConnectOptions::default());
    p.pump("client closed", |p| p.ch.is_closed(cid));
    assert_rejected(&p, cid, 403, Some(b"nope"));
    assert!(p.sh.opens(Role::Server).is_empty(), "server must not open");
    assert!(
        !p.sh.events.iter().any(|e| matches!(e, Ev::Close { .. })),
        "a rejected connection never opened, so no on_close: {:?}",
        p.sh.events
    );
    p.drain();
    assert!(matches!(p.c.send_text(cid, "x"), Err(Error::NotFound)));
}

#[test]
fn origin_allowlist() {
    let options = ListenOptions {
        allowed_origins: vec!["https://good.example".into()],
        ..Default::default()
    };
    let mut p = Pair::start(options, Recorder::echoing());

    let mut evil = ConnectOptions::default();
    evil.handshake.origin = Some("https://evil.example".into());
    let bad = p.connect(evil);
    p.pump("evil client closed", |p| p.ch.is_closed(bad));
    assert_rejected(&p, bad, 403, None);
    assert!(
        !p.sh.events.iter().any(|e| matches!(e, Ev::Accept { .. })),
        "on_accept must not run for a disallowed origin"
    );

    let mut good = ConnectOptions::default();
    good.handshake.origin = Some("https://good.example".into());
    let ok = p.connect(good);
    p.pump("good client open", |p| p.ch.opens(Role::Client).contains(&ok));
    let origins: Vec<_> =
        p.sh.events
            .iter()
            .filter_map(|e| match e {
                Ev::Accept { origin, .. } => Some(origin.clone()),
                _ => None,
            })
            .collect();
    assert_eq!(origins, vec![Some("https://good.example".to_string())]);

    // Non-browser clients (no Origin at all) are accepted.
    let none = p.connect(ConnectOptions::default());
    p.pump("origin-less client open", |p| {
        p.ch.opens(Role::Client).contains(&none)
    });
}

fn close_path(client_initiates: bool, code: u16) {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    let (cid, sid) = (p.cid, p.sid);
    let reason = format!("bye {code}");
    if client_initiates {
        p.c.close(cid, code, &reason).unwrap();
        assert!(
            matches!(p.c.send_text(cid, "late"), Err(Error::Send(SendError::Closed))),
            "send after close must fail"
        );
    } else {
        p.s.close(sid, code, &reason).unwrap();
        assert!(
            matches!(p.s.send_text(sid, "late"), Err(Error::Send(SendError::Closed))),
            "send after close must fail"
        );
    }
    p.pump("both closed", |p| p.ch.is_closed(cid) && p.sh.is_closed(sid));
    // The receiving side reports the initiator's code and reason; the initiator reports the peer's
    // reply, which echoes the code (the reply's reason is the peer's choice).
    let (initiator, receiver) = if client_initiates {
        (p.ch.closes(cid), p.sh.closes(sid))
    } else {
        (p.sh.closes(sid), p.ch.closes(cid))
    };
    assert_eq!(
        receiver,
        vec![(code, reason.clone(), true, false)],
        "receiver's on_close"
    );
    assert_eq!(initiator.len(), 1, "initiator's on_close: {initiator:?}");
    let (got_code, _, clean, local) = &initiator[0];
    assert_eq!(
        (*got_code, *clean, *local),
        (code, true, true),
        "initiator's on_close"
    );
    p.drain();
    // Stale ids.
    assert!(matches!(p.c.send_text(cid, "x"), Err(Error::NotFound)));
    assert!(matches!(p.s.send_text(sid, "x"), Err(Error::NotFound)));
    assert!(matches!(p.c.close(cid, 1000, ""), Err(Error::NotFound)));
    assert!(matches!(p.s.close(sid, 1000, ""), Err(Error::NotFound)));
    assert!(matches!(p.s.ping(sid, b""), Err(Error::NotFound)));
    assert!(matches!(p.c.buffered_amount(cid), Err(Error::NotFound)));
    assert!(matches!(p.s.subprotocol(sid), Err(Error::NotFound)));
    assert!(matches!(p.s.abort(sid), Err(Error::NotFound)));
    assert!(!p.s.is_open(sid) && !p.c.is_open(cid));
    // Nothing after the close.
    for (rec, id) in [(&p.sh, sid), (&p.ch, cid)] {
        let events = rec.events_of(id);
        assert!(
            matches!(events.last(), Some(Ev::Close { .. })),
            "on_close is the last event: {events:?}"
        );
        assert!(rec.errors(id).is_empty(), "{events:?}");
    }
}

#[test]
fn client_initiated_close_with_each_code() {
    for code in [1000, 1001, 3000, 4999] {
        close_path(true, code);
    }
}

#[test]
fn server_initiated_close_with_each_code() {
    for code in [1000, 1001, 3000, 4999] {
        close_path(false, code);
    }
}

#[test]
fn invalid_close_arguments_are_errors_and_keep_the_connection() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    let cid = p.cid;
    for code in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
        match p.c.close(cid, code, "") {
            Err(Error::Send(SendError::InvalidCloseCode(c))) => assert_eq!(c, code),
            other => panic!("close({code}) gave {other:?}"),
        }
    }
    assert!(matches!(
        p.c.close(cid, 1000, &"r".repeat(124)),
        Err(Error::Send(SendError::ControlPayloadTooLong))
    ));
    assert!(p.c.is_open(cid));
    p.c.send_text(cid, "still here").unwrap();
    p.pump("echo", |p| p.ch.messages(cid).len() == 1);
    assert_eq!(p.ch.messages(cid), vec![(true, b"still here".to_vec())]);
    // The longest reason is fine.
    let reason = "r".repeat(123);
    p.c.close(cid, 1000, &reason).unwrap();
    p.pump("closed", |p| p.sh.is_closed(p.sid) && p.ch.is_closed(cid));
    assert_eq!(p.sh.closes(p.sid), vec![(1000, reason, true, false)]);
}
