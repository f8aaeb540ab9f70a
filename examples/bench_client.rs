//! Load generator for WebSocket echo servers (and the raw TCP reference): `bench/compare.sh` drives it.
//!
//!     cargo run --release --example bench_client -- --url ws://127.0.0.1:9001/ \
//!         --connections 64 --depth 16 --size 16 --text --warmup 2 --duration 10 [--pid SERVER_PID]
//!     cargo run --release --example bench_client -- --mode raw --url tcp://127.0.0.1:9100 ...
//!     cargo run --release --example bench_client -- --mode idle --idle 10000 --pid SERVER_PID --url ...
//!
//! A standalone single-threaded mio client: it does not use wskit, so it cannot flatter the library
//! under test. Each connection keeps `--depth` messages in flight; every echo is checked byte for
//! byte (length, opcode and content; a mismatch is an error and the exit status is 1) and its
//! round-trip time goes into a log-linear histogram (128 sub-buckets per power of two: under 1%
//! error at p50/p99/p99.9). Client frames are masked as RFC 6455 requires (a fixed key; every
//! message's frame is built once before the run, so queueing one is a copy). `--mode raw` sends the
//! same payloads as frames of a 4-byte big-endian length and the payload, to the raw TCP echo
//! server, which echoes each frame once it has all of it, as a WebSocket server echoes a message.
//! One write per connection per loop turn, 256 KiB reads that stop at a short read, no allocation
//! per message.
//!
//! With `--pid`, the server's CPU time (utime+stime from /proc/PID/stat) is read at the start and end
//! of the measured interval and reported per echoed message. `--mode idle` opens `--idle` connections
//! (complete handshakes), waits 2 s and reports the growth of the server's VmRSS per connection.
//!
//! `--json` sends JSON-like text instead of the pseudo-random pattern (the uncompressed baseline of
//! the compressed scenarios). `--deflate` (which implies `--json`) offers permessage-deflate with no context takeover both ways (the same parameters
//! for every server, so figures compare), sends JSON-like text compressed (each message on its
//! own, built once before the run) and inflates every echo before checking it; the JSON line then
//! adds the compressed bytes per message on the wire each way. With `--mode idle`, `--deflate` (and
//! `--json`) first sends one message on every connection and waits for its echo, so the idle figure
//! includes whatever compression state a server keeps after a message. `--takeover` (with
//! `--deflate --mode idle`) offers context takeover both ways with 12-bit windows instead, Python
//! `websockets`' defaults, and requires the server to agree: the idle figure then includes the
//! state a server keeps for a connection's context (the one message sent is 2 KiB, so its
//! 15-bit-window compression never refers further back than the 12 bits agreed).
//!
//! Output: one human line, then one JSON line (on stdout).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const READ_BUF: usize = 256 << 10;
const MASK_KEY: [u8; 4] = [0x5a, 0xc3, 0x17, 0x8e];
/// RFC 6455 1.3: the accept value of this fixed key.
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// Handshakes in progress at once (keeps the server's accept backlog from overflowing).
const MAX_PENDING_HANDSHAKES: usize = 256;
/// A run with messages in flight and no echo for this long has stalled.
const STALL: Duration = Duration::from_secs(15);
/// Messages rotate their start in the pattern by up to this much, so consecutive echoes differ.
const OFFSETS: usize = 61;
/// Up to this much memory holds every message's frame ready-masked (then sending one is a copy,
/// as in raw mode); above it (messages over ~4 MiB) frames are masked as they are queued.
const PREBUILT_LIMIT: usize = 256 << 20;

// ----- options --------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ws,
    Raw,
    Idle,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Ws => "ws",
            Mode::Raw => "raw",
            Mode::Idle => "idle",
        }
    }
}

#[derive(Debug)]
struct Opts {
    url: String,
    connections: usize,
    depth: usize,
    size: usize,
    text: bool,
    warmup: f64,
    duration: f64,
    mode: Mode,
    idle: usize,
    pid: Option<u32>,
    deflate: bool,
    /// JSON-like text payloads (implied by `deflate`): the uncompressed baseline of the
    /// compressed scenarios.
    json: bool,
    /// With `--deflate --mode idle`: offer context takeover both ways with 12-bit windows (Python
    /// `websockets`' defaults) instead of no context takeover, and require the server to agree.
    takeover: bool,
}

