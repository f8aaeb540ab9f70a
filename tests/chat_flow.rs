//! The chat servers (`examples/c/chat_server.c`, `examples/python/chat.py`) lose nothing and
//! stay bounded when one member of a room does not read.
//!
//! Two raw clients join room `flow`: `sink`, which reads nothing for a while, and `source`, which
//! writes 3,000 text messages of 16 KiB (47 MiB) while a thread of its own reads the room's copies
//! of them. The relay to `sink` fills up; the server must then pause `source` (its writer stalls:
//! backpressure reached it through TCP) instead of buffering. Then `sink` reads: every message,
//! in order and intact. The server's RSS is sampled throughout and may grow by at most 12 MiB (a
//! quarter of what is sent; buffering it all would take over 30 MiB after the kernel's share).
//!
//! Then the C and the Python chat clients (`examples/c/chat_client.c`, `chat.py client`) post
//! through both servers, and a raw member of the room sees exactly what they said.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::examples::{
    ExampleServer as Server, cdylib, compile_c_example, repo, rss_of, wait_for_writer_stall,
};
use common::{client_frame, read_http_head, read_server_frame, upgrade_request};

const COUNT: usize = 3000;
const SIZE: usize = 16 << 10;
const RSS_GROWTH_BOUND: u64 = 12 << 20;

fn c_server() -> Command {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    Command::new(BUILT.get_or_init(|| compile_c_example("chat_server")))
}

fn python_server() -> Command {
    let mut command = Command::new("python3");
    command
        .arg(repo().join("examples/python/chat.py"))
        .arg("server")
        .env("WSKIT_LIBRARY", cdylib());
    command
}

/// Message `seq`: its number, then letters (nothing JSON escapes, so the relayed form is exact).
fn body(seq: usize) -> String {
    let mut text = format!("{seq:06} ");
    text.extend((text.len()..SIZE).map(|i| (b'a' + ((seq + i) % 26) as u8) as char));
    text
}

