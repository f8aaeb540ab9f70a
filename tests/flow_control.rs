//! Receive-side flow control (issue #13).
//!
//! First the three example echo servers (Rust, C, Python) as separate processes, against a raw
//! client written here: it writes 64 KiB binary messages carrying their sequence numbers without
//! reading until TCP stops taking them (the server stopped reading: backpressure reached the
//! client), then reads every echo and checks it is there, in order and intact, while the rest is
//! written; then closes cleanly. The server's RSS is sampled throughout from /proc/PID/status.
//!
//! Then the `net` rules in-process: the automatic pause and what it holds, manual pause and
//! resume (also from other threads), the close handshake of a paused connection, and the ping
//! timer of a paused connection.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::examples::{
    ExampleServer as Server, cdylib, compile_c_example, profile_dir, repo, rss_of, wait_for_writer_stall,
};
use common::{FrameReader, Recorder, TICK, client_frame, listen, pump, raw_client, read_server_frame};
use wskit::net::{ConnId, Context, Handler, ListenOptions, Message, OpenInfo};
use wskit::proto::Role;

/// Size of each message the client sends.
const MESSAGE: usize = 64 << 10;
/// Messages per run: 48 MiB, far above what the server may hold (below).
const COUNT: usize = 768;
/// The examples keep the library's read-pause high-water mark (1 MiB), so a server's RSS may grow
/// by that, one echo (64 KiB), the held rest of one read (256 KiB) and the read buffer (256 KiB),
/// plus allocator and interpreter slack: 6 MiB in all, an eighth of what the client sends.
const RSS_GROWTH_BOUND: u64 = 6 << 20;

/// `examples/echo_server.rs`, built once with this test's profile.
fn rust_echo_server() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let mut build = Command::new(env!("CARGO"));
            build
                .args(["build", "--quiet", "--locked", "--example", "echo_server"])
                .current_dir(repo());
            if !cfg!(debug_assertions) {
                build.arg("--release");
            }
            assert!(
                build.status().expect("run cargo build").success(),
                "building echo_server failed"
            );
            profile_dir().join("examples/echo_server")
        })
        .clone()
}

/// `examples/c/echo_server.c`, compiled once against the libwskit.so this `cargo test` built.
fn c_echo_server() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| compile_c_example("echo_server")).clone()
}