const USAGE: &str = "usage: bench_client [--url ws://127.0.0.1:9001/] [--connections C] [--depth D] \
[--size BYTES] [--text|--binary] [--warmup SECS] [--duration SECS] [--mode ws|raw|idle] [--idle N] [--pid PID] \
[--deflate] [--json] [--takeover]";

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        url: "ws://127.0.0.1:9001/".into(),
        connections: 1,
        depth: 1,
        size: 16,
        text: false,
        warmup: 2.0,
        duration: 10.0,
        mode: Mode::Ws,
        idle: 10_000,
        pid: None,
        deflate: false,
        json: false,
        takeover: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--url" => o.url = value("--url")?,
            "--connections" | "-c" => o.connections = num(&value("--connections")?)?,
            "--depth" | "-d" => o.depth = num(&value("--depth")?)?,
            "--size" | "-s" => o.size = size(&value("--size")?)?,
            "--text" => o.text = true,
            "--binary" => o.text = false,
            "--warmup" => o.warmup = num(&value("--warmup")?)?,
            "--duration" => o.duration = num(&value("--duration")?)?,
            "--idle" => o.idle = num(&value("--idle")?)?,
            "--pid" => o.pid = Some(num(&value("--pid")?)?),
            "--deflate" => o.deflate = true,
            "--json" => o.json = true,
            "--takeover" => o.takeover = true,
            "--mode" => {
                o.mode = match value("--mode")?.as_str() {
                    "ws" => Mode::Ws,
                    "raw" => Mode::Raw,
                    "idle" => Mode::Idle,
                    other => return Err(format!("unknown mode {other:?}")),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    if o.connections == 0 || o.depth == 0 || o.size == 0 {
        return Err("--connections, --depth and --size must be positive".into());
    }
    if o.deflate || o.json {
        // Compressible traffic: what permessage-deflate is for.
        o.json = true;
        o.text = true;
        if o.mode == Mode::Raw {
            return Err("--deflate needs a WebSocket mode".into());
        }
    }
    if o.takeover && !(o.deflate && o.mode == Mode::Idle) {
        // One message per connection: the load modes inflate each echo on a fresh stream.
        return Err("--takeover needs --deflate --mode idle".into());
    }
    if o.mode == Mode::Idle && o.pid.is_none() {
        return Err("--mode idle needs --pid (the server whose memory is measured)".into());
    }
    Ok(o)
}

fn num<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

/// A byte count with an optional K/M suffix (binary units).
fn size(s: &str) -> Result<usize, String> {
    let (digits, shift) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 20),
        _ => (s, 0),
    };
    Ok(num::<usize>(digits)? << shift)
}

/// (host:port, path) of `ws://host:port/path` or `tcp://host:port`.
fn split_url(url: &str) -> Result<(SocketAddr, String, String), String> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| format!("{url}: only ws:// (and tcp:// for --mode raw) URLs"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let with_port = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    Ok((addr, authority.to_string(), path.to_string()))
}

// ----- histogram --------------------------------------------------------------------------------

/// Log-linear histogram of nanoseconds: exact below 128, then 64 buckets per power of two.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

const SUB_BITS: u32 = 7;
const HALF: u64 = 1 << (SUB_BITS - 1);

impl Histogram {
    fn new() -> Self {
        Self {
            counts: vec![0; ((64 - SUB_BITS as usize + 2) * HALF as usize) + 1],
            total: 0,
        }
    }

    fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.total = 0;
    }

    #[inline]
    fn index(v: u64) -> usize {
        if v < (1 << SUB_BITS) {
            return v as usize;
        }
        let exp = 63 - v.leading_zeros(); // >= SUB_BITS
        let shift = exp - (SUB_BITS - 1);
        (shift as u64 * HALF + (v >> shift)) as usize
    }

    /// The middle of bucket `i`.
    fn value(i: usize) -> f64 {
        let i = i as u64;
        if i < (1 << SUB_BITS) {
            return i as f64;
        }
        let shift = i / HALF - 1;
        let mantissa = i % HALF + HALF;
        ((mantissa << shift) as f64) + ((1u64 << shift) as f64 - 1.0) / 2.0
    }

    #[inline]
    fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.total += 1;
    }

    /// The `q` quantile (0..1), in microseconds.
    fn quantile_us(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(i) / 1000.0;
            }
        }
        0.0
    }
}

// ----- payload pattern and framing ----------------------------------------------------------------

/// `size + OFFSETS` bytes of JSON-like text (records with ids, names, scores and tags), for the
/// compressed scenarios.
fn json_pattern(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + OFFSETS + 128);
    let mut i = 0u64;
    out.push(b'[');
    while out.len() < size + OFFSETS {
        let record = format!(
            "{{\"id\":{},\"user\":\"user{}\",\"active\":{},\"score\":{},\"tags\":[\"t{}\",\"t{}\"]}},",
            1000 + i,
            (i * 7919) % 997,
            i % 3 == 0,
            (i * 31) % 1000,
            i % 11,
            i % 5
        );
        out.extend_from_slice(record.as_bytes());
        i += 1;
    }
    out.truncate(size + OFFSETS);
    out
}

/// `size + OFFSETS` bytes of pseudo-random content (printable ASCII for text, so it is valid UTF-8).
fn pattern(size: usize, text: bool) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..size + OFFSETS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = (state >> 24) as u8;
            if text { b' ' + (b % 95) } else { b }
        })
        .collect()
}

/// Appends a masked client frame (FIN, `opcode`) carrying `payload` to `out`.
fn push_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    push_frame_rsv(out, opcode, 0, payload);
}

/// [`push_frame`] with RSV bits (`0x40`: permessage-deflate's "compressed").
fn push_frame_rsv(out: &mut Vec<u8>, opcode: u8, rsv: u8, payload: &[u8]) {
    let len = payload.len();
    out.push(0x80 | rsv | opcode);
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&MASK_KEY);
    let start = out.len();
    out.resize(start + len, 0);
    mask_copy(&mut out[start..], payload);
}

/// The frame of every message the run sends, built once up front (ws: masked with the fixed key
/// of `push_frame`; raw: the length prefix and the payload), so queueing a message is one copy in
/// either mode and the generator spends its time on the server's answers. Empty when the frames
/// would need more than `PREBUILT_LIMIT`.
fn prebuilt_frames(pattern: &[u8], size: usize, mode: Mode, opcode: u8) -> Vec<Vec<u8>> {
    if (size + 14) * OFFSETS > PREBUILT_LIMIT {
        return Vec::new();
    }
    (0..OFFSETS)
        .map(|offset| {
            let mut frame = Vec::with_capacity(size + 14);
            push_message(&mut frame, mode, opcode, &pattern[offset..offset + size]);
            frame
        })
        .collect()
}

