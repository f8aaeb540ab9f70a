//! Soak: many connections on loopback doing random things for a bounded time, then checks that
//! nothing was lost and everything was given back.
//!
//!     cargo run --release --example soak -- [--connections N] [--seconds S] [--total T] [--seed X]
//!
//! A server context (echoing; `cmd:close` closes, `cmd:abort` aborts) and a client context in one
//! thread. The client holds N connections (default 1,000) and, each turn, makes random ones send
//! text, binary or fragmented messages (with sequence numbers, at most 8 unanswered each), ping,
//! or end: a clean close from either side, an abort from either side, or a reset (the server
//! aborts while more input is arriving). Ended connections are replaced until T (default 2 N)
//! have been opened; after S seconds (default 10) the rest close cleanly.
//!
//! Checks, each a line of output; exits 1 if any fails:
//! - every echo arrives in order, intact, exactly once (sequence numbers and lengths);
//! - on a connection that closed cleanly, every message sent before the close was echoed;
//! - every connection reports exactly one close on each side;
//! - afterwards both contexts are back to their baseline counters (`Context::stats`: no slot,
//!   timer entry, pooled buffer or held input left);
//! - RSS returns to within 16 MiB of its baseline (measured after `malloc_trim`, which hands the
//!   allocator's free pages back; the figure before it is printed too).
//!
//! RLIMIT_NOFILE is raised for two descriptors per connection. `SOAK_DEBUG=1` prints every error
//! and the server's unclean closes during the wind-down to stderr.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use wskit::net::{ConnId, ConnectOptions, Context, ContextStats, Handler, ListenOptions, Message, OpenInfo};
use wskit::proto::{CloseInfo, MessageKind};

/// How far RSS may stay above its baseline once everything is closed.
const RSS_MARGIN: u64 = 16 << 20;
static WINDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Unanswered messages per connection.
const WINDOW: usize = 8;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The server: echoes, and obeys the two commands.
#[derive(Default)]
struct Server {
    opened: u64,
    /// Open now (for the report of what is left, should anything be).
    open: Vec<ConnId>,
    closes: HashMap<ConnId, u32>,
    send_errors: u64,
}

impl Handler for Server {
    fn on_open(&mut self, _ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.opened += 1;
        self.open.push(conn);
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let result = match message {
            Message::Text("cmd:close") => ctx.close(conn, 1000, "asked to"),
            Message::Text("cmd:abort") => ctx.abort(conn),
            Message::Text(text) => ctx.send_text(conn, text),
            Message::Binary(data) => ctx.send_binary(conn, data),
        };
        if result.is_err() {
            self.send_errors += 1;
        }
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        *self.closes.entry(conn).or_default() += 1;
        self.open.retain(|c| *c != conn);
        if std::env::var_os("SOAK_DEBUG").is_some()
            && WINDING.load(std::sync::atomic::Ordering::Relaxed)
            && info.code != 1000
        {
            eprintln!("server close {conn}: {info:?}");
        }
    }

