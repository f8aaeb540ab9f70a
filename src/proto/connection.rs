//! The protocol state machine of an open WebSocket connection (after the opening handshake).
//!
//! # Use
//! 1. Bytes arrive: call [`Connection::receive`] with them, then call
//!    [`Incoming::next_event`] until it returns `None`. Payloads borrow from your buffer when a
//!    message arrived whole in it (masked bytes are unmasked in place: that is why the buffer is
//!    `&mut`), so nothing is copied.
//! 2. Send with [`Connection::sender`] (also available during an event through
//!    [`Incoming::next_with_sender`], e.g. to echo without copying).
//! 3. Write [`Connection::output`] to the transport, then [`Connection::consume_output`] what was
//!    written. Pongs and close replies land there too.
//! 4. When [`Connection::should_close_transport`] is true, close the transport. If the transport
//!    drops first, call [`Connection::connection_lost`].
//!
//! # Memory
//! An idle connection is 64 bytes and holds no heap memory. Between reads it keeps only what a read
//! left unfinished, in one box that exists while needed: a split frame header, the progress through
//! a frame or fragmented message, its reassembly buffer (bounded by `max_message_size`), a control
//! frame that arrived in pieces. Unsent output lives in a second box (see [`OutputBuffer`]) that
//! event loops pool between connections.
//!
//! # Layout
//! This file is the state machine: the connection's state, settings, memory and the closing
//! handshake. The decode path (frame reading, reassembly, the reading APIs and their events) is in
//! `connection/decode.rs`.

mod decode;

use super::close;
use super::config::{Config, Role};
use super::deflate::{DeflateConfig, DeflateParams, DeflatePool, DeflateState};
use super::error::ProtocolError;
use super::event::CloseInfo;
use super::frame::MAX_HEADER_LEN;
#[cfg(doc)]
use super::sender::OutputBuffer;
use super::sender::{FrameRecord, RSV1, Sender};

pub use decode::{Incoming, RawEvent, ReadStep};
use decode::{Raw, ReadState};

/// Where the connection is in the closing handshake (RFC 6455 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// This end sent a close frame and waits for the peer's.
    Closing,
    /// Both close frames were exchanged, the connection failed, or the transport dropped.
    Closed,
}

/// A sans-I/O WebSocket connection: bytes in, events out, bytes to send out.
// Field order is the compiler's; the settings are stored flat (not as a `Config`) so the flags pack
// together: an idle connection is one of these, so every word counts.
#[derive(Debug)]
pub struct Connection {
    max_frame_size: u64,
    max_message_size: u64,
    tx: Sender,
    /// Everything that exists only between reads: a split frame header or control frame, the
    /// progress through a frame or fragmented message that did not end in the last read, its
    /// reassembly buffer, unread input, a failure awaiting its report. Boxed, so an idle connection
    /// pays 8 bytes.
    partial: Option<Box<Partial>>,
    /// Most frames one data message may span (`Config::max_fragments`).
    max_fragments: u32,
    role: Role,
    streaming: bool,
    allowed_rsv: u8,
    /// `AUTO_PONG`, `CLOSE_RECEIVED`, `FAILED`, `LOST`: one byte, so `max_fragments` fits in the
    /// 64 bytes.
    flags: u8,
}

/// `Connection::flags`: answer pings (`Config::auto_pong`).
const AUTO_PONG: u8 = 1;
/// `Connection::flags`: the peer's close frame arrived.
const CLOSE_RECEIVED: u8 = 2;
/// `Connection::flags`: the connection failed (a protocol error).
const FAILED: u8 = 4;
/// `Connection::flags`: the transport dropped.
const LOST: u8 = 8;

#[derive(Debug)]
struct Partial {
    read: ReadState,
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    /// A message that arrived in several frames or reads.
    assembly: Vec<u8>,
    /// Payload of a control frame that arrived in pieces (at most 125 bytes).
    control: Vec<u8>,
    /// Unread input left when an [`Incoming`] was dropped before it was drained, or frame bytes
    /// that arrived with the handshake.
    stash: Vec<u8>,
    /// A failure whose `Closed` event has not been reported yet.
    pending_failure: Option<ProtocolError>,
}

impl Default for Partial {
    fn default() -> Self {
        Self {
            read: ReadState::IDLE,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            assembly: Vec::new(),
            control: Vec::new(),
            stash: Vec::new(),
            pending_failure: None,
        }
    }
}