/// Every message's frame compressed (raw deflate, 15-bit window, level 6, each message on its own
/// as no context takeover requires, the `00 00 ff ff` tail removed), RSV1 set, masked; and the
/// mean compressed payload size.
fn deflated_frames(pattern: &[u8], size: usize, opcode: u8) -> (Vec<Vec<u8>>, f64) {
    let mut total = 0;
    let frames: Vec<Vec<u8>> = (0..OFFSETS)
        .map(|offset| {
            let payload = deflate_message(&pattern[offset..offset + size]);
            total += payload.len();
            let mut frame = Vec::with_capacity(payload.len() + 14);
            push_frame_rsv(&mut frame, opcode, 0x40, &payload);
            frame
        })
        .collect();
    (frames, total as f64 / OFFSETS as f64)
}

fn deflate_message(data: &[u8]) -> Vec<u8> {
    let mut c = zlib_rs::Deflate::new(6, false, 15);
    let mut out = vec![0u8; data.len() + data.len() / 8 + 64];
    c.compress(data, &mut out, zlib_rs::DeflateFlush::SyncFlush)
        .expect("deflate");
    assert_eq!(c.total_in() as usize, data.len(), "output buffer too small");
    out.truncate(c.total_out() as usize);
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    out
}

/// Inflates one compressed message (no context takeover: a fresh stream each time) into `out`.
fn inflate_message(
    inflater: &mut zlib_rs::Inflate,
    data: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    inflater.reset(false);
    out.clear();
    out.resize(limit + 1, 0);
    let mut produced = 0;
    for input in [data, &[0, 0, 0xff, 0xff][..]] {
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        inflater
            .decompress(input, &mut out[produced..], zlib_rs::InflateFlush::SyncFlush)
            .map_err(|e| format!("invalid compressed echo: {e:?}"))?;
        if (inflater.total_in() - before_in) as usize != input.len() {
            return Err("compressed echo inflates to more than was sent".into());
        }
        produced += (inflater.total_out() - before_out) as usize;
    }
    out.truncate(produced);
    Ok(())
}

/// Raw mode's frame header: the payload length, 4 bytes big-endian.
const RAW_PREFIX: usize = 4;

fn raw_prefix(size: usize) -> [u8; RAW_PREFIX] {
    (size as u32).to_be_bytes()
}

/// Appends one message as the mode frames it.
fn push_message(out: &mut Vec<u8>, mode: Mode, opcode: u8, payload: &[u8]) {
    if mode == Mode::Raw {
        out.extend_from_slice(&raw_prefix(payload.len()));
        out.extend_from_slice(payload);
    } else {
        push_frame(out, opcode, payload);
    }
}

/// `dst = src ^ mask` (the mask cycle starts at `src[0]`), eight bytes at a time.
#[inline]
fn mask_copy(dst: &mut [u8], src: &[u8]) {
    let k = MASK_KEY;
    let wide = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let word = u64::from_ne_bytes(s.try_into().expect("8 bytes")) ^ wide;
        d.copy_from_slice(&word.to_ne_bytes());
    }
    for (i, (d, s)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *d = s ^ k[i & 3];
    }
}

// ----- connections ----------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Handshake,
    Open,
    Dead,
}

struct Conn {
    stream: TcpStream,
    phase: Phase,
    /// The handshake response read so far (freed once open).
    response: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    /// Messages sent and not yet echoed: (offset into the pattern, time queued in ns).
    inflight: VecDeque<(u32, u64)>,
    seq: usize,
    /// In the client's list of connections to refill and write this turn.
    listed: bool,
    /// Set by the parser: something to write (an echo completed, a pong queued).
    wake: bool,
    // Frame parser (server frames are never masked).
    header: [u8; 14],
    header_len: usize,
    header_need: usize,
    in_frame: bool,
    frame_left: u64,
    frame_opcode: u8,
    frame_fin: bool,
    /// Opcode of the data message being received (0 when none).
    message_opcode: u8,
    /// Payload bytes of the current message received so far.
    message_pos: usize,
    control: Vec<u8>,
    /// The message being received is compressed (RSV1 on its first frame): its payload collects
    /// in `zbuf` and is inflated and checked when it ends.
    compressed: bool,
    zbuf: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream, depth: usize) -> Self {
        Self {
            stream,
            phase: Phase::Connecting,
            response: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            inflight: VecDeque::with_capacity(depth),
            seq: 0,
            listed: false,
            wake: false,
            header: [0; 14],
            header_len: 0,
            header_need: 2,
            in_frame: false,
            frame_left: 0,
            frame_opcode: 0,
            frame_fin: false,
            message_opcode: 0,
            message_pos: 0,
            control: Vec::new(),
            compressed: false,
            zbuf: Vec::new(),
        }
    }
}

/// What the loop counts.
struct Stats {
    messages: u64,
    /// Payload bytes of the echoes' data frames as they came over the wire.
    wire_in: u64,
    /// Scratch for inflating echoes, and the inflater.
    inflated: Vec<u8>,
    inflater: Option<zlib_rs::Inflate>,
    histogram: Histogram,
    errors: u64,
    last_progress: Instant,
}

/// Everything a connection's input is checked against.
struct Expect<'a> {
    mode: Mode,
    size: usize,
    opcode: u8,
    pattern: &'a [u8],
    /// Masked frames by pattern offset (see `prebuilt_frames`).
    frames: &'a [Vec<u8>],
    now_ns: u64,
    /// permessage-deflate was offered (and must have been accepted).
    deflate: bool,
}

