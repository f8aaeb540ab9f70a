//! Client auto-reconnect against a real server in its own process (Python `websockets`,
//! tests/peers/py_server.py), killed with SIGKILL and restarted on the same port: the client
//! comes back within the stated delays, keeps its id, flushes its offline queue in order, reports
//! what it could not deliver, and stops at once whether or not a retry is pending.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wskit::net::{
    ConnId, ConnectOptions, Context, Error, Handler, Message, OpenInfo, ReconnectDecision, ReconnectEvent,
    ReconnectOptions, UndeliveredReason,
};
use wskit::proto::CloseInfo;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let peers = std::env::var("WSKIT_PEERS_DIR").map_or_else(|_| repo().join(".peers"), |d| repo().join(d));
    let python = peers.join("venv/bin/python");
    assert!(
        python.exists(),
        "the peers are not installed: run scripts/setup-peers.sh"
    );
    python
}

/// A free port on 127.0.0.1 (nothing listens on it once this returns).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The Python `websockets` peer server, in its own process, on a fixed port.
struct Server(Child);

impl Server {
    fn start(port: u16) -> Self {
        let mut child = Command::new(python())
            .current_dir(repo())
            .args(["tests/peers/py_server.py", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the peer server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("READY line");
        assert_eq!(line.trim(), format!("READY {port}"), "server did not start");
        Server(child)
    }

    /// SIGKILL: no close frame, no FIN handshake from the application.
    fn kill(mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a test's `on_reconnect` answers.
type Decide = dyn FnMut(&ReconnectEvent<'_>) -> ReconnectDecision;

#[derive(Default)]
struct Recorder {
    opens: Vec<Instant>,
    attempts: Vec<(u32, Duration, String, Instant)>,
    messages: Vec<String>,
    undelivered: Vec<(String, UndeliveredReason)>,
    closes: Vec<(u16, Instant)>,
    errors: Vec<String>,
    /// Events in order: "open", "reconnect", "undelivered", "close", "error".
    order: Vec<&'static str>,
    /// What `on_reconnect` answers for each attempt (Proceed when absent).
    decide: Option<Box<Decide>>,
}

impl Handler for Recorder {
    fn on_open(&mut self, _ctx: &mut Context, _conn: ConnId, _info: &OpenInfo<'_>) {
        self.opens.push(Instant::now());
        self.order.push("open");
    }

    fn on_message(&mut self, _ctx: &mut Context, _conn: ConnId, message: Message<'_>) {
        self.messages
            .push(String::from_utf8_lossy(message.as_bytes()).into_owned());
    }

    fn on_reconnect(
        &mut self,
        _ctx: &mut Context,
        _conn: ConnId,
        event: &ReconnectEvent<'_>,
    ) -> ReconnectDecision {
        self.order.push("reconnect");
        self.attempts.push((
            event.attempt,
            event.delay,
            event.error.to_string(),
            Instant::now(),
        ));
        match self.decide.as_mut() {
            Some(decide) => decide(event),
            None => ReconnectDecision::Proceed,
        }
    }

    fn on_undelivered(
        &mut self,
        _ctx: &mut Context,
        _conn: ConnId,
        message: Message<'_>,
        reason: UndeliveredReason,
    ) {
        self.order.push("undelivered");
        self.undelivered
            .push((String::from_utf8_lossy(message.as_bytes()).into_owned(), reason));
    }

    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        self.order.push("close");
        self.closes.push((info.code, Instant::now()));
    }

    fn on_error(&mut self, _ctx: &mut Context, _conn: Option<ConnId>, error: &Error) {
        self.order.push("error");
        self.errors.push(error.to_string());
    }
}

fn poll_until(ctx: &mut Context, h: &mut Recorder, limit: Duration, mut done: impl FnMut(&Recorder) -> bool) {
    let end = Instant::now() + limit;
    while !done(h) {
        assert!(Instant::now() < end, "timed out; events so far: {:?}", h.order);
        ctx.poll(h, Some(Duration::from_millis(20))).expect("poll");
    }
}

fn options(min_ms: u64, max_ms: u64) -> ReconnectOptions {
    ReconnectOptions {
        min_delay: Duration::from_millis(min_ms),
        max_delay: Duration::from_millis(max_ms),
        seed: 42,
        ..ReconnectOptions::default()
    }
}

fn connect(ctx: &mut Context, url: &str, reconnect: ReconnectOptions) -> ConnId {
    let options = ConnectOptions {
        reconnect: Some(reconnect),
        ..ConnectOptions::default()
    };
    ctx.connect(url, options).expect("connect")
}

#[test]
fn comes_back_after_the_server_is_killed_and_flushes_the_offline_queue_in_order() {
    let port = free_port();
    let server = Server::start(port);
    let (min, max) = (Duration::from_millis(100), Duration::from_millis(400));
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::default();
    let conn = connect(
        &mut ctx,
        &format!("ws://127.0.0.1:{port}/echo"),
        ReconnectOptions {
            stable_after: Duration::from_millis(300),
            offline_queue_bytes: 1 << 20,
            ..options(100, 400)
        },
    );
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| h.opens.len() == 1);
    ctx.send_text(conn, "before").unwrap();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.messages.len() == 1
    });

    server.kill();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        !h.attempts.is_empty()
    });
    // Disconnected: sends are queued, in order, and the id is the same connection.
    for text in ["q1", "q2", "q3"] {
        ctx.send_text(conn, text).expect("queued while disconnected");
    }
    let state = ctx.reconnect_state(conn).unwrap();
    assert_eq!((state.queued_messages, state.queued_bytes), (3, 6));
    // Keep it down long enough for attempts to fail (connection refused).
    let down = Instant::now();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |_| {
        down.elapsed() > Duration::from_millis(900)
    });
    let failed = h.attempts.len();
    assert!(
        failed >= 2,
        "attempts while the server was down: {:?}",
        h.attempts
    );

    let server = Server::start(port);
    let restarted = Instant::now();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| h.opens.len() == 2);
    // Back within the longest delay (plus a connect and handshake on loopback).
    let back = h.opens[1].duration_since(restarted);
    assert!(
        back <= max + Duration::from_millis(700),
        "reconnected {back:?} after the restart"
    );
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.messages.len() == 4
    });
    assert_eq!(h.messages, ["before", "q1", "q2", "q3"]);
    assert_eq!(ctx.reconnect_state(conn).unwrap().queued_messages, 0);
    // Attempts are numbered 1, 2, 3, ... and every delay is within [min, max].
    for (i, (attempt, delay, error, _)) in h.attempts.iter().enumerate() {
        assert_eq!(*attempt as usize, i + 1);
        assert!(*delay >= min && *delay <= max, "attempt {attempt}: {delay:?}");
        assert!(!error.is_empty());
    }
    assert!(
        h.attempts[1..].iter().any(|a| a.2.contains("connect")),
        "{:?}",
        h.attempts
    );
    assert!(h.closes.is_empty() && h.errors.is_empty() && h.undelivered.is_empty());

    // Up longer than `stable_after`: the next drop starts again at attempt 1.
    let opened = Instant::now();
    poll_until(&mut ctx, &mut h, Duration::from_secs(5), |_| {
        opened.elapsed() > Duration::from_millis(500)
    });
    server.kill();
    let before = h.attempts.len();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.attempts.len() > before
    });
    assert_eq!(
        h.attempts[before].0, 1,
        "the count resets after a stable connection"
    );
    assert_eq!(h.attempts[before].1, min, "attempt 1 waits exactly min_delay");

    let _server = Server::start(port);
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| h.opens.len() == 3);
    ctx.close(conn, 1000, "done").unwrap();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        !h.closes.is_empty()
    });
    assert_eq!(h.closes.len(), 1);
    assert_eq!(h.closes[0].0, 1000);
    // Closed by the application: no further attempt.
    let attempts = h.attempts.len();
    let after = Instant::now();
    poll_until(&mut ctx, &mut h, Duration::from_secs(5), |_| {
        after.elapsed() > Duration::from_millis(600)
    });
    assert_eq!(h.attempts.len(), attempts);
    assert_eq!(ctx.connection_count(), 0);
}

