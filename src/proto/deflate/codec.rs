//! The per-message codec of permessage-deflate: raw deflate with a sync flush per message (RFC 7692
//! 7.2.1), the `00 00 ff ff` tail stripped on send and appended on receive, inflation bounded by
//! `max_message_size`.

use zlib_rs::{
    Deflate as Compress, DeflateConfig as ZlibConfig, DeflateFlush, Inflate as Decompress, InflateFlush,
    Method, Status, Strategy,
};

use super::{DeflateConfig, DeflateParams};
use crate::proto::config::Role;

/// The tail a sync flush ends with (an empty stored block), removed from every compressed message.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output is produced in steps of at most this many bytes, so the bound is checked before memory
/// passes it by more than one step.
const INFLATE_STEP: usize = 16 * 1024;

/// Inflation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// Not valid deflate data (1007).
    Invalid,
    /// The inflated message passed the limit (1009); the size it reached.
    TooLarge(u64),
}

/// Idle compressors and decompressors that connections with no context takeover hand back between
/// messages, for reuse by any connection of the same parameters: one per event loop is enough for all
/// its connections. See [`crate::proto::Connection::return_deflate_state`] and
/// [`crate::proto::Connection::lend_deflate_state`].
#[derive(Default)]
pub struct DeflatePool {
    /// `(window bits, level, memory level, compressor)`, all reset.
    compressors: Vec<(u8, u8, u8, Box<Compress>)>,
    /// Decompressors, all reset (a reset one inflates any window size).
    // Boxed: they move between connections (which box them) and the pool without reallocating.
    #[allow(clippy::vec_box)]
    decompressors: Vec<Box<Decompress>>,
}

impl std::fmt::Debug for DeflatePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (c, d) = self.len();
        write!(f, "DeflatePool {{ compressors: {c}, decompressors: {d} }}")
    }
}

impl DeflatePool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many codecs it holds (compressors, decompressors).
    pub fn len(&self) -> (usize, usize) {
        (self.compressors.len(), self.decompressors.len())
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.compressors.is_empty() && self.decompressors.is_empty()
    }

    /// Drops everything it holds.
    pub fn clear(&mut self) {
        self.compressors.clear();
        self.decompressors.clear();
    }

    fn take_compressor(&mut self, key: (u8, u8, u8)) -> Option<Box<Compress>> {
        let i = self.compressors.iter().position(|c| (c.0, c.1, c.2) == key)?;
        Some(self.compressors.swap_remove(i).3)
    }

    fn take_decompressor(&mut self) -> Option<Box<Decompress>> {
        self.decompressors.pop()
    }
}

/// One connection's permessage-deflate state: the agreed parameters and the codecs.
pub(crate) struct DeflateState {
    pub(crate) params: DeflateParams,
    pub(crate) min_size: usize,
    level: u8,
    mem_level: u8,
    send_bits: u8,
    send_reset: bool,
    recv_bits: u8,
    recv_reset: bool,
    /// Boxed: zlib's stream structs are large, and an idle connection without context takeover
    /// holds none.
    compress: Option<Box<Compress>>,
    /// True while a message is half compressed (its context cannot be dropped).
    compress_busy: bool,
    decompress: Option<Box<Decompress>>,
    decompress_busy: bool,
    /// Idle compaction ([`DeflateConfig::compact_idle`]) of the directions with context takeover:
    /// `None` otherwise, so connections that do not compact pay nothing.
    compaction: Option<Box<Compaction>>,
    /// A fragmented message being sent is compressed (RSV1 was set on its first frame).
    pub(crate) sending_compressed: bool,
    /// The buffer compressed frames are built in, kept between messages (up to
    /// [`MAX_SCRATCH`] bytes) until the connection releases its memory.
    pub(crate) scratch: Vec<u8>,
}

/// Most compressors (and, apart, decompressors) a [`DeflatePool`] keeps. A loop needs one of each
/// per parameter set while messages are handled one at a time; more only while several
/// connections are in the middle of fragmented messages.
const MAX_POOLED: usize = 8;

/// Largest compression buffer kept between messages.
const MAX_SCRATCH: usize = 64 * 1024;