/// Consumes bytes from the server. Err = the connection is unusable (counted as one error).
fn on_input(conn: &mut Conn, data: &[u8], ex: &Expect<'_>, stats: &mut Stats) -> Result<(), String> {
    if ex.mode == Mode::Raw {
        return on_raw_input(conn, data, ex, stats);
    }
    let mut p = 0;
    while p < data.len() || (conn.in_frame && conn.frame_left == 0) {
        // Whole small echoes in one go (the usual case for small messages); anything else, and
        // every mismatch, goes through the general parser below, which reports it.
        if !conn.in_frame && conn.header_len == 0 && conn.message_opcode == 0 {
            if let [b0, b1, ref rest @ ..] = data[p..] {
                let len = usize::from(b1);
                if b0 == 0x80 | ex.opcode && len == ex.size && len < 126 && rest.len() >= len {
                    if let Some(&(offset, sent)) = conn.inflight.front() {
                        let start = offset as usize;
                        if rest[..len] == ex.pattern[start..start + len] {
                            p += 2 + len;
                            stats.wire_in += len as u64;
                            complete(conn, sent, ex, stats);
                            continue;
                        }
                    }
                }
            }
        }
        if !conn.in_frame {
            let take = (conn.header_need - conn.header_len).min(data.len() - p);
            conn.header[conn.header_len..conn.header_len + take].copy_from_slice(&data[p..p + take]);
            conn.header_len += take;
            p += take;
            if conn.header_len == 2 && conn.header_need == 2 {
                if conn.header[1] & 0x80 != 0 {
                    return Err("server frame is masked".into());
                }
                conn.header_need = match conn.header[1] & 0x7f {
                    126 => 4,
                    127 => 10,
                    _ => 2,
                };
            }
            if conn.header_len < conn.header_need {
                continue;
            }
            start_frame(conn, ex.deflate)?;
            continue;
        }
        let n = (conn.frame_left.min((data.len() - p) as u64)) as usize;
        let chunk = &data[p..p + n];
        p += n;
        conn.frame_left -= n as u64;
        if conn.frame_opcode >= 8 {
            conn.control.extend_from_slice(chunk);
        } else if conn.compressed {
            stats.wire_in += n as u64;
            conn.zbuf.extend_from_slice(chunk);
        } else {
            stats.wire_in += n as u64;
            let &(offset, _) = conn.inflight.front().ok_or("echo of a message never sent")?;
            if conn.message_pos + n > ex.size {
                return Err(format!("echo longer than the {} bytes sent", ex.size));
            }
            let start = offset as usize + conn.message_pos;
            if chunk != &ex.pattern[start..start + n] {
                return Err("echoed payload differs from what was sent".into());
            }
            conn.message_pos += n;
        }
        if conn.frame_left == 0 {
            conn.in_frame = false;
            end_frame(conn, ex, stats)?;
        }
    }
    Ok(())
}

/// Raw mode: the echo of frames of a 4-byte big-endian length and the payload.
fn on_raw_input(conn: &mut Conn, data: &[u8], ex: &Expect<'_>, stats: &mut Stats) -> Result<(), String> {
    let mut p = 0;
    while p < data.len() {
        // Whole small frames in one go, as in ws mode.
        if conn.header_len == 0 {
            if let Some(frame) = data.get(p..p + RAW_PREFIX + ex.size) {
                if let Some(&(offset, sent)) = conn.inflight.front() {
                    let start = offset as usize;
                    if frame[..RAW_PREFIX] == raw_prefix(ex.size)
                        && frame[RAW_PREFIX..] == ex.pattern[start..start + ex.size]
                    {
                        p += frame.len();
                        complete(conn, sent, ex, stats);
                        continue;
                    }
                }
            }
        }
        if conn.header_len < RAW_PREFIX {
            let take = (RAW_PREFIX - conn.header_len).min(data.len() - p);
            conn.header[conn.header_len..conn.header_len + take].copy_from_slice(&data[p..p + take]);
            conn.header_len += take;
            p += take;
            if conn.header_len < RAW_PREFIX {
                break;
            }
            let len = u32::from_be_bytes(conn.header[..RAW_PREFIX].try_into().expect("4 bytes")) as usize;
            if len != ex.size {
                return Err(format!("echoed frame of {len} bytes, sent {}", ex.size));
            }
            conn.inflight
                .front()
                .ok_or("server sent bytes nobody asked for")?;
            continue;
        }
        let &(offset, sent) = conn
            .inflight
            .front()
            .ok_or("server sent bytes nobody asked for")?;
        let n = (ex.size - conn.message_pos).min(data.len() - p);
        let start = offset as usize + conn.message_pos;
        if data[p..p + n] != ex.pattern[start..start + n] {
            return Err("echoed bytes differ from what was sent".into());
        }
        p += n;
        conn.message_pos += n;
        if conn.message_pos == ex.size {
            conn.header_len = 0;
            complete(conn, sent, ex, stats);
        }
    }
    Ok(())
}

