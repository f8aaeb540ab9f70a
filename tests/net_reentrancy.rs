//! Handlers that call back into their context: close, abort, connect, poll, shutdown.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{Err, Ev, Pair, Recorder, client_frame, listen, raw_client, url, wait_eof};
use wskit::net::{ConnId, ConnectOptions, Context, Error, ListenOptions, NoHandler};
use wskit::proto::{Role, SendError};

#[test]
fn close_the_current_connection_inside_on_message() {
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut server = Recorder::new();
    let r = results.clone();
    server.on_message = Some(Box::new(move |ctx, conn, _| {
        r.lock()
            .unwrap()
            .push(format!("{:?}", ctx.close(conn, 4000, "from handler")));
        let late = ctx.send_text(conn, "after close");
        r.lock().unwrap().push(format!("{late:?}"));
        assert!(matches!(late, Err(Error::Send(SendError::Closed))));
    }));
    let mut p = Pair::start(ListenOptions::default(), server);
    let cid = p.connect(ConnectOptions::default());
    p.pump("open", |p| p.ch.opens(Role::Client).contains(&cid));
    p.c.send_text(cid, "close me").unwrap();
    p.c.send_text(cid, "and me").unwrap();
    p.pump("closed", |p| {
        p.ch.is_closed(cid) && p.sh.is_closed(p.sid_or_first())
    });
    assert_eq!(results.lock().unwrap()[0], "Ok(())");
    assert_eq!(p.ch.closes(cid), vec![(4000, "from handler".into(), true, false)]);
    assert!(p.ch.messages(cid).is_empty(), "nothing was sent after the close");
    p.drain();
}

trait FirstServer {
    fn sid_or_first(&self) -> ConnId;
}

impl FirstServer for Pair {
    fn sid_or_first(&self) -> ConnId {
        self.sh.opens(Role::Server).first().copied().unwrap_or(self.sid)
    }
}

#[test]
fn abort_the_current_connection_with_more_input_in_the_same_read() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    sh.on_message = Some(Box::new(|ctx, conn, data| {
        if data == b"first" {
            ctx.abort(conn).unwrap();
            assert!(matches!(ctx.send_text(conn, "x"), Err(Error::NotFound)));
            assert!(matches!(ctx.abort(conn), Err(Error::NotFound)));
            assert!(!ctx.is_open(conn));
        }
    }));
    let (_, addr) = listen(&mut s, &mut sh, ListenOptions::default());
    let (mut raw, _) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    // Everything in one write, so the server reads it in one go.
    let mut batch = client_frame(true, 0x1, b"first");
    batch.extend(client_frame(true, 0x1, b"second"));
    batch.extend(client_frame(true, 0x9, b"ping"));
    batch.extend(client_frame(true, 0x2, &[1, 2, 3]));
    batch.extend(client_frame(true, 0x8, &1000u16.to_be_bytes()));
    raw.write_all(&batch).unwrap();
    wait_eof(&mut raw, &mut s, &mut sh, Duration::from_secs(2));
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "slot freed", |s, _| {
        s.connection_count() == 0
    });
    // Let any stray event arrive.
    for _ in 0..5 {
        s.poll(&mut sh, Some(Duration::from_millis(2))).unwrap();
    }
    let events = sh.events_of(sid);
    assert!(
        matches!(
            &events[..],
            [
                Ev::Accept { .. },
                Ev::Open { .. },
                Ev::Msg { text: true, data, .. },
                Ev::Close { code: 1006, clean: false, .. },
            ] if data == b"first"
        ),
        "after the abort only its one on_close (1006) may follow: {events:?}"
    );
}

