//! permessage-deflate figures: `cargo bench --bench deflate`.
//!
//! 1. Bytes an idle connection holds, measured with a counting allocator: for each parameter set,
//!    1,000 client/server pairs exchange one 2 KiB JSON-like message each way, release their spare
//!    memory, and the live heap is divided by the number of connections (each end is one).
//! 2. CPU per message: a client compresses a JSON-like text of 200 B, 2 KiB or 64 KiB and a server
//!    inflates and validates it (median of several timed runs), with the bytes on the wire.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use wskit::proto::{Config, Connection, DeflateConfig, DeflateParams, DeflatePool, Role};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const PAIRS: usize = 1000;

fn message() -> String {
    json(2048)
}

fn json(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user{i}\",\"active\":true,\"score\":{}}},",
            i * 7 % 101
        ));
        i += 1;
    }
    s.truncate(len);
    s
}

fn transfer(from: &mut Connection, to: &mut Connection) {
    let mut bytes = from.take_output();
    let mut incoming = to.receive(&mut bytes);
    while incoming.next_event().is_some() {}
}

fn measure(label: &str, params: Option<DeflateParams>, pool: bool, compact_idle: bool) {
    let msg = message();
    let policy = DeflateConfig {
        compact_idle,
        ..DeflateConfig::default()
    };
    let mut pool_store = DeflatePool::new();
    let before = LIVE.load(Ordering::Relaxed);
    let mut conns = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let mut c = Connection::new(Role::Client, Config::default());
        let mut s = Connection::new(Role::Server, Config::default());
        if let Some(p) = params {
            c.set_deflate(p, &policy);
            s.set_deflate(p, &policy);
        }
        for conn in [&mut c, &mut s] {
            conn.lend_deflate_state(&mut pool_store);
        }
        c.send_text(&msg).unwrap();
        transfer(&mut c, &mut s);
        s.send_text(&msg).unwrap();
        transfer(&mut s, &mut c);
        for conn in [&mut c, &mut s] {
            if pool {
                conn.return_deflate_state(&mut pool_store);
            }
            conn.release_memory();
        }
        conns.push((c, s));
    }
    let live = LIVE.load(Ordering::Relaxed) - before;
    let vec_bytes = (conns.capacity() * std::mem::size_of::<(Connection, Connection)>()) as isize;
    let heap = live - vec_bytes;
    let per_conn = heap as f64 / (2 * PAIRS) as f64;
    let inline = std::mem::size_of::<Connection>();
    let (pc, pd) = pool_store.len();
    println!(
        "{label:<44} heap/idle conn {per_conn:>9.0} B  (+{inline} B inline){}",
        if pool {
            format!("  pool holds {pc} compressors, {pd} decompressors")
        } else {
            String::new()
        }
    );
    drop(conns);
}

fn main() {
    let p = |nct: bool, bits: u8| DeflateParams {
        server_no_context_takeover: nct,
        client_no_context_takeover: nct,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    };
    measure("no compression", None, false, false);
    measure("deflate, no context takeover", Some(p(true, 15)), false, false);
    measure(
        "deflate, no context takeover, shared pool",
        Some(p(true, 15)),
        true,
        false,
    );
    measure(
        "deflate, takeover, 12-bit windows, codecs kept",
        Some(p(false, 12)),
        false,
        false,
    );
    measure(
        "deflate, takeover, 12-bit windows, compacted",
        Some(p(false, 12)),
        true,
        true,
    );
    measure(
        "deflate, takeover, 15-bit windows, codecs kept",
        Some(p(false, 15)),
        false,
        false,
    );
    measure(
        "deflate, takeover, 15-bit windows, compacted",
        Some(p(false, 15)),
        true,
        true,
    );

    println!();
    let quick = !std::env::args().any(|a| a == "--bench");
    for size in [200, 2048, 64 << 10] {
        for (label, params, compact) in [
            ("uncompressed", None, false),
            ("takeover 12/12", Some(p(false, 12)), false),
            ("takeover 12/12 compacted", Some(p(false, 12)), true),
            ("no takeover 15/15", Some(p(true, 15)), false),
        ] {
            cpu(size, label, params, compact, quick);
        }
    }
}

/// Median ns for a client to send and a server to receive one `size`-byte text, and its wire size.
/// With `compact`, both ends compact their codecs between messages (an event loop's lend and
/// return around every message, as in a server whose connections each get one message at a time).
fn cpu(size: usize, label: &str, params: Option<DeflateParams>, compact: bool, quick: bool) {
    let text = json(size);
    let mut c = Connection::new(Role::Client, Config::default());
    let mut s = Connection::new(Role::Server, Config::default());
    let policy = DeflateConfig {
        compact_idle: compact,
        ..DeflateConfig::default()
    };
    if let Some(p) = params {
        c.set_deflate(p, &policy);
        s.set_deflate(p, &policy);
    }
    let (mut client_pool, mut server_pool) = (DeflatePool::new(), DeflatePool::new());
    let mut wire_len = 0;
    let mut once = || {
        if compact {
            c.lend_deflate_state(&mut client_pool);
            s.lend_deflate_state(&mut server_pool);
        }
        c.send_text(&text).unwrap();
        let mut bytes = c.take_output();
        wire_len = bytes.len();
        let mut incoming = s.receive(&mut bytes);
        while let Some(e) = incoming.next_event() {
            std::hint::black_box(e);
        }
        drop(incoming);
        if compact {
            c.return_deflate_state(&mut client_pool);
            s.return_deflate_state(&mut server_pool);
        }
    };
    let iters = if quick {
        3
    } else {
        (20_000_000 / size.max(1)).clamp(50, 20_000)
    };
    let mut samples: Vec<f64> = (0..if quick { 1 } else { 5 })
        .map(|_| {
            let start = std::time::Instant::now();
            for _ in 0..iters {
                once();
            }
            start.elapsed().as_secs_f64() * 1e9 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let ns = samples[samples.len() / 2];
    println!(
        "{size:>6} B text, {label:<26} {ns:>10.0} ns/message (send + receive), {wire_len:>6} B on the wire"
    );
}