fn start_frame(conn: &mut Conn, deflate: bool) -> Result<(), String> {
    let h = &conn.header;
    let (fin, rsv, opcode) = (h[0] & 0x80 != 0, h[0] & 0x70, h[0] & 0x0f);
    let len = match conn.header_need {
        2 => u64::from(h[1] & 0x7f),
        4 => u64::from(u16::from_be_bytes([h[2], h[3]])),
        _ => u64::from_be_bytes(h[2..10].try_into().expect("8 bytes")),
    };
    conn.header_len = 0;
    conn.header_need = 2;
    let first_data = matches!(opcode, 1 | 2);
    if rsv == 0x40 && deflate && first_data {
        conn.compressed = true;
        conn.zbuf.clear();
    } else if rsv != 0 {
        return Err(
            "server set RSV bits that were not negotiated (or on a continuation/control frame)".into(),
        );
    }
    match opcode {
        0 if conn.message_opcode == 0 => return Err("continuation frame without a message".into()),
        1 | 2 if conn.message_opcode != 0 => return Err("new message inside a fragmented one".into()),
        1 | 2 => conn.message_opcode = opcode,
        0 => {}
        8 => return Err("server sent a close frame".into()),
        9 | 10 if len > 125 || !fin => return Err("invalid control frame".into()),
        9 | 10 => conn.control.clear(),
        _ => return Err(format!("unknown opcode {opcode}")),
    }
    conn.in_frame = true;
    conn.frame_left = len;
    conn.frame_opcode = opcode;
    conn.frame_fin = fin;
    Ok(())
}

fn end_frame(conn: &mut Conn, ex: &Expect<'_>, stats: &mut Stats) -> Result<(), String> {
    match conn.frame_opcode {
        9 => {
            // Ping: answer with a pong carrying the same payload.
            let payload = std::mem::take(&mut conn.control);
            push_frame(&mut conn.out, 10, &payload);
            conn.control = payload;
            conn.wake = true;
        }
        10 => {}
        _ if conn.frame_fin => {
            if conn.message_opcode != ex.opcode {
                return Err(format!(
                    "echo has opcode {} but the message was sent with {}",
                    conn.message_opcode, ex.opcode
                ));
            }
            if conn.compressed {
                conn.compressed = false;
                let &(offset, _) = conn.inflight.front().ok_or("echo of a message never sent")?;
                let inflater = stats
                    .inflater
                    .get_or_insert_with(|| zlib_rs::Inflate::new(false, 15));
                inflate_message(inflater, &conn.zbuf, ex.size, &mut stats.inflated)?;
                let start = offset as usize;
                if stats.inflated[..] != ex.pattern[start..start + ex.size] {
                    return Err("inflated echo differs from what was sent".into());
                }
                conn.message_pos = ex.size;
            }
            if conn.message_pos != ex.size {
                return Err(format!("echo of {} bytes, sent {}", conn.message_pos, ex.size));
            }
            let (_, sent) = *conn.inflight.front().expect("checked by the payload");
            conn.message_opcode = 0;
            complete(conn, sent, ex, stats);
        }
        _ => {}
    }
    Ok(())
}

/// A whole echo arrived.
#[inline]
fn complete(conn: &mut Conn, sent_ns: u64, ex: &Expect<'_>, stats: &mut Stats) {
    conn.inflight.pop_front();
    conn.message_pos = 0;
    stats.messages += 1;
    stats.histogram.record(ex.now_ns.saturating_sub(sent_ns));
    conn.wake = true;
}

/// Queues messages until `depth` are in flight.
fn refill(conn: &mut Conn, depth: usize, ex: &Expect<'_>) {
    while conn.inflight.len() < depth {
        let offset = (conn.seq * 7) % OFFSETS;
        conn.seq += 1;
        let payload = &ex.pattern[offset..offset + ex.size];
        match ex.frames.get(offset) {
            Some(frame) => conn.out.extend_from_slice(frame),
            None => push_message(&mut conn.out, ex.mode, ex.opcode, payload),
        }
        conn.inflight.push_back((offset as u32, ex.now_ns));
    }
}

/// One write attempt loop: as much as the socket takes.
fn flush(conn: &mut Conn) -> io::Result<()> {
    while conn.out_pos < conn.out.len() {
        match conn.stream.write(&conn.out[conn.out_pos..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.out_pos += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    conn.out.clear();
    conn.out_pos = 0;
    Ok(())
}

/// Parses the handshake response; Ok(Some(rest)) once complete, with the bytes after it.
fn handshake_input(
    conn: &mut Conn,
    data: &[u8],
    deflate: bool,
    takeover: bool,
) -> Result<Option<Vec<u8>>, String> {
    conn.response.extend_from_slice(data);
    let Some(end) = conn.response.windows(4).position(|w| w == b"\r\n\r\n") else {
        if conn.response.len() > 16 << 10 {
            return Err("handshake response too long".into());
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&conn.response[..end]).to_string();
    let status = head.lines().next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 101") {
        return Err(format!("handshake refused: {status:?}"));
    }
    let accept = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim().to_string())
    });
    if accept.as_deref() != Some(WS_ACCEPT) {
        return Err(format!("bad Sec-WebSocket-Accept: {accept:?}"));
    }
    if deflate {
        let extensions = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim().to_string())
        });
        match extensions.as_deref() {
            Some(e)
                if e.starts_with("permessage-deflate") && takeover && !e.contains("no_context_takeover") => {}
            Some(e)
                if e.starts_with("permessage-deflate")
                    && !takeover
                    && e.contains("server_no_context_takeover") => {}
            other => return Err(format!("the server did not accept the deflate offer: {other:?}")),
        }
    }
    let rest = conn.response[end + 4..].to_vec();
    conn.response = Vec::new();
    Ok(Some(rest))
}

// ----- /proc ----------------------------------------------------------------------------------------

/// utime + stime of `pid` in nanoseconds (all threads).
fn proc_cpu_ns(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some((utime + stime) * 1_000_000_000 / ticks)
}

