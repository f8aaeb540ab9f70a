//! Micro-benchmarks of the hot paths of `wskit::proto`: masking, UTF-8 validation, frame header
//! parsing and the receive loop, against `memcpy` bandwidth as the baseline.
//!
//! `cargo bench --bench micro` prints a table (about 15 s). Each figure is the median of several
//! timed repetitions, each long enough to dwarf the timer. Without `--bench` (e.g. under
//! `cargo test --all-targets`) it runs every case briefly as a smoke test.
//!
//! The goal checked on the last line: masking and UTF-8 validation of 64 KiB buffers run at no less
//! than half of memcpy bandwidth.

use std::hint::black_box;
use std::time::{Duration, Instant};

use wskit::proto::frame::{FrameHeader, MAX_HEADER_LEN, encode_frame};
use wskit::proto::mask::{apply_mask, apply_mask_bytes};
use wskit::proto::utf8::{Utf8Validator, validate};
use wskit::proto::{Config, Connection, Event, Opcode, Role};

const SIZES: [usize; 4] = [64, 4 << 10, 64 << 10, 1 << 20];
const GOAL_SIZE: usize = 64 << 10;
const GOAL_RATIO: f64 = 0.5;
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// How long to measure.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// Timed repetitions; the median is reported.
    reps: usize,
    /// Target duration of one repetition.
    rep_time: Duration,
}

impl Timing {
    /// Nanoseconds per call of `f`: median over `reps` repetitions of a loop sized to `rep_time`.
    fn ns_per_call(&self, mut f: impl FnMut()) -> f64 {
        // Calibrate: double the batch until it takes a measurable time (also warms caches).
        let mut batch = 1u64;
        let per_call = loop {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            let elapsed = start.elapsed();
            if elapsed >= self.rep_time / 8 || batch >= 1 << 30 {
                break elapsed.as_secs_f64() / batch as f64;
            }
            batch *= 2;
        };
        let iters = ((self.rep_time.as_secs_f64() / per_call) as u64).max(1);
        let mut samples: Vec<f64> = (0..self.reps)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..iters {
                    f();
                }
                start.elapsed().as_secs_f64() * 1e9 / iters as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    }

    /// GB/s (10^9 bytes per second) of `f` processing `bytes` per call.
    fn gbps(&self, bytes: usize, f: impl FnMut()) -> f64 {
        bytes as f64 / self.ns_per_call(f)
    }
}

/// `len` bytes of valid UTF-8 mixing 1-, 2-, 3- and 4-byte code points (padded with ASCII at the end).
fn mixed_text(len: usize) -> Vec<u8> {
    let pattern = "Hello κόσμε, 日本語のテキスト 𝄞 µ@ßöäüàá Ελληνικά 🎉 ";
    let mut out = String::with_capacity(len + 8);
    'fill: loop {
        for ch in pattern.chars() {
            if out.len() + ch.len_utf8() > len {
                break 'fill;
            }
            out.push(ch);
        }
    }
    while out.len() < len {
        out.push('.');
    }
    out.into_bytes()
}

fn ascii_text(len: usize) -> Vec<u8> {
    (0..len).map(|i| b' ' + (i % 95) as u8).collect()
}

fn size_label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// Results for one buffer size, GB/s.
#[derive(Debug, Default, Clone, Copy)]
struct Row {
    memcpy: f64,
    copy_loop: f64,
    mask: f64,
    mask_bytes: f64,
    validate_ascii: f64,
    validate_mixed: f64,
    feed_ascii: f64,
    feed_mixed: f64,
}

