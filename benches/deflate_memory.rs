//! Bytes an idle permessage-deflate connection holds, measured with a counting allocator:
//! `cargo bench --bench deflate_memory`. For each parameter set, 1,000 client/server pairs exchange
//! one 2 KiB JSON-like message each way, release their spare memory, and the live heap is divided by
//! the number of connections (both ends counted, each end is one connection).

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
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 2048 {
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user{i}\",\"active\":true,\"score\":{}}},",
            i * 7 % 101
        ));
        i += 1;
    }
    s
}

fn transfer(from: &mut Connection, to: &mut Connection) {
    let mut bytes = from.take_output();
    let mut incoming = to.receive(&mut bytes);
    while incoming.next_event().is_some() {}
}

fn measure(label: &str, params: Option<DeflateParams>, pool: bool) {
    let msg = message();
    let policy = DeflateConfig::default();
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
    measure("no compression", None, false);
    measure("deflate, no context takeover", Some(p(true, 15)), false);
    measure(
        "deflate, no context takeover, shared pool",
        Some(p(true, 15)),
        true,
    );
    measure(
        "deflate, takeover, 12-bit windows (default)",
        Some(p(false, 12)),
        false,
    );
    measure("deflate, takeover, 15-bit windows", Some(p(false, 15)), false);
}
