//! The decode path of a [`Connection`]: frame reading, reassembly, and the reading APIs
//! ([`Connection::receive`], [`Connection::receive_with`], [`Connection::read_event`],
//! [`Connection::read_message`], [`Connection::recycle`]) with the events they hand out.

use std::ops::Range;

use super::{Connection, failure_info};
use crate::proto::close;
use crate::proto::config::Role;
use crate::proto::deflate::InflateError;
use crate::proto::error::ProtocolError;
use crate::proto::event::{CloseInfo, Event};
use crate::proto::frame::{FrameHeader, MAX_HEADER_LEN};
use crate::proto::mask::apply_mask;
use crate::proto::opcode::{MessageKind, Opcode};
use crate::proto::sender::RSV1;
use crate::proto::sender::{FrameRecord, Sender};
use crate::proto::utf8::{self, Utf8Validator};

/// Where the incoming stream stands: the frame whose payload is arriving and the data message it
/// belongs to. Decoding works on a copy on the stack; it is stored (in [`super::Partial`]) only when
/// a read ends inside a frame or a fragmented message, so whole messages in one read touch no heap.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReadState {
    frame: Option<FrameProgress>,
    /// The data message being received, if one has begun.
    message: Option<MessageKind>,
    message_len: u64,
    /// Frames of the data message received so far (capped by `max_fragments`).
    fragments: u32,
    message_first_piece: bool,
    /// The message is compressed (permessage-deflate, RSV1 on its first frame); `message_len` then
    /// counts inflated bytes handed out (streaming).
    compressed: bool,
    utf8: Utf8Validator,
}

impl ReadState {
    pub(super) const IDLE: Self = Self {
        frame: None,
        message: None,
        message_len: 0,
        fragments: 0,
        message_first_piece: true,
        compressed: false,
        utf8: Utf8Validator::new(),
    };

    /// Between messages: nothing here needs keeping.
    pub(super) fn is_idle(&self) -> bool {
        self.frame.is_none() && self.message.is_none()
    }
}

/// The frame whose payload is arriving.
#[derive(Debug, Clone, Copy)]
struct FrameProgress {
    opcode: Opcode,
    fin: bool,
    mask: Option<[u8; 4]>,
    len: u64,
    received: u64,
}

impl Connection {
    /// Feeds received bytes. Pull the resulting events from the returned [`Incoming`]; bytes of an
    /// incomplete frame are kept for the next call, so any split of the stream gives the same events.
    pub fn receive<'c>(&'c mut self, input: &'c mut [u8]) -> Incoming<'c> {
        let buf = if !self.has_stash() {
            Input::Borrowed(input)
        } else {
            let mut joined = std::mem::take(&mut self.partial().stash);
            joined.extend_from_slice(input);
            Input::Owned(joined)
        };
        Incoming {
            conn: self,
            buf,
            pos: 0,
            current: None,
        }
    }