#[test]
fn a_clean_close_by_the_server_reconnects_too_and_on_open_runs_again() {
    let port = free_port();
    let _server = Server::start(port);
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::default();
    let conn = connect(
        &mut ctx,
        &format!("ws://127.0.0.1:{port}/close?code=1001&reason=restart"),
        options(50, 100),
    );
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| h.opens.len() == 3);
    assert!(h.attempts.len() >= 2);
    assert!(h.attempts[0].2.contains("1001 restart"), "{:?}", h.attempts[0]);
    assert!(h.closes.is_empty(), "on_close comes once, at the end");
    ctx.stop_reconnect(conn).unwrap();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        !h.closes.is_empty()
    });
    // The connection under way was the last: its close is reported as it came.
    let end = Instant::now() + Duration::from_secs(5);
    while ctx.connection_count() > 0 && Instant::now() < end {
        ctx.poll(&mut h, Some(Duration::from_millis(20))).unwrap();
    }
    assert_eq!(h.closes.len(), 1);
    assert_eq!(ctx.connection_count(), 0);
}

#[test]
fn exhausted_attempts_report_every_queued_message_then_close() {
    let port = free_port(); // nothing listens: every attempt is refused
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::default();
    let conn = connect(
        &mut ctx,
        &format!("ws://127.0.0.1:{port}/"),
        ReconnectOptions {
            max_attempts: Some(3),
            offline_queue_bytes: 8,
            ..options(20, 40)
        },
    );
    // Queued before the first open; the bound (8 bytes) drops the oldest to make room.
    ctx.send_text(conn, "aaaa").unwrap();
    ctx.send_binary(conn, b"bbbb").unwrap();
    ctx.send_text(conn, "cccc").unwrap();
    ctx.send_text(conn, "much too long for the queue").unwrap();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        !h.closes.is_empty()
    });
    let attempts: Vec<u32> = h.attempts.iter().map(|a| a.0).collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!(
        h.undelivered,
        [
            ("aaaa".to_string(), UndeliveredReason::QueueFull),
            (
                "much too long for the queue".to_string(),
                UndeliveredReason::QueueFull
            ),
            ("bbbb".to_string(), UndeliveredReason::Exhausted),
            ("cccc".to_string(), UndeliveredReason::Exhausted),
        ]
    );
    assert_eq!(h.closes[0].0, 1006);
    // The last error is reported, then the close, after the undelivered messages.
    assert_eq!(h.errors.len(), 1, "{:?}", h.errors);
    let tail: Vec<_> = h.order.iter().rev().take(4).rev().copied().collect();
    assert_eq!(tail, ["undelivered", "undelivered", "error", "close"]);
    assert_eq!(ctx.connection_count(), 0);
}

