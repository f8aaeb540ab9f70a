//! The benchmark tools measure what they claim: the load generator (`examples/bench_client.rs`)
//! drives a wskit server and the raw TCP echo server (`examples/raw_echo_server.rs`) with every echo
//! checked, and fails, rather than reporting figures, when a server echoes something else.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use wskit::net::{ConnId, Context, Handler, ListenOptions, Message};

/// The load generator and the raw echo server, built once per test run with this test's profile
/// (`cargo test` compiles examples but does not put them where `cargo run --example` would).
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let mut build = Command::new(env!("CARGO"));
        build
            .args([
                "build",
                "--quiet",
                "--locked",
                "--example",
                "bench_client",
                "--example",
                "raw_echo_server",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the bench examples failed");
        let test_exe = std::env::current_exe().expect("test binary path");
        let profile_dir = test_exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>");
        profile_dir.join("examples")
    });
    dir.join(name)
}

/// Runs the load generator to completion.
fn bench_client(args: &[&str]) -> Output {
    Command::new(example("bench_client"))
        .args(args)
        .output()
        .expect("run bench_client")
}

/// The JSON line the generator prints last.
fn json_line(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON line in {stdout:?}"))
        .to_string()
}

/// The integer value of `"key":N` in a flat JSON line.
fn field(json: &str, key: &str) -> f64 {
    let start = json
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("{key} missing in {json}"))
        + key.len()
        + 3;
    let end = json[start..].find([',', '}']).map_or(json.len(), |i| start + i);
    json[start..end]
        .parse()
        .unwrap_or_else(|_| panic!("{key} not a number in {json}"))
}

/// How a test echo server answers.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Echo,
    /// Text comes back as binary.
    WrongOpcode,
    /// The last byte of every message is changed.
    Corrupt,
}

struct Server {
    answer: Answer,
}

impl Handler for Server {
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let _ = match (self.answer, message) {
            (Answer::Echo, Message::Text(text)) => ctx.send_text(conn, text),
            (Answer::Echo, Message::Binary(data)) => ctx.send_binary(conn, data),
            (Answer::WrongOpcode, message) => ctx.send_binary(conn, message.as_bytes()),
            (Answer::Corrupt, message) => {
                let mut data = message.as_bytes().to_vec();
                if let Some(last) = data.last_mut() {
                    *last ^= 1;
                }
                ctx.send(conn, message.kind(), &data)
            }
        };
    }
}