/// VmRSS of `pid` in bytes.
fn proc_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// This process's CPU time in nanoseconds.
fn self_cpu_ns() -> u64 {
    // SAFETY: getrusage writes into the zeroed struct we pass; RUSAGE_SELF is valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Raises RLIMIT_NOFILE to fit `needed` descriptors; Err explains when the hard limit is too low.
fn raise_nofile(needed: u64) -> Result<(), String> {
    // SAFETY: getrlimit/setrlimit get a valid pointer to a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err("getrlimit(RLIMIT_NOFILE) failed".into());
        }
        if lim.rlim_cur >= needed {
            return Ok(());
        }
        if lim.rlim_max < needed {
            return Err(format!(
                "{needed} file descriptors needed but the hard limit (ulimit -Hn) is {}: raise it \
                 (as root: ulimit -Hn {needed}, or nofile in /etc/security/limits.conf) or use fewer connections",
                lim.rlim_max
            ));
        }
        lim.rlim_cur = needed;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            return Err(format!("setrlimit(RLIMIT_NOFILE, {needed}) failed"));
        }
    }
    Ok(())
}

// ----- the run ------------------------------------------------------------------------------------

struct Client {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    dirty: Vec<usize>,
    /// Readiness taken from `events`, reused between turns.
    ready: Vec<(usize, bool, bool, bool)>,
    buf: Vec<u8>,
    start: Instant,
    stats: Stats,
    opts: Opts,
    pattern: Vec<u8>,
    frames: Vec<Vec<u8>>,
    addr: SocketAddr,
    request: Vec<u8>,
    /// Send new messages (false while connecting and after the measurement).
    sending: bool,
    /// Plain TCP, no handshake, length-prefixed frames (`--mode raw`, or `--mode idle` with a tcp://
    /// URL).
    raw: bool,
    /// Send one message per connection only (`--mode idle --deflate` / `--json`).
    one_each: bool,
    /// Mean payload bytes of a sent message's frame (compressed with `--deflate`).
    wire_out: f64,
}

impl Client {
    fn fail(&mut self, index: usize, why: &str) {
        let conn = &mut self.conns[index];
        if conn.phase == Phase::Dead {
            return;
        }
        if self.stats.errors < 5 {
            eprintln!("bench_client: connection {index}: {why}");
        }
        self.stats.errors += 1;
        conn.phase = Phase::Dead;
        let _ = self.poll.registry().deregister(&mut conn.stream);
        conn.inflight.clear();
    }

    fn open_one(&mut self) -> Result<(), String> {
        let mut stream = TcpStream::connect(self.addr).map_err(|e| format!("connect {}: {e}", self.addr))?;
        let index = self.conns.len();
        self.poll
            .registry()
            .register(&mut stream, Token(index), Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| format!("register: {e}"))?;
        let mut conn = Conn::new(stream, self.opts.depth);
        if !self.raw {
            conn.out.extend_from_slice(&self.request);
        }
        self.conns.push(conn);
        Ok(())
    }