#[test]
fn without_a_queue_sends_fail_fast_with_not_connected() {
    let port = free_port();
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::default();
    let conn = connect(&mut ctx, &format!("ws://127.0.0.1:{port}/"), options(5000, 5000));
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        !h.attempts.is_empty()
    });
    assert!(matches!(ctx.send_text(conn, "x"), Err(Error::NotConnected)));
    assert!(matches!(ctx.send_binary(conn, b"x"), Err(Error::NotConnected)));
    // A client without reconnect keeps its old answer.
    let plain = ctx
        .connect(&format!("ws://127.0.0.1:{port}/"), ConnectOptions::default())
        .unwrap();
    assert!(matches!(ctx.send_text(plain, "x"), Err(Error::InvalidState(_))));
    ctx.abort(plain).unwrap();
    ctx.abort(conn).unwrap();
}

#[test]
fn stop_while_a_retry_is_pending_returns_at_once_from_the_loop_or_another_thread() {
    let port = free_port();
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::default();
    let url = format!("ws://127.0.0.1:{port}/");
    let long = ReconnectOptions {
        offline_queue_bytes: 1024,
        ..options(30_000, 60_000)
    };
    // Loop thread: close while the 30 s retry is pending.
    let a = connect(&mut ctx, &url, long);
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.attempts.len() == 1
    });
    assert!(ctx.reconnect_state(a).unwrap().waiting);
    ctx.send_text(a, "pending").unwrap();
    let started = Instant::now();
    ctx.close(a, 1000, "").unwrap();
    assert!(started.elapsed() < Duration::from_millis(100));
    poll_until(&mut ctx, &mut h, Duration::from_secs(2), |h| h.closes.len() == 1);
    assert_eq!(
        h.undelivered,
        [("pending".to_string(), UndeliveredReason::Stopped)]
    );

    // Another thread: Remote::close wakes the loop; the close comes long before the retry.
    let b = connect(&mut ctx, &url, long);
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.attempts.len() == 2
    });
    let remote = ctx.remote();
    let started = Instant::now();
    std::thread::spawn(move || remote.close(b, 1000, ""))
        .join()
        .unwrap()
        .unwrap();
    poll_until(&mut ctx, &mut h, Duration::from_secs(2), |h| h.closes.len() == 2);
    assert!(started.elapsed() < Duration::from_secs(2));

    // From inside on_reconnect: Stop.
    h.decide = Some(Box::new(|_| ReconnectDecision::Stop));
    let _c = connect(&mut ctx, &url, long);
    poll_until(&mut ctx, &mut h, Duration::from_secs(2), |h| h.closes.len() == 3);
    assert_eq!(h.attempts.len(), 3);
    assert_eq!(ctx.connection_count(), 0);
    assert_eq!(ctx.stats().timer_entries, 0);

    // Shutdown with a retry pending ends promptly too.
    h.decide = None;
    let _d = connect(&mut ctx, &url, long);
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.attempts.len() == 4
    });
    let started = Instant::now();
    ctx.shutdown(&mut h, Duration::from_secs(5)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(h.closes.len(), 4);
}

