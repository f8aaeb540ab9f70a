//! The sending half of a connection: encodes frames into an output buffer the transport drains.

use super::close;
use super::deflate::DeflateState;
use super::error::SendError;
use super::frame::{
    FrameHeader, MAX_CONTROL_PAYLOAD, SHORT_PAYLOAD, encode_frame, encode_short_unmasked_frame,
};
use super::opcode::{MessageKind, Opcode};
use super::prepared::PreparedMessage;
use super::utf8::{self, Utf8Validator};

/// Encodes what the application sends into one output buffer, in order. Frames accumulate until the
/// transport takes them ([`Sender::output`] then [`Sender::consume_output`]), so many small sends
/// become one write. A client's frames are masked with a fresh key each.
///
/// Rules enforced here: nothing but control frames after a fragmented message begins until it is
/// finished; no data after a close frame; control payloads of at most 125 bytes; only close codes that
/// may appear on the wire; text is valid UTF-8 (also across fragments).
#[derive(Debug)]
pub struct Sender {
    mask_source: Option<fn() -> [u8; 4]>,
    /// Encoded frames not yet taken by the transport; `None` (one word) while there are none and
    /// no buffer was handed over.
    out: Option<Box<OutputBuffer>>,
    fragment: Option<MessageKind>,
    fragment_utf8: Utf8Validator,
    close_sent: bool,
    /// What only some connections use: the frame log (while tracing is on) and permessage-deflate.
    /// One word while neither is in use; its presence sends every frame down the general path.
    pub(crate) extras: Option<Box<Extras>>,
}

/// The rarely used parts of a connection, boxed together (see [`Sender::extras`]).
#[derive(Debug, Default)]
pub(crate) struct Extras {
    /// Frame headers sent and received, recorded only while tracing is on.
    pub(crate) frame_log: Option<Vec<FrameRecord>>,
    /// The negotiated permessage-deflate state.
    pub(crate) deflate: Option<DeflateState>,
}

impl Extras {
    fn is_empty(&self) -> bool {
        self.frame_log.is_none() && self.deflate.is_none()
    }
}

/// An output buffer with its write position: what a [`Sender`] encodes into. Event loops keep
/// drained ones in a pool shared by their connections ([`Sender::take_spare_buffer`],
/// [`Sender::give_buffer`]), so sending allocates nothing once warm and idle connections hold none.
#[derive(Debug, Default)]
pub struct OutputBuffer {
    bytes: Vec<u8>,
    /// Bytes at the front already written.
    written: usize,
}

impl OutputBuffer {
    /// Heap bytes this buffer holds.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    fn pending(&self) -> &[u8] {
        &self.bytes[self.written..]
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.written = 0;
    }

    /// Drops the written part once it is most of the buffer, instead of growing the buffer.
    #[inline]
    fn compact(&mut self) {
        if self.written > 0 && self.written >= self.bytes.len() / 2 {
            self.bytes.drain(..self.written);
            self.written = 0;
        }
    }
}

/// A frame header as it crossed the wire (see [`crate::proto::Connection::set_frame_log`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRecord {
    /// True for frames this end sent, false for received ones.
    pub sent: bool,
    /// The header (the mask key of sent frames is included).
    pub header: FrameHeader,
}

impl Sender {
    /// A sender that masks its frames with keys from `mask_source` (a client), or none (a server).
    pub(crate) fn new(mask_source: Option<fn() -> [u8; 4]>) -> Self {
        Self {
            mask_source,
            out: None,
            fragment: None,
            fragment_utf8: Utf8Validator::new(),
            close_sent: false,
            extras: None,
        }
    }

    pub(crate) fn set_mask_source(&mut self, source: fn() -> [u8; 4]) {
        self.mask_source = Some(source);
    }

    /// Where a client's masking keys come from (`None`: a server, which does not mask).
    pub(crate) fn mask_source(&self) -> Option<fn() -> [u8; 4]> {
        self.mask_source
    }

