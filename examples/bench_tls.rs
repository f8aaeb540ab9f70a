//! ws:// versus wss:// echo throughput and idle memory, measured with wskit's own client (the
//! standalone `bench_client` speaks no TLS). Used by `bench/tls.sh`; the ratio wss/ws is the figure.
//!
//!     bench_tls --url wss://localhost:9001/ --ca cert.pem --connections 64 --depth 16 --size 16 --seconds 5
//!     bench_tls --url wss://localhost:9001/ --ca cert.pem --idle 2000 --pid SERVER_PID
//!
//! Prints one human line and one JSON line.

use std::time::{Duration, Instant};

use wskit::net::{ConnId, ConnectOptions, Context, Handler, Message, OpenInfo, TlsClientConfig};

struct Load {
    payload: Vec<u8>,
    depth: usize,
    opened: usize,
    echoed: u64,
    bytes: u64,
    errors: u64,
    measuring: bool,
}

impl Handler for Load {
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.opened += 1;
        for _ in 0..self.depth {
            let _ = ctx.send_binary(conn, &self.payload);
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        if message.as_bytes() != self.payload.as_slice() {
            self.errors += 1;
        }
        if self.measuring {
            self.echoed += 1;
            self.bytes += self.payload.len() as u64;
        }
        let _ = ctx.send_binary(conn, &self.payload);
    }

    fn on_error(&mut self, _ctx: &mut Context, _conn: Option<ConnId>, error: &wskit::net::Error) {
        eprintln!("bench_tls: {error}");
        self.errors += 1;
    }
}

fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let mut url = "ws://127.0.0.1:9001/".to_string();
    let (mut connections, mut depth, mut size, mut seconds) = (64usize, 16usize, 16usize, 5u64);
    let (mut idle, mut pid) = (0usize, 0u32);
    let mut tls = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("option needs a value");
        match arg.as_str() {
            "--url" => url = value(),
            "--connections" => connections = value().parse().expect("number"),
            "--depth" => depth = value().parse().expect("number"),
            "--size" => size = value().parse().expect("number"),
            "--seconds" => seconds = value().parse().expect("number"),
            "--idle" => idle = value().parse().expect("number"),
            "--pid" => pid = value().parse().expect("number"),
            "--ca" => tls = Some(TlsClientConfig::with_ca_file(value()).expect("CA file")),
            other => panic!("unknown option {other}"),
        }
    }
    let mut options = ConnectOptions {
        tls,
        ..ConnectOptions::default()
    };
    options.connection.max_buffered = 64 << 20;
    let mut ctx = Context::new().expect("context");
    let count = if idle > 0 { idle } else { connections };
    let mut load = Load {
        payload: vec![0x5a; size],
        depth: if idle > 0 { 0 } else { depth },
        opened: 0,
        echoed: 0,
        bytes: 0,
        errors: 0,
        measuring: false,
    };
    let before = if pid > 0 { rss(pid) } else { 0 };
    for _ in 0..count {
        ctx.connect(&url, options.clone()).expect("connect");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while load.opened < count && Instant::now() < deadline {
        ctx.poll(&mut load, Some(Duration::from_millis(10)))
            .expect("poll");
    }
    assert_eq!(load.opened, count, "not every connection opened");
    let scheme = url.split(':').next().unwrap_or("ws");
    if idle > 0 {
        let settle = Instant::now() + Duration::from_secs(2);
        while Instant::now() < settle {
            ctx.poll(&mut load, Some(Duration::from_millis(50)))
                .expect("poll");
        }
        let per_conn = (rss(pid).saturating_sub(before)) as f64 / idle as f64;
        println!("{scheme} idle: {idle} connections, server RSS +{per_conn:.0} bytes per connection");
        println!(
            "{{\"mode\":\"idle\",\"scheme\":\"{scheme}\",\"connections\":{idle},\"bytes_per_conn\":{per_conn:.0}}}"
        );
        return;
    }
    let warm = Instant::now() + Duration::from_secs(1);
    while Instant::now() < warm {
        ctx.poll(&mut load, Some(Duration::from_millis(1))).expect("poll");
    }
    load.measuring = true;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        ctx.poll(&mut load, Some(Duration::from_millis(1))).expect("poll");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let msgs = load.echoed as f64 / elapsed;
    let mb = load.bytes as f64 / elapsed / 1e6;
    println!(
        "{scheme}: {connections} x {size} B depth {depth}: {msgs:.0} msgs/s, {mb:.1} MB/s, errors {}",
        load.errors
    );
    println!(
        "{{\"mode\":\"load\",\"scheme\":\"{scheme}\",\"connections\":{connections},\"depth\":{depth},\"size\":{size},\"msgs_per_s\":{msgs:.0},\"mb_per_s\":{mb:.2},\"errors\":{}}}",
        load.errors
    );
    std::process::exit(if load.errors == 0 { 0 } else { 1 });
}
