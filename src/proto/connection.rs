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
//! Per connection: a 14-byte header buffer, five bytes of UTF-8 state, and three vectors that are
//! empty unless in use: the partial control frame, the reassembly buffer of a message that arrived
//! in pieces (bounded by `max_message_size`), and unsent output.

use std::ops::Range;

use super::close;
use super::config::{Config, Role};
use super::error::ProtocolError;
use super::event::{CloseInfo, Event};
use super::frame::{FrameHeader, MAX_HEADER_LEN};
use super::mask::apply_mask;
use super::opcode::{MessageKind, Opcode};
use super::sender::{FrameRecord, Sender};

use super::utf8::Utf8Validator;

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
#[derive(Debug)]
pub struct Connection {
    config: Config,
    role: Role,
    tx: Sender,
    rx: Reader,
    /// A message that arrived in several frames or reads.
    assembly: Vec<u8>,
    /// State that exists only while a frame header or control frame is split between reads, input
    /// was left unread, or a failure awaits its report: boxed, so an idle connection pays 8 bytes.
    partial: Option<Box<Partial>>,
}

#[derive(Debug, Default)]
struct Partial {
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    /// Payload of a control frame that arrived in pieces (at most 125 bytes).
    control: Vec<u8>,
    /// Unread input left when an [`Incoming`] was dropped before it was drained, or frame bytes
    /// that arrived with the handshake.
    stash: Vec<u8>,
    /// A failure whose `Closed` event has not been reported yet.
    pending_failure: Option<ProtocolError>,
}

impl Partial {
    fn is_empty(&self) -> bool {
        self.header_len == 0
            && self.control.is_empty()
            && self.stash.is_empty()
            && self.pending_failure.is_none()
    }
}