fn relayed(name: &str, text: &str) -> String {
    format!(r#"{{"type":"message","name":"{name}","text":"{text}"}}"#)
}

/// A raw member of room `flow`: the stream and the bytes read past the 101.
fn join(server: &Server, name: &str) -> (TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let path = format!("/chat?room=flow&name={name}");
    stream
        .write_all(upgrade_request(server.addr, &path).as_bytes())
        .unwrap();
    let (head, rest) = read_http_head(&mut stream, Instant::now() + Duration::from_secs(10));
    assert!(head.starts_with("HTTP/1.1 101"), "{}: {head:?}", server.name);
    (stream, rest)
}

fn read_text(stream: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    let (opcode, payload) = read_server_frame(stream, buf);
    assert_eq!(opcode, 1, "chat servers send text");
    String::from_utf8(payload).expect("UTF-8")
}

fn never_loses(server: Server) {
    let name = server.name;
    let (mut sink, mut sink_buf) = join(&server, "sink");
    let hello = read_text(&mut sink, &mut sink_buf);
    assert!(hello.starts_with(r#"{"type":"hello","#), "{name}: {hello}");
    assert_eq!(
        read_text(&mut sink, &mut sink_buf),
        r#"{"type":"join","name":"sink"}"#
    );

    let (source, mut source_buf) = join(&server, "source");
    thread::sleep(Duration::from_millis(100));
    let baseline = rss_of(server.child.id());
    assert!(baseline > 0, "{name}: no VmRSS for the server");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (done, pid) = (done.clone(), server.child.id());
        thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_of(pid));
                thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };

    // The source reads the room's copies of its own messages in a thread of its own.
    let source_reader = {
        let mut stream = source.try_clone().unwrap();
        thread::spawn(move || {
            assert!(read_text(&mut stream, &mut source_buf).starts_with(r#"{"type":"hello","#));
            assert_eq!(
                read_text(&mut stream, &mut source_buf),
                r#"{"type":"join","name":"source"}"#
            );
            for seq in 0..COUNT {
                let got = read_text(&mut stream, &mut source_buf);
                assert!(
                    got == relayed("source", &body(seq)),
                    "source's copy #{seq} differs"
                );
            }
        })
    };
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (written, mut stream) = (written.clone(), source.try_clone().unwrap());
        thread::spawn(move || {
            for seq in 0..COUNT {
                stream
                    .write_all(&client_frame(true, 0x1, body(seq).as_bytes()))
                    .expect("write a message");
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    // The sink reads nothing: the server must pause the source, and TCP must stop its writer.
    let start = Instant::now();
    let stalled_at = wait_for_writer_stall(name, &written, COUNT, Duration::from_millis(700));
    let rss_at_stall = rss_of(server.child.id());

    // Now the sink reads: the source's join, then every message in order and intact.
    assert_eq!(
        read_text(&mut sink, &mut sink_buf),
        r#"{"type":"join","name":"source"}"#
    );
    for seq in 0..COUNT {
        let got = read_text(&mut sink, &mut sink_buf);
        assert!(
            got == relayed("source", &body(seq)),
            "{name}: the sink's message #{seq} differs: {:.80}",
            got
        );
    }
    writer.join().expect("writer");
    source_reader.join().expect("the source's reader");
    done.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "{name}: {COUNT} x {} KiB relayed to both members in order in {:.1} s; the writer stalled after \
         {stalled_at} messages ({} MiB); server RSS baseline {} KiB, at the stall {} KiB, peak {} KiB \
         (growth {} KiB, bound {} KiB)",
        SIZE >> 10,
        start.elapsed().as_secs_f64(),
        (stalled_at * SIZE) >> 20,
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
    let _ = sink.write_all(&client_frame(true, 0x8, &1000u16.to_be_bytes()));
}

#[test]
fn c_chat_server_pauses_the_source_and_loses_nothing() {
    never_loses(Server::start("C", c_server()));
}

#[test]
fn python_chat_server_pauses_the_source_and_loses_nothing() {
    never_loses(Server::start("Python", python_server()));
}

fn c_client() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| compile_c_example("chat_client")).clone()
}

/// The C and the Python chat client join a room through `server`, each posts its messages and sees
/// them come back from the room (their exit status says so), and a raw member sees them all.
fn clients_post(server: Server) {
    let name = server.name;
    let (mut watcher, mut buf) = join(&server, "watcher");
    assert!(read_text(&mut watcher, &mut buf).starts_with(r#"{"type":"hello","#));
    let url = format!("ws://{}/chat", server.addr);
    let c = Command::new(c_client())
        .args([
            url.as_str(),
            "c client",
            "--room",
            "flow",
            "hello from C",
            "quote \" and \\ ✓",
        ])
        .output()
        .expect("run chat_client");
    assert!(
        c.status.success(),
        "{name}: chat_client failed: {}",
        String::from_utf8_lossy(&c.stderr)
    );
    let py = Command::new("python3")
        .arg(repo().join("examples/python/chat.py"))
        .args([
            "client",
            url.as_str(),
            "py client",
            "--room",
            "flow",
            "hello from Python",
        ])
        .env("WSKIT_LIBRARY", cdylib())
        .output()
        .expect("run chat.py client");
    assert!(
        py.status.success(),
        "{name}: chat.py client failed: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    let py_out = String::from_utf8_lossy(&py.stdout);
    assert!(
        py_out.contains("py client: hello from Python"),
        "{name}: chat.py printed {py_out}"
    );

    let mut seen = Vec::new();
    while seen.len() < 8 {
        seen.push(read_text(&mut watcher, &mut buf));
    }
    let expected = [
        r#"{"type":"join","name":"watcher"}"#,
        r#"{"type":"join","name":"c client"}"#,
        r#"{"type":"message","name":"c client","text":"hello from C"}"#,
        r#"{"type":"message","name":"c client","text":"quote \" and \\ ✓"}"#,
        r#"{"type":"leave","name":"c client"}"#,
        r#"{"type":"join","name":"py client"}"#,
        r#"{"type":"message","name":"py client","text":"hello from Python"}"#,
        r#"{"type":"leave","name":"py client"}"#,
    ];
    assert_eq!(seen, expected, "{name}: what the room said");
}

#[test]
fn c_and_python_clients_post_through_the_c_server() {
    clients_post(Server::start("C", c_server()));
}

#[test]
fn c_and_python_clients_post_through_the_python_server() {
    clients_post(Server::start("Python", python_server()));
}