/// What a direction with context takeover keeps while its codec is back in the pool: the last
/// window's worth of the uncompressed stream, which a fresh codec takes as its dictionary.
#[derive(Debug, Default)]
struct Compaction {
    /// The last up to 2^send_bits bytes this end compressed.
    sent: Vec<u8>,
    /// The last up to 2^recv_bits bytes this end inflated.
    received: Vec<u8>,
    /// The compressor in use was primed with `sent` (a pooled one is not yet).
    send_primed: bool,
    /// The decompressor in use was primed with `received`.
    recv_primed: bool,
}

/// Appends `data` to `history`, keeping only its last `cap` bytes.
fn remember(history: &mut Vec<u8>, data: &[u8], cap: usize) {
    if data.len() >= cap {
        history.clear();
        history.extend_from_slice(&data[data.len() - cap..]);
        return;
    }
    let excess = (history.len() + data.len()).saturating_sub(cap);
    if excess > 0 {
        history.drain(..excess);
    }
    history.extend_from_slice(data);
}

impl std::fmt::Debug for DeflateState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeflateState")
            .field("params", &self.params)
            .field("compressor", &self.compress.is_some())
            .field("decompressor", &self.decompress.is_some())
            .finish_non_exhaustive()
    }
}

impl DeflateState {
    pub(crate) fn new(role: Role, params: DeflateParams, config: &DeflateConfig) -> Self {
        let (send_bits, send_reset) = params.sending(role);
        let (recv_bits, recv_reset) = params.receiving(role);
        let compacts = config.compact_idle && !(send_reset && recv_reset);
        Self {
            params,
            min_size: config.min_size,
            level: config.level.min(9),
            mem_level: config.mem_level.clamp(1, 9),
            // zlib compresses with at least 9 bits, and inflates 8-bit streams with a 9-bit window.
            send_bits: send_bits.max(9),
            send_reset,
            recv_bits: recv_bits.max(9),
            recv_reset,
            compress: None,
            compress_busy: false,
            decompress: None,
            decompress_busy: false,
            compaction: compacts.then(Box::default),
            sending_compressed: false,
            scratch: Vec::new(),
        }
    }