    /// One loop turn: wait, read, then refill and write each connection that needs it once.
    fn turn(&mut self, timeout: Duration) -> Result<(), String> {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(format!("poll: {e}")),
        }
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| {
            (
                e.token().0,
                e.is_readable() || e.is_read_closed() || e.is_error(),
                e.is_writable() || e.is_error(),
                e.is_read_closed() || e.is_error(),
            )
        }));
        for &(index, readable, writable, read_closed) in &ready {
            if writable {
                self.on_writable(index);
            }
            if readable {
                self.on_readable(index, read_closed);
            }
        }
        self.ready = ready;
        let mut dirty = std::mem::take(&mut self.dirty);
        let ex = Expect {
            mode: self.opts.mode,
            size: self.opts.size,
            opcode: self.opcode(),
            pattern: &self.pattern,
            frames: &self.frames,
            now_ns: self.start.elapsed().as_nanos() as u64,
            deflate: self.opts.deflate,
        };
        let mut failed = Vec::new();
        for &index in &dirty {
            let conn = &mut self.conns[index];
            conn.listed = false;
            if matches!(conn.phase, Phase::Dead | Phase::Connecting) {
                continue;
            }
            if self.sending && conn.phase == Phase::Open && !(self.one_each && conn.seq > 0) {
                refill(conn, self.opts.depth, &ex);
            }
            if let Err(e) = flush(conn) {
                failed.push((index, e));
            }
        }
        for (index, e) in failed {
            self.fail(index, &format!("write: {e}"));
        }
        dirty.clear();
        self.dirty = dirty;
        Ok(())
    }

    fn opcode(&self) -> u8 {
        if self.opts.text { 1 } else { 2 }
    }

    fn mark_dirty(&mut self, index: usize) {
        let conn = &mut self.conns[index];
        if !conn.listed {
            conn.listed = true;
            self.dirty.push(index);
        }
    }

    fn on_writable(&mut self, index: usize) {
        let conn = &mut self.conns[index];
        match conn.phase {
            Phase::Dead => {}
            Phase::Connecting => {
                if let Ok(Some(e)) | Err(e) = conn.stream.take_error() {
                    return self.fail(index, &format!("connect: {e}"));
                }
                match conn.stream.peer_addr() {
                    Ok(_) => {
                        let _ = conn.stream.set_nodelay(true);
                        conn.phase = if self.raw { Phase::Open } else { Phase::Handshake };
                        self.mark_dirty(index);
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                    Err(e) => self.fail(index, &format!("connect: {e}")),
                }
            }
            _ => self.mark_dirty(index),
        }
    }

    /// Reads until the socket is empty: until it would block, or (unless the server closed its
    /// side) until a read comes back shorter than the buffer, which also means empty (the same rule
    /// as wskit and the raw echo server, so every server is driven alike).
    fn on_readable(&mut self, index: usize, read_closed: bool) {
        let mut buf = std::mem::take(&mut self.buf);
        loop {
            let conn = &mut self.conns[index];
            if matches!(conn.phase, Phase::Dead | Phase::Connecting) {
                break;
            }
            match conn.stream.read(&mut buf) {
                Ok(0) => {
                    self.fail(index, "server closed the connection");
                    break;
                }
                Ok(n) => {
                    if let Err(e) = self.input(index, &buf[..n]) {
                        self.fail(index, &e);
                        break;
                    }
                    if n < buf.len() && !read_closed {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(index, &format!("read: {e}"));
                    break;
                }
            }
        }
        self.buf = buf;
    }

    fn input(&mut self, index: usize, data: &[u8]) -> Result<(), String> {
        let before = self.stats.messages;
        if self.conns[index].phase == Phase::Handshake {
            let Some(rest) = handshake_input(
                &mut self.conns[index],
                data,
                self.opts.deflate,
                self.opts.takeover,
            )?
            else {
                return Ok(());
            };
            self.conns[index].phase = Phase::Open;
            self.mark_dirty(index);
            if rest.is_empty() {
                return Ok(());
            }
            return self.input(index, &rest);
        }
        let ex = Expect {
            mode: self.opts.mode,
            size: self.opts.size,
            opcode: self.opcode(),
            pattern: &self.pattern,
            frames: &self.frames,
            now_ns: self.start.elapsed().as_nanos() as u64,
            deflate: self.opts.deflate,
        };
        let conn = &mut self.conns[index];
        let result = on_input(conn, data, &ex, &mut self.stats);
        if std::mem::take(&mut conn.wake) {
            self.mark_dirty(index);
        }
        if self.stats.messages != before {
            self.stats.last_progress = Instant::now();
        }
        result
    }

    fn open_count(&self) -> usize {
        self.conns.iter().filter(|c| c.phase == Phase::Open).count()
    }

    /// Opens `n` connections (handshakes complete), at most MAX_PENDING_HANDSHAKES at a time.
    fn connect_all(&mut self, n: usize) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60) + Duration::from_millis(n as u64 * 5);
        let mut opened = 0;
        loop {
            let pending = self
                .conns
                .iter()
                .filter(|c| matches!(c.phase, Phase::Connecting | Phase::Handshake))
                .count();
            while self.conns.len() < n && pending + (self.conns.len() - opened) < MAX_PENDING_HANDSHAKES {
                self.open_one()?;
            }
            opened = self.conns.len();
            let open = self.open_count();
            let dead = self.conns.iter().filter(|c| c.phase == Phase::Dead).count();
            if dead > 0 {
                return Err(format!("{dead} connection(s) failed while connecting"));
            }
            if open == n {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("only {open} of {n} connections opened in time"));
            }
            self.turn(Duration::from_millis(50))?;
        }
    }
}

fn run(opts: Opts) -> Result<bool, String> {
    let (addr, authority, path) = split_url(&opts.url)?;
    let needed = match opts.mode {
        Mode::Idle => opts.idle,
        _ => opts.connections,
    } as u64
        + 64;
    raise_nofile(needed)?;
    let offer = if opts.takeover {
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12\r\n"
    } else if opts.deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    );
    let mut client = Client {
        poll: Poll::new().map_err(|e| e.to_string())?,
        events: Events::with_capacity(1024),
        conns: Vec::new(),
        dirty: Vec::new(),
        ready: Vec::new(),
        buf: vec![0; READ_BUF],
        start: Instant::now(),
        stats: Stats {
            messages: 0,
            wire_in: 0,
            inflated: Vec::new(),
            inflater: None,
            histogram: Histogram::new(),
            errors: 0,
            last_progress: Instant::now(),
        },
        frames: Vec::new(),
        pattern: if opts.json {
            json_pattern(opts.size)
        } else {
            pattern(opts.size, opts.text)
        },
        addr,
        request: request.into_bytes(),
        sending: false,
        raw: opts.mode == Mode::Raw || opts.url.starts_with("tcp://"),
        one_each: false,
        wire_out: opts.size as f64,
        opts,
    };
    if client.opts.deflate {
        let (frames, mean) = deflated_frames(&client.pattern, client.opts.size, 1);
        client.frames = frames;
        client.wire_out = mean;
    }
    if client.opts.mode == Mode::Ws && client.raw {
        return Err("--mode ws needs a ws:// URL".into());
    }
    if client.opts.mode == Mode::Idle {
        return run_idle(&mut client);
    }
    if client.opts.deflate {
        return run_load(&mut client);
    }
    if client.opts.size > u32::MAX as usize {
        return Err("--size must fit in 32 bits".into());
    }
    client.frames = prebuilt_frames(
        &client.pattern,
        client.opts.size,
        client.opts.mode,
        client.opcode(),
    );
    run_load(&mut client)
}