    fn on_error(&mut self, _ctx: &mut Context, conn: Option<ConnId>, error: &wskit::net::Error) {
        if std::env::var_os("SOAK_DEBUG").is_some() {
            eprintln!("server error {conn:?}: {error}");
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ending {
    ClientClose,
    ServerClose,
    ClientAbort,
    ServerAbort,
}

/// A message in flight: its sequence number, length and kind.
struct Flight {
    seq: u64,
    len: usize,
    text: bool,
}

#[derive(Default)]
struct ClientConn {
    inflight: VecDeque<Flight>,
    next_seq: u64,
    ending: Option<Ending>,
    ending_at: Option<Instant>,
}

#[derive(Default)]
struct Client {
    conns: HashMap<ConnId, ClientConn>,
    /// Open and not ending: where the driver picks from.
    active: Vec<ConnId>,
    closes: HashMap<ConnId, u32>,
    failures: Vec<String>,
    sent: u64,
    echoed: u64,
    ended: HashMap<&'static str, u64>,
    clean_checked: u64,
}

fn fill(seq: u64) -> u8 {
    b'a' + (seq % 26) as u8
}

/// The body of message `seq`: its number, a space, then `len` fill bytes.
fn body(seq: u64, len: usize) -> Vec<u8> {
    let mut out = format!("{seq} ").into_bytes();
    out.resize(out.len() + len, fill(seq));
    out
}

impl Client {
    fn fail(&mut self, what: String) {
        if self.failures.len() < 20 {
            eprintln!("soak: FAIL {what}");
        }
        self.failures.push(what);
    }

    fn echo(&mut self, conn: ConnId, text: bool, data: &[u8]) {
        let Some(state) = self.conns.get_mut(&conn) else {
            return self.fail(format!("{conn}: echo on an unknown connection"));
        };
        let Some(expected) = state.inflight.pop_front() else {
            return self.fail(format!("{conn}: an echo nobody sent (duplicate?)"));
        };
        let want = body(expected.seq, expected.len);
        if data != want.as_slice() || text != expected.text {
            let head = String::from_utf8_lossy(&data[..data.len().min(24)]).into_owned();
            return self.fail(format!(
                "{conn}: expected echo {} ({} bytes), got {head:?}... ({} bytes)",
                expected.seq,
                want.len(),
                data.len()
            ));
        }
        self.echoed += 1;
    }
}

impl Handler for Client {
    fn on_error(&mut self, _ctx: &mut Context, conn: Option<ConnId>, error: &wskit::net::Error) {
        if std::env::var_os("SOAK_DEBUG").is_some() {
            let ending = conn.and_then(|c| self.conns.get(&c)).map(|s| s.ending);
            eprintln!("client error {conn:?} ({ending:?}): {error}");
        }
    }

    fn on_open(&mut self, _ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.conns.entry(conn).or_default();
        self.active.push(conn);
    }

    fn on_message(&mut self, _ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        match message {
            Message::Text(text) => self.echo(conn, true, text.as_bytes()),
            Message::Binary(data) => self.echo(conn, false, data),
        }
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        *self.closes.entry(conn).or_default() += 1;
        self.active.retain(|c| *c != conn);
        let Some(state) = self.conns.remove(&conn) else {
            return self.fail(format!(
                "{conn}: closed before it opened ({} {:?})",
                info.code, info.reason
            ));
        };
        let ending = state.ending;
        let label = match ending {
            Some(Ending::ClientClose) => "client close",
            Some(Ending::ServerClose) => "server close",
            Some(Ending::ClientAbort) => "client abort",
            Some(Ending::ServerAbort) => "server abort/reset",
            None => "unexpected",
        };
        *self.ended.entry(label).or_default() += 1;
        match ending {
            Some(Ending::ClientClose | Ending::ServerClose) => {
                if !(info.clean && info.code == 1000) {
                    self.fail(format!(
                        "{conn}: {label} ended with {} clean={} locally={} after {:?}, {} unanswered",
                        info.code,
                        info.clean,
                        info.initiated_locally,
                        state.ending_at.map(|t| t.elapsed()),
                        state.inflight.len()
                    ));
                } else if !state.inflight.is_empty() {
                    self.fail(format!(
                        "{conn}: closed cleanly with {} echoes missing (first seq {})",
                        state.inflight.len(),
                        state.inflight[0].seq
                    ));
                } else {
                    self.clean_checked += 1;
                }
            }
            Some(Ending::ClientAbort | Ending::ServerAbort) => {}
            None => self.fail(format!(
                "{conn}: closed unasked ({} {:?})",
                info.code, info.reason
            )),
        }
    }
}

/// Sends message `seq` of `len` bytes: whole text (`how` 0), whole binary (1) or fragmented in
/// three frames (2: text or binary by the sequence number). True if it was queued.
fn send(ctx: &mut Context, conn: ConnId, state: &mut ClientConn, how: u64, len: usize) -> bool {
    if state.inflight.len() >= WINDOW {
        return false;
    }
    let seq = state.next_seq;
    let data = body(seq, len);
    let text = how == 0 || (how == 2 && seq % 2 == 0);
    let kind = if text {
        MessageKind::Text
    } else {
        MessageKind::Binary
    };
    let ok = if how < 2 {
        ctx.send(conn, kind, &data).is_ok()
    } else {
        let (a, rest) = data.split_at(data.len() / 3);
        let (b, c) = rest.split_at(rest.len() / 2);
        ctx.begin_message(conn, kind, a).is_ok()
            && ctx.continue_message(conn, b).is_ok()
            && ctx.finish_message(conn, c).is_ok()
    };
    if ok {
        state.next_seq += 1;
        state.inflight.push_back(Flight { seq, len, text });
    }
    ok
}

/// Starts ending `conn` the way `ending` says.
fn end(ctx: &mut Context, conn: ConnId, ending: Ending) {
    let _ = match ending {
        Ending::ClientClose => ctx.close(conn, 1000, ""),
        Ending::ServerClose => ctx.send_text(conn, "cmd:close"),
        Ending::ClientAbort => ctx.abort(conn),
        Ending::ServerAbort => {
            // More input right behind the command: the server's abort meets unread data, so
            // its kernel answers with a reset.
            let _ = ctx.send_text(conn, "cmd:abort");
            ctx.send_binary(conn, &[0; 4096])
        }
    };
}

/// One random action on one active connection.
fn act(ctx: &mut Context, client: &mut Client, rng: &mut Rng) {
    if client.active.is_empty() {
        return;
    }
    let index = rng.below(client.active.len() as u64) as usize;
    let conn = client.active[index];
    let roll = rng.below(1000);
    let len = match rng.below(100) {
        0 => (64 << 10) + rng.below(192 << 10) as usize,
        1..=9 => rng.below(16 << 10) as usize,
        _ => rng.below(512) as usize,
    };
    if roll >= 980 {
        let ending = match rng.below(5) {
            0 | 1 => Ending::ClientClose,
            2 => Ending::ServerClose,
            3 => Ending::ClientAbort,
            _ => Ending::ServerAbort,
        };
        client.active.swap_remove(index);
        if let Some(state) = client.conns.get_mut(&conn) {
            state.ending = Some(ending);
            state.ending_at = Some(Instant::now());
        }
        end(ctx, conn, ending);
        return;
    }
    if roll >= 900 {
        let _ = ctx.ping(conn, b"soak");
        return;
    }
    let how = match roll {
        0..=599 => 0,
        600..=749 => 1,
        _ => 2,
    };
    let Some(state) = client.conns.get_mut(&conn) else {
        return;
    };
    if send(ctx, conn, state, how, len) {
        client.sent += 1;
    }
}

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb << 10)
}

fn trimmed_rss() -> u64 {
    // SAFETY: malloc_trim only returns free heap pages to the OS.
    unsafe {
        libc::malloc_trim(0);
    }
    rss()
}

fn raise_fd_limit(connections: u64) {
    let want = connections * 2 + 256;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        if limit.rlim_cur < want {
            let raised = libc::rlimit {
                rlim_cur: want,
                rlim_max: limit.rlim_max.max(want),
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                limit.rlim_cur = limit.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
        }
    }
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("{name} wants a number"))
        })
}

