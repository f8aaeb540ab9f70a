//! A userspace impairment proxy for tests: listens on loopback, connects each client to the
//! upstream, and moves the bytes through two threads (one per direction) that can delay every
//! chunk, stall at random, cut the stream into segments of at most N bytes (1: one byte per
//! write, with TCP_NODELAY so each is its own segment), split every chunk at a moving offset (so
//! over a run a write boundary falls at every offset of a frame), stop forwarding a direction
//! altogether (a black hole), and pass half-closes through (a FIN one way leaves the other way
//! open). The kernel's netem qdisc is not available here; this does the same in userspace.

#![allow(dead_code)] // each test uses a part

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// What one direction does to the bytes. Changeable while the proxy runs.
#[derive(Debug, Default)]
pub struct Impairment {
    /// Sleep this long (µs) before forwarding each chunk read.
    pub delay_us: AtomicU64,
    /// Most bytes per write (0: no limit).
    pub max_segment: AtomicUsize,
    /// Split each chunk in two at an offset that moves by one every chunk.
    pub split_every_offset: AtomicBool,
    /// Per mille of chunks after which the direction stalls for `stall_ms`.
    pub stall_per_mille: AtomicU64,
    pub stall_ms: AtomicU64,
    /// Forward nothing (bytes are read and kept) while set.
    pub black_hole: AtomicBool,
    /// Bytes forwarded so far.
    pub forwarded: AtomicU64,
}

impl Impairment {
    pub fn delay(&self, d: Duration) -> &Self {
        self.delay_us.store(d.as_micros() as u64, Ordering::Relaxed);
        self
    }
    pub fn segments(&self, n: usize) -> &Self {
        self.max_segment.store(n, Ordering::Relaxed);
        self
    }
    pub fn split(&self, on: bool) -> &Self {
        self.split_every_offset.store(on, Ordering::Relaxed);
        self
    }
    pub fn stalls(&self, per_mille: u64, ms: u64) -> &Self {
        self.stall_per_mille.store(per_mille, Ordering::Relaxed);
        self.stall_ms.store(ms, Ordering::Relaxed);
        self
    }
    pub fn hole(&self, on: bool) -> &Self {
        self.black_hole.store(on, Ordering::Relaxed);
        self
    }
}

/// The proxy: `addr` is where clients connect; `up` impairs client-to-server bytes, `down`
/// server-to-client.
pub struct Proxy {
    pub addr: SocketAddr,
    pub up: Arc<Impairment>,
    pub down: Arc<Impairment>,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(Impairment::default());
        let down = Arc::new(Impairment::default());
        let accepted = Arc::new(AtomicUsize::new(0));
        let (u, d, a) = (up.clone(), down.clone(), accepted.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                a.fetch_add(1, Ordering::Relaxed);
                for s in [&client, &server] {
                    let _ = s.set_nodelay(true);
                }
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (u, d) = (u.clone(), d.clone());
                thread::spawn(move || pump(client, server, &u, 1));
                thread::spawn(move || pump(s2, c2, &d, 2));
            }
        });
        Proxy {
            addr,
            up,
            down,
            accepted,
        }
    }
}

/// Moves bytes from `from` to `to` as `imp` says; a FIN from `from` becomes a half-close of `to`.
fn pump(mut from: TcpStream, mut to: TcpStream, imp: &Impairment, seed: u64) {
    let mut buf = vec![0u8; 64 << 10];
    let mut held: Vec<u8> = Vec::new();
    let mut offset = 0usize;
    let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    from.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    let mut eof = false;
    loop {
        if !eof {
            match from.read(&mut buf) {
                Ok(0) => eof = true,
                Ok(n) => held.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => eof = true,
            }
        }
        if imp.black_hole.load(Ordering::Relaxed) {
            if eof {
                thread::sleep(Duration::from_millis(5));
            }
            continue;
        }
        if held.is_empty() {
            if eof {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            continue;
        }
        let delay = imp.delay_us.load(Ordering::Relaxed);
        if delay > 0 {
            thread::sleep(Duration::from_micros(delay));
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if rng % 1000 < imp.stall_per_mille.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(imp.stall_ms.load(Ordering::Relaxed)));
        }
        let chunk = std::mem::take(&mut held);
        let mut pieces: Vec<&[u8]> = Vec::new();
        if imp.split_every_offset.load(Ordering::Relaxed) && chunk.len() > 1 {
            offset = offset % (chunk.len() - 1) + 1;
            pieces.push(&chunk[..offset]);
            pieces.push(&chunk[offset..]);
        } else {
            pieces.push(&chunk);
        }
        let max = imp.max_segment.load(Ordering::Relaxed);
        for piece in pieces {
            let step = if max == 0 { piece.len().max(1) } else { max };
            for segment in piece.chunks(step) {
                if to.write_all(segment).is_err() {
                    return;
                }
                imp.forwarded.fetch_add(segment.len() as u64, Ordering::Relaxed);
            }
        }
    }
}