#[test]
fn on_reconnect_can_reshape_the_delay() {
    let port = free_port();
    let mut ctx = Context::new().unwrap();
    // Options say 30 s; the handler asks for 30 ms, then stops at attempt 4.
    let mut h = Recorder {
        decide: Some(Box::new(|event| {
            if event.attempt < 4 {
                ReconnectDecision::Delay(Duration::from_millis(30))
            } else {
                ReconnectDecision::Stop
            }
        })),
        ..Recorder::default()
    };
    let started = Instant::now();
    let _conn = connect(
        &mut ctx,
        &format!("ws://127.0.0.1:{port}/"),
        options(30_000, 30_000),
    );
    poll_until(&mut ctx, &mut h, Duration::from_secs(5), |h| !h.closes.is_empty());
    assert_eq!(h.attempts.iter().map(|a| a.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(h.attempts.iter().all(|a| a.1 == Duration::from_secs(30)));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn bad_options_are_refused_at_connect() {
    let mut ctx = Context::new().unwrap();
    let bad = ReconnectOptions {
        min_delay: Duration::from_millis(500),
        max_delay: Duration::from_millis(100),
        ..ReconnectOptions::default()
    };
    let options = ConnectOptions {
        reconnect: Some(bad),
        ..ConnectOptions::default()
    };
    assert!(matches!(
        ctx.connect("ws://127.0.0.1:9/", options),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(ctx.connection_count(), 0);
}

/// Python `websockets`' `unix_serve` (tests/peers/py_unix.py) on a socket path, in its own process.
struct UnixServer(Child);

impl UnixServer {
    fn start(path: &std::path::Path) -> Self {
        let mut child = Command::new(python())
            .current_dir(repo())
            .args([
                "tests/peers/py_unix.py",
                "serve",
                path.to_str().expect("utf-8 path"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the unix_serve peer");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("ready line");
        assert_eq!(line.trim(), "ready", "unix_serve did not start");
        UnixServer(child)
    }
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn reconnects_over_a_unix_socket_to_a_restarted_server() {
    let dir = std::env::temp_dir().join(format!("wskit-reconnect-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ws.sock");
    let server = UnixServer::start(&path);
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::default();
    let conn = connect(
        &mut ctx,
        &format!("ws+unix://{}:/again", path.display()),
        options(100, 200),
    );
    // unix_serve's first message to a client names the request it saw.
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.messages.len() == 1
    });
    assert!(h.messages[0].contains("/again"), "{:?}", h.messages);
    drop(server); // SIGKILL
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        !h.attempts.is_empty()
    });
    let _server = UnixServer::start(&path);
    let restarted = Instant::now();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| {
        h.messages.len() == 2
    });
    assert_eq!(h.opens.len(), 2, "{:?}", h.order);
    // Attempts wait at most max_delay (200 ms) each: back soon after the restart.
    assert!(
        restarted.elapsed() < Duration::from_secs(3),
        "{:?}",
        restarted.elapsed()
    );
    assert!(h.messages[1].contains("/again"), "{:?}", h.messages);
    assert!(h.closes.is_empty(), "{:?}", h.order);
    ctx.close(conn, 1000, "done").unwrap();
    poll_until(&mut ctx, &mut h, Duration::from_secs(10), |h| h.closes.len() == 1);
    let _ = std::fs::remove_dir_all(&dir);
}