fn baseline_check(name: &str, stats: ContextStats, listeners: usize, failures: &mut Vec<String>) {
    println!("soak: {name} stats after: {stats:?}");
    let back = stats.connections == 0
        && stats.listeners == listeners
        && stats.timer_entries == 0
        && stats.pooled_buffers == 0
        && stats.pooled_bytes == 0
        && stats.held_inputs == 0
        && stats.held_bytes == 0
        && stats.pending_events == 0
        && stats.accept_backoffs == 0;
    if !back {
        failures.push(format!("{name} context not back to baseline: {stats:?}"));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let connections = arg(&args, "--connections", 1000);
    let seconds = arg(&args, "--seconds", 10);
    let total = arg(&args, "--total", connections * 2);
    let mut rng = Rng(arg(&args, "--seed", 1).max(1));
    raise_fd_limit(connections);

    let mut server_ctx = Context::new().expect("server context");
    let mut client_ctx = Context::new().expect("client context");
    let mut server = Server::default();
    let mut client = Client::default();
    let mut listen = ListenOptions {
        backlog: 4096,
        ..ListenOptions::default()
    };
    listen.connection.ping_interval = Some(Duration::from_secs(2));
    // The soak checks loss and leaks, not timers (tests/impaired_links.rs does): on a loaded
    // machine 10,000 connections can take seconds to answer, so the handshake and close timers
    // are generous.
    listen.connection.handshake_timeout = Duration::from_secs(60);
    listen.connection.close_timeout = Duration::from_secs(60);
    listen.connection.idle_timeout = Some(Duration::from_secs(120));
    let listener = server_ctx.listen("127.0.0.1:0", listen).expect("listen");
    let url = format!("ws://{}/soak", server_ctx.local_addr(listener).unwrap());
    let server_baseline = server_ctx.stats();
    let client_baseline = client_ctx.stats();
    let rss_base = trimmed_rss();
    println!(
        "soak: {connections} connections, {total} in all, {seconds} s; baseline RSS {} KiB",
        rss_base >> 10
    );

    let start = Instant::now();
    let run = Duration::from_secs(seconds);
    let mut started = 0u64;
    let mut peak_rss = 0;
    let mut peak_conns = 0;
    let actions = (connections / 10).clamp(10, 1000);
    let poll_tick = Duration::from_millis(1);
    let mut last_report = Instant::now();
    while start.elapsed() < run {
        // Keep N connections (opening at most 200 per turn), until T were opened.
        let live = client_ctx.connection_count() as u64;
        let mut opened_now = 0;
        while live + opened_now < connections && started < total && opened_now < 200 {
            let mut options = ConnectOptions::default();
            options.connection.ping_interval = Some(Duration::from_secs(3));
            options.connection.handshake_timeout = Duration::from_secs(60);
            options.connection.close_timeout = Duration::from_secs(60);
            client_ctx.connect(&url, options).expect("connect");
            started += 1;
            opened_now += 1;
        }
        server_ctx
            .poll(&mut server, Some(Duration::ZERO))
            .expect("server poll");
        client_ctx
            .poll(&mut client, Some(poll_tick))
            .expect("client poll");
        for _ in 0..actions {
            act(&mut client_ctx, &mut client, &mut rng);
        }
        peak_conns = peak_conns.max(client_ctx.connection_count());
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            peak_rss = peak_rss.max(rss());
            println!(
                "soak: {:>4} s: {} open, {} started, {} sent, {} echoed, RSS {} KiB",
                start.elapsed().as_secs(),
                client.active.len(),
                started,
                client.sent,
                client.echoed,
                rss() >> 10
            );
        }
        if started >= total && client.active.is_empty() && client_ctx.connection_count() == 0 {
            break;
        }
    }
    peak_rss = peak_rss.max(rss());
    WINDING.store(true, std::sync::atomic::Ordering::Relaxed);
    // Wind down: every connection still active closes cleanly.
    for conn in std::mem::take(&mut client.active) {
        if let Some(state) = client.conns.get_mut(&conn) {
            state.ending = Some(Ending::ClientClose);
            let _ = client_ctx.close(conn, 1000, "");
        }
    }
    let end = Instant::now() + Duration::from_secs(120);
    while (client_ctx.connection_count() > 0 || server_ctx.connection_count() > 0) && Instant::now() < end {
        server_ctx
            .poll(&mut server, Some(Duration::ZERO))
            .expect("server poll");
        client_ctx
            .poll(&mut client, Some(poll_tick))
            .expect("client poll");
        // Connections whose handshake completed during the wind-down close too.
        for conn in std::mem::take(&mut client.active) {
            if let Some(state) = client.conns.get_mut(&conn) {
                state.ending = Some(Ending::ClientClose);
                let _ = client_ctx.close(conn, 1000, "");
            }
        }
    }
    // Deliver what the last closes queued.
    for _ in 0..10 {
        server_ctx
            .poll(&mut server, Some(Duration::ZERO))
            .expect("server poll");
        client_ctx
            .poll(&mut client, Some(Duration::ZERO))
            .expect("client poll");
    }
    let elapsed = start.elapsed();
    let rss_after = rss();
    let rss_trimmed = trimmed_rss();

    let mut failures = std::mem::take(&mut client.failures);
    let twice: Vec<_> = client.closes.iter().filter(|(_, n)| **n != 1).collect();
    if !twice.is_empty() {
        failures.push(format!(
            "{} client connections closed more than once",
            twice.len()
        ));
    }
    if client.closes.len() as u64 != started {
        failures.push(format!(
            "{} client closes for {started} connections",
            client.closes.len()
        ));
    }
    let server_closes = server.closes.len() as u64;
    if server.closes.values().any(|n| *n != 1) {
        failures.push("a server connection closed more than once".into());
    }
    if server_closes != server.opened {
        failures.push(format!(
            "server: {} opened, {server_closes} closed",
            server.opened
        ));
    }
    if !client.conns.is_empty() {
        failures.push(format!(
            "{} client connections never reported a close",
            client.conns.len()
        ));
        for (conn, state) in &client.conns {
            failures.push(format!(
                "  client {conn}: ending {:?}, {} unanswered, paused {:?}, buffered {:?}",
                state.ending,
                state.inflight.len(),
                client_ctx.is_reading_paused(*conn),
                client_ctx.buffered_amount(*conn)
            ));
        }
        for conn in &server.open {
            failures.push(format!(
                "  server {conn}: paused {:?}, buffered {:?}",
                server_ctx.is_reading_paused(*conn),
                server_ctx.buffered_amount(*conn)
            ));
        }
    }
    baseline_check(
        "server",
        server_ctx.stats(),
        server_baseline.listeners,
        &mut failures,
    );
    baseline_check(
        "client",
        client_ctx.stats(),
        client_baseline.listeners,
        &mut failures,
    );
    if rss_trimmed > rss_base + RSS_MARGIN {
        failures.push(format!(
            "RSS {} KiB after, baseline {} KiB: more than {} KiB above",
            rss_trimmed >> 10,
            rss_base >> 10,
            RSS_MARGIN >> 10
        ));
    }
    let mut ended: Vec<_> = client.ended.iter().collect();
    ended.sort();
    println!(
        "soak: {started} connections ({peak_conns} at once) in {:.1} s; {} messages sent, {} echoed, \
         {} clean closes checked for completeness; server send errors {}",
        elapsed.as_secs_f64(),
        client.sent,
        client.echoed,
        client.clean_checked,
        server.send_errors
    );
    println!("soak: endings {ended:?}");
    println!(
        "soak: RSS baseline {} KiB, peak {} KiB, after {} KiB, after malloc_trim {} KiB (margin {} KiB)",
        rss_base >> 10,
        peak_rss >> 10,
        rss_after >> 10,
        rss_trimmed >> 10,
        RSS_MARGIN >> 10
    );
    if failures.is_empty() {
        println!("soak: ok");
    } else {
        for failure in &failures {
            println!("soak: FAIL {failure}");
        }
        println!("soak: {} failures", failures.len());
        std::process::exit(1);
    }
}