/// The peers venv's Python (scripts/setup-peers.sh) or the system's.
fn python() -> PathBuf {
    let venv = repo().join(".peers/venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Byte `i` of message `seq`'s payload after its 8-byte sequence number.
fn pattern(seq: u64, i: usize) -> u8 {
    (seq.wrapping_mul(31) as u8).wrapping_add(i as u8).wrapping_mul(7)
}

/// A masked binary frame of `MESSAGE` bytes: the sequence number (u64 LE), then `pattern`. The
/// mask key changes with every message.
fn message_frame(seq: u64) -> Vec<u8> {
    let key = (seq as u32)
        .wrapping_mul(0x9E37_79B9)
        .wrapping_add(0x1234_5679)
        .to_be_bytes();
    let mut frame = Vec::with_capacity(MESSAGE + 14);
    frame.extend_from_slice(&[0x82, 0x80 | 127]);
    frame.extend_from_slice(&(MESSAGE as u64).to_be_bytes());
    frame.extend_from_slice(&key);
    let seq_bytes = seq.to_le_bytes();
    frame.extend((0..MESSAGE).map(|i| {
        let b = if i < 8 { seq_bytes[i] } else { pattern(seq, i) };
        b ^ key[i % 4]
    }));
    frame
}

/// The scenario of issue #13 against one example server.
fn never_drops(server: Server) {
    let name = server.name;
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
        .write_all(common::upgrade_request(server.addr, "/flow").as_bytes())
        .unwrap();
    let (head, mut input) = common::read_http_head(&mut stream, Instant::now() + Duration::from_secs(10));
    assert!(
        head.starts_with("HTTP/1.1 101"),
        "{name}: expected 101, got {head:?}"
    );
    thread::sleep(Duration::from_millis(100));
    let baseline = server.rss();
    assert!(baseline > 0, "{name}: no VmRSS for the server");

    // Sample the server's RSS every 5 ms until the end.
    let done = Arc::new(AtomicBool::new(false));
    let pid = server.child.id();
    let sampler = {
        let done = done.clone();
        thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_of(pid));
                thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };

    // Write everything without reading, in a thread of its own.
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let written = written.clone();
        let mut stream = stream.try_clone().unwrap();
        thread::spawn(move || {
            for seq in 0..COUNT as u64 {
                stream.write_all(&message_frame(seq)).expect("write a message");
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    // Nobody reads: the server must stop reading, and TCP must stop the writer.
    let stalled_at = wait_for_writer_stall(name, &written, COUNT, Duration::from_millis(500));
    let rss_at_stall = server.rss();

    // Now read: every echo, in order and intact, while the writer finishes.
    for seq in 0..COUNT as u64 {
        let (opcode, payload) = read_server_frame(&mut stream, &mut input);
        assert_eq!(opcode, 2, "{name}: echo {seq} is not a binary message");
        assert_eq!(payload.len(), MESSAGE, "{name}: echo {seq} has the wrong size");
        let got = u64::from_le_bytes(payload[..8].try_into().unwrap());
        assert_eq!(got, seq, "{name}: echo #{seq} carried sequence {got}");
        if let Some(i) = (8..MESSAGE).find(|&i| payload[i] != pattern(seq, i)) {
            panic!("{name}: echo {seq} differs at byte {i}");
        }
    }
    writer.join().expect("writer");

    // And the close handshake completes.
    stream
        .write_all(&client_frame(true, 0x8, &1000u16.to_be_bytes()))
        .unwrap();
    let (opcode, payload) = read_server_frame(&mut stream, &mut input);
    assert_eq!(opcode, 8, "{name}: expected the close reply");
    assert_eq!(&payload[..2], &1000u16.to_be_bytes(), "{name}: close code");

    done.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "{name}: {COUNT} x {} KiB echoed in order; the writer stalled after {stalled_at} messages \
         ({} MiB); server RSS baseline {} KiB, at the stall {} KiB, peak {} KiB (growth {} KiB, bound {} KiB)",
        MESSAGE >> 10,
        (stalled_at * MESSAGE) >> 20,
        baseline >> 10,
        rss_at_stall >> 10,
        peak >> 10,
        growth >> 10,
        RSS_GROWTH_BOUND >> 10
    );
    assert!(
        growth <= RSS_GROWTH_BOUND,
        "{name}: server RSS grew by {} KiB (bound {} KiB)",
        growth >> 10,
        RSS_GROWTH_BOUND >> 10
    );
}

#[test]
fn rust_echo_server_never_drops_and_stays_bounded() {
    never_drops(Server::start("Rust", Command::new(rust_echo_server())));
}

#[test]
fn c_echo_server_never_drops_and_stays_bounded() {
    never_drops(Server::start("C", Command::new(c_echo_server())));
}

#[test]
fn python_echo_server_never_drops_and_stays_bounded() {
    let mut command = Command::new(python());
    command
        .arg(repo().join("examples/python/echo_server.py"))
        .env("PYTHONPATH", repo().join("bindings/python/src"))
        .env("WSKIT_LIBRARY", cdylib());
    never_drops(Server::start("Python", command));
}

// ---- net, in-process ----

/// Echoes every message; counts them.
#[derive(Default)]
struct Echo {
    conn: Option<ConnId>,
    received: usize,
    would_block: usize,
}

impl Handler for Echo {
    fn on_open(&mut self, _ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.conn = Some(conn);
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        self.received += 1;
        if ctx.send_binary(conn, message.as_bytes()).is_err() {
            self.would_block += 1;
        }
    }
}

/// Writes `count` masked 64 KiB frames (non-blocking: as many as the socket takes, polling the
/// server meanwhile, until the socket took nothing for 500 ms). Returns the bytes not written yet.
fn write_frames(stream: &mut TcpStream, ctx: &mut Context, handler: &mut dyn Handler, count: u64) -> Vec<u8> {
    stream.set_nonblocking(true).unwrap();
    let mut sent = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut idle = Instant::now();
    while sent < count || !pending.is_empty() {
        if pending.is_empty() {
            pending = message_frame(sent);
            sent += 1;
        }
        match stream.write(&pending) {
            Ok(n) => {
                pending.drain(..n);
                idle = Instant::now();
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if idle.elapsed() > Duration::from_millis(500) {
                    break; // the server stopped reading
                }
            }
            Err(e) => panic!("write: {e}"),
        }
        ctx.poll(handler, Some(Duration::ZERO)).unwrap();
    }
    stream.set_nonblocking(false).unwrap();
    pending.extend((sent..count).flat_map(message_frame));
    pending
}

#[test]
fn the_automatic_pause_holds_the_queue_under_the_high_water_mark_plus_one_message() {
    let mut server = Context::new().unwrap();
    let mut echo = Echo::default();
    let mut options = ListenOptions::default();
    options.connection.read_pause_high_water = 256 << 10;
    let (_, addr) = listen(&mut server, &mut echo, options);
    let (mut stream, _) = raw_client(&mut server, &mut echo, addr);
    pump(&mut server, &mut echo, Duration::from_secs(5), "open", |_, e| {
        e.conn.is_some()
    });
    let conn = echo.conn.unwrap();
    let mut rest = write_frames(&mut stream, &mut server, &mut echo, 400);
    assert!(
        !rest.is_empty(),
        "the server never pushed back (400 messages went in)"
    );
    for _ in 0..50 {
        server.poll(&mut echo, Some(TICK)).unwrap();
    }
    assert!(server.is_reading_paused(conn).unwrap(), "reading is paused");
    let queued = server.buffered_amount(conn).unwrap();
    assert!(
        queued <= (256 << 10) + MESSAGE + 14,
        "queue {queued} passed the mark plus one message"
    );
    let received = echo.received;
    for _ in 0..50 {
        server.poll(&mut echo, Some(TICK)).unwrap();
    }
    assert_eq!(echo.received, received, "no message is delivered while paused");
    assert_eq!(echo.would_block, 0, "no send failed");
    // Read everything: every echo comes, in order, and the writer finishes.
    let mut reader = FrameReader::default();
    let mut next = 0u64;
    stream.set_nonblocking(true).unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    while next < 400 {
        assert!(Instant::now() < end, "timed out at echo {next}");
        if !rest.is_empty() {
            match stream.write(&rest) {
                Ok(n) => {
                    rest.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("write: {e}"),
            }
        }
        server.poll(&mut echo, Some(Duration::ZERO)).unwrap();
        let mut chunk = vec![0u8; 256 << 10];
        match stream.read(&mut chunk) {
            Ok(0) => panic!("EOF"),
            Ok(n) => reader.buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
        while let Some((_, opcode, payload)) = reader.next_frame() {
            assert_eq!(opcode, 2);
            assert_eq!(u64::from_le_bytes(payload[..8].try_into().unwrap()), next);
            next += 1;
        }
    }
    assert!(
        !server.is_reading_paused(conn).unwrap(),
        "reading resumed once drained"
    );
    assert_eq!(echo.would_block, 0);
}

#[test]
fn a_high_water_mark_of_zero_turns_the_pause_off() {
    let mut server = Context::new().unwrap();
    let mut echo = Echo::default();
    let mut options = ListenOptions::default();
    options.connection.read_pause_high_water = 0;
    let (_, addr) = listen(&mut server, &mut echo, options);
    let (mut stream, _) = raw_client(&mut server, &mut echo, addr);
    pump(&mut server, &mut echo, Duration::from_secs(5), "open", |_, e| {
        e.conn.is_some()
    });
    let conn = echo.conn.unwrap();
    // 8 MiB go in without the client reading: the server reads on (up to max_buffered, 16 MiB).
    let rest = write_frames(&mut stream, &mut server, &mut echo, 128);
    assert!(rest.is_empty(), "{} bytes were not taken", rest.len());
    pump(
        &mut server,
        &mut echo,
        Duration::from_secs(10),
        "all delivered",
        |_, e| e.received == 128,
    );
    assert!(!server.is_reading_paused(conn).unwrap());
}

/// Records messages; pauses reading from inside `on_message` when told to.
#[derive(Default)]
struct Pauser {
    conn: Option<ConnId>,
    seqs: Vec<u64>,
    pause_after: Option<usize>,
}

impl Handler for Pauser {
    fn on_open(&mut self, _ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.conn = Some(conn);
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let data = message.as_bytes();
        self.seqs.push(u64::from_le_bytes(data[..8].try_into().unwrap()));
        if self.pause_after == Some(self.seqs.len()) {
            ctx.pause_reading(conn).unwrap();
        }
    }
}

fn small_frame(seq: u64) -> Vec<u8> {
    client_frame(true, 0x2, &seq.to_le_bytes())
}

#[test]
fn manual_pause_holds_the_rest_of_a_read_and_resume_delivers_it_in_order() {
    let mut server = Context::new().unwrap();
    let mut handler = Pauser {
        pause_after: Some(3),
        ..Pauser::default()
    };
    let (_, addr) = listen(&mut server, &mut handler, ListenOptions::default());
    let (mut stream, _) = raw_client(&mut server, &mut handler, addr);
    pump(
        &mut server,
        &mut handler,
        Duration::from_secs(5),
        "open",
        |_, h| h.conn.is_some(),
    );
    let conn = handler.conn.unwrap();
    // Ten messages in one write, so they arrive in one read: the pause after the third holds the rest.
    let batch: Vec<u8> = (0..10).flat_map(small_frame).collect();
    stream.write_all(&batch).unwrap();
    pump(
        &mut server,
        &mut handler,
        Duration::from_secs(5),
        "three",
        |_, h| h.seqs.len() >= 3,
    );
    for _ in 0..20 {
        server.poll(&mut handler, Some(TICK)).unwrap();
    }
    assert_eq!(handler.seqs, [0, 1, 2], "nothing after the pause is delivered");
    // More arrives while paused: not read either.
    stream
        .write_all(&(10..20).flat_map(small_frame).collect::<Vec<u8>>())
        .unwrap();
    for _ in 0..20 {
        server.poll(&mut handler, Some(TICK)).unwrap();
    }
    assert_eq!(handler.seqs.len(), 3);
    assert!(server.is_reading_paused(conn).unwrap());
    // Resume from another thread: the held messages first, then the socket, in order.
    let remote = server.remote();
    thread::spawn(move || remote.resume_reading(conn).unwrap())
        .join()
        .unwrap();
    pump(
        &mut server,
        &mut handler,
        Duration::from_secs(5),
        "all",
        |_, h| h.seqs.len() == 20,
    );
    assert_eq!(handler.seqs, (0..20).collect::<Vec<u64>>());
    assert!(!server.is_reading_paused(conn).unwrap());
    // Pause from another thread too.
    let remote = server.remote();
    thread::spawn(move || remote.pause_reading(conn).unwrap())
        .join()
        .unwrap();
    server.poll(&mut handler, Some(TICK)).unwrap();
    assert!(server.is_reading_paused(conn).unwrap());
    assert!(
        server.pause_reading(ConnId::from_u64(12345)).is_err(),
        "unknown id"
    );
    assert!(
        server.resume_reading(ConnId::from_u64(12345)).is_err(),
        "unknown id"
    );
}

#[test]
fn a_close_by_this_end_lifts_the_pause_so_the_handshake_completes() {
    let mut server = Context::new().unwrap();
    let mut recorder = Recorder::new();
    let mut options = ListenOptions::default();
    options.connection.close_timeout = Duration::from_secs(30);
    let (_, addr) = listen(&mut server, &mut recorder, options);
    let (mut stream, input) = raw_client(&mut server, &mut recorder, addr);
    pump(
        &mut server,
        &mut recorder,
        Duration::from_secs(5),
        "open",
        |_, r| !r.opens(Role::Server).is_empty(),
    );
    let conn = recorder.opens(Role::Server)[0];
    server.pause_reading(conn).unwrap();
    // The peer sends messages and then answers our close; all of it waits behind the pause.
    stream
        .write_all(&(0..5).flat_map(small_frame).collect::<Vec<u8>>())
        .unwrap();
    for _ in 0..10 {
        server.poll(&mut recorder, Some(TICK)).unwrap();
    }
    assert!(recorder.messages(conn).is_empty());
    server.close(conn, 1000, "bye").unwrap();
    let mut reader = FrameReader::with(input);
    let (_, opcode, _) = reader.read_frame(&mut stream, &mut server, &mut recorder, Duration::from_secs(5));
    assert_eq!(opcode, 8, "our close went out");
    stream
        .write_all(&client_frame(true, 0x8, &1000u16.to_be_bytes()))
        .unwrap();
    let start = Instant::now();
    pump(
        &mut server,
        &mut recorder,
        Duration::from_secs(5),
        "close",
        |_, r| r.is_closed(conn),
    );
    assert!(start.elapsed() < Duration::from_secs(5), "not the close timeout");
    let closes = recorder.closes(conn);
    assert_eq!(closes.len(), 1);
    assert_eq!(closes[0].0, 1000);
    assert!(closes[0].2, "clean close");
}

#[test]
fn a_paused_connection_is_not_dropped_for_a_missing_pong() {
    let mut server = Context::new().unwrap();
    let mut recorder = Recorder::new();
    let mut options = ListenOptions::default();
    options.connection.ping_interval = Some(Duration::from_millis(30));
    options.connection.pong_timeout = Duration::from_millis(30);
    let (_, addr) = listen(&mut server, &mut recorder, options);
    let (mut stream, _) = raw_client(&mut server, &mut recorder, addr);
    pump(
        &mut server,
        &mut recorder,
        Duration::from_secs(5),
        "open",
        |_, r| !r.opens(Role::Server).is_empty(),
    );
    let conn = recorder.opens(Role::Server)[0];
    server.pause_reading(conn).unwrap();
    let end = Instant::now() + Duration::from_millis(400);
    while Instant::now() < end {
        server.poll(&mut recorder, Some(TICK)).unwrap();
    }
    assert!(server.is_open(conn), "the silence is ours while paused");
    // Resumed and still silent (a raw client answers no ping): now the pong timeout applies.
    server.resume_reading(conn).unwrap();
    pump(
        &mut server,
        &mut recorder,
        Duration::from_secs(5),
        "pong timeout",
        |_, r| r.is_closed(conn),
    );
    drop(stream.flush());
}

#[path = "../examples/support/relay_handler.rs"]
mod relay_handler;

#[test]
fn the_relay_example_pauses_a_fast_source_for_a_slow_destination() {
    let mut server = Context::new().unwrap();
    let mut relay = relay_handler::Relay::default();
    let mut options = ListenOptions::default();
    options.connection.max_buffered = 1 << 20; // as examples/relay.rs
    let (_, addr) = listen(&mut server, &mut relay, options);
    let (mut source, _) = raw_client(&mut server, &mut relay, addr);
    let (mut dest, input) = raw_client(&mut server, &mut relay, addr);
    pump(
        &mut server,
        &mut relay,
        Duration::from_secs(5),
        "paired",
        |_, r| r.paired().len() == 2,
    );
    // 200 x 64 KiB (12.5 MiB) into a destination that does not read.
    let mut rest = write_frames(&mut source, &mut server, &mut relay, 200);
    assert!(!rest.is_empty(), "the relay never pushed back on the source");
    for conn in relay.paired() {
        let queued = server.buffered_amount(conn).unwrap();
        assert!(
            queued <= (1 << 20) + MESSAGE + 14,
            "relay queue {queued} past max_buffered"
        );
    }
    // The destination reads: everything arrives, in order, while the source finishes.
    let mut reader = FrameReader::with(input);
    let mut next = 0u64;
    source.set_nonblocking(true).unwrap();
    dest.set_nonblocking(true).unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    let mut chunk = vec![0u8; 256 << 10];
    while next < 200 {
        assert!(Instant::now() < end, "timed out at message {next}");
        if !rest.is_empty() {
            match source.write(&rest) {
                Ok(n) => {
                    rest.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("write: {e}"),
            }
        }
        server.poll(&mut relay, Some(Duration::ZERO)).unwrap();
        match dest.read(&mut chunk) {
            Ok(0) => panic!("EOF"),
            Ok(n) => reader.buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
        while let Some((_, opcode, payload)) = reader.next_frame() {
            assert_eq!(opcode, 2);
            assert_eq!(
                u64::from_le_bytes(payload[..8].try_into().unwrap()),
                next,
                "in order"
            );
            assert!((8..MESSAGE).all(|i| payload[i] == pattern(next, i)), "intact");
            next += 1;
        }
    }
}