impl Partial {
    /// Nothing in it worth a box. A reassembly buffer kept for reuse counts (its capacity), until
    /// [`Connection::release_memory`] frees it.
    fn is_empty(&self) -> bool {
        self.read.is_idle()
            && self.header_len == 0
            && self.assembly.capacity() == 0
            && self.control.is_empty()
            && self.stash.is_empty()
            && self.pending_failure.is_none()
    }
}

impl Connection {
    /// A connection in the open state, for the given role.
    pub fn new(role: Role, config: Config) -> Self {
        let mask_source = match role {
            Role::Client => Some(config.mask_source),
            Role::Server => None,
        };
        Self {
            max_frame_size: config.max_frame_size,
            max_message_size: config.max_message_size,
            tx: Sender::new(mask_source),
            partial: None,
            max_fragments: config.max_fragments,
            role,
            streaming: config.streaming,
            allowed_rsv: config.allowed_rsv,
            flags: if config.auto_pong { AUTO_PONG } else { 0 },
        }
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn partial(&mut self) -> &mut Partial {
        self.partial.get_or_insert_with(Box::default)
    }

    fn has_stash(&self) -> bool {
        self.partial.as_ref().is_some_and(|p| !p.stash.is_empty())
    }

    /// Drops the partial state once nothing is in it.
    fn tidy_partial(&mut self) {
        if self.partial.as_ref().is_some_and(|p| p.is_empty()) {
            self.partial = None;
        }
    }

    /// The sending half: queue messages, pings and the close frame.
    pub fn sender(&mut self) -> &mut Sender {
        &mut self.tx
    }

    /// Queues a whole text message (see [`Sender::send_text`]).
    pub fn send_text(&mut self, text: &str) -> Result<(), super::SendError> {
        self.tx.send_text(text)
    }

    /// Queues a whole binary message (see [`Sender::send_binary`]).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), super::SendError> {
        self.tx.send_binary(data)
    }

