//! Heap held per connection, counted by a wrapping global allocator: connections accepted but not
//! yet speaking hold no handshake state, and open idle connections hold nothing but their slot.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use wskit::net::{Context, ListenOptions, NoHandler};

/// Bytes currently allocated by this process (requested sizes).
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; only the byte count is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract; passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc`/`realloc` above with this layout; passed through.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract; passed through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// A power of two, so the connection slab's capacity (grown by doubling) is exactly this.
const CONNECTIONS: usize = 256;
/// The connection slot (128 bytes, held by a unit test) and its generation, a timer entry and
/// the slack of a few shared vectors: anything more is state kept per connection.
const PER_CONNECTION_BUDGET: isize = 200;

fn poll_until(ctx: &mut Context, what: &str, mut done: impl FnMut(&mut Context) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(ctx) {
        assert!(Instant::now() < deadline, "timed out: {what}");
        ctx.poll(&mut NoHandler, Some(Duration::from_millis(5))).unwrap();
    }
}

#[test]
fn accepted_and_open_idle_connections_hold_only_their_slot() {
    let mut ctx = Context::new().unwrap();
    let listener = ctx.listen("127.0.0.1:0", ListenOptions::default()).unwrap();
    let addr = ctx.local_addr(listener).unwrap();
    ctx.poll(&mut NoHandler, Some(Duration::ZERO)).unwrap();

    // Connected, accepted, silent (a slow client, or a burst not read yet).
    let before = live();
    let mut clients: Vec<TcpStream> = Vec::new();
    for _ in 0..CONNECTIONS {
        clients.push(TcpStream::connect(addr).unwrap());
    }
    poll_until(&mut ctx, "every connection accepted", |ctx| {
        ctx.connection_count() == CONNECTIONS
    });
    let silent = (live() - before) / CONNECTIONS as isize;
    eprintln!("heap bytes per accepted silent connection: {silent}");
    assert!(
        silent <= PER_CONNECTION_BUDGET,
        "{silent} heap bytes per accepted connection that sent nothing (budget {PER_CONNECTION_BUDGET})"
    );

    // Upgraded and idle: the handshakes' buffers are gone.
    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    for client in &mut clients {
        client.write_all(request.as_bytes()).unwrap();
    }
    let mut answered = 0;
    for client in &mut clients {
        client.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    }
    let mut responses = vec![Vec::new(); CONNECTIONS];
    poll_until(&mut ctx, "every handshake answered", |_| {
        for (client, response) in clients.iter_mut().zip(&mut responses) {
            if response.ends_with(b"\r\n\r\n") {
                continue;
            }
            let mut buf = [0u8; 512];
            if let Ok(n) = client.read(&mut buf) {
                response.extend_from_slice(&buf[..n]);
                if response.ends_with(b"\r\n\r\n") {
                    assert!(response.starts_with(b"HTTP/1.1 101"));
                    answered += 1;
                }
            }
        }
        answered == CONNECTIONS
    });
    ctx.poll(&mut NoHandler, Some(Duration::ZERO)).unwrap();
    drop(responses); // the test's own buffers
    let open = (live() - before) / CONNECTIONS as isize;
    eprintln!("heap bytes per open idle connection: {open}");
    // Drained send buffers are kept in the context's pool (at most 64, shared): count them too.
    assert!(
        open <= PER_CONNECTION_BUDGET + 64,
        "{open} heap bytes per open idle connection (budget {})",
        PER_CONNECTION_BUDGET + 64
    );
    drop(clients);
}
