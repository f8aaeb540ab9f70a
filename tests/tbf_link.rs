//! A peer that stops reading behind a 1 Mbit/s link hits flow control, not memory growth.
//!
//! The test makes a network namespace and a veth pair (`ip netns`, `ip link`), caps the host's
//! side at 1 Mbit/s with `tc qdisc ... tbf` (so the server's echoes toward the peer crawl), runs an
//! echoing server context here and a raw peer in the namespace (Python: it floods 64 KiB binary
//! messages and never reads). The server's queue must stop at the read-pause high-water mark,
//! reading must pause (TCP then stops the peer), and neither the queue, the held input nor the
//! process's RSS may grow while the peer keeps trying.
//!
//! Needs root (CAP_NET_ADMIN) and iproute2 (scripts/install-deps.sh); skipped with a message
//! otherwise.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Recorder;
use wskit::net::{Context, ListenOptions};
use wskit::proto::Role;

/// The peer: handshake, then 64 KiB masked binary frames as fast as the socket takes them for
/// `seconds`, never reading; prints the bytes it wrote, then waits to be killed.
const PEER: &str = r#"
import socket, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port))
s.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (host, port)).encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
assert head.startswith(b"HTTP/1.1 101"), head
frame = bytes([0x82, 0x80 | 127]) + (65536).to_bytes(8, "big") + b"\0\0\0\0" + b"x" * 65536
s.setblocking(False)
written, pos, end = 0, 0, time.time() + seconds
while time.time() < end:
    try:
        n = s.send(frame[pos:])
        written += n
        pos = (pos + n) % len(frame)
    except BlockingIOError:
        time.sleep(0.005)
print(written, flush=True)
time.sleep(3600)
"#;

struct Netns {
    name: String,
    host_if: String,
}

impl Netns {
    /// Namespace `wskit-tbf-PID` with `10.77.X.2` inside, `10.77.X.1` here, host side shaped.
    fn create() -> Result<(Netns, String, String), String> {
        let pid = std::process::id();
        let name = format!("wskit-tbf-{pid}");
        let host_if = format!("wtb{}a", pid % 100_000);
        let peer_if = format!("wtb{}b", pid % 100_000);
        let subnet = format!("10.77.{}", pid % 250 + 1);
        let (host_ip, peer_ip) = (format!("{subnet}.1"), format!("{subnet}.2"));
        ip(&["netns", "add", &name])?;
        let ns = Netns { name, host_if };
        ip(&[
            "link",
            "add",
            &ns.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &peer_if,
        ])?;
        ip(&["link", "set", &peer_if, "netns", &ns.name])?;
        ip(&["addr", "add", &format!("{host_ip}/24"), "dev", &ns.host_if])?;
        ip(&["link", "set", &ns.host_if, "up"])?;
        ip(&[
            "netns",
            "exec",
            &ns.name,
            "ip",
            "addr",
            "add",
            &format!("{peer_ip}/24"),
            "dev",
            &peer_if,
        ])?;
        ip(&["netns", "exec", &ns.name, "ip", "link", "set", &peer_if, "up"])?;
        ip(&["netns", "exec", &ns.name, "ip", "link", "set", "lo", "up"])?;
        run(
            "tc",
            &[
                "qdisc",
                "add",
                "dev",
                &ns.host_if,
                "root",
                "tbf",
                "rate",
                "1mbit",
                "burst",
                "32kbit",
                "latency",
                "400ms",
            ],
        )?;
        Ok((ns, host_ip, peer_ip))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.host_if]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e} (install iproute2: scripts/install-deps.sh)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    run("ip", args)
}

/// Root with CAP_NET_ADMIN: effective uid 0 and bit 12 in CapEff.
fn can_admin_network() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && cap_eff & (1 << 12) != 0
}

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb << 10)
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_peer_that_stops_reading_behind_a_1_mbit_link_is_paused_not_buffered() {
    if !can_admin_network() {
        eprintln!("SKIPPED tbf_link: needs root with CAP_NET_ADMIN (ip netns, tc); CI runs as root");
        return;
    }
    let (ns, host_ip, _peer_ip) = Netns::create().expect("network namespace, veth pair and tbf");
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let options = ListenOptions::default();
    let high_water = options.connection.read_pause_high_water;
    let id = s
        .listen(format!("{host_ip}:0").as_str(), options)
        .expect("listen on the veth");
    let addr: SocketAddr = s.local_addr(id).unwrap();
    let rss_before = rss();
    let flood = 6.0;
    let peer = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "python3",
            "-c",
            PEER,
            &host_ip,
            &addr.port().to_string(),
            &flood.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the peer in the namespace");
    let mut peer = Peer(peer);
    common::pump(&mut s, &mut sh, Duration::from_secs(10), "peer open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    let start = Instant::now();
    let (mut peak_queue, mut peak_held, mut paused_at, mut peak_rss) = (0, 0, None, 0);
    let mut delivered_when_paused = 0;
    while start.elapsed() < Duration::from_secs_f64(flood + 1.0) {
        s.poll(&mut sh, Some(Duration::from_millis(5))).unwrap();
        peak_queue = peak_queue.max(s.buffered_amount(sid).unwrap());
        peak_held = peak_held.max(s.stats().held_bytes);
        peak_rss = peak_rss.max(rss());
        if paused_at.is_none() && s.is_reading_paused(sid).unwrap() {
            paused_at = Some(start.elapsed());
            delivered_when_paused = sh.messages(sid).len();
        }
    }
    let paused_at = paused_at.expect("reading paused behind the slow link");
    assert!(
        s.is_reading_paused(sid).unwrap(),
        "still paused while the peer does not read"
    );
    let delivered = sh.messages(sid).len();
    // Once paused, nothing more is delivered (the echoes have nowhere to go).
    assert_eq!(
        delivered, delivered_when_paused,
        "messages delivered after the pause"
    );
    // The peer prints its count once its flood time is over (then sleeps until killed).
    let mut line = String::new();
    let mut out = std::io::BufReader::new(peer.0.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut out, &mut line).expect("the peer's output");
    let written: u64 = line.trim().parse().expect("the peer's byte count");
    println!(
        "tbf: paused after {paused_at:?}; {delivered} messages delivered; peak queue {peak_queue} B, \
         held {peak_held} B; peer wrote {written} B in {flood} s; RSS +{} KiB",
        peak_rss.saturating_sub(rss_before) >> 10
    );
    // The queue stops at the mark plus one message (and its frame header).
    assert!(
        peak_queue <= high_water + (64 << 10) + 16,
        "queue peaked at {peak_queue}"
    );
    assert!(peak_held <= 256 << 10, "held input peaked at {peak_held}");
    // TCP pushed back: the peer got out no more than what the kernel buffers and one held read
    // take (a few MiB), not the gigabytes a loopback link would swallow in 6 s.
    assert!(written < 24 << 20, "the peer wrote {written} bytes");
    assert!(
        peak_rss.saturating_sub(rss_before) < 16 << 20,
        "RSS grew by {} bytes",
        peak_rss - rss_before
    );
    drop(peer);
    drop(ns);
}
