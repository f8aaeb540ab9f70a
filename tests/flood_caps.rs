//! Connection and memory caps hold under a flood: 60 raw clients at once against a server capped
//! at 24 connections, each accepted one writing maximum-size messages as fast as TCP takes them
//! and never reading the echoes, some of them one byte over the limit. The server keeps at most
//! 24 connections (the rest get 503), fails oversized messages with 1009, pauses the others at
//! the read-pause mark, and its memory stays within what the limits allow per connection.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{client_frame, upgrade_request};
use wskit::net::{ConnId, Context, Handler, ListenOptions, Message};
use wskit::proto::CloseInfo;

/// Echoes and counts closes by code; keeps no message (the test's RSS is the server's).
#[derive(Default)]
struct Echo {
    closes: std::collections::HashMap<u16, usize>,
    send_errors: usize,
}

impl Handler for Echo {
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let sent = match message {
            Message::Text(t) => ctx.send_text(conn, t),
            Message::Binary(b) => ctx.send_binary(conn, b),
        };
        self.send_errors += usize::from(sent.is_err());
    }

    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        *self.closes.entry(info.code).or_default() += 1;
    }
}

const MAX_CONNECTIONS: usize = 24;
const CLIENTS: usize = 60;
const MAX_MESSAGE: usize = 256 << 10;
const HIGH_WATER: usize = 256 << 10;

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb << 10)
}

struct Client {
    stream: TcpStream,
    head: Vec<u8>,
    status: Option<u16>,
    frame: usize,
    pos: usize,
    written: usize,
}

#[test]
fn caps_hold_under_a_flood_of_maximum_size_messages_from_many_connections() {
    let mut s = Context::new().unwrap();
    let mut sh = Echo::default();
    let mut options = ListenOptions {
        max_connections: MAX_CONNECTIONS,
        ..ListenOptions::default()
    };
    options.connection.protocol.max_message_size = MAX_MESSAGE as u64;
    options.connection.protocol.max_frame_size = MAX_MESSAGE as u64;
    options.connection.read_pause_high_water = HIGH_WATER;
    options.connection.max_buffered = 4 * MAX_MESSAGE;
    let id = s.listen("127.0.0.1:0", options).unwrap();
    let addr = s.local_addr(id).unwrap();
    // Built once and shared: the clients add no memory per message.
    let frames = [
        client_frame(true, 0x2, &vec![1; MAX_MESSAGE]),
        client_frame(true, 0x2, &vec![2; MAX_MESSAGE + 1]),
    ];
    s.poll(&mut sh, Some(Duration::ZERO)).unwrap();
    let rss_before = rss();
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|i| {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream.write_all(upgrade_request(addr, "/").as_bytes()).unwrap();
            stream.set_nonblocking(true).unwrap();
            Client {
                stream,
                head: Vec::new(),
                status: None,
                // Every sixth sends one byte over the limit.
                frame: usize::from(i % 6 == 5),
                pos: 0,
                written: 0,
            }
        })
        .collect();
    let start = Instant::now();
    let (mut peak_conns, mut peak_rss) = (0, 0);
    let mut chunk = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(4) {
        s.poll(&mut sh, Some(Duration::from_millis(1))).unwrap();
        peak_conns = peak_conns.max(s.connection_count());
        peak_rss = peak_rss.max(rss());
        for c in clients.iter_mut() {
            if c.status.is_none() {
                match c.stream.read(&mut chunk) {
                    Ok(n) if n > 0 => c.head.extend_from_slice(&chunk[..n]),
                    _ => {}
                }
                if c.head.len() >= 12 {
                    c.status = std::str::from_utf8(&c.head[9..12])
                        .ok()
                        .and_then(|v| v.parse().ok());
                }
                continue;
            }
            if c.status != Some(101) {
                continue;
            }
            // Flood, never read.
            let frame = &frames[c.frame];
            match c.stream.write(&frame[c.pos..]) {
                Ok(n) => {
                    c.written += n;
                    c.pos = (c.pos + n) % frame.len();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => c.status = Some(0), // the server closed it (1009)
            }
        }
    }
    let accepted = clients
        .iter()
        .filter(|c| matches!(c.status, Some(101) | Some(0)))
        .count();
    let refused = clients.iter().filter(|c| c.status == Some(503)).count();
    let flooded: usize = clients.iter().map(|c| c.written).sum();
    let grown = peak_rss.saturating_sub(rss_before);
    // Per connection the server may hold: the echo queue up to the mark plus one message, a
    // reassembly buffer of one message, the held rest of one read (256 KiB), the read buffer once.
    let per_conn = (HIGH_WATER + 3 * MAX_MESSAGE + (256 << 10)) as u64;
    let bound = MAX_CONNECTIONS as u64 * per_conn + (16 << 20);
    println!(
        "flood: {accepted} accepted, {refused} refused (503), peak {peak_conns} connections; \
         clients wrote {} MiB; RSS +{} KiB (bound {} KiB)",
        flooded >> 20,
        grown >> 10,
        bound >> 10
    );
    assert_eq!(
        accepted,
        MAX_CONNECTIONS,
        "statuses: {:?}",
        clients.iter().map(|c| c.status).collect::<Vec<_>>()
    );
    assert_eq!(refused, CLIENTS - MAX_CONNECTIONS);
    assert!(peak_conns <= MAX_CONNECTIONS, "peak {peak_conns} connections");
    assert!(grown <= bound, "RSS grew by {grown} bytes, bound {bound}");
    // Those over the limit were failed with 1009; the others were held back by flow control.
    let too_big = sh.closes.get(&1009).copied().unwrap_or(0);
    assert_eq!(
        too_big,
        clients
            .iter()
            .filter(|c| c.frame == 1 && c.head.starts_with(b"HTTP/1.1 101"))
            .count()
    );
    assert!(
        flooded > 16 * MAX_MESSAGE,
        "the clients hardly wrote ({flooded} bytes)"
    );
    assert_eq!(
        sh.send_errors, 0,
        "an echo was refused (WouldBlock): flow control let the queue fill"
    );
}