    /// Keeps bytes that arrived before the connection existed (with the handshake) as if they had
    /// been left unread: the next [`Connection::receive`] reports their events first.
    pub(crate) fn push_unread(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.partial().stash.extend_from_slice(bytes);
        }
    }

    /// Feeds received bytes and hands every resulting event, with the sender, to `handler`.
    pub fn receive_with(&mut self, input: &mut [u8], mut handler: impl FnMut(Event<'_>, &mut Sender)) {
        let mut incoming = self.receive(input);
        while let Some((event, sender)) = incoming.next_with_sender() {
            handler(event, sender);
        }
    }

    /// Reads a frame header, buffering a partial one. Returns the header and how many bytes of
    /// `input` it used.
    #[inline]
    fn read_header(&mut self, input: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let have = self.partial.as_ref().map_or(0, |p| usize::from(p.header_len));
        if have == 0 {
            let parsed = FrameHeader::parse(input)?;
            if parsed.is_none() {
                // A header is at most 14 bytes, so an incomplete one fits.
                let partial = self.partial();
                partial.header[..input.len()].copy_from_slice(input);
                partial.header_len = input.len() as u8;
            }
            return Ok(parsed);
        }
        let partial = self.partial();
        let take = (MAX_HEADER_LEN - have).min(input.len());
        partial.header[have..have + take].copy_from_slice(&input[..take]);
        match FrameHeader::parse(&partial.header[..have + take])? {
            Some((header, used)) => {
                partial.header_len = 0;
                Ok(Some((header, used - have)))
            }
            None => {
                partial.header_len = (have + take) as u8;
                Ok(None)
            }
        }
    }

    /// Applies the rules that depend on the connection to a new frame, and starts receiving it.
    #[inline]
    fn start_frame(&mut self, st: &mut ReadState, header: FrameHeader) -> Result<(), ProtocolError> {
        if let Some(log) = self.tx.frame_log_mut() {
            log.push(FrameRecord { sent: false, header });
        }
        if header.rsv & !self.allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBits(header.rsv));
        }
        let deflate = self.tx.deflate().is_some();
        // RFC 7692 6.1: RSV1 marks a compressed message on its first frame only.
        let compressed = deflate && header.rsv & RSV1 != 0;
        if compressed && (header.opcode.is_control() || header.opcode == Opcode::Continuation) {
            return Err(ProtocolError::ReservedBits(header.rsv));
        }
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if !header.opcode.is_control() {
            if header.payload_len > self.max_frame_size {
                return Err(ProtocolError::FrameTooLarge {
                    size: header.payload_len,
                    limit: self.max_frame_size,
                });
            }
            let so_far = match (header.opcode, st.message) {
                (Opcode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
                (Opcode::Continuation, Some(_)) => {
                    // Each frame costs a header's work and, streaming, an event: cap them so a
                    // message of 1-byte frames cannot cost more than `max_fragments` of each.
                    if st.fragments >= self.max_fragments {
                        return Err(ProtocolError::TooManyFragments {
                            limit: self.max_fragments,
                        });
                    }
                    st.fragments += 1;
                    st.message_len
                }
                (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
                (_, None) => 0,
            };
            let continues_compressed = header.opcode == Opcode::Continuation && st.compressed;
            let size = if continues_compressed {
                // Counted as it inflates.
                so_far
            } else {
                so_far.saturating_add(header.payload_len)
            };
            if !compressed && size > self.max_message_size {
                return Err(ProtocolError::MessageTooLarge {
                    size,
                    limit: self.max_message_size,
                });
            }
            if header.opcode != Opcode::Continuation {
                st.message = Some(if header.opcode == Opcode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                });
                st.message_first_piece = true;
                st.fragments = 1;
                st.utf8 = Utf8Validator::new();
                st.compressed = compressed;
            }
            st.message_len = if compressed { 0 } else { size };
        }
        st.frame = Some(FrameProgress {
            opcode: header.opcode,
            fin: header.fin,
            mask: header.mask,
            len: header.payload_len,
            received: 0,
        });
        Ok(())
    }

    /// Handles a complete control frame.
    fn control_frame(&mut self, opcode: Opcode, payload: Payload, input: &[u8]) -> Raw {
        let bytes = payload.bytes(input);
        match opcode {
            Opcode::Ping => {
                if self.has(super::AUTO_PONG) {
                    self.tx.write_pong_reply(bytes);
                }
                Raw::Ping(payload)
            }
            Opcode::Pong => Raw::Pong(payload),
            _ => match close::parse_payload(bytes) {
                Err(err) => self.fail(err),
                Ok(parsed) => {
                    let code = parsed.code;
                    let initiated_locally = self.tx.close_sent();
                    if !initiated_locally {
                        self.tx.write_close(code, "");
                    }
                    self.flags |= super::CLOSE_RECEIVED;
                    let reason = match payload {
                        Payload::Input(range) if range.len() >= 2 => {
                            Payload::Input(range.start + 2..range.end)
                        }
                        Payload::Owned(bytes) if bytes.len() >= 2 => Payload::Owned(bytes[2..].to_vec()),
                        _ => Payload::Static(""),
                    };
                    Raw::Closed {
                        code: code.unwrap_or(close::NO_STATUS_RECEIVED),
                        reason,
                        clean: true,
                        initiated_locally,
                    }
                }
            },
        }
    }

    /// Appends to the reassembly buffer, growing it at most to `max_message_size`.
    fn append_to_message(&mut self, data: &[u8]) {
        let limit = usize::try_from(self.max_message_size).unwrap_or(usize::MAX);
        let assembly = &mut self.partial().assembly;
        let needed = assembly.len() + data.len();
        if needed > assembly.capacity() {
            let target = needed
                .max(assembly.capacity().saturating_mul(2).min(limit))
                .max(256.min(limit));
            assembly.reserve_exact(target - assembly.len());
        }
        assembly.extend_from_slice(data);
    }

    /// Takes the reassembled message out of the connection.
    fn take_message(&mut self) -> Vec<u8> {
        self.partial
            .as_mut()
            .map(|p| std::mem::take(&mut p.assembly))
            .unwrap_or_default()
    }

    /// Decodes bytes until one event is ready, without keeping any borrow: the building block for
    /// event loops that hand events to code which may call back into the connection.
    ///
    /// Returns how many bytes of `input` were used and the event, if any. Payload ranges of the
    /// event refer to `input` (masked payloads are unmasked in place); read them with
    /// [`RawEvent::event`] passing the same `input`. When no event is returned, all of `input` was
    /// used (an incomplete frame is kept inside the connection). Give the event back with
    /// [`Connection::recycle`] so its buffer can be reused.
    #[inline]
    pub fn read_event(&mut self, input: &mut [u8]) -> ReadStep {
        if self.has_stash() {
            let mut stash = std::mem::take(&mut self.partial().stash);
            let (used, raw) = self.decode(&mut stash);
            // Stash bytes are not the caller's input: detach the payload from them.
            let raw = raw.map(|raw| raw.detached(&stash[..used]));
            stash.drain(..used);
            if !stash.is_empty() {
                self.partial().stash = stash;
            }
            if raw.is_some() {
                return ReadStep {
                    consumed: 0,
                    event: raw.map(RawEvent),
                };
            }
        }
        let (consumed, raw) = self.decode(input);
        // A reassembled message's buffer usually comes back through `recycle`: keep its box.
        if self.partial.is_some() && !matches!(raw, Some(Raw::Message(_, Payload::Owned(_)))) {
            self.tidy_partial();
        }
        ReadStep {
            consumed,
            event: raw.map(RawEvent),
        }
    }

    /// Returns an event's buffer (a reassembled message) for reuse by the next message.
    #[inline]
    pub fn recycle(&mut self, event: RawEvent) {
        if let Raw::Message(_, Payload::Owned(mut buf)) = event.0 {
            if buf.capacity() <= 64 * 1024 && !self.input_finished() {
                let partial = self.partial();
                if partial.assembly.capacity() == 0 {
                    buf.clear();
                    partial.assembly = buf;
                }
            }
        }
    }

    /// The state machine: consumes `buf` until an event is ready or the input is used up. Works on
    /// a copy of the read state, stored back only if it is not idle.
    #[inline]
    fn decode(&mut self, buf: &mut [u8]) -> (usize, Option<Raw>) {
        let mut st = match self.partial.as_mut() {
            None => {
                if let Some((used, kind, range)) = self.take_whole_message(buf) {
                    let raw = if self.streaming {
                        Raw::Fragment {
                            kind,
                            payload: Payload::Input(range),
                            first: true,
                            last: true,
                        }
                    } else {
                        Raw::Message(kind, Payload::Input(range))
                    };
                    return (used, Some(raw));
                }
                ReadState::IDLE
            }
            Some(partial) => {
                if let Some(err) = partial.pending_failure.take() {
                    return (0, Some(Raw::Failed(err)));
                }
                partial.read
            }
        };
        let result = self.decode_frames(&mut st, buf);
        if self.input_finished() {
            st = ReadState::IDLE;
        }
        match self.partial.as_mut() {
            Some(partial) => partial.read = st,
            None if !st.is_idle() => self.partial().read = st,
            None => {}
        }
        result
    }

    /// The common case in one pass: nothing carried over from earlier reads, and `buf` starts with
    /// a whole unfragmented text or binary message within the limits, masked as the role requires,
    /// and (for text) valid UTF-8. Returns the bytes used, the kind and where the (unmasked) payload
    /// is. Anything else, including every error, is left to [`Connection::decode_frames`], which
    /// applies every rule: `None` means nothing was consumed or changed.
    #[inline(always)]
    fn take_whole_message(&mut self, buf: &mut [u8]) -> Option<(usize, MessageKind, Range<usize>)> {
        let [b0, b1, ..] = *buf else { return None };
        // FIN, no RSV bits, text or binary.
        let kind = match b0 {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let masked = b1 & 0x80 != 0;
        if masked != (self.role == Role::Server)
            || self.partial.is_some()
            || self.input_finished()
            || self.tx.extras.is_some()
        {
            return None;
        }
        let (len, mut pos) = match b1 & 0x7F {
            126 => (usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])), 4),
            127 => return None,
            short => (usize::from(short), 2),
        };
        let mask = if masked {
            let key = buf.get(pos..pos + 4)?;
            let key = [key[0], key[1], key[2], key[3]];
            pos += 4;
            Some(key)
        } else {
            None
        };
        let end = pos.checked_add(len).filter(|&end| end <= buf.len())?;
        if len as u64 > self.max_frame_size || len as u64 > self.max_message_size {
            return None;
        }
        let payload = &mut buf[pos..end];
        if let Some(key) = mask {
            apply_mask(payload, key, 0);
        }
        if kind == MessageKind::Text && utf8::validate(payload).is_err() {
            // Put the bytes back as they came (masking is its own inverse): the general path
            // reports the failure at the first bad byte.
            if let Some(key) = mask {
                apply_mask(payload, key, 0);
            }
            return None;
        }
        Some((end, kind, pos..end))
    }

    /// A fast path for event loops: when nothing is pending from earlier input and `input` starts
    /// with a whole unfragmented message that breaks no rule, decodes it (unmasking in place) and
    /// returns the bytes used and the message, borrowed from `input`. Otherwise (a control frame,
    /// a fragment, a partial frame, streaming mode, any error) it consumes and changes nothing:
    /// call [`Connection::read_event`], which handles everything. Either way the events are the
    /// same as [`Connection::read_event`] alone would give.
    #[inline]
    pub fn read_message<'i>(&mut self, input: &'i mut [u8]) -> Option<(usize, Event<'i>)> {
        let whole = self.read_whole(input)?;
        // SAFETY: `input` is the slice `read_whole` just read, and it stays borrowed (unchanged)
        // from then until the event is dropped.
        Some((whole.used, unsafe { whole.event(input) }))
    }

    /// [`Connection::read_message`] without the borrow: where the message lies, or `None` (nothing
    /// consumed or changed). For [`crate::proto::feed::Feed`], which splits the message off its
    /// input before viewing it.
    #[inline(always)]
    pub(in crate::proto) fn read_whole(&mut self, input: &mut [u8]) -> Option<WholeMessage> {
        if self.streaming {
            return None;
        }
        let (used, kind, range) = self.take_whole_message(input)?;
        Some(WholeMessage { used, kind, range })
    }

    fn decode_frames(&mut self, st: &mut ReadState, buf: &mut [u8]) -> (usize, Option<Raw>) {
        let mut pos = 0;
        loop {
            if self.input_finished() {
                return (buf.len(), None);
            }
            if st.frame.is_none() {
                if pos == buf.len() {
                    return (pos, None);
                }
                match self.read_header(&buf[pos..]) {
                    Ok(Some((header, used))) => {
                        pos += used;
                        if let Err(err) = self.start_frame(st, header) {
                            return (pos, Some(self.fail(err)));
                        }
                    }
                    Ok(None) => return (buf.len(), None),
                    Err(err) => return (buf.len(), Some(self.fail(err))),
                }
            }
            let Some(frame) = st.frame.as_mut() else {
                continue;
            };
            let avail = (frame.len - frame.received).min((buf.len() - pos) as u64) as usize;
            let range = pos..pos + avail;
            pos += avail;
            let chunk = &mut buf[range.clone()];
            if let Some(mask) = frame.mask {
                apply_mask(chunk, mask, (frame.received & 3) as usize);
            }
            let whole_frame_here = frame.received == 0 && avail as u64 == frame.len;
            frame.received += avail as u64;
            let frame = *frame;
            let complete = frame.received == frame.len;

            if frame.opcode.is_control() {
                if !complete {
                    self.partial().control.extend_from_slice(chunk);
                    return (pos, None);
                }
                st.frame = None;
                let payload = if whole_frame_here {
                    Payload::Input(range)
                } else {
                    let partial = self.partial();
                    partial.control.extend_from_slice(chunk);
                    Payload::Owned(std::mem::take(&mut partial.control))
                };
                return (pos, Some(self.control_frame(frame.opcode, payload, buf)));
            }

            let kind = st.message.expect("a data frame always belongs to a message");
            let last = complete && frame.fin;
            if st.compressed {
                match self.inflate_piece(st, kind, chunk, complete, last) {
                    Err(err) => return (pos, Some(self.fail(err))),
                    Ok(Some(raw)) => return (pos, Some(raw)),
                    Ok(None) if complete => continue,
                    Ok(None) => return (pos, None),
                }
            }
            if kind == MessageKind::Text
                && (st.utf8.feed(chunk).is_err() || (last && st.utf8.finish().is_err()))
            {
                return (pos, Some(self.fail(ProtocolError::InvalidUtf8)));
            }
            if complete {
                st.frame = None;
            }
            if last {
                st.message = None;
            }
            if self.streaming {
                if avail == 0 && !complete {
                    return (pos, None);
                }
                let first = std::mem::replace(&mut st.message_first_piece, last);
                return (
                    pos,
                    Some(Raw::Fragment {
                        kind,
                        payload: Payload::Input(range),
                        first,
                        last,
                    }),
                );
            }
            if last && whole_frame_here && st.message_len == frame.len {
                return (pos, Some(Raw::Message(kind, Payload::Input(range))));
            }
            self.append_to_message(chunk);
            if last {
                return (pos, Some(Raw::Message(kind, Payload::Owned(self.take_message()))));
            }
            if !complete {
                return (pos, None);
            }
        }
    }
}