fn bandwidth_row(t: &Timing, size: usize) -> Row {
    let src = ascii_text(size);
    let mut dst = vec![0u8; size];
    let memcpy = t.gbps(size, || {
        black_box(&mut dst[..]).copy_from_slice(black_box(&src[..]));
    });
    // A plain vectorised copy that LLVM cannot turn into a libc memcpy call: some libc memcpy
    // strategies (e.g. `rep movsb` on some AMD CPUs) are far below what the core can stream.
    let copy_loop = t.gbps(size, || {
        let zero = black_box(0u8);
        for (d, s) in black_box(&mut dst[..]).iter_mut().zip(black_box(&src[..])) {
            *d = *s ^ zero;
        }
    });
    let mut buf = src.clone();
    let mask = t.gbps(size, || apply_mask(black_box(&mut buf[..]), black_box(MASK), 0));
    let mask_bytes = t.gbps(size, || {
        apply_mask_bytes(black_box(&mut buf[..]), black_box(MASK), 0)
    });

    let ascii = ascii_text(size);
    let mixed = mixed_text(size);
    assert!(std::str::from_utf8(&mixed).is_ok() && mixed.len() == size);
    let validate_ascii = t.gbps(size, || {
        black_box(validate(black_box(&ascii[..])).is_ok());
    });
    let validate_mixed = t.gbps(size, || {
        black_box(validate(black_box(&mixed[..])).is_ok());
    });
    let feed = |text: &[u8]| {
        let mut v = Utf8Validator::new();
        let ok = v.feed(black_box(text)).is_ok() && v.finish().is_ok();
        black_box(ok);
    };
    let feed_ascii = t.gbps(size, || feed(&ascii));
    let feed_mixed = t.gbps(size, || feed(&mixed));
    Row {
        memcpy,
        copy_loop,
        mask,
        mask_bytes,
        validate_ascii,
        validate_mixed,
        feed_ascii,
        feed_mixed,
    }
}

/// A header of exactly `len` bytes (2, 4, 10 or 14).
fn header_of_len(len: usize) -> Vec<u8> {
    let (payload_len, mask) = match len {
        2 => (100, None),
        4 => (1000, None),
        10 => (100_000, None),
        14 => (100_000, Some(MASK)),
        _ => unreachable!("no header of {len} bytes"),
    };
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode: Opcode::Binary,
        mask,
        payload_len,
    };
    let mut buf = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut buf);
    assert_eq!(n, len);
    buf[..n].to_vec()
}

