//! Slow and impaired links: a userspace impairment proxy (`tests/support/impair.rs`: delay per
//! chunk, random stalls, 1-byte segments, writes split at every offset, half-closes, black holes)
//! between a client and a server context. Through it 16 MiB messages and close handshakes
//! complete, and the ping, pong-timeout, handshake and close timers fire as configured. Timer
//! tolerances: never early by more than 20 ms (the loop's clock is in milliseconds and the
//! proxy's 5 ms read timeout delays what it forwards), at most 500 ms late (a loaded CI machine).

mod common;
#[path = "support/impair.rs"]
mod impair;

use std::time::{Duration, Instant};

use common::{Err, Ev, Pair, Recorder, big_limits};
use impair::Proxy;
use wskit::net::{ConnectOptions, ListenOptions};
use wskit::proto::Role;

const EARLY: Duration = Duration::from_millis(20);
const LATE: Duration = Duration::from_millis(500);

fn assert_fired(what: &str, took: Duration, configured: Duration) {
    assert!(
        took + EARLY >= configured && took <= configured + LATE,
        "{what} fired after {took:?}; configured {configured:?} (window -{EARLY:?} / +{LATE:?})"
    );
}

/// A server behind a proxy, and a client context; the client is not connected yet.
fn behind_proxy(listen: ListenOptions) -> (Pair, Proxy) {
    let mut pair = Pair::start(listen, Recorder::echoing());
    let proxy = Proxy::start(pair.addr);
    pair.addr = proxy.addr;
    (pair, proxy)
}

fn open(pair: &mut Pair, connect: ConnectOptions) {
    pair.connect(connect);
    pair.pump("both sides open", |p| {
        !p.sh.opens(Role::Server).is_empty() && p.ch.opens(Role::Client).contains(&p.cid)
    });
    pair.sid = pair.sh.opens(Role::Server)[0];
}

#[test]
fn sixteen_mib_messages_and_the_close_handshake_complete_through_split_stalled_segments() {
    let mut listen = ListenOptions::default();
    big_limits(&mut listen.connection);
    let (mut p, proxy) = behind_proxy(listen);
    for imp in [&proxy.up, &proxy.down] {
        imp.segments(1371).split(true).stalls(5, 20);
    }
    let mut connect = ConnectOptions::default();
    big_limits(&mut connect.connection);
    open(&mut p, connect);
    // Incompressible (xorshift) bytes: compression is negotiated by default, and deflate cannot
    // shrink them, so the whole 16 MiB (and a little more) crosses the proxy.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let message: Vec<u8> = (0..16u32 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    p.c.send_binary(p.cid, &message).unwrap();
    p.pump_for(Duration::from_secs(60), "16 MiB echoed", |p| {
        !p.ch.messages(p.cid).is_empty()
    });
    let echoed = p.ch.messages(p.cid);
    assert_eq!(echoed.len(), 1);
    assert!(echoed[0].1 == message, "the echo differs");
    p.c.close(p.cid, 1000, "done").unwrap();
    p.pump("closed both sides", |p| {
        p.ch.is_closed(p.cid) && p.sh.is_closed(p.sid)
    });
    assert_eq!(p.ch.closes(p.cid), vec![(1000, String::new(), true, true)]);
    assert_eq!(p.sh.closes(p.sid), vec![(1000, "done".to_string(), true, false)]);
    assert!(proxy.up.forwarded.load(std::sync::atomic::Ordering::Relaxed) > 16 << 20);
    p.drain();
}

#[test]
fn one_byte_segments_and_half_closes_still_give_every_message_and_a_clean_close() {
    let (mut p, proxy) = behind_proxy(ListenOptions::default());
    for imp in [&proxy.up, &proxy.down] {
        imp.segments(1).split(true).delay(Duration::from_micros(200));
    }
    open(&mut p, ConnectOptions::default());
    let texts: Vec<String> = (0..5).map(|i| format!("{i}:{}", "é".repeat(300 * i))).collect();
    for text in &texts {
        p.c.send_text(p.cid, text).unwrap();
    }
    p.c.ping(p.cid, b"through").unwrap();
    p.pump_for(Duration::from_secs(30), "echoes", |p| {
        p.ch.messages(p.cid).len() == texts.len()
    });
    let got: Vec<Vec<u8>> = p.ch.messages(p.cid).into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        got,
        texts.iter().map(|t| t.as_bytes().to_vec()).collect::<Vec<_>>()
    );
    assert!(
        p.ch.events
            .iter()
            .any(|e| matches!(e, Ev::Pong(_, d) if d == b"through"))
    );
    // The server closes: its close frame, then its FIN (a half-close the proxy passes on while the
    // other direction stays open for the client's reply).
    p.s.close(p.sid, 1001, "bye").unwrap();
    p.pump_for(Duration::from_secs(10), "closed", |p| {
        p.ch.is_closed(p.cid) && p.sh.is_closed(p.sid)
    });
    assert_eq!(p.ch.closes(p.cid), vec![(1001, "bye".to_string(), true, false)]);
    assert_eq!(p.sh.closes(p.sid), vec![(1001, String::new(), true, true)]);
    p.drain();
}