impl Connection {
    /// Inflates the next piece of a compressed message: into the reassembly buffer, or in
    /// streaming mode into a piece of its own. Returns the event it completes, if any.
    fn inflate_piece(
        &mut self,
        st: &mut ReadState,
        kind: MessageKind,
        chunk: &[u8],
        complete: bool,
        last: bool,
    ) -> Result<Option<Raw>, ProtocolError> {
        let limit = self.max_message_size;
        let map = |err| match err {
            InflateError::Invalid => ProtocolError::InvalidCompressedData,
            InflateError::TooLarge(size) => ProtocolError::MessageTooLarge { size, limit },
        };
        if complete {
            st.frame = None;
        }
        if last {
            st.message = None;
        }
        let deflate = self.tx.extras.as_mut().and_then(|e| e.deflate.as_mut());
        let deflate = deflate.expect("compressed messages only arrive with deflate negotiated");
        if self.streaming {
            let mut piece = Vec::new();
            deflate
                .inflate(chunk, last, &mut piece, st.message_len, limit)
                .map_err(map)?;
            st.message_len += piece.len() as u64;
            if kind == MessageKind::Text
                && (st.utf8.feed(&piece).is_err() || (last && st.utf8.finish().is_err()))
            {
                return Err(ProtocolError::InvalidUtf8);
            }
            if piece.is_empty() && !last {
                return Ok(None);
            }
            let first = std::mem::replace(&mut st.message_first_piece, last);
            return Ok(Some(Raw::Fragment {
                kind,
                payload: Payload::Owned(piece),
                first,
                last,
            }));
        }
        let partial = self.partial.get_or_insert_with(Box::default);
        let start = partial.assembly.len();
        deflate
            .inflate(chunk, last, &mut partial.assembly, 0, limit)
            .map_err(map)?;
        if kind == MessageKind::Text
            && (st.utf8.feed(&partial.assembly[start..]).is_err() || (last && st.utf8.finish().is_err()))
        {
            return Err(ProtocolError::InvalidUtf8);
        }
        if last {
            return Ok(Some(Raw::Message(kind, Payload::Owned(self.take_message()))));
        }
        Ok(None)
    }
}