    /// Compresses `data` (the next piece of a message) and appends the result to `out`. `fin`: the
    /// message ends with this piece, so the sync-flush tail is stripped (RFC 7692 7.2.1).
    pub(crate) fn compress(&mut self, data: &[u8], fin: bool, out: &mut Vec<u8>) {
        let (bits, level, mem_level) = (self.send_bits, self.level, self.mem_level);
        let c = self.compress.get_or_insert_with(|| {
            Box::new(Compress::new_with_config(ZlibConfig {
                level: i32::from(level),
                method: Method::Deflated,
                window_bits: -i32::from(bits),
                mem_level: i32::from(mem_level),
                strategy: Strategy::Default,
            }))
        });
        self.compress_busy = true;
        if !self.send_reset {
            if let Some(k) = self.compaction.as_deref_mut() {
                if !k.send_primed {
                    if !k.sent.is_empty() {
                        // A reset raw stream takes a dictionary: this cannot fail.
                        c.set_dictionary(&k.sent)
                            .expect("dictionary on a reset raw deflate stream");
                    }
                    k.send_primed = true;
                }
                remember(&mut k.sent, data, 1 << bits);
            }
        }
        let start = out.len();
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve((input.len() / 2).max(256));
            }
            let (before_in, before_out) = (c.total_in(), c.total_out());
            let len = out.len();
            // Errors come only from misuse of the stream (none here): treat them as a bug.
            let status = c
                .compress_uninit(input, out.spare_capacity_mut(), DeflateFlush::SyncFlush)
                .expect("deflate stream state");
            let produced = (c.total_out() - before_out) as usize;
            // SAFETY: zlib-rs wrote exactly `produced` bytes at the start of the spare capacity.
            unsafe { out.set_len(len + produced) };
            input = &input[(c.total_in() - before_in) as usize..];
            // A flush is complete once the call left output space unused.
            if input.is_empty() && (out.len() < out.capacity() || status == Status::BufError) {
                break;
            }
        }
        if fin {
            if out[start..].ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if out.len() == start {
                // Nothing new since the last flush: a lone 0x00 is an empty stored block once the
                // receiver appends the tail (RFC 7692 7.2.3.6).
                out.push(0x00);
            }
            self.compress_busy = false;
            if self.send_reset {
                if let Some(c) = self.compress.as_mut() {
                    c.reset();
                }
            }
        }
    }

    /// Inflates `data` (the next piece of a compressed message's payload) onto `out`, which may hold
    /// at most `limit` bytes of the message (`already` were handed out before, in streaming mode).
    /// `fin`: the message ends here, so the tail is appended first.
    pub(crate) fn inflate(
        &mut self,
        data: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        already: u64,
        limit: u64,
    ) -> Result<(), InflateError> {
        let bits = self.recv_bits;
        let d = self
            .decompress
            .get_or_insert_with(|| Box::new(Decompress::new(false, bits)));
        self.decompress_busy = true;
        let compaction = if self.recv_reset {
            None
        } else {
            self.compaction.as_deref_mut()
        };
        if let Some(k) = compaction.as_ref().filter(|k| !k.recv_primed) {
            if !k.received.is_empty() {
                d.set_dictionary(&k.received)
                    .expect("dictionary on a reset raw inflate stream");
            }
        }
        let start = out.len();
        let mut ended = false;
        let mut run = || -> Result<(), InflateError> {
            ended = inflate_into(d, data, out, already, limit)?;
            if fin && !ended {
                ended = inflate_into(d, &TAIL, out, already, limit)?;
            }
            Ok(())
        };
        let result = run();
        if let Some(k) = compaction {
            k.recv_primed = true;
            if ended {
                // The stream ended: the next message starts one with no history.
                k.received.clear();
            } else {
                remember(&mut k.received, &out[start.min(out.len())..], 1 << bits);
            }
        }
        // A message that set BFINAL ended the stream: later bytes of it are ignored, and the next
        // message starts a new stream (its sender reset its compressor).
        if fin || result.is_err() {
            self.decompress_busy = false;
            if let Some(d) = self.decompress.as_mut() {
                if self.recv_reset {
                    // A reset decompressor has a 15-bit window limit: fine for any stream, and
                    // its window is allocated only when a message needs it.
                    d.reset(false);
                } else if ended || result.is_err() {
                    // Keep the negotiated window size for the next stream.
                    **d = Decompress::new(false, bits);
                }
            }
        }
        result
    }

    /// What a compressed message's bytes depend on when no context is kept between messages
    /// (window bits, level, memory level): equal keys compress a message to the same bytes, so
    /// one compression serves them all (see [`crate::proto::PreparedMessage`]). `None` with
    /// context takeover, where the bytes depend on the messages before.
    pub(crate) fn shared_key(&self) -> Option<(u8, u8, u8)> {
        (self.send_reset && !self.sending_compressed).then_some((self.send_bits, self.level, self.mem_level))
    }

    /// Heap bytes held by the codecs (an estimate from zlib's sizes: window, hash tables, buffers).
    pub(crate) fn codec_bytes(&self) -> usize {
        let c = self
            .compress
            .as_ref()
            .map_or(0, |_| compressor_bytes(self.send_bits, self.mem_level));
        let d = self
            .decompress
            .as_ref()
            .map_or(0, |_| decompressor_bytes(self.recv_bits));
        let k = self.compaction.as_ref().map_or(0, |k| {
            std::mem::size_of::<Compaction>() + k.sent.capacity() + k.received.capacity()
        });
        c + d + k + self.scratch.capacity()
    }

    /// Keeps `buf` for the next compressed frame, unless it grew large.
    pub(crate) fn keep_scratch(&mut self, buf: Vec<u8>) {
        if buf.capacity() <= MAX_SCRATCH {
            self.scratch = buf;
        }
    }

    /// Hands codecs no message needs to `pool` (or drops them when `pool` is `None`), and frees the
    /// compression buffer.
    pub(crate) fn release_spare(&mut self, pool: Option<&mut DeflatePool>) {
        self.scratch = Vec::new();
        let compacts = self.compaction.is_some();
        let c = if (self.send_reset || compacts) && !self.compress_busy {
            self.compress.take()
        } else {
            None
        };
        let d = if (self.recv_reset || compacts) && !self.decompress_busy {
            self.decompress.take()
        } else {
            None
        };
        // A codec going back with context is reset first: the pool holds only fresh ones, and
        // the history in `compaction` is all this connection needs to resume.
        let c = c.map(|mut c| {
            if let Some(k) = self.compaction.as_deref_mut().filter(|_| !self.send_reset) {
                if k.send_primed {
                    c.reset();
                    k.send_primed = false;
                }
                k.sent.shrink_to_fit();
            }
            c
        });
        let d = d.map(|mut d| {
            if let Some(k) = self.compaction.as_deref_mut().filter(|_| !self.recv_reset) {
                if k.recv_primed {
                    d.reset(false);
                    k.recv_primed = false;
                }
                k.received.shrink_to_fit();
            }
            d
        });
        if let Some(pool) = pool {
            // Past the cap the codec is dropped: a burst of concurrent messages must not leave
            // its peak in the pool for the life of the loop.
            if let Some(c) = c.filter(|_| pool.compressors.len() < MAX_POOLED) {
                pool.compressors
                    .push((self.send_bits, self.level, self.mem_level, c));
            }
            if let Some(d) = d.filter(|_| pool.decompressors.len() < MAX_POOLED) {
                pool.decompressors.push(d);
            }
        }
    }

    /// Takes codecs of the right parameters from `pool` for directions without context takeover
    /// that have none, so the next message allocates nothing.
    pub(crate) fn borrow_from(&mut self, pool: &mut DeflatePool) {
        let compacts = self.compaction.is_some();
        if (self.send_reset || compacts) && self.compress.is_none() {
            self.compress = pool.take_compressor((self.send_bits, self.level, self.mem_level));
        }
        if (self.recv_reset || compacts) && self.decompress.is_none() {
            self.decompress = pool.take_decompressor();
        }
    }
}