#[test]
fn connect_a_new_client_from_inside_on_open() {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::echoing();
    let (_, addr) = listen(&mut ctx, &mut h, ListenOptions::default());
    let spawned = Arc::new(Mutex::new(Vec::new()));
    let s = spawned.clone();
    let target = url(addr, "/second");
    h.on_open = Some(Box::new(move |ctx, _conn, role| {
        let mut spawned = s.lock().unwrap();
        if role == Role::Client && spawned.is_empty() {
            spawned.push(ctx.connect(&target, ConnectOptions::default()).unwrap());
        }
    }));
    let first = ctx
        .connect(&url(addr, "/first"), ConnectOptions::default())
        .unwrap();
    common::pump(
        &mut ctx,
        &mut h,
        Duration::from_secs(5),
        "both clients open",
        |_, h| h.opens(Role::Client).len() == 2 && h.opens(Role::Server).len() == 2,
    );
    let second = spawned.lock().unwrap()[0];
    assert_eq!(h.opens(Role::Client), vec![first, second]);
    ctx.send_text(second, "hi").unwrap();
    common::pump(&mut ctx, &mut h, Duration::from_secs(5), "echo", |_, h| {
        h.messages(second).iter().any(|(_, d)| d == b"hi")
    });
    let paths: Vec<String> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Open {
                role: Role::Server,
                path,
                ..
            } => Some(path.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(paths, vec!["/first", "/second"]);
}

#[test]
fn poll_and_run_inside_a_handler_are_refused() {
    let results = Arc::new(Mutex::new(Vec::new()));
    let r = results.clone();
    let mut server = Recorder::echoing();
    server.on_open = Some(Box::new(move |ctx, _, _| {
        let mut r = r.lock().unwrap();
        r.push(matches!(
            ctx.poll(&mut NoHandler, Some(Duration::ZERO)),
            Err(Error::Reentrant)
        ));
        r.push(matches!(ctx.run(&mut NoHandler), Err(Error::Reentrant)));
    }));
    let mut p = Pair::start(ListenOptions::default(), server);
    let cid = p.connect(ConnectOptions::default());
    p.pump("open", |p| p.ch.opens(Role::Client).contains(&cid));
    assert_eq!(*results.lock().unwrap(), vec![true, true]);
    // The context still works afterwards.
    p.c.send_text(cid, "ok").unwrap();
    p.pump("echo", |p| p.ch.messages(cid).len() == 1);
}

#[test]
fn shutdown_inside_a_handler_is_refused_without_side_effects() {
    let results = Arc::new(Mutex::new(Vec::new()));
    let r = results.clone();
    let mut server = Recorder::echoing();
    server.on_open = Some(Box::new(move |ctx, _, _| {
        let refused = matches!(
            ctx.shutdown(&mut NoHandler, Duration::from_millis(100)),
            Err(Error::Reentrant)
        );
        r.lock().unwrap().push(refused);
    }));
    let mut p = Pair::start(ListenOptions::default(), server);
    let cid = p.connect(ConnectOptions::default());
    p.pump("open", |p| p.ch.opens(Role::Client).contains(&cid));
    assert_eq!(*results.lock().unwrap(), vec![true], "shutdown must be refused");
    let end = Instant::now() + Duration::from_millis(200);
    p.pump("200 ms", |_| Instant::now() >= end);
    assert!(
        !p.ch.is_closed(cid),
        "a refused shutdown must not close connections: {:?}",
        p.ch.closes(cid)
    );
    p.c.send_text(cid, "still open").unwrap();
    p.pump("echo", |p| p.ch.messages(cid).len() == 1);
}

#[test]
fn begin_shutdown_closes_everything_with_1001() {
    let mut p = Pair::start(ListenOptions::default(), Recorder::echoing());
    let clients: Vec<ConnId> = (0..3).map(|_| p.connect(ConnectOptions::default())).collect();
    p.pump("all open", |p| p.sh.opens(Role::Server).len() == 3);
    // One more that never finishes its handshake: dropped, no events.
    let mut half = TcpStream::connect(p.addr).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    p.pump("half accepted", |p| p.s.connection_count() == 4);
    p.s.begin_shutdown();
    p.pump("all closed", |p| {
        clients.iter().all(|c| p.ch.is_closed(*c)) && p.s.connection_count() == 0
    });
    p.drain();
    for &c in &clients {
        assert_eq!(
            p.ch.closes(c),
            vec![(1001, "server shutting down".into(), true, false)]
        );
    }
    for s in p.sh.opens(Role::Server) {
        let closes = p.sh.closes(s);
        assert_eq!(closes.len(), 1);
        assert_eq!((closes[0].0, closes[0].2, closes[0].3), (1001, true, true));
    }
    assert_eq!(
        p.sh.events
            .iter()
            .filter(|e| matches!(e, Ev::Close { .. }))
            .count(),
        3,
        "no on_close for the half-open connection"
    );
    let (took, _) = wait_eof(&mut half, &mut p.s, &mut p.sh, Duration::from_secs(1));
    assert!(took < Duration::from_secs(1));
    // The listener is gone.
    let late = p.connect(ConnectOptions::default());
    p.pump("late client closed", |p| p.ch.is_closed(late));
    assert!(
        matches!(p.ch.errors(late).as_slice(), [Err::Connect(_)]),
        "{:?}",
        p.ch.errors(late)
    );
}

#[test]
fn shutdown_of_one_context_holding_both_ends() {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::echoing();
    let (_, addr) = listen(&mut ctx, &mut h, ListenOptions::default());
    for _ in 0..3 {
        ctx.connect(&url(addr, "/"), ConnectOptions::default()).unwrap();
    }
    common::pump(&mut ctx, &mut h, Duration::from_secs(5), "all open", |_, h| {
        h.opens(Role::Server).len() == 3 && h.opens(Role::Client).len() == 3
    });
    let start = Instant::now();
    ctx.shutdown(&mut h, Duration::from_secs(3)).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "shutdown hit its timeout"
    );
    assert_eq!(ctx.connection_count(), 0);
    let closes: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Close { code, clean, .. } => Some((*code, *clean)),
            _ => None,
        })
        .collect();
    assert_eq!(closes, vec![(1001, true); 6]);
}