/// A whole message taken by [`Connection::read_whole`]: the bytes of the input it used, and its
/// kind and payload (unmasked, and for text validated as UTF-8).
#[derive(Debug, Clone)]
pub(in crate::proto) struct WholeMessage {
    /// Bytes of the input used.
    pub(in crate::proto) used: usize,
    kind: MessageKind,
    range: Range<usize>,
}

impl WholeMessage {
    /// The message, borrowed from `input`.
    ///
    /// # Safety
    /// `input` must be the slice passed to the [`Connection::read_whole`] call that returned this,
    /// with its bytes unchanged since: they were validated as UTF-8.
    #[inline(always)]
    pub(in crate::proto) unsafe fn event(self, input: &[u8]) -> Event<'_> {
        let payload = &input[self.range];
        match self.kind {
            // SAFETY: `take_whole_message` validated exactly these bytes as UTF-8, and the caller
            // guarantees they are unchanged.
            MessageKind::Text => Event::Text(unsafe { std::str::from_utf8_unchecked(payload) }),
            MessageKind::Binary => Event::Binary(payload),
        }
    }
}

/// Where an event's payload lives.
#[derive(Debug)]
pub(super) enum Payload {
    /// A range of the input passed to `read_event` (zero copy).
    Input(Range<usize>),
    /// A reassembled message moved out of the connection, or a control payload that arrived in
    /// pieces (rare; a heap copy keeps every event a few words long).
    Owned(Vec<u8>),
    Static(&'static str),
}

impl Payload {
    fn bytes<'a>(&'a self, input: &'a [u8]) -> &'a [u8] {
        match self {
            Payload::Input(range) => &input[range.clone()],
            Payload::Owned(buf) => buf,
            Payload::Static(text) => text.as_bytes(),
        }
    }

