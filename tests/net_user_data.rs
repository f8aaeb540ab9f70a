//! User data survives every close path: `ctx.user_data(conn)` answers inside `on_close` however the
//! connection ended, and a connection whose user data was set gets exactly one `on_close` even if
//! it never opened.

mod common;

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use common::{Recorder, client_frame, listen, raw_client, upgrade_request, wait_eof};
use wskit::net::{ConnId, Context, Decision, ListenOptions};
use wskit::proto::Role;

const SECS: Duration = Duration::from_secs(5);

/// A server whose `on_open` gives every connection user data `conn.as_u64() ^ 0xABCD`.
fn server(options: ListenOptions) -> (Context, Recorder, SocketAddr) {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::new();
    h.on_open = Some(Box::new(|ctx, conn, _| {
        ctx.set_user_data(conn, tag(conn)).unwrap();
    }));
    let (_, addr) = listen(&mut ctx, &mut h, options);
    (ctx, h, addr)
}

fn tag(conn: ConnId) -> u64 {
    conn.as_u64() ^ 0xABCD
}

/// Opens a raw client and returns it with the server's id of the connection.
fn open_raw(ctx: &mut Context, h: &mut Recorder, addr: SocketAddr) -> (TcpStream, ConnId) {
    let before = h.opens(Role::Server).len();
    let (raw, _) = raw_client(ctx, h, addr);
    common::pump(ctx, h, SECS, "server open", |_, h| {
        h.opens(Role::Server).len() > before
    });
    let sid = *h.opens(Role::Server).last().unwrap();
    (raw, sid)
}

/// Polls until `conn` has had its `on_close`, then a little longer; returns the user data seen in
/// each of its `on_close` calls (exactly one is expected).
fn closes_seen(ctx: &mut Context, h: &mut Recorder, conn: ConnId) -> Vec<Option<u64>> {
    common::pump(ctx, h, SECS, "on_close", |_, h| h.is_closed(conn));
    for _ in 0..5 {
        ctx.poll(h, Some(Duration::from_millis(2))).unwrap();
    }
    h.close_user_data
        .iter()
        .filter(|(c, _)| *c == conn)
        .map(|(_, data)| *data)
        .collect()
}

#[test]
fn user_data_is_readable_in_on_close_after_a_clean_close_and_a_peer_reset() {
    let (mut ctx, mut h, addr) = server(ListenOptions::default());
    // Clean: the client sends a close frame and the server answers.
    let (mut raw, sid) = open_raw(&mut ctx, &mut h, addr);
    raw.write_all(&client_frame(true, 0x8, &1000u16.to_be_bytes()))
        .unwrap();
    assert_eq!(closes_seen(&mut ctx, &mut h, sid), vec![Some(tag(sid))]);
    assert_eq!(h.closes(sid)[0].0, 1000);
    // Reset: the TCP connection goes away without a close frame.
    let (raw, sid) = open_raw(&mut ctx, &mut h, addr);
    raw.shutdown(Shutdown::Both).unwrap();
    drop(raw);
    assert_eq!(closes_seen(&mut ctx, &mut h, sid), vec![Some(tag(sid))]);
    assert_eq!(h.closes(sid)[0].0, 1006);
}

#[test]
fn user_data_is_readable_in_on_close_after_close_and_pong_timeouts() {
    let mut options = ListenOptions::default();
    options.connection.close_timeout = Duration::from_millis(100);
    let (mut ctx, mut h, addr) = server(options);
    // The peer never answers our close.
    let (_raw, sid) = open_raw(&mut ctx, &mut h, addr);
    ctx.close(sid, 1000, "bye").unwrap();
    assert_eq!(closes_seen(&mut ctx, &mut h, sid), vec![Some(tag(sid))]);
    assert_eq!(h.closes(sid)[0].0, 1006, "dropped after the close timeout");

    let mut options = ListenOptions::default();
    options.connection.ping_interval = Some(Duration::from_millis(30));
    options.connection.pong_timeout = Duration::from_millis(60);
    let (mut ctx, mut h, addr) = server(options);
    // The peer never answers our ping.
    let (_raw, sid) = open_raw(&mut ctx, &mut h, addr);
    assert_eq!(closes_seen(&mut ctx, &mut h, sid), vec![Some(tag(sid))]);
    assert_eq!(h.closes(sid)[0].0, 1006, "dropped after the pong timeout");
}

#[test]
fn user_data_is_readable_in_on_close_after_abort_and_shutdown() {
    let mut options = ListenOptions::default();
    options.connection.close_timeout = Duration::from_millis(100);
    let (mut ctx, mut h, addr) = server(options);
    let (_raw, sid) = open_raw(&mut ctx, &mut h, addr);
    ctx.abort(sid).unwrap();
    assert_eq!(closes_seen(&mut ctx, &mut h, sid), vec![Some(tag(sid))]);

    // Shutdown: the peer never answers the 1001, so the connection is dropped at the end.
    let (_raw, sid) = open_raw(&mut ctx, &mut h, addr);
    ctx.shutdown(&mut h, Duration::from_millis(150)).unwrap();
    assert!(h.is_closed(sid));
    let seen: Vec<_> = h.close_user_data.iter().filter(|(c, _)| *c == sid).collect();
    assert_eq!(seen, vec![&(sid, Some(tag(sid)))]);
}