fn run_idle(client: &mut Client) -> Result<bool, String> {
    let pid = client.opts.pid.expect("checked by parse_opts");
    let n = client.opts.idle;
    let before = proc_rss(pid).ok_or_else(|| format!("cannot read /proc/{pid}/status"))?;
    let started = Instant::now();
    client.connect_all(n)?;
    if client.opts.json {
        // One compressed message on every connection, echoed, before the idle measurement.
        client.one_each = true;
        client.sending = true;
        for i in 0..n {
            client.mark_dirty(i);
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while client.stats.messages < n as u64 && client.stats.errors == 0 && Instant::now() < deadline {
            client.turn(Duration::from_millis(50))?;
        }
        client.sending = false;
        if client.stats.messages < n as u64 {
            return Err(format!("only {} of {n} messages echoed", client.stats.messages));
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    let idle_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < idle_until {
        client.turn(Duration::from_millis(100))?;
    }
    let after = proc_rss(pid).ok_or_else(|| format!("cannot read /proc/{pid}/status"))?;
    let open = client.open_count();
    let errors = client.stats.errors + (n - open) as u64;
    let per_conn = (after as f64 - before as f64) / n as f64;
    println!(
        "idle {n} connections ({open} open after 2 s idle, opened in {connect_secs:.1} s): server RSS {:.1} -> {:.1} MiB, \
         {per_conn:.0} bytes per connection, errors {errors}",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
    );
    println!(
        "{{\"mode\":\"idle\",\"transport\":\"{}\",\"connections\":{n},\"rss_before\":{before},\"rss_after\":{after},\
         \"bytes_per_conn\":{per_conn:.0},\"errors\":{errors}}}",
        if client.raw { "tcp" } else { "ws" }
    );
    Ok(errors == 0)
}

fn run_load(client: &mut Client) -> Result<bool, String> {
    let c = client.opts.connections;
    client.connect_all(c)?;
    // Start sending on every connection.
    client.sending = true;
    for i in 0..c {
        client.mark_dirty(i);
    }
    let warm_end = Instant::now() + Duration::from_secs_f64(client.opts.warmup);
    client.stats.last_progress = Instant::now();
    let mut measuring = false;
    let mut t0 = Instant::now();
    let mut end = warm_end;
    let mut cpu0 = (0, 0);
    loop {
        let now = Instant::now();
        if !measuring && now >= warm_end {
            measuring = true;
            client.stats.messages = 0;
            client.stats.wire_in = 0;
            client.stats.histogram.reset();
            t0 = Instant::now();
            end = t0 + Duration::from_secs_f64(client.opts.duration);
            cpu0 = (client.opts.pid.and_then(proc_cpu_ns).unwrap_or(0), self_cpu_ns());
        } else if measuring && now >= end {
            break;
        }
        if now.duration_since(client.stats.last_progress) > STALL {
            return Err(format!("no echo for {} s: the server stalled", STALL.as_secs()));
        }
        if client.conns.iter().all(|c| c.phase == Phase::Dead) {
            break;
        }
        let left = (if measuring { end } else { warm_end }).saturating_duration_since(now);
        client.turn(left.min(Duration::from_millis(100)))?;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let messages = client.stats.messages;
    let server_cpu = client
        .opts
        .pid
        .and_then(proc_cpu_ns)
        .map(|cpu| cpu.saturating_sub(cpu0.0));
    let client_cpu = self_cpu_ns().saturating_sub(cpu0.1);
    client.sending = false;
    let o = &client.opts;
    let msgs_per_s = messages as f64 / elapsed;
    let mb_per_s = msgs_per_s * o.size as f64 / 1e6;
    let h = &client.stats.histogram;
    let (p50, p99, p999) = (h.quantile_us(0.5), h.quantile_us(0.99), h.quantile_us(0.999));
    let errors = client.stats.errors;
    let kind = if o.text { "text" } else { "binary" };
    let cpu_per_msg = server_cpu.map(|ns| {
        if messages > 0 {
            ns as f64 / messages as f64
        } else {
            0.0
        }
    });
    let client_pct = client_cpu as f64 / elapsed / 1e7;
    let extra = if o.deflate {
        let wire_in = if messages > 0 {
            client.stats.wire_in as f64 / messages as f64
        } else {
            0.0
        };
        format!(
            ",\"deflate\":true,\"wire_out_per_msg\":{:.1},\"wire_in_per_msg\":{wire_in:.1}",
            client.wire_out
        )
    } else {
        String::new()
    };
    println!(
        "{} {}x{}B {kind} depth {}: {msgs_per_s:.0} msgs/s, {mb_per_s:.2} MB/s, p50 {p50:.1} us, p99 {p99:.1} us, \
         p99.9 {p999:.1} us, errors {errors}{} (client cpu {client_pct:.0}%)",
        o.mode.name(),
        o.connections,
        o.size,
        o.depth,
        cpu_per_msg.map_or(String::new(), |ns| format!(
            ", server cpu {:.2} us/msg",
            ns / 1000.0
        )),
    );
    println!(
        "{{\"mode\":\"{}\",\"connections\":{},\"depth\":{},\"size\":{},\"text\":{},\"msgs_per_s\":{msgs_per_s:.1},\
         \"mb_per_s\":{mb_per_s:.3},\"p50_us\":{p50:.2},\"p99_us\":{p99:.2},\"p999_us\":{p999:.2},\"errors\":{errors},\
         \"messages\":{messages},\"seconds\":{elapsed:.3},\"server_cpu_ns_per_msg\":{},\"client_cpu_pct\":{client_pct:.1}{extra}}}",
        o.mode.name(),
        o.connections,
        o.depth,
        o.size,
        o.text,
        cpu_per_msg.map_or("null".to_string(), |ns| format!("{ns:.1}")),
    );
    Ok(errors == 0 && messages > 0)
}

fn main() -> ExitCode {
    let opts = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench_client: {e}");
            return ExitCode::from(2);
        }
    };
    match run(opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench_client: {e}");
            ExitCode::FAILURE
        }
    }
}