/// Inflates `data` onto `out` in steps of at most [`INFLATE_STEP`] bytes, failing as soon as the
/// message passes `limit`; `out`'s capacity never grows past `limit + 1`. Returns whether the
/// stream ended (a BFINAL block).
fn inflate_into(
    d: &mut Decompress,
    data: &[u8],
    out: &mut Vec<u8>,
    already: u64,
    limit: u64,
) -> Result<bool, InflateError> {
    let mut input = data;
    let cap_limit = usize::try_from(limit.saturating_sub(already).saturating_add(1)).unwrap_or(usize::MAX);
    loop {
        let len = out.len();
        let room = cap_limit.saturating_sub(len);
        // One byte more than allowed, to tell "exactly at the limit" from "past it".
        let step = room.clamp(1, INFLATE_STEP);
        if out.capacity() < len + step {
            let target = (len + step).max(out.capacity().saturating_mul(2).min(cap_limit));
            out.reserve_exact(target - len);
        }
        let (before_in, before_out) = (d.total_in(), d.total_out());
        let r = d.decompress_uninit(
            input,
            &mut out.spare_capacity_mut()[..step],
            InflateFlush::SyncFlush,
        );
        let produced = (d.total_out() - before_out) as usize;
        let consumed = (d.total_in() - before_in) as usize;
        // SAFETY: zlib-rs wrote exactly `produced` bytes at the start of the spare capacity.
        unsafe { out.set_len(len + produced) };
        let status = r.map_err(|_| InflateError::Invalid)?;
        input = &input[consumed..];
        let size = already + out.len() as u64;
        if size > limit {
            return Err(InflateError::TooLarge(size));
        }
        if status == Status::StreamEnd {
            return Ok(true);
        }
        if produced < step && input.is_empty() {
            return Ok(false);
        }
        if produced == 0 && consumed == 0 {
            // No progress with input left and output room: zlib wants nothing more of this data.
            return Err(InflateError::Invalid);
        }
    }
}

/// zlib-rs's deflate state for a window of `bits` and `mem_level` (an estimate for
/// [`crate::proto::Connection::heap_bytes`]): window (2 × 2^bits), prev (2 × 2^bits), a fixed
/// 64 Ki-entry hash table (128 KiB), pending and symbol buffers (4 × 2^(mem_level+6)), plus the
/// state struct (about 6 KiB).
pub(crate) fn compressor_bytes(bits: u8, mem_level: u8) -> usize {
    let w = 1usize << bits;
    4 * w + (128 << 10) + (4 << (mem_level + 6)) + 6 * 1024
}

/// zlib's inflate state: the window (2^bits) plus the state (about 7 KiB).
pub(crate) fn decompressor_bytes(bits: u8) -> usize {
    (1usize << bits) + 7 * 1024
}