/// A wskit server on its own thread, polled until dropped.
struct WskitServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl WskitServer {
    fn start(answer: Answer) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let thread = thread::spawn(move || {
            let mut ctx = Context::new().unwrap();
            let mut options = ListenOptions::default();
            options.connection.protocol.max_message_size = 64 << 20;
            options.connection.protocol.max_frame_size = 64 << 20;
            options.connection.max_buffered = 128 << 20;
            let listener = ctx.listen("127.0.0.1:0", options).unwrap();
            tx.send(ctx.local_addr(listener).unwrap()).unwrap();
            let mut server = Server { answer };
            while !stop_flag.load(Ordering::Relaxed) {
                ctx.poll(&mut server, Some(Duration::from_millis(20))).unwrap();
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for WskitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const SHORT_RUN: [&str; 4] = ["--warmup", "0.1", "--duration", "0.4"];

/// Runs the generator briefly with `args`; it must succeed with echoes and no error. Returns its
/// JSON line.
fn clean_short_run(mut args: Vec<&str>) -> String {
    args.extend(SHORT_RUN);
    let output = bench_client(&args);
    let json = json_line(&output);
    assert!(output.status.success(), "{args:?}: {json}");
    assert_eq!(field(&json, "errors"), 0.0, "{json}");
    assert!(field(&json, "messages") > 0.0, "{json}");
    json
}

#[test]
fn generator_checks_every_echo_of_a_wskit_server() {
    let server = WskitServer::start(Answer::Echo);
    let url = server.url();
    for (size, kind, connections, depth) in [("16", "--text", "4", "8"), ("300k", "--binary", "1", "2")] {
        let args = vec![
            "--url",
            &url,
            "--size",
            size,
            kind,
            "--connections",
            connections,
            "--depth",
            depth,
        ];
        let json = clean_short_run(args);
        assert!(field(&json, "p50_us") > 0.0, "{json}");
    }
}

#[test]
fn generator_fails_when_a_server_echoes_something_else() {
    for answer in [Answer::WrongOpcode, Answer::Corrupt] {
        let server = WskitServer::start(answer);
        let url = server.url();
        let mut args = vec!["--url", &url, "--size", "16", "--text", "--connections", "2"];
        args.extend(SHORT_RUN);
        let output = bench_client(&args);
        assert!(!output.status.success(), "a bad echo must fail the run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("opcode") || stderr.contains("differs"),
            "says what was wrong: {stderr}"
        );
    }
}

/// The raw TCP echo server, started from its example binary.
struct RawServer {
    child: Child,
    addr: SocketAddr,
}

impl RawServer {
    fn start() -> Self {
        // Find a free port, then let the server bind it.
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let child = Command::new(example("raw_echo_server"))
            .arg(addr.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("start raw_echo_server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "raw_echo_server did not listen on {addr}"
            );
            thread::sleep(Duration::from_millis(20));
        }
        Self { child, addr }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn raw_mode_echoes_length_prefixed_frames_whole() {
    let server = RawServer::start();
    // The server answers a frame only once all of it arrived, and each frame as it was.
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let frame = |payload: &[u8]| [&(payload.len() as u32).to_be_bytes()[..], payload].concat();
    let (one, two) = (frame(b"first"), frame(&[7u8; 70_000]));
    let both = [one.clone(), two.clone()].concat();
    stream.write_all(&both[..one.len() + 10]).unwrap();
    let mut echoed = vec![0u8; one.len()];
    stream.read_exact(&mut echoed).unwrap();
    assert_eq!(echoed, one);
    stream.set_nonblocking(true).unwrap();
    thread::sleep(Duration::from_millis(100));
    let mut early = [0u8; 1];
    assert!(
        stream.read(&mut early).is_err(),
        "nothing of an incomplete frame comes back"
    );
    stream.set_nonblocking(false).unwrap();
    stream.write_all(&both[one.len() + 10..]).unwrap();
    let mut echoed = vec![0u8; two.len()];
    stream.read_exact(&mut echoed).unwrap();
    assert_eq!(echoed, two);

    let url = format!("tcp://{}", server.addr);
    for size in ["16", "1M"] {
        let args = vec![
            "--mode",
            "raw",
            "--url",
            &url,
            "--size",
            size,
            "--connections",
            "2",
            "--depth",
            "2",
        ];
        clean_short_run(args);
    }
}

#[test]
fn raw_mode_fails_when_the_echo_differs() {
    // A raw server that answers every frame with its payload's first byte changed.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            thread::spawn(move || {
                let mut prefix = [0u8; 4];
                while stream.read_exact(&mut prefix).is_ok() {
                    let mut payload = vec![0u8; u32::from_be_bytes(prefix) as usize];
                    if stream.read_exact(&mut payload).is_err() {
                        return;
                    }
                    payload[0] ^= 0x20;
                    if stream
                        .write_all(&prefix)
                        .and_then(|()| stream.write_all(&payload))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    let url = format!("tcp://{addr}");
    let mut args = vec!["--mode", "raw", "--url", &url, "--size", "16"];
    args.extend(SHORT_RUN);
    let output = bench_client(&args);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("differ"));
}

#[test]
fn idle_mode_reports_the_servers_memory_per_connection() {
    let server = WskitServer::start(Answer::Echo);
    let url = server.url();
    let pid = std::process::id().to_string();
    let output = bench_client(&["--mode", "idle", "--idle", "200", "--pid", &pid, "--url", &url]);
    let json = json_line(&output);
    assert!(output.status.success(), "{json}");
    assert_eq!(field(&json, "connections"), 200.0);
    assert_eq!(field(&json, "errors"), 0.0);
    assert!(field(&json, "rss_after") > 0.0, "{json}");
}

#[test]
fn deflate_mode_inflates_and_checks_every_echo() {
    let server = WskitServer::start(Answer::Echo);
    let url = server.url();
    let json = clean_short_run(vec![
        "--url",
        &url,
        "--deflate",
        "--size",
        "2k",
        "--connections",
        "2",
        "--depth",
        "2",
    ]);
    // JSON-like text compresses both ways (the wskit server accepted the offer and compressed its
    // echoes).
    assert!(field(&json, "wire_out_per_msg") < 1024.0, "{json}");
    assert!(field(&json, "wire_in_per_msg") < 1024.0, "{json}");
    // A corrupted echo is caught after inflating it.
    let server = WskitServer::start(Answer::Corrupt);
    let url = server.url();
    let mut args = vec!["--url", &url, "--deflate", "--size", "2k"];
    args.extend(SHORT_RUN);
    let output = bench_client(&args);
    assert!(!output.status.success(), "a bad echo must fail the run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("differs"), "says what was wrong: {stderr}");
}