/// ns per `receive` + drained event for `frames` masked binary frames of `payload` bytes each, and
/// ns per frame for refilling the buffer (receive unmasks in place, so each run starts from a copy).
fn receive_small_frames(t: &Timing, frames: usize, payload: usize) -> (f64, f64) {
    let mut wire = Vec::new();
    let data: Vec<u8> = (0..payload as u8).collect();
    for _ in 0..frames {
        encode_frame(&mut wire, true, Opcode::Binary, &data, Some(MASK));
    }
    let mut conn = Connection::new(Role::Server, Config::default());
    let mut buf = wire.clone();
    let mut count_events = |buf: &mut [u8]| {
        let mut incoming = conn.receive(buf);
        let mut n = 0usize;
        while let Some(event) = incoming.next_event() {
            if let Event::Binary(bytes) = event {
                black_box(bytes);
                n += 1;
            }
        }
        n
    };
    assert_eq!(count_events(&mut buf), frames, "every frame becomes one event");
    let total = t.ns_per_call(|| {
        buf.copy_from_slice(&wire);
        black_box(count_events(black_box(&mut buf)));
    });
    let refill = t.ns_per_call(|| black_box(&mut buf[..]).copy_from_slice(black_box(&wire)));
    (total / frames as f64, refill / frames as f64)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let t = if full {
        Timing {
            reps: 7,
            rep_time: Duration::from_millis(40),
        }
    } else {
        Timing {
            reps: 1,
            rep_time: Duration::from_micros(200),
        }
    };
    let started = Instant::now();

    println!(
        "wskit micro-benchmarks (GB/s = 10^9 bytes/s; ratio = x memcpy; median of {} runs)",
        t.reps
    );
    println!();
    println!(
        "{:>8} | {:>7} {:>7} | {:>7} {:>5} | {:>7} {:>5} | {:>7} {:>5} | {:>7} {:>5} | {:>7} {:>5} | {:>7} {:>5}",
        "size",
        "memcpy",
        "copy_lp",
        "mask",
        "x",
        "mask_b",
        "x",
        "val_asc",
        "x",
        "val_mix",
        "x",
        "feed_a",
        "x",
        "feed_m",
        "x"
    );
    println!("{}", "-".repeat(118));
    let mut goal_row = Row::default();
    for size in SIZES {
        let r = bandwidth_row(&t, size);
        let x = |v: f64| v / r.memcpy;
        println!(
            "{:>8} | {:>7.2} {:>7.2} | {:>7.2} {:>5.2} | {:>7.2} {:>5.2} | {:>7.2} {:>5.2} | {:>7.2} {:>5.2} | {:>7.2} {:>5.2} | {:>7.2} {:>5.2}",
            size_label(size),
            r.memcpy,
            r.copy_loop,
            r.mask,
            x(r.mask),
            r.mask_bytes,
            x(r.mask_bytes),
            r.validate_ascii,
            x(r.validate_ascii),
            r.validate_mixed,
            x(r.validate_mixed),
            r.feed_ascii,
            x(r.feed_ascii),
            r.feed_mixed,
            x(r.feed_mixed),
        );
        if size == GOAL_SIZE {
            goal_row = r;
        }
    }
    println!();
    println!(
        "memcpy = copy_from_slice (libc memcpy), copy_lp = a vectorised copy loop (not memcpy; for reference)."
    );
    println!(
        "mask = apply_mask (fast path), mask_b = apply_mask_bytes (reference), val_asc/val_mix = utf8::validate"
    );
    println!("on ASCII / mixed 1-4 byte text, feed_a/feed_m = Utf8Validator::feed + finish on the same.");

    println!();
    println!("frame header parse (FrameHeader::parse):");
    for len in [2, 4, 10, 14] {
        let header = header_of_len(len);
        let ns = t.ns_per_call(|| {
            black_box(FrameHeader::parse(black_box(&header[..])).ok());
        });
        println!("  {len:>2}-byte header: {ns:>6.2} ns/header");
    }

    println!();
    let (frames, payload) = (4096, 16);
    let (ns, refill) = receive_small_frames(&t, frames, payload);
    println!(
        "Connection::receive + next_event, server, {frames} masked binary frames of {payload} B payload \
         ({} B on the wire) per call:",
        payload + 6
    );
    println!(
        "  {ns:>6.2} ns/frame, {:.1} M frames/s (includes {refill:.2} ns/frame refilling the buffer)",
        1e3 / ns
    );

    let goal = [
        ("apply_mask", goal_row.mask),
        ("validate ASCII", goal_row.validate_ascii),
        ("validate mixed", goal_row.validate_mixed),
        ("feed ASCII", goal_row.feed_ascii),
        ("feed mixed", goal_row.feed_mixed),
    ];
    let slowest = |baseline: f64| {
        let (name, gbps) = goal
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("goal has entries");
        let ratio = gbps / baseline;
        (name, ratio, if ratio >= GOAL_RATIO { "HOLDS" } else { "FAILS" })
    };
    let (name, ratio, verdict) = slowest(goal_row.memcpy);
    let (loop_name, loop_ratio, loop_verdict) = slowest(goal_row.copy_loop);
    println!();
    println!(
        "GOAL {verdict}: masking and UTF-8 validation of {} buffers >= {GOAL_RATIO}x memcpy ({:.2} GB/s): \
         slowest is {name} at {ratio:.2}x. Against the copy loop ({:.2} GB/s) it {loop_verdict}: \
         {loop_name} at {loop_ratio:.2}x.",
        size_label(GOAL_SIZE),
        goal_row.memcpy,
        goal_row.copy_loop,
    );
    if !full {
        println!("(smoke run: pass --bench, as `cargo bench` does, for real figures)");
    }
    eprintln!("took {:.1} s", started.elapsed().as_secs_f64());
}
