//! The per-message codec of permessage-deflate: raw deflate with a sync flush per message (RFC 7692
//! 7.2.1), the `00 00 ff ff` tail stripped on send and appended on receive, inflation bounded by
//! `max_message_size`.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::DeflateParams;
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
#[derive(Debug, Default)]
pub struct DeflatePool {
    /// `(window bits, level, compressor)`, all reset.
    compressors: Vec<(u8, u8, Compress)>,
    /// `(window bits, decompressor)`, all reset.
    decompressors: Vec<(u8, Decompress)>,
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

    fn take_compressor(&mut self, bits: u8, level: u8) -> Option<Compress> {
        let i = self
            .compressors
            .iter()
            .position(|c| c.0 == bits && c.1 == level)?;
        Some(self.compressors.swap_remove(i).2)
    }

    fn take_decompressor(&mut self, bits: u8) -> Option<Decompress> {
        let i = self.decompressors.iter().position(|d| d.0 == bits)?;
        Some(self.decompressors.swap_remove(i).1)
    }
}

/// One connection's permessage-deflate state: the agreed parameters and the codecs.
#[derive(Debug)]
pub(crate) struct DeflateState {
    pub(crate) params: DeflateParams,
    pub(crate) min_size: usize,
    level: u8,
    send_bits: u8,
    send_reset: bool,
    recv_bits: u8,
    recv_reset: bool,
    compress: Option<Compress>,
    /// True while a message is half compressed (its context cannot be dropped).
    compress_busy: bool,
    decompress: Option<Decompress>,
    decompress_busy: bool,
    /// A fragmented message being sent is compressed (RSV1 was set on its first frame).
    pub(crate) sending_compressed: bool,
}

impl DeflateState {
    pub(crate) fn new(role: Role, params: DeflateParams, level: u8, min_size: usize) -> Self {
        let (send_bits, send_reset) = params.sending(role);
        let (recv_bits, recv_reset) = params.receiving(role);
        Self {
            params,
            min_size,
            level: level.min(9),
            // zlib compresses with at least 9 bits, and inflates 8-bit streams with a 9-bit window.
            send_bits: send_bits.max(9),
            send_reset,
            recv_bits: recv_bits.max(9),
            recv_reset,
            compress: None,
            compress_busy: false,
            decompress: None,
            decompress_busy: false,
            sending_compressed: false,
        }
    }

    /// Compresses `data` (the next piece of a message) and appends the result to `out`. `fin`: the
    /// message ends with this piece, so the sync-flush tail is stripped (RFC 7692 7.2.1).
    pub(crate) fn compress(&mut self, data: &[u8], fin: bool, out: &mut Vec<u8>) {
        let (bits, level) = (self.send_bits, self.level);
        let c = self.compress.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(u32::from(level)), false, bits)
        });
        self.compress_busy = true;
        let start = out.len();
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve((input.len() / 2).max(256));
            }
            let before = c.total_in();
            // Errors come only from misuse of the stream (none here): treat as a bug.
            let status = c
                .compress_vec(input, out, FlushCompress::Sync)
                .expect("deflate stream state");
            input = &input[(c.total_in() - before) as usize..];
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
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        self.decompress_busy = true;
        let mut ended = false;
        let mut run = || -> Result<(), InflateError> {
            ended = inflate_into(d, data, out, already, limit)?;
            if fin && !ended {
                ended = inflate_into(d, &TAIL, out, already, limit)?;
            }
            Ok(())
        };
        let result = run();
        // A message that set BFINAL ended the stream: later bytes of it are ignored, and the next
        // message starts a new stream (its sender reset its compressor).
        if fin || result.is_err() {
            self.decompress_busy = false;
            if self.recv_reset || ended || result.is_err() {
                if let Some(d) = self.decompress.as_mut() {
                    d.reset(false);
                }
            }
        }
        result
    }

    /// Heap bytes held by the codecs (an estimate from zlib's sizes: window, hash tables, buffers).
    pub(crate) fn codec_bytes(&self) -> usize {
        let c = self
            .compress
            .as_ref()
            .map_or(0, |_| compressor_bytes(self.send_bits));
        let d = self
            .decompress
            .as_ref()
            .map_or(0, |_| decompressor_bytes(self.recv_bits));
        c + d
    }

    /// Hands codecs no message needs to `pool` (or drops them when `pool` is `None`).
    pub(crate) fn release_spare(&mut self, pool: Option<&mut DeflatePool>) {
        let c = if self.send_reset && !self.compress_busy {
            self.compress.take()
        } else {
            None
        };
        let d = if self.recv_reset && !self.decompress_busy {
            self.decompress.take()
        } else {
            None
        };
        if let Some(pool) = pool {
            if let Some(c) = c {
                pool.compressors.push((self.send_bits, self.level, c));
            }
            if let Some(d) = d {
                pool.decompressors.push((self.recv_bits, d));
            }
        }
    }

    /// Takes codecs of the right parameters from `pool` for directions without context takeover
    /// that have none, so the next message allocates nothing.
    pub(crate) fn borrow_from(&mut self, pool: &mut DeflatePool) {
        if self.send_reset && self.compress.is_none() {
            self.compress = pool.take_compressor(self.send_bits, self.level);
        }
        if self.recv_reset && self.decompress.is_none() {
            self.decompress = pool.take_decompressor(self.recv_bits);
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
        out.resize(len + step, 0);
        let (before_in, before_out) = (d.total_in(), d.total_out());
        let r = d.decompress(input, &mut out[len..], FlushDecompress::Sync);
        let produced = (d.total_out() - before_out) as usize;
        let consumed = (d.total_in() - before_in) as usize;
        out.truncate(len + produced);
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

/// zlib's deflate state for a window of `bits`: window (2 × 2^bits), prev (2 × 2^bits), head
/// (2 × 2^(memLevel+7)), pending buffer (4 × 2^(memLevel+6)), memLevel 8, plus the stream structs.
pub(crate) fn compressor_bytes(bits: u8) -> usize {
    let w = 1usize << bits;
    2 * w + 2 * w + 2 * (1 << 15) + 4 * (1 << 14) + 6 * 1024
}

/// zlib's inflate state: the window (2^bits) plus the state (~7 KiB).
pub(crate) fn decompressor_bytes(bits: u8) -> usize {
    (1usize << bits) + 7 * 1024
}