    fn detached(self, input: &[u8]) -> Self {
        match self {
            Payload::Input(range) => Payload::Owned(input[range].to_vec()),
            other => other,
        }
    }
}

#[derive(Debug)]
pub(super) enum Raw {
    Message(MessageKind, Payload),
    Fragment {
        kind: MessageKind,
        payload: Payload,
        first: bool,
        last: bool,
    },
    Ping(Payload),
    Pong(Payload),
    Closed {
        code: u16,
        reason: Payload,
        clean: bool,
        initiated_locally: bool,
    },
    Failed(ProtocolError),
    Error(ProtocolError),
}

impl Raw {
    fn detached(self, input: &[u8]) -> Self {
        match self {
            Raw::Message(kind, p) => Raw::Message(kind, p.detached(input)),
            Raw::Fragment {
                kind,
                payload,
                first,
                last,
            } => Raw::Fragment {
                kind,
                payload: payload.detached(input),
                first,
                last,
            },
            Raw::Ping(p) => Raw::Ping(p.detached(input)),
            Raw::Pong(p) => Raw::Pong(p.detached(input)),
            Raw::Closed {
                code,
                reason,
                clean,
                initiated_locally,
            } => Raw::Closed {
                code,
                reason: reason.detached(input),
                clean,
                initiated_locally,
            },
            other => other,
        }
    }
}

/// An event from [`Connection::read_event`] that borrows nothing; [`RawEvent::event`] views it.
#[derive(Debug)]
pub struct RawEvent(Raw);

/// The result of [`Connection::read_event`].
#[derive(Debug)]
pub struct ReadStep {
    /// Bytes of the input used.
    pub consumed: usize,
    /// The event, if one is ready.
    pub event: Option<RawEvent>,
}

impl RawEvent {
    /// The event, with payloads borrowed from `input` (the slice passed to
    /// [`Connection::read_event`]) or from the event itself. Text that lies in `input` is checked
    /// again, since the caller could have changed `input` in between.
    pub fn event<'a>(&'a self, input: &'a [u8]) -> Event<'a> {
        match &self.0 {
            Raw::Message(MessageKind::Text, payload @ Payload::Input(_)) => {
                Event::Text(utf8::validate(payload.bytes(input)).unwrap_or(""))
            }
            // SAFETY: other text payloads are owned by the event and were validated by `decode`.
            _ => unsafe { self.event_unchecked(input) },
        }
    }

