//! A handler that panics inside `poll`: the caller catches the panic and the same context keeps
//! working (no `Reentrant` forever, a read buffer, no lost readiness).

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use common::{FrameReader, client_frame, raw_client, wait_eof};
use wskit::net::{ConnId, Context, Handler, ListenOptions, ListenerId, Message, OpenInfo};
use wskit::proto::CloseInfo;

const SECS: Duration = Duration::from_secs(5);

/// Echoes; panics on the message "boom" and in the `on_close` of `panic_on_close`.
#[derive(Default)]
struct Panicky {
    addr: Option<SocketAddr>,
    opened: Vec<ConnId>,
    closed: Vec<(ConnId, u16)>,
    panic_on_close: Option<ConnId>,
}

impl Handler for Panicky {
    fn on_listen(&mut self, _ctx: &mut Context, _listener: ListenerId, addr: SocketAddr) {
        self.addr = Some(addr);
    }

    fn on_open(&mut self, _ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.opened.push(conn);
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        if message.as_bytes() == b"boom" {
            panic!("handler panic (expected by the test)");
        }
        ctx.send(conn, message.kind(), message.as_bytes()).unwrap();
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        self.closed.push((conn, info.code));
        if self.panic_on_close == Some(conn) {
            panic!("on_close panic (expected by the test)");
        }
    }
}

/// Keeps the handlers' deliberate panics out of the output; any other panic (a failing assertion)
/// is printed as usual.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
            if !text.is_some_and(|t| t.contains("expected by the test")) {
                default(info);
            }
        }));
    });
}

fn server() -> (Context, Panicky, SocketAddr) {
    let mut ctx = Context::new().unwrap();
    let mut h = Panicky::default();
    ctx.listen("127.0.0.1:0", ListenOptions::default()).unwrap();
    ctx.poll(&mut h, Some(Duration::ZERO)).unwrap();
    let addr = h.addr.unwrap();
    (ctx, h, addr)
}

fn open(ctx: &mut Context, h: &mut Panicky, addr: SocketAddr) -> (TcpStream, ConnId, FrameReader) {
    let before = h.opened.len();
    let (stream, rest) = raw_client(ctx, h, addr);
    common::pump(ctx, h, SECS, "open", |_, h| h.opened.len() > before);
    (stream, *h.opened.last().unwrap(), FrameReader::with(rest))
}

/// Polls, catching panics, until one comes; fails after 5 s.
fn poll_until_panic(ctx: &mut Context, h: &mut Panicky) {
    let end = Instant::now() + SECS;
    loop {
        assert!(Instant::now() < end, "the handler never panicked");
        let result = catch_unwind(AssertUnwindSafe(|| ctx.poll(h, Some(Duration::from_millis(2)))));
        match result {
            Ok(polled) => {
                polled.expect("poll");
            }
            Err(_) => return,
        }
    }
}

fn echo(ctx: &mut Context, h: &mut Panicky, stream: &mut TcpStream, frames: &mut FrameReader, text: &[u8]) {
    stream.write_all(&client_frame(true, 0x1, text)).unwrap();
    assert_eq!(frames.read_frame(stream, ctx, h, SECS).2, text);
}

#[test]
fn a_panic_in_on_message_leaves_the_context_usable() {
    quiet_expected_panics();
    let (mut ctx, mut h, addr) = server();
    let (mut a, a_id, mut a_frames) = open(&mut ctx, &mut h, addr);
    let (mut b, b_id, _) = open(&mut ctx, &mut h, addr);
    echo(&mut ctx, &mut h, &mut a, &mut a_frames, b"before");
    // Both arrive for the same poll: whichever is handled first, `a`'s message is not lost.
    b.write_all(&client_frame(true, 0x1, b"boom")).unwrap();
    a.write_all(&client_frame(true, 0x1, b"same poll")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    poll_until_panic(&mut ctx, &mut h);

    // The context answers again: no Reentrant, and it reads (its read buffer is back).
    ctx.poll(&mut h, Some(Duration::ZERO))
        .expect("poll after a caught panic");
    assert_eq!(
        a_frames.read_frame(&mut a, &mut ctx, &mut h, SECS).2,
        b"same poll"
    );
    echo(&mut ctx, &mut h, &mut a, &mut a_frames, b"after");
    // The connection whose read was cut short is aborted and reported once.
    wait_eof(&mut b, &mut ctx, &mut h, SECS);
    common::pump(&mut ctx, &mut h, SECS, "b closed", |_, h| {
        h.closed.iter().any(|(c, _)| *c == b_id)
    });
    assert_eq!(h.closed, vec![(b_id, 1006)]);
    assert!(ctx.is_open(a_id));
    // A new connection works too.
    let (mut c, _, mut c_frames) = open(&mut ctx, &mut h, addr);
    echo(&mut ctx, &mut h, &mut c, &mut c_frames, b"new connection");
    echo(&mut ctx, &mut h, &mut a, &mut a_frames, b"old connection");
}

#[test]
fn a_panic_in_a_deferred_on_close_leaves_other_connections_alone() {
    quiet_expected_panics();
    let (mut ctx, mut h, addr) = server();
    let (mut a, a_id, mut a_frames) = open(&mut ctx, &mut h, addr);
    let (_b, b_id, _) = open(&mut ctx, &mut h, addr);
    h.panic_on_close = Some(b_id);
    ctx.abort(b_id).unwrap();
    poll_until_panic(&mut ctx, &mut h);
    assert_eq!(
        h.closed,
        vec![(b_id, 1006)],
        "the panicking on_close is not delivered again"
    );
    ctx.poll(&mut h, Some(Duration::ZERO))
        .expect("poll after a caught panic");
    echo(&mut ctx, &mut h, &mut a, &mut a_frames, b"still open");
    assert!(ctx.is_open(a_id));
    assert_eq!(h.closed, vec![(b_id, 1006)]);
}
