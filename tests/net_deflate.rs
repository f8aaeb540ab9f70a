//! permessage-deflate through the event loop: negotiation by the listener's and the client's
//! policies, round trips of every shape, compressed frames on the wire, the per-loop codec pool
//! (idle compressed connections hold no codec state), 1007 for invalid compressed data and 1009
//! for a decompression bomb with bounded memory.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use common::{Pair, Recorder, TICK, client_frame};
use wskit::net::{ConnectOptions, Context, ListenOptions};
use wskit::proto::{DeflateConfig, DeflateParams, MessageKind, Role};

/// Bytes currently allocated by this process, and the most seen since the last reset.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

struct Counting;

fn grew(by: isize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only the byte counts are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract; passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc`/`realloc` above with this layout; passed through.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract; passed through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The heap counts are process-wide: every test of this file runs alone.
static HEAP_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    HEAP_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// JSON-like text of about `len` bytes (compresses as real API traffic does).
fn json(len: usize) -> String {
    let mut s = String::from("[");
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"score\":{},\"tags\":[\"a\",\"b{}\"]}},",
            i % 97,
            i * 31 % 1000,
            i % 7
        ));
        i += 1;
    }
    s.truncate(len.saturating_sub(1));
    s.push(']');
    s
}

fn expected_default_params() -> DeflateParams {
    // ConnectOptions::default offers 12-bit windows; ListenOptions::default adds no context
    // takeover both ways.
    DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 12,
        client_max_window_bits: 12,
    }
}

#[test]
fn the_defaults_negotiate_and_both_ends_report_it() {
    let _serial = serial();
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    let want = Some(expected_default_params());
    assert_eq!(p.s.deflate_params(p.sid).unwrap(), want);
    assert_eq!(p.c.deflate_params(p.cid).unwrap(), want);
    p.c.close(p.cid, 1000, "").unwrap();
    p.drain();
}

#[test]
fn open_info_carries_the_parameters() {
    let _serial = serial();
    use std::sync::{Arc, Mutex};
    type Opens = Arc<Mutex<Vec<(Role, Option<DeflateParams>)>>>;
    #[derive(Default)]
    struct Seen(Opens);
    impl wskit::net::Handler for Seen {
        fn on_open(&mut self, _: &mut Context, _: wskit::net::ConnId, info: &wskit::net::OpenInfo<'_>) {
            self.0.lock().unwrap().push((info.role, info.deflate));
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut s = Context::new().unwrap();
    let mut sh = Seen(seen.clone());
    let id = s.listen("127.0.0.1:0", ListenOptions::default()).unwrap();
    let addr = s.local_addr(id).unwrap();
    let mut c = Context::new().unwrap();
    let mut ch = Seen(seen.clone());
    c.connect(&common::url(addr, "/"), ConnectOptions::default())
        .unwrap();
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(5),
        "both open",
        |_, _, _, _| seen.lock().unwrap().len() == 2,
    );
    let seen = seen.lock().unwrap();
    for role in [Role::Server, Role::Client] {
        assert!(
            seen.contains(&(role, Some(expected_default_params()))),
            "{role:?}: {seen:?}"
        );
    }
}

#[test]
fn disabled_on_either_side_means_uncompressed() {
    let _serial = serial();
    let no = ListenOptions {
        deflate: DeflateConfig::DISABLED,
        ..ListenOptions::default()
    };
    let p = Pair::open(no, ConnectOptions::default());
    assert_eq!(p.s.deflate_params(p.sid).unwrap(), None);
    assert_eq!(p.c.deflate_params(p.cid).unwrap(), None);
    let connect = ConnectOptions {
        deflate: DeflateConfig::DISABLED,
        ..ConnectOptions::default()
    };
    let p = Pair::open(ListenOptions::default(), connect);
    assert_eq!(p.s.deflate_params(p.sid).unwrap(), None);
    assert_eq!(p.c.deflate_params(p.cid).unwrap(), None);
}

#[test]
fn takeover_when_both_policies_allow_it() {
    let _serial = serial();
    let listen = ListenOptions {
        deflate: DeflateConfig::CLIENT,
        ..ListenOptions::default()
    };
    let mut p = Pair::open(listen, ConnectOptions::default());
    let params = p.s.deflate_params(p.sid).unwrap().unwrap();
    assert!(!params.server_no_context_takeover && !params.client_no_context_takeover);
    echo_all(&mut p);
}

/// Every shape of message through a compressed connection, echoed by the server.
fn echo_all(p: &mut Pair) {
    let mut sent: Vec<(bool, Vec<u8>)> = Vec::new();
    for len in [0, 10, 63, 64, 200, 2048, 64 << 10, 1 << 20] {
        let text = json(len);
        p.c.send_text(p.cid, &text).unwrap();
        sent.push((true, text.into_bytes()));
        let binary: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        p.c.send_binary(p.cid, &binary).unwrap();
        sent.push((false, binary));
    }
    // Fragmented, of unknown length while sent: compressed as it goes.
    let whole = json(70 << 10);
    let (a, rest) = whole.as_bytes().split_at(100);
    let (b, c) = rest.split_at(40 << 10);
    p.c.begin_message(p.cid, MessageKind::Text, a).unwrap();
    p.c.continue_message(p.cid, b).unwrap();
    p.c.finish_message(p.cid, c).unwrap();
    sent.push((true, whole.clone().into_bytes()));
    let cid = p.cid;
    let n = sent.len();
    p.pump("every echo", |p| p.ch.messages(cid).len() >= n);
    let got = p.ch.messages(cid);
    for (i, (got, want)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(got.0, want.0, "message {i}: kind");
        assert!(got.1 == want.1, "message {i} ({} bytes) differs", want.1.len());
    }
}

#[test]
fn every_shape_round_trips_compressed() {
    let _serial = serial();
    let mut big = ListenOptions::default();
    common::big_limits(&mut big.connection);
    let mut connect = ConnectOptions::default();
    common::big_limits(&mut connect.connection);
    let mut p = Pair::open(big, connect);
    assert!(p.c.deflate_params(p.cid).unwrap().is_some());
    echo_all(&mut p);
}

/// A raw client that offers `extensions`; returns the stream (10 ms read timeout), the 101 head
/// and the bytes after it.
fn raw_offering(
    ctx: &mut Context,
    handler: &mut dyn wskit::net::Handler,
    addr: SocketAddr,
    extensions: &str,
) -> (TcpStream, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let request = common::upgrade_request(addr, "/raw").replace(
        "\r\n\r\n",
        &format!("\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"),
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(pos + 4);
            let head = String::from_utf8_lossy(&buf).into_owned();
            assert!(head.starts_with("HTTP/1.1 101"), "expected 101, got {head:?}");
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
            return (stream, head, rest);
        }
        assert!(Instant::now() < deadline, "timed out waiting for the 101");
        ctx.poll(handler, Some(TICK)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => panic!("EOF during the handshake"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("raw read: {e}"),
        }
    }
}

/// Reads one server frame: (first byte, payload).
fn read_raw_frame(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    ctx: &mut Context,
    handler: &mut dyn wskit::net::Handler,
) -> (u8, Vec<u8>) {
    let mut reader = common::FrameReader::with(std::mem::take(buf));
    let end = Instant::now() + Duration::from_secs(10);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let first = reader.buf.first().copied();
        if let Some((_, _, payload)) = reader.next_frame() {
            *buf = std::mem::take(&mut reader.buf);
            return (first.unwrap(), payload);
        }
        assert!(Instant::now() < end, "timed out reading a frame");
        ctx.poll(handler, Some(Duration::ZERO)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => panic!("EOF while waiting for a frame"),
            Ok(n) => reader.buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("raw read: {e}"),
        }
    }
}

fn close_code(payload: &[u8]) -> u16 {
    u16::from_be_bytes([payload[0], payload[1]])
}

#[test]
fn the_server_compresses_on_the_wire_above_min_size_only() {
    let _serial = serial();
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let (_, addr) = common::listen(&mut s, &mut sh, ListenOptions::default());
    let (mut stream, head, mut rest) = raw_offering(&mut s, &mut sh, addr, "permessage-deflate");
    assert!(
        head.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
             client_no_context_takeover\r\n"
        ),
        "{head}"
    );
    // Uncompressed frames (RSV1 clear) are allowed with the extension on; the echoes come back
    // compressed once they reach min_size (64 bytes).
    let text = json(2048);
    stream
        .write_all(&client_frame(true, 0x1, text.as_bytes()))
        .unwrap();
    let (first, payload) = read_raw_frame(&mut stream, &mut rest, &mut s, &mut sh);
    assert_eq!(first, 0x80 | 0x40 | 0x1, "FIN + RSV1 + text");
    assert!(
        payload.len() < text.len() / 3,
        "2 KiB of JSON compressed to {} bytes",
        payload.len()
    );
    stream.write_all(&client_frame(true, 0x1, b"short")).unwrap();
    let (first, payload) = read_raw_frame(&mut stream, &mut rest, &mut s, &mut sh);
    assert_eq!(first, 0x80 | 0x1, "a message under min_size goes uncompressed");
    assert_eq!(payload, b"short");
}

#[test]
fn invalid_compressed_data_closes_with_1007() {
    let _serial = serial();
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let (_, addr) = common::listen(&mut s, &mut sh, ListenOptions::default());
    let (mut stream, _, mut rest) = raw_offering(&mut s, &mut sh, addr, "permessage-deflate");
    // 0xff...: block type 3, which does not exist.
    let mut frame = client_frame(true, 0x2, &[0xff; 32]);
    frame[0] |= 0x40;
    stream.write_all(&frame).unwrap();
    let (first, payload) = read_raw_frame(&mut stream, &mut rest, &mut s, &mut sh);
    assert_eq!(first & 0x0f, 0x8, "a close frame");
    assert_eq!(close_code(&payload), 1007);
}

/// A raw-deflate stream of `count` MiB of zeros, built from one full-flushed MiB repeated (a full
/// flush leaves no history, so the same bytes follow each time). 1 GiB takes about 1 MiB.
fn zeros_bomb(count: usize) -> Vec<u8> {
    let mut c = zlib_rs::Deflate::new(9, false, 15);
    let zeros = vec![0u8; 1 << 20];
    let mut piece = vec![0u8; 64 << 10];
    c.compress(&zeros, &mut piece, zlib_rs::DeflateFlush::FullFlush)
        .unwrap();
    assert_eq!(c.total_in(), zeros.len() as u64);
    piece.truncate(c.total_out() as usize);
    piece.repeat(count)
}

#[test]
fn a_decompression_bomb_closes_with_1009_and_bounded_memory() {
    let _serial = serial();
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    // The default 16 MiB message limit.
    let limit = ListenOptions::default().connection.protocol.max_message_size as isize;
    let (_, addr) = common::listen(&mut s, &mut sh, ListenOptions::default());
    let (mut stream, _, mut rest) = raw_offering(&mut s, &mut sh, addr, "permessage-deflate");
    let bomb = zeros_bomb(1024);
    assert!(bomb.len() < 2 << 20, "1 GiB of zeros in {} bytes", bomb.len());
    let mut frame = client_frame(true, 0x2, &bomb);
    frame[0] |= 0x40;
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    // Written by a thread: the server must be polled while the frame goes in.
    let mut writer = stream.try_clone().unwrap();
    let thread = std::thread::spawn(move || {
        let _ = writer.write_all(&frame);
    });
    let (first, payload) = read_raw_frame(&mut stream, &mut rest, &mut s, &mut sh);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert_eq!(first & 0x0f, 0x8, "a close frame");
    assert_eq!(close_code(&payload), 1009);
    // The frame itself (about 1 MiB, still being sent from this process) and the inflated
    // message up to the limit, nothing near 1 GiB.
    assert!(
        peak < limit + (8 << 20),
        "heap grew by {peak} bytes (limit {limit})"
    );
    drop(stream);
    let _ = thread.join();
}

/// Opens `n` connections between two contexts with `listen`/`connect`, sends one 2 KiB JSON
/// message on each and waits for its echo; returns the heap held afterwards with everything idle.
fn idle_heap(n: usize, listen: ListenOptions, connect: ConnectOptions) -> (isize, bool) {
    let mut p = Pair::start(listen, Recorder::echoing());
    let base = LIVE.load(Ordering::Relaxed);
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(p.connect(connect.clone()));
    }
    p.pump_for(Duration::from_secs(30), "all open", |p| {
        p.ch.opens(Role::Client).len() == n && p.sh.opens(Role::Server).len() == n
    });
    let compressed = p.c.deflate_params(ids[0]).unwrap().is_some();
    let text = json(2048);
    for &id in &ids {
        p.c.send_text(id, &text).unwrap();
    }
    p.pump_for(Duration::from_secs(30), "all echoes", |p| {
        ids.iter().all(|&id| !p.ch.messages(id).is_empty())
    });
    // The recorders hold the messages: forget them before counting.
    p.ch.events.clear();
    p.sh.events.clear();
    p.ch.events.shrink_to_fit();
    p.sh.events.shrink_to_fit();
    for _ in 0..20 {
        p.s.poll(&mut p.sh, Some(Duration::from_millis(1))).unwrap();
        p.c.poll(&mut p.ch, Some(Duration::from_millis(1))).unwrap();
    }
    let held = LIVE.load(Ordering::Relaxed) - base;
    (held, compressed)
}

#[test]
fn idle_compressed_connections_hold_no_codec_state() {
    let _serial = serial();
    const N: usize = 100;
    let plain_listen = ListenOptions {
        deflate: DeflateConfig::DISABLED,
        ..ListenOptions::default()
    };
    let (plain, compressed) = idle_heap(N, plain_listen, ConnectOptions::default());
    assert!(!compressed);
    let (deflated, compressed) = idle_heap(N, ListenOptions::default(), ConnectOptions::default());
    assert!(compressed);
    // One compressor and one decompressor per context stay in its pool (about 0.6 MiB in all);
    // a codec kept per connection would be well over 100 KiB each.
    let extra = deflated - plain;
    println!("idle heap, {N} connections in two contexts: plain {plain} B, compressed {deflated} B");
    assert!(
        extra < 1 << 20,
        "compressed connections hold {extra} bytes more than plain ones ({} per connection)",
        extra / N as isize
    );
}

/// Connects `n` more clients to `addr` and waits until they are open; returns the server's ids
/// of the new connections.
fn open_clients(p: &mut Pair, addr: SocketAddr, n: usize) -> Vec<wskit::net::ConnId> {
    let before = p.sh.opens(Role::Server);
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(
            p.c.connect(&common::url(addr, "/"), ConnectOptions::default())
                .unwrap(),
        );
    }
    let want = before.len() + n;
    p.pump("clients open", |p| {
        p.sh.opens(Role::Server).len() == want && ids.iter().all(|id| p.ch.opens(Role::Client).contains(id))
    });
    p.sh.opens(Role::Server)
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect()
}

#[test]
fn broadcast_compresses_once_for_every_connection_without_takeover() {
    let _serial = serial();
    let mut p = Pair::start(ListenOptions::default(), Recorder::new());
    let shared_addr = p.addr;
    // A second listener whose connections keep their compression context, and a third without
    // compression: they cannot share the compressed frame.
    let takeover = ListenOptions {
        deflate: DeflateConfig::CLIENT,
        ..ListenOptions::default()
    };
    let (_, takeover_addr) = common::listen(&mut p.s, &mut p.sh, takeover);
    let plain = ListenOptions {
        deflate: DeflateConfig::DISABLED,
        ..ListenOptions::default()
    };
    let (_, plain_addr) = common::listen(&mut p.s, &mut p.sh, plain);
    let mut targets = open_clients(&mut p, shared_addr, 20);
    targets.extend(open_clients(&mut p, takeover_addr, 2));
    targets.extend(open_clients(&mut p, plain_addr, 2));
    let text = json(64 << 10);
    let mut message = wskit::proto::PreparedMessage::new(MessageKind::Text, text.as_bytes()).unwrap();
    for &id in &targets {
        p.s.send_prepared(id, &mut message).unwrap();
    }
    // The 20 connections without context takeover share one compression.
    assert_eq!(message.compressions(), 1);
    // And twice more, through `broadcast`: every client gets all three, in order.
    let second = json(3000);
    assert!(
        p.s.broadcast(&targets, MessageKind::Text, second.as_bytes())
            .unwrap()
            .is_empty()
    );
    assert!(
        p.s.broadcast(&targets, MessageKind::Binary, b"tiny")
            .unwrap()
            .is_empty()
    );
    let clients = p.ch.opens(Role::Client);
    assert_eq!(clients.len(), targets.len());
    p.pump("every broadcast", |p| {
        clients.iter().all(|&id| p.ch.messages(id).len() >= 3)
    });
    for &id in &clients {
        let got = p.ch.messages(id);
        assert_eq!(got.len(), 3);
        assert!(
            got[0] == (true, text.clone().into_bytes()),
            "{id:?}: first broadcast differs"
        );
        assert!(
            got[1] == (true, second.clone().into_bytes()),
            "{id:?}: second broadcast differs"
        );
        assert_eq!(got[2], (false, b"tiny".to_vec()));
    }
    // A closed id is reported, not fatal.
    let gone = targets[0];
    p.s.abort(gone).unwrap();
    let failed = p.s.broadcast(&targets, MessageKind::Text, b"after").unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, gone);
    assert!(matches!(failed[0].1, wskit::net::Error::NotFound));
    assert!(matches!(
        p.s.broadcast(&targets, MessageKind::Text, b"\xff"),
        Err(wskit::net::Error::Send(_))
    ));
}