    /// Like [`RawEvent::event`] without re-checking text. Crate-internal: [`Incoming`] and
    /// [`crate::proto::feed::Feed`] use it.
    ///
    /// # Safety
    /// `input` must start where the slice passed to the [`Connection::read_event`] call that
    /// returned this event started, and hold at least the bytes that call consumed, unchanged
    /// since: they were validated as UTF-8.
    #[inline]
    pub(in crate::proto) unsafe fn event_unchecked<'a>(&'a self, input: &'a [u8]) -> Event<'a> {
        match &self.0 {
            Raw::Message(MessageKind::Text, payload) => {
                // SAFETY: `decode` builds `Raw::Message(Text, _)` only after the Utf8Validator accepted
                // every byte and the end of the message; owned payloads cannot change, and for input
                // ranges the caller guarantees the bytes are the ones validated.
                Event::Text(unsafe { std::str::from_utf8_unchecked(payload.bytes(input)) })
            }
            Raw::Message(MessageKind::Binary, payload) => Event::Binary(payload.bytes(input)),
            Raw::Fragment {
                kind,
                payload,
                first,
                last,
            } => Event::Fragment {
                kind: *kind,
                data: payload.bytes(input),
                first: *first,
                last: *last,
            },
            Raw::Ping(payload) => Event::Ping(payload.bytes(input)),
            Raw::Pong(payload) => Event::Pong(payload.bytes(input)),
            Raw::Closed {
                code,
                reason,
                clean,
                initiated_locally,
            } => Event::Closed(CloseInfo {
                code: *code,
                reason: utf8::validate(reason.bytes(input)).unwrap_or(""),
                clean: *clean,
                initiated_locally: *initiated_locally,
            }),
            Raw::Failed(err) => Event::Closed(failure_info(*err)),
            Raw::Error(err) => Event::Error(*err),
        }
    }
}

/// The events of one [`Connection::receive`] call, pulled one at a time.
#[derive(Debug)]
pub struct Incoming<'c> {
    conn: &'c mut Connection,
    buf: Input<'c>,
    pos: usize,
    /// The event last handed out and where its input slice started.
    current: Option<(usize, RawEvent)>,
}