    /// Starts the closing handshake (see [`Sender::close`]).
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), super::SendError> {
        self.tx.close(code, reason)
    }

    /// Bytes waiting to be written to the transport.
    pub fn output(&self) -> &[u8] {
        self.tx.output()
    }

    /// Marks the first `n` bytes of [`Connection::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        self.tx.consume_output(n)
    }

    /// Takes every byte waiting to be written.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.tx.take_output()
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        if self.input_finished() {
            State::Closed
        } else if self.tx.close_sent() {
            State::Closing
        } else {
            State::Open
        }
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The limits and behaviour this connection has (a server's `mask_source` is the default: it
    /// never masks).
    pub fn config(&self) -> Config {
        Config {
            max_frame_size: self.max_frame_size,
            max_message_size: self.max_message_size,
            max_fragments: self.max_fragments,
            streaming: self.streaming,
            auto_pong: self.has(AUTO_PONG),
            allowed_rsv: self.allowed_rsv,
            mask_source: self.tx.mask_source().unwrap_or(Config::default().mask_source),
        }
    }

    /// Changes the limits and behaviour, e.g. the RSV bits an extension negotiated in the handshake
    /// (RSV1 stays allowed once [`Connection::set_deflate`] was called).
    pub fn set_config(&mut self, config: Config) {
        if self.role == Role::Client {
            self.tx.set_mask_source(config.mask_source);
        }
        self.max_frame_size = config.max_frame_size;
        self.max_message_size = config.max_message_size;
        self.max_fragments = config.max_fragments;
        self.streaming = config.streaming;
        self.flags = (self.flags & !AUTO_PONG) | if config.auto_pong { AUTO_PONG } else { 0 };
        // A negotiated permessage-deflate keeps its RSV1.
        let deflate = if self.tx.deflate().is_some() { RSV1 } else { 0 };
        self.allowed_rsv = config.allowed_rsv | deflate;
    }

    /// True once the connection is closed and its output written: the transport can be closed.
    /// (RFC 6455 7.1.1: the server closes TCP first; a client may wait briefly for the server to.)
    pub fn should_close_transport(&self) -> bool {
        self.state() == State::Closed && self.tx.buffered_amount() == 0
    }

    /// The transport closed or failed. Returns how the connection ended if it had not been reported
    /// yet: code 1006, not clean, unless the connection had already failed (then that failure).
    pub fn connection_lost(&mut self) -> Option<CloseInfo<'static>> {
        if let Some(err) = self.partial.as_mut().and_then(|p| p.pending_failure.take()) {
            return Some(failure_info(err));
        }
        if self.state() == State::Closed {
            return None;
        }
        self.flags |= LOST;
        let initiated_locally = self.tx.close_sent();
        // Nothing more may be queued: sends now fail with `SendError::Closed`.
        self.tx.seal();
        Some(CloseInfo {
            code: close::ABNORMAL_CLOSURE,
            reason: "",
            clean: false,
            initiated_locally,
        })
    }

    /// Turns recording of frame headers (both directions) on or off, for tracing. Off by default;
    /// when off, recording costs one branch per frame.
    pub fn set_frame_log(&mut self, enabled: bool) {
        if enabled {
            self.tx.extras_mut().frame_log = Some(Vec::new());
        } else if let Some(extras) = self.tx.extras.as_mut() {
            extras.frame_log = None;
            self.tx.tidy_extras();
        }
    }

    /// Takes the frame headers recorded since the last call (oldest first).
    pub fn take_frame_log(&mut self) -> Vec<FrameRecord> {
        self.tx.frame_log_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Turns permessage-deflate on with the parameters a handshake agreed on (see
    /// [`DeflateConfig::accept_offers`] and [`DeflateConfig::validate_response`]); `config` gives
    /// this end's level and `min_size`. Allows RSV1. Call before any message is sent or received.
    pub fn set_deflate(&mut self, params: DeflateParams, config: &DeflateConfig) {
        let state = DeflateState::new(self.role, params, config);
        self.tx.extras_mut().deflate = Some(state);
        self.allowed_rsv |= RSV1;
    }

    /// The permessage-deflate parameters in use, if it was negotiated.
    pub fn deflate_params(&self) -> Option<DeflateParams> {
        self.tx.deflate().map(|d| d.params)
    }

    /// True when permessage-deflate was negotiated ([`Connection::deflate_params`] without the copy).
    #[inline]
    pub fn is_compressed(&self) -> bool {
        self.tx.deflate().is_some()
    }

    /// Takes idle codecs from `pool` for the directions without context takeover, so the next
    /// message allocates none (an event loop calls this before reading or sending).
    pub fn lend_deflate_state(&mut self, pool: &mut DeflatePool) {
        if let Some(d) = self.tx.deflate_mut() {
            d.borrow_from(pool);
        }
    }

    /// Gives codecs no message needs (directions without context takeover, between messages) to
    /// `pool`. [`Connection::release_memory`] drops them instead.
    pub fn return_deflate_state(&mut self, pool: &mut DeflatePool) {
        if let Some(d) = self.tx.deflate_mut() {
            d.release_spare(Some(pool));
        }
    }

    /// Frees every buffer that holds nothing, so an idle connection uses no heap memory. Codecs of
    /// directions without context takeover are dropped between messages.
    pub fn release_memory(&mut self) {
        if let Some(d) = self.tx.deflate_mut() {
            d.release_spare(None);
        }
        self.tx.release_memory();
        if let Some(partial) = self.partial.as_mut() {
            if partial.assembly.is_empty() {
                partial.assembly = Vec::new();
            }
            if partial.control.is_empty() {
                partial.control = Vec::new();
            }
            if partial.stash.is_empty() {
                partial.stash = Vec::new();
            }
        }
        self.tidy_partial();
    }

    /// Heap bytes this connection holds right now (buffer capacities and the partial state).
    pub fn heap_bytes(&self) -> usize {
        let partial = self.partial.as_ref().map_or(0, |p| {
            std::mem::size_of::<Partial>() + p.assembly.capacity() + p.control.capacity() + p.stash.capacity()
        });
        self.tx.heap_bytes() + partial
    }

    /// Capacity of the reassembly buffer (for tests of its growth).
    #[cfg(test)]
    pub(crate) fn assembly_capacity(&self) -> usize {
        self.partial.as_ref().map_or(0, |p| p.assembly.capacity())
    }

    fn input_finished(&self) -> bool {
        self.flags & (CLOSE_RECEIVED | FAILED | LOST) != 0
    }

    /// Fails the connection (RFC 6455 7.1.7): queue a close frame with the error's code, stop reading.
    fn fail(&mut self, err: ProtocolError) -> Raw {
        if !self.tx.close_sent() {
            self.tx.write_close(Some(err.close_code()), err.close_reason());
        }
        self.flags |= FAILED;
        let partial = self.partial();
        partial.read = ReadState::IDLE;
        partial.assembly = Vec::new();
        partial.pending_failure = Some(err);
        partial.control = Vec::new();
        partial.header_len = 0;
        Raw::Error(err)
    }
}

fn failure_info(err: ProtocolError) -> CloseInfo<'static> {
    CloseInfo {
        code: err.close_code(),
        reason: err.close_reason(),
        clean: false,
        initiated_locally: true,
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