/// A server whose `on_accept` sets user data 42 and answers with `decision`.
fn deciding_server(options: ListenOptions, decision: Decision) -> (Context, Recorder, SocketAddr) {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::new();
    h.accept_ctx = Some(Box::new(move |ctx, request| {
        ctx.set_user_data(request.conn, 42).unwrap();
        decision.clone()
    }));
    let (_, addr) = listen(&mut ctx, &mut h, options);
    (ctx, h, addr)
}

/// Sends an upgrade request and polls until the server ran `on_accept`; returns the server's id.
fn request(ctx: &mut Context, h: &mut Recorder, addr: SocketAddr) -> (TcpStream, ConnId) {
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(upgrade_request(addr, "/").as_bytes()).unwrap();
    let before = accepts(h).len();
    common::pump(ctx, h, SECS, "on_accept", |_, h| accepts(h).len() > before);
    (raw, *accepts(h).last().unwrap())
}

fn accepts(h: &Recorder) -> Vec<ConnId> {
    h.events
        .iter()
        .filter_map(|e| match e {
            common::Ev::Accept { conn, .. } => Some(*conn),
            _ => None,
        })
        .collect()
}

#[test]
fn a_rejected_connection_with_user_data_gets_one_on_close() {
    let (mut ctx, mut h, addr) = deciding_server(ListenOptions::default(), Decision::reject(403, "no"));
    let (mut raw, sid) = request(&mut ctx, &mut h, addr);
    assert_eq!(closes_seen(&mut ctx, &mut h, sid), vec![Some(42)]);
    assert_eq!(h.closes(sid), vec![(1006, String::new(), false, true)]);
    let (_, data) = wait_eof(&mut raw, &mut ctx, &mut h, SECS);
    assert!(
        data.starts_with(b"HTTP/1.1 403"),
        "{:?}",
        String::from_utf8_lossy(&data)
    );
    assert!(h.opens(Role::Server).is_empty());
}

#[test]
fn a_rejected_connection_without_user_data_gets_no_on_close() {
    let mut ctx = Context::new().unwrap();
    let mut h = Recorder::new();
    h.accept = Some(Box::new(|_| Decision::reject(403, "no")));
    let (_, addr) = listen(&mut ctx, &mut h, ListenOptions::default());
    let (mut raw, sid) = request(&mut ctx, &mut h, addr);
    wait_eof(&mut raw, &mut ctx, &mut h, SECS);
    common::pump(&mut ctx, &mut h, SECS, "slot freed", |ctx, _| {
        ctx.connection_count() == 0
    });
    ctx.poll(&mut h, Some(Duration::from_millis(5))).unwrap();
    assert!(h.closes(sid).is_empty(), "{:?}", h.events_of(sid));
}

#[test]
fn a_pending_connection_with_user_data_gets_one_on_close_on_timeout_reset_or_abort() {
    let mut options = ListenOptions::default();
    options.connection.handshake_timeout = Duration::from_millis(150);
    let (mut ctx, mut h, addr) = deciding_server(options, Decision::Defer);

    // Timed out while the decision was pending.
    let (mut raw, timed_out) = request(&mut ctx, &mut h, addr);
    assert!(ctx.is_accept_pending(timed_out));
    assert_eq!(closes_seen(&mut ctx, &mut h, timed_out), vec![Some(42)]);
    assert_eq!(h.closes(timed_out), vec![(1006, String::new(), false, true)]);
    let (_, data) = wait_eof(&mut raw, &mut ctx, &mut h, SECS);
    assert!(data.is_empty(), "no response to a dropped request");

    // The peer left while the decision was pending.
    let (raw, reset) = request(&mut ctx, &mut h, addr);
    drop(raw);
    assert_eq!(closes_seen(&mut ctx, &mut h, reset), vec![Some(42)]);
    assert_eq!(h.closes(reset), vec![(1006, String::new(), false, false)]);

    // Aborted by the application while pending.
    let (_raw, aborted) = request(&mut ctx, &mut h, addr);
    ctx.abort(aborted).unwrap();
    assert_eq!(closes_seen(&mut ctx, &mut h, aborted), vec![Some(42)]);

    // Rejected later.
    let (mut raw, rejected) = request(&mut ctx, &mut h, addr);
    ctx.reject(rejected, 401, &[], b"token expired").unwrap();
    assert_eq!(closes_seen(&mut ctx, &mut h, rejected), vec![Some(42)]);
    let (_, data) = wait_eof(&mut raw, &mut ctx, &mut h, SECS);
    assert!(data.starts_with(b"HTTP/1.1 401"));
    assert!(data.ends_with(b"token expired"));
    assert!(h.opens(Role::Server).is_empty());
}