#[derive(Debug)]
enum Input<'c> {
    Borrowed(&'c mut [u8]),
    Owned(Vec<u8>),
}

impl Input<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        match self {
            Input::Borrowed(buf) => buf,
            Input::Owned(buf) => buf,
        }
    }

    fn as_ref(&self) -> &[u8] {
        match self {
            Input::Borrowed(buf) => buf,
            Input::Owned(buf) => buf,
        }
    }
}

impl Incoming<'_> {
    /// The next event, or `None` when the input is used up (an incomplete frame is kept).
    pub fn next_event(&mut self) -> Option<Event<'_>> {
        self.next_with_sender().map(|(event, _)| event)
    }

    /// The next event together with the connection's [`Sender`], so a handler can answer (e.g. echo
    /// the payload) while the event's payload is borrowed.
    pub fn next_with_sender(&mut self) -> Option<(Event<'_>, &mut Sender)> {
        if let Some((_, previous)) = self.current.take() {
            self.conn.recycle(previous);
        }
        let buf = self.buf.as_mut();
        let step = self.conn.read_event(&mut buf[self.pos..]);
        let base = self.pos;
        self.pos += step.consumed;
        self.current = Some((base, step.event?));
        let (base, raw) = self.current.as_ref()?;
        // SAFETY: `raw` was decoded from exactly this slice of `self.buf`, which nothing has written
        // since (the buffer is private to this `Incoming`).
        let event = unsafe { raw.event_unchecked(&self.buf.as_ref()[*base..]) };
        Some((event, &mut self.conn.tx))
    }
}

impl Drop for Incoming<'_> {
    /// Keeps input the caller did not pull events for, so no byte is lost.
    fn drop(&mut self) {
        if let Some((_, previous)) = self.current.take() {
            self.conn.recycle(previous);
        }
        if self.conn.input_finished() {
            return;
        }
        let pos = self.pos;
        match &mut self.buf {
            Input::Borrowed(buf) if pos < buf.len() => {
                self.conn.partial().stash.extend_from_slice(&buf[pos..])
            }
            Input::Owned(buf) if pos < buf.len() => {
                buf.drain(..pos);
                let stash = &mut self.conn.partial().stash;
                stash.splice(0..0, buf.drain(..));
            }
            _ => {}
        }
    }
}