#[test]
fn shutdown_with_clients_in_another_thread() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let (_, addr) = listen(&mut s, &mut sh, ListenOptions::default());
    // The client context lives in its own thread (a `Context` cannot be moved across threads, see
    // `context_is_send`, so it is created there).
    let client_thread = thread::spawn(move || {
        let mut c = Context::new().unwrap();
        let mut ch = Recorder::new();
        let ids: Vec<ConnId> = (0..5)
            .map(|_| c.connect(&url(addr, "/"), ConnectOptions::default()).unwrap())
            .collect();
        let end = Instant::now() + Duration::from_secs(5);
        while !(ch.closed.len() == ids.len() && c.connection_count() == 0) && Instant::now() < end {
            c.poll(&mut ch, Some(Duration::from_millis(5))).unwrap();
        }
        (c.connection_count(), ids, ch)
    });
    common::pump(&mut s, &mut sh, Duration::from_secs(5), "all open", |_, sh| {
        sh.opens(Role::Server).len() == 5
    });
    let start = Instant::now();
    s.shutdown(&mut sh, Duration::from_secs(3)).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "shutdown hit its timeout"
    );
    assert_eq!(s.connection_count(), 0);
    let (left, ids, ch) = client_thread.join().unwrap();
    assert_eq!(left, 0);
    for id in ids {
        assert_eq!(
            ch.closes(id),
            vec![(1001, "server shutting down".into(), true, false)]
        );
    }
    for sid in sh.opens(Role::Server) {
        let closes = sh.closes(sid);
        assert_eq!(closes.len(), 1);
        assert_eq!((closes[0].0, closes[0].2), (1001, true));
    }
}

#[test]
fn context_is_send_and_remote_is_send_and_sync() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<Context>();
    send_sync::<wskit::net::Remote>();
}