#[test]
fn the_ping_timer_fires_on_time_through_a_delaying_link() {
    let interval = Duration::from_millis(300);
    let mut listen = ListenOptions::default();
    listen.connection.ping_interval = Some(interval);
    let (mut p, proxy) = behind_proxy(listen);
    proxy.down.delay(Duration::from_millis(30));
    open(&mut p, ConnectOptions::default());
    let opened = Instant::now();
    p.pump("a ping", |p| {
        p.ch.events.iter().any(|e| matches!(e, Ev::Ping(..)))
    });
    // The server counts from the last bytes it read (the upgrade request, just before `opened`
    // here) and the proxy adds its delay on the way.
    assert_fired("ping", opened.elapsed(), interval);
    // Answered: the connection stays open over several intervals.
    let end = Instant::now() + interval * 4;
    p.pump("four intervals", |_| Instant::now() >= end);
    assert!(!p.sh.is_closed(p.sid) && !p.ch.is_closed(p.cid));
    let pings = p.ch.events.iter().filter(|e| matches!(e, Ev::Ping(..))).count();
    assert!((3..=6).contains(&pings), "{pings} pings in five intervals");
}

#[test]
fn the_pong_timeout_fires_when_the_link_swallows_the_pong() {
    let (interval, timeout) = (Duration::from_millis(200), Duration::from_millis(300));
    let mut listen = ListenOptions::default();
    listen.connection.ping_interval = Some(interval);
    listen.connection.pong_timeout = timeout;
    let (mut p, proxy) = behind_proxy(listen);
    open(&mut p, ConnectOptions::default());
    // Nothing from the client reaches the server from now on.
    proxy.up.hole(true);
    let start = Instant::now();
    p.pump("server drops the silent peer", |p| p.sh.is_closed(p.sid));
    assert_fired("pong timeout", start.elapsed(), interval + timeout);
    assert_eq!(p.sh.closes(p.sid), vec![(1006, String::new(), false, true)]);
    assert!(
        matches!(p.sh.errors(p.sid).as_slice(), [Err::Timeout(_)]),
        "{:?}",
        p.sh.errors(p.sid)
    );
    // The client learns through the FIN the proxy passes on.
    p.pump("client sees the drop", |p| p.ch.is_closed(p.cid));
    assert_eq!(p.ch.closes(p.cid), vec![(1006, String::new(), false, false)]);
}

#[test]
fn the_handshake_timeout_fires_when_the_request_never_arrives() {
    let handshake = Duration::from_millis(300);
    let mut listen = ListenOptions::default();
    listen.connection.handshake_timeout = handshake;
    let (mut p, proxy) = behind_proxy(listen);
    proxy.up.hole(true);
    let mut connect = ConnectOptions::default();
    connect.connection.handshake_timeout = Duration::from_millis(900);
    let start = Instant::now();
    p.connect(connect);
    p.pump("the server accepted TCP", |p| p.s.connection_count() == 1);
    p.pump("the server drops it", |p| p.s.connection_count() == 0);
    assert_fired("server handshake timeout", start.elapsed(), handshake);
    // The server's FIN reaches the client before its own (longer) timeout.
    p.pump("client fails", |p| p.ch.is_closed(p.cid));
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    assert!(p.sh.opens(Role::Server).is_empty());
    // And the client's own timer, when the server never answers and never closes either.
    let (mut p, proxy) = behind_proxy(ListenOptions::default());
    proxy.up.hole(true);
    let client_timeout = Duration::from_millis(400);
    let mut connect = ConnectOptions::default();
    connect.connection.handshake_timeout = client_timeout;
    let start = Instant::now();
    p.connect(connect);
    p.pump("client times out", |p| p.ch.is_closed(p.cid));
    assert_fired("client handshake timeout", start.elapsed(), client_timeout);
    assert!(
        p.ch.errors(p.cid).iter().any(|e| matches!(e, Err::Timeout(_))),
        "{:?}",
        p.ch.errors(p.cid)
    );
}

#[test]
fn the_close_timeout_fires_when_the_reply_never_comes() {
    let (mut p, proxy) = behind_proxy(ListenOptions::default());
    let close_timeout = Duration::from_millis(300);
    let mut connect = ConnectOptions::default();
    connect.connection.close_timeout = close_timeout;
    open(&mut p, connect);
    // The server's answer is swallowed.
    proxy.down.hole(true);
    let start = Instant::now();
    p.c.close(p.cid, 1000, "").unwrap();
    p.pump("client gives up", |p| p.ch.is_closed(p.cid));
    assert_fired("close timeout", start.elapsed(), close_timeout);
    assert_eq!(p.ch.closes(p.cid), vec![(1006, String::new(), false, true)]);
}