#[derive(Debug, Default)]
struct Reader {
    frame: Option<FrameProgress>,
    /// The data message being received, if one has begun.
    message: Option<MessageKind>,
    message_len: u64,
    message_first_piece: bool,
    utf8: Utf8Validator,
    close_received: bool,
    failed: bool,
    lost: bool,
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
    /// A connection in the open state, for the given role.
    pub fn new(role: Role, config: Config) -> Self {
        let mask_source = match role {
            Role::Client => Some(config.mask_source),
            Role::Server => None,
        };
        Self {
            config,
            role,
            tx: Sender::new(mask_source),
            rx: Reader {
                message_first_piece: true,
                ..Reader::default()
            },
            assembly: Vec::new(),
            partial: None,
        }
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
        if self.rx.close_received || self.rx.failed || self.rx.lost {
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

    /// The limits this connection enforces.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes the limits and behaviour, e.g. the RSV bits an extension negotiated in the handshake.
    pub fn set_config(&mut self, config: Config) {
        if self.role == Role::Client {
            self.tx.set_mask_source(config.mask_source);
        }
        self.config = config;
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
        self.rx.lost = true;
        Some(CloseInfo {
            code: close::ABNORMAL_CLOSURE,
            reason: "",
            clean: false,
            initiated_locally: self.tx.close_sent(),
        })
    }

    /// Turns recording of frame headers (both directions) on or off, for tracing. Off by default;
    /// when off, recording costs one branch per frame.
    pub fn set_frame_log(&mut self, enabled: bool) {
        self.tx.frame_log = if enabled { Some(Box::default()) } else { None };
    }

    /// Takes the frame headers recorded since the last call (oldest first).
    pub fn take_frame_log(&mut self) -> Vec<FrameRecord> {
        self.tx
            .frame_log
            .as_mut()
            .map(|log| std::mem::take(&mut **log))
            .unwrap_or_default()
    }

    /// Frees every buffer that holds nothing, so an idle connection uses no heap memory.
    pub fn release_memory(&mut self) {
        self.tx.release_memory();
        if self.assembly.is_empty() {
            self.assembly = Vec::new();
        }
        if let Some(partial) = self.partial.as_mut() {
            if partial.control.is_empty() {
                partial.control = Vec::new();
            }
            if partial.stash.is_empty() {
                partial.stash = Vec::new();
            }
        }
        self.tidy_partial();
    }

    /// Heap bytes this connection holds right now (buffer capacities).
    pub fn heap_bytes(&self) -> usize {
        let partial = self.partial.as_ref().map_or(0, |p| {
            std::mem::size_of::<Partial>() + p.control.capacity() + p.stash.capacity()
        });
        self.tx.capacity() + self.assembly.capacity() + partial
    }

    fn input_finished(&self) -> bool {
        self.rx.close_received || self.rx.failed || self.rx.lost
    }

    /// Fails the connection (RFC 6455 7.1.7): queue a close frame with the error's code, stop reading.
    fn fail(&mut self, err: ProtocolError) -> Raw {
        if !self.tx.close_sent() {
            self.tx.write_close(Some(err.close_code()), err.close_reason());
        }
        self.rx.failed = true;
        self.rx.frame = None;
        self.assembly = Vec::new();
        let partial = self.partial();
        partial.pending_failure = Some(err);
        partial.control = Vec::new();
        partial.header_len = 0;
        Raw::Error(err)
    }

    /// Reads a frame header, buffering a partial one. Returns the header and how many bytes of
    /// `input` it used.
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
    fn start_frame(&mut self, header: FrameHeader) -> Result<(), ProtocolError> {
        if let Some(log) = self.tx.frame_log.as_mut() {
            log.push(FrameRecord { sent: false, header });
        }
        if header.rsv & !self.config.allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBits(header.rsv));
        }
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if !header.opcode.is_control() {
            if header.payload_len > self.config.max_frame_size {
                return Err(ProtocolError::FrameTooLarge {
                    size: header.payload_len,
                    limit: self.config.max_frame_size,
                });
            }
            let so_far = match (header.opcode, self.rx.message) {
                (Opcode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
                (Opcode::Continuation, Some(_)) => self.rx.message_len,
                (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
                (_, None) => 0,
            };
            let size = so_far.saturating_add(header.payload_len);
            if size > self.config.max_message_size {
                return Err(ProtocolError::MessageTooLarge {
                    size,
                    limit: self.config.max_message_size,
                });
            }
            if header.opcode != Opcode::Continuation {
                self.rx.message = Some(if header.opcode == Opcode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                });
                self.rx.message_first_piece = true;
                self.rx.utf8 = Utf8Validator::new();
            }
            self.rx.message_len = size;
        }
        self.rx.frame = Some(FrameProgress {
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
                if self.config.auto_pong {
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
                    self.rx.close_received = true;
                    self.rx.frame = None;
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
        let needed = self.assembly.len() + data.len();
        if needed > self.assembly.capacity() {
            let limit = usize::try_from(self.config.max_message_size).unwrap_or(usize::MAX);
            let target = needed
                .max(self.assembly.capacity().saturating_mul(2).min(limit))
                .max(256.min(limit));
            self.assembly.reserve_exact(target - self.assembly.len());
        }
        self.assembly.extend_from_slice(data);
    }

    /// Decodes bytes until one event is ready, without keeping any borrow: the building block for
    /// event loops that hand events to code which may call back into the connection.
    ///
    /// Returns how many bytes of `input` were used and the event, if any. Payload ranges of the
    /// event refer to `input` (masked payloads are unmasked in place); read them with
    /// [`RawEvent::event`] passing the same `input`. When no event is returned, all of `input` was
    /// used (an incomplete frame is kept inside the connection). Give the event back with
    /// [`Connection::recycle`] so its buffer can be reused.
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
        if self.partial.is_some() {
            self.tidy_partial();
        }
        ReadStep {
            consumed,
            event: raw.map(RawEvent),
        }
    }

    /// Returns an event's buffer (a reassembled message) for reuse by the next message.
    pub fn recycle(&mut self, event: RawEvent) {
        if let Raw::Message(_, Payload::Owned(mut buf)) = event.0 {
            if self.assembly.capacity() == 0 && buf.capacity() <= 64 * 1024 {
                buf.clear();
                self.assembly = buf;
            }
        }
    }

    /// The state machine: consumes `buf` until an event is ready or the input is used up.
    fn decode(&mut self, buf: &mut [u8]) -> (usize, Option<Raw>) {
        if let Some(err) = self.partial.as_mut().and_then(|p| p.pending_failure.take()) {
            return (0, Some(Raw::Failed(err)));
        }
        let mut pos = 0;
        loop {
            if self.input_finished() {
                return (buf.len(), None);
            }
            if self.rx.frame.is_none() {
                if pos == buf.len() {
                    return (pos, None);
                }
                match self.read_header(&buf[pos..]) {
                    Ok(Some((header, used))) => {
                        pos += used;
                        if let Err(err) = self.start_frame(header) {
                            return (pos, Some(self.fail(err)));
                        }
                    }
                    Ok(None) => return (buf.len(), None),
                    Err(err) => return (buf.len(), Some(self.fail(err))),
                }
            }
            let Some(frame) = self.rx.frame.as_mut() else {
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
                self.rx.frame = None;
                let payload = if whole_frame_here {
                    Payload::Input(range)
                } else {
                    let partial = self.partial();
                    partial.control.extend_from_slice(chunk);
                    Payload::Owned(std::mem::take(&mut partial.control))
                };
                return (pos, Some(self.control_frame(frame.opcode, payload, buf)));
            }

            let kind = self.rx.message.expect("a data frame always belongs to a message");
            let last = complete && frame.fin;
            if kind == MessageKind::Text
                && (self.rx.utf8.feed(chunk).is_err() || (last && self.rx.utf8.finish().is_err()))
            {
                return (pos, Some(self.fail(ProtocolError::InvalidUtf8)));
            }
            if complete {
                self.rx.frame = None;
            }
            if last {
                self.rx.message = None;
            }
            if self.config.streaming {
                if avail == 0 && !complete {
                    return (pos, None);
                }
                let first = std::mem::replace(&mut self.rx.message_first_piece, last);
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
            if last && whole_frame_here && self.rx.message_len == frame.len {
                return (pos, Some(Raw::Message(kind, Payload::Input(range))));
            }
            self.append_to_message(chunk);
            if last {
                return (
                    pos,
                    Some(Raw::Message(
                        kind,
                        Payload::Owned(std::mem::take(&mut self.assembly)),
                    )),
                );
            }
            if !complete {
                return (pos, None);
            }
        }
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

/// Where an event's payload lives.
#[derive(Debug)]
enum Payload {
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
enum Raw {
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
    /// again, since the caller could have changed `input` in between; see
    /// [`RawEvent::event_unchecked`] to skip that.
    pub fn event<'a>(&'a self, input: &'a [u8]) -> Event<'a> {
        match &self.0 {
            Raw::Message(MessageKind::Text, payload @ Payload::Input(_)) => {
                Event::Text(super::utf8::validate(payload.bytes(input)).unwrap_or(""))
            }
            // SAFETY: other text payloads are owned by the event and were validated by `decode`.
            _ => unsafe { self.event_unchecked(input) },
        }
    }

    /// Like [`RawEvent::event`] without re-checking text.
    ///
    /// # Safety
    /// `input` must be the slice passed to the [`Connection::read_event`] call that returned this
    /// event, with the bytes of the event's range unchanged since: they were validated as UTF-8.
    pub unsafe fn event_unchecked<'a>(&'a self, input: &'a [u8]) -> Event<'a> {
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
                reason: super::utf8::validate(reason.bytes(input)).unwrap_or(""),
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

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