    /// Heap bytes held (the output buffer and its box).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.out
            .as_ref()
            .map_or(0, |out| std::mem::size_of::<OutputBuffer>() + out.capacity())
            + self.extras_heap_bytes()
    }

    /// Heap bytes held by the output buffer.
    pub fn capacity(&self) -> usize {
        self.out.as_ref().map_or(0, |out| out.capacity())
    }

    /// Queues a whole text message (a `&str` is UTF-8 already: it is not checked again).
    #[inline]
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.check_can_begin_message()?;
        self.write_frame(true, Opcode::Text, text.as_bytes());
        Ok(())
    }

    /// Queues a whole binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message(MessageKind::Binary, data)
    }

    /// Queues a whole message of either kind; text bytes are checked to be UTF-8
    /// ([`SendError::InvalidUtf8`]).
    #[inline]
    pub fn send_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), SendError> {
        self.check_can_begin_message()?;
        if kind == MessageKind::Text {
            utf8::validate(data).map_err(|_| SendError::InvalidUtf8)?;
        }
        self.write_frame(true, kind.opcode(), data);
        Ok(())
    }

    /// Queues a message prepared once for many connections ([`PreparedMessage`]): a server
    /// connection takes the prepared frame's bytes, compressed once per compressor key for
    /// connections that compress without context takeover; a connection that keeps a
    /// compression context, a client (whose frames are masked per connection) and a traced
    /// connection encode it themselves. Same rules as [`Sender::send_message`].
    pub fn send_prepared(&mut self, message: &mut PreparedMessage) -> Result<(), SendError> {
        self.check_can_begin_message()?;
        let traced = self.extras.as_ref().is_some_and(|e| e.frame_log.is_some());
        if self.mask_source.is_some() || traced {
            self.write_frame(true, message.kind().opcode(), message.data());
            return Ok(());
        }
        let frame = match self.deflate_mut() {
            None => message.plain_frame(),
            Some(deflate) if message.data().len() < deflate.min_size => message.plain_frame(),
            Some(deflate) => match deflate.shared_key() {
                Some(key) => message.compressed_frame(key, |data, out| deflate.compress(data, true, out)),
                None => {
                    // Context takeover: the bytes depend on this connection's earlier messages.
                    self.write_frame(true, message.kind().opcode(), message.data());
                    return Ok(());
                }
            },
        };
        let out = self.out.get_or_insert_with(Box::default);
        out.compact();
        out.bytes.extend_from_slice(frame);
        Ok(())
    }

    /// A new message may begin now: no close sent, no fragmented message in progress.
    #[inline]
    fn check_can_begin_message(&self) -> Result<(), SendError> {
        self.check_can_send_data()?;
        if self.fragment.is_some() {
            return Err(SendError::MessageInProgress);
        }
        Ok(())
    }

    /// Starts a fragmented message whose total length need not be known: sends its first frame with
    /// `data` (may be empty). Follow with [`Sender::continue_message`] and [`Sender::finish_message`];
    /// pings, pongs and a close may be sent in between, other messages may not.
    pub fn begin_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), SendError> {
        self.check_can_begin_message()?;
        self.fragment_utf8 = Utf8Validator::new();
        if kind == MessageKind::Text {
            self.fragment_utf8
                .feed(data)
                .map_err(|_| SendError::InvalidUtf8)?;
        }
        self.write_frame(false, kind.opcode(), data);
        self.fragment = Some(kind);
        Ok(())
    }

    /// Sends the next frame of the message begun with [`Sender::begin_message`]. Text may split a
    /// code point between frames.
    pub fn continue_message(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_continuation(data, false)
    }

    /// Sends the last frame (may be empty) of the message begun with [`Sender::begin_message`].
    pub fn finish_message(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_continuation(data, true)
    }

    fn send_continuation(&mut self, data: &[u8], fin: bool) -> Result<(), SendError> {
        self.check_can_send_data()?;
        let kind = self.fragment.ok_or(SendError::NoMessageInProgress)?;
        if kind == MessageKind::Text {
            let mut check = self.fragment_utf8;
            check.feed(data).map_err(|_| SendError::InvalidUtf8)?;
            if fin {
                check.finish().map_err(|_| SendError::InvalidUtf8)?;
            }
            self.fragment_utf8 = check;
        }
        self.write_frame(fin, Opcode::Continuation, data);
        if fin {
            self.fragment = None;
        }
        Ok(())
    }

    /// Queues a ping (at most 125 bytes of payload).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(Opcode::Ping, payload)
    }

    /// Queues an unsolicited pong, e.g. as a unidirectional heartbeat (at most 125 bytes).
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(Opcode::Pong, payload)
    }

    fn send_control(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), SendError> {
        if self.close_sent {
            return Err(SendError::Closed);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLong);
        }
        self.write_frame(true, opcode, payload);
        Ok(())
    }

    /// Starts the closing handshake: queues a close frame with `code` (1000-1003, 1007-1014 or
    /// 3000-4999) and a UTF-8 `reason` of at most 123 bytes. Afterwards no data may be sent; the
    /// connection reports [`crate::proto::Event::Closed`] when the peer's close arrives.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), SendError> {
        if self.close_sent {
            return Err(SendError::Closed);
        }
        if !close::is_valid_on_wire(code) {
            return Err(SendError::InvalidCloseCode(code));
        }
        if reason.len() > close::MAX_REASON_LEN {
            return Err(SendError::ControlPayloadTooLong);
        }
        self.write_close(Some(code), reason);
        Ok(())
    }

    /// The transport is gone: refuse every further frame as if a close had been sent (nothing
    /// could be written anyway), so no output appears after the connection closed.
    pub(crate) fn seal(&mut self) {
        self.close_sent = true;
        self.fragment = None;
    }

    /// True once a close frame has been queued (or the transport was lost).
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// True while a fragmented message begun with [`Sender::begin_message`] is unfinished.
    pub fn message_in_progress(&self) -> bool {
        self.fragment.is_some()
    }

    /// Bytes waiting to be written, oldest first.
    #[inline]
    pub fn output(&self) -> &[u8] {
        self.out.as_ref().map_or(&[], |out| out.pending())
    }

    /// Marks the first `n` bytes of [`Sender::output`] as written.
    #[inline]
    pub fn consume_output(&mut self, n: usize) {
        if let Some(out) = self.out.as_mut() {
            out.written = (out.written + n).min(out.bytes.len());
            if out.written == out.bytes.len() {
                out.clear();
            }
        }
    }

    /// Takes all bytes waiting to be written.
    pub fn take_output(&mut self) -> Vec<u8> {
        match self.out.take() {
            Some(mut out) => {
                out.bytes.drain(..out.written);
                out.bytes
            }
            None => Vec::new(),
        }
    }

    /// How many bytes are waiting to be written (the browser API's `bufferedAmount`).
    #[inline]
    pub fn buffered_amount(&self) -> usize {
        self.out.as_ref().map_or(0, |out| out.bytes.len() - out.written)
    }

    /// Takes the output buffer once everything was written (for a pool shared by many
    /// connections), leaving the sender without one. `None` while bytes are still queued.
    pub fn take_spare_buffer(&mut self) -> Option<Box<OutputBuffer>> {
        if self.buffered_amount() > 0 {
            return None;
        }
        let mut out = self.out.take()?;
        out.clear();
        Some(out)
    }

    /// Gives the sender an empty buffer to encode into, if it has none (see
    /// [`Sender::take_spare_buffer`]).
    pub fn give_buffer(&mut self, mut buf: Box<OutputBuffer>) {
        if self.out.is_none() {
            buf.clear();
            self.out = Some(buf);
        }
    }

    /// Frees the output buffer if it is empty, so an idle connection holds no heap memory.
    pub fn release_memory(&mut self) {
        if self.buffered_amount() == 0 {
            self.out = None;
        }
    }

    /// The buffer to encode into (a new one if none was handed over).
    #[inline]
    fn out_mut(&mut self) -> &mut OutputBuffer {
        self.out.get_or_insert_with(Box::default)
    }

    fn check_can_send_data(&self) -> Result<(), SendError> {
        if self.close_sent {
            Err(SendError::Closed)
        } else {
            Ok(())
        }
    }

    /// Queues a close frame without checking the code: also used to fail the connection with 1002,
    /// 1007 or 1009, and to echo the peer's code.
    pub(crate) fn write_close(&mut self, code: Option<u16>, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                let reason = &reason.as_bytes()[..reason.len().min(close::MAX_REASON_LEN)];
                payload[..2].copy_from_slice(&code.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
            None => 0,
        };
        self.write_frame(true, Opcode::Close, &payload[..len]);
        self.close_sent = true;
    }

    /// Queues bytes that precede the frames (the handshake response).
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) {
        self.out_mut().bytes.extend_from_slice(bytes);
    }

    /// Queues a pong answering a ping, unless a close was already sent.
    pub(crate) fn write_pong_reply(&mut self, payload: &[u8]) {
        if !self.close_sent {
            self.write_frame(true, Opcode::Pong, payload);
        }
    }

    #[inline]
    fn write_frame(&mut self, fin: bool, opcode: Opcode, payload: &[u8]) {
        if self.mask_source.is_none() && self.extras.is_none() && payload.len() <= SHORT_PAYLOAD {
            // A server's small frame: a two-byte header and the payload, nothing else to decide.
            let out = self.out_mut();
            out.compact();
            encode_short_unmasked_frame(&mut out.bytes, fin, opcode, payload);
            return;
        }
        self.write_any_frame(fin, opcode, payload);
    }

    fn write_any_frame(&mut self, fin: bool, opcode: Opcode, payload: &[u8]) {
        let mut rsv = 0;
        let mut compressed = Vec::new();
        let mut payload = payload;
        if let Some(deflate) = self.extras.as_mut().and_then(|e| e.deflate.as_mut()) {
            let compress = match opcode {
                // A fragmented message's length is unknown: compress it whatever its first piece.
                Opcode::Text | Opcode::Binary => {
                    let compress = !fin || payload.len() >= deflate.min_size;
                    deflate.sending_compressed = compress && !fin;
                    compress
                }
                Opcode::Continuation => {
                    let compress = deflate.sending_compressed;
                    deflate.sending_compressed &= !fin;
                    compress
                }
                _ => false,
            };
            if compress {
                // The previous message's buffer, so sending allocates nothing once warm.
                compressed = std::mem::take(&mut deflate.scratch);
                compressed.clear();
                deflate.compress(payload, fin, &mut compressed);
                payload = &compressed;
                if opcode != Opcode::Continuation {
                    rsv = RSV1;
                }
            }
        }
        let mask = self.mask_source.map(|source| source());
        let out = self.out_mut();
        out.compact();
        let at = out.bytes.len();
        encode_frame(&mut out.bytes, fin, opcode, payload, mask);
        out.bytes[at] |= rsv << 4;
        if let Some(log) = self.extras.as_mut().and_then(|e| e.frame_log.as_mut()) {
            let header = FrameHeader {
                fin,
                rsv,
                opcode,
                mask,
                payload_len: payload.len() as u64,
            };
            log.push(FrameRecord { sent: true, header });
        }
        if compressed.capacity() != 0 {
            if let Some(deflate) = self.deflate_mut() {
                deflate.keep_scratch(compressed);
            }
        }
    }

    /// The permessage-deflate state, if negotiated.
    pub(crate) fn deflate_mut(&mut self) -> Option<&mut DeflateState> {
        self.extras.as_mut().and_then(|e| e.deflate.as_mut())
    }

    /// The permessage-deflate state, if negotiated.
    pub(crate) fn deflate(&self) -> Option<&DeflateState> {
        self.extras.as_ref().and_then(|e| e.deflate.as_ref())
    }

    /// The frame log, while tracing is on.
    pub(crate) fn frame_log_mut(&mut self) -> Option<&mut Vec<FrameRecord>> {
        self.extras.as_mut().and_then(|e| e.frame_log.as_mut())
    }

    /// The extras box, created if needed.
    pub(crate) fn extras_mut(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// Drops the extras box once nothing is in it.
    pub(crate) fn tidy_extras(&mut self) {
        if self.extras.as_ref().is_some_and(|e| e.is_empty()) {
            self.extras = None;
        }
    }

    /// Heap bytes of the extras (box, frame log, deflate codecs).
    fn extras_heap_bytes(&self) -> usize {
        self.extras.as_ref().map_or(0, |e| {
            std::mem::size_of::<Extras>()
                + e.frame_log
                    .as_ref()
                    .map_or(0, |l| l.capacity() * std::mem::size_of::<FrameRecord>())
                + e.deflate.as_ref().map_or(0, |d| d.codec_bytes())
        })
    }
}

/// The RSV1 bit as [`FrameHeader::rsv`] holds it (permessage-deflate's "compressed" flag).
pub(crate) const RSV1: u8 = 0b100;
