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
use super::sender::Sender;
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
    /// Payload of a control frame that arrived in pieces (at most 125 bytes).
    control: Vec<u8>,
    /// A message that arrived in several frames or reads.
    assembly: Vec<u8>,
    /// Unread input left when an [`Incoming`] was dropped before it was drained.
    stash: Vec<u8>,
}

#[derive(Debug, Default)]
struct Reader {
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    frame: Option<FrameProgress>,
    /// The data message being received, if one has begun.
    message: Option<MessageKind>,
    message_len: u64,
    message_first_piece: bool,
    utf8: Utf8Validator,
    close_received: bool,
    failed: bool,
    lost: bool,
    after: After,
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

/// Work left over from the previous event, done at the start of the next call.
#[derive(Debug, Default, Clone, Copy)]
enum After {
    #[default]
    Nothing,
    ReleaseAssembly,
    ClearControl,
    ReportFailure(ProtocolError),
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
            control: Vec::new(),
            assembly: Vec::new(),
            stash: Vec::new(),
        }
    }

    /// Feeds received bytes. Pull the resulting events from the returned [`Incoming`]; bytes of an
    /// incomplete frame are kept for the next call, so any split of the stream gives the same events.
    pub fn receive<'c>(&'c mut self, input: &'c mut [u8]) -> Incoming<'c> {
        let buf = if self.stash.is_empty() {
            Input::Borrowed(input)
        } else {
            let mut joined = std::mem::take(&mut self.stash);
            joined.extend_from_slice(input);
            Input::Owned(joined)
        };
        Incoming {
            conn: self,
            buf,
            pos: 0,
        }
    }

    /// Keeps bytes that arrived before the connection existed (with the handshake) as if they had
    /// been left unread: the next [`Connection::receive`] reports their events first.
    pub(crate) fn push_unread(&mut self, bytes: &[u8]) {
        self.stash.extend_from_slice(bytes);
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
        if let After::ReportFailure(err) = self.rx.after {
            self.rx.after = After::Nothing;
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

    /// Frees every buffer that holds nothing, so an idle connection uses no heap memory.
    pub fn release_memory(&mut self) {
        self.tx.release_memory();
        if self.assembly.is_empty() {
            self.assembly = Vec::new();
        }
        if self.control.is_empty() {
            self.control = Vec::new();
        }
        if self.stash.is_empty() {
            self.stash = Vec::new();
        }
    }

    /// Heap bytes this connection holds right now (buffer capacities).
    pub fn heap_bytes(&self) -> usize {
        self.tx.capacity() + self.assembly.capacity() + self.control.capacity() + self.stash.capacity()
    }

    fn input_finished(&self) -> bool {
        self.rx.close_received || self.rx.failed || self.rx.lost
    }

    /// Fails the connection (RFC 6455 7.1.7): queue a close frame with the error's code, stop reading.
    fn fail(&mut self, err: ProtocolError) -> Ready {
        if !self.tx.close_sent() {
            self.tx.write_close(Some(err.close_code()), err.close_reason());
        }
        self.rx.failed = true;
        self.rx.frame = None;
        self.rx.after = After::ReportFailure(err);
        self.assembly = Vec::new();
        Ready::Error(err)
    }

    /// Reads a frame header, buffering a partial one. Returns the header and how many bytes of
    /// `input` it used.
    fn read_header(&mut self, input: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let have = usize::from(self.rx.header_len);
        if have == 0 {
            let parsed = FrameHeader::parse(input)?;
            if parsed.is_none() {
                // A header is at most 14 bytes, so an incomplete one fits.
                self.rx.header[..input.len()].copy_from_slice(input);
                self.rx.header_len = input.len() as u8;
            }
            return Ok(parsed);
        }
        let take = (MAX_HEADER_LEN - have).min(input.len());
        self.rx.header[have..have + take].copy_from_slice(&input[..take]);
        match FrameHeader::parse(&self.rx.header[..have + take])? {
            Some((header, used)) => {
                self.rx.header_len = 0;
                Ok(Some((header, used - have)))
            }
            None => {
                self.rx.header_len = (have + take) as u8;
                Ok(None)
            }
        }
    }

    /// Applies the rules that depend on the connection to a new frame, and starts receiving it.
    fn start_frame(&mut self, header: FrameHeader) -> Result<(), ProtocolError> {
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

    /// Handles a complete control frame whose payload is `src`.
    fn control_frame(&mut self, opcode: Opcode, src: Source, input: &[u8]) -> Ready {
        let payload = match &src {
            Source::Input(range) => &input[range.clone()],
            _ => &self.control[..],
        };
        match opcode {
            Opcode::Ping => {
                if self.config.auto_pong {
                    self.tx.write_pong_reply(payload);
                }
                Ready::Ping(src)
            }
            Opcode::Pong => Ready::Pong(src),
            _ => match close::parse_payload(payload) {
                Err(err) => self.fail(err),
                Ok(parsed) => {
                    let initiated_locally = self.tx.close_sent();
                    if !initiated_locally {
                        self.tx.write_close(parsed.code, "");
                    }
                    self.rx.close_received = true;
                    self.rx.frame = None;
                    Ready::Closed {
                        code: parsed.code.unwrap_or(close::NO_STATUS_RECEIVED),
                        reason: src,
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
}

fn failure_info(err: ProtocolError) -> CloseInfo<'static> {
    CloseInfo {
        code: err.close_code(),
        reason: err.close_reason(),
        clean: false,
        initiated_locally: true,
    }
}

/// The events of one [`Connection::receive`] call, pulled one at a time.
#[derive(Debug)]
pub struct Incoming<'c> {
    conn: &'c mut Connection,
    buf: Input<'c>,
    pos: usize,
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

/// Where an event's payload lives.
#[derive(Debug, Clone)]
enum Source {
    Input(Range<usize>),
    Control,
    Assembly,
}

/// An event decided by [`Incoming::step`], before its payload is borrowed.
#[derive(Debug)]
enum Ready {
    Message(MessageKind, Source),
    Fragment {
        kind: MessageKind,
        range: Range<usize>,
        first: bool,
        last: bool,
    },
    Ping(Source),
    Pong(Source),
    Closed {
        code: u16,
        reason: Source,
        initiated_locally: bool,
    },
    Failed(ProtocolError),
    Error(ProtocolError),
}

impl<'c> Incoming<'c> {
    /// The next event, or `None` when the input is used up (an incomplete frame is kept).
    pub fn next_event(&mut self) -> Option<Event<'_>> {
        self.next_with_sender().map(|(event, _)| event)
    }

    /// The next event together with the connection's [`Sender`], so a handler can answer (e.g. echo
    /// the payload) while the event's payload is borrowed.
    pub fn next_with_sender(&mut self) -> Option<(Event<'_>, &mut Sender)> {
        let ready = self.step()?;
        let input = self.buf.as_ref();
        let conn = &mut *self.conn;
        let payload = |src: &Source| -> &[u8] {
            match src {
                Source::Input(range) => &input[range.clone()],
                Source::Control => &conn.control,
                Source::Assembly => &conn.assembly,
            }
        };
        let event = match ready {
            Ready::Message(MessageKind::Text, src) => {
                // SAFETY: text payloads are only reported after the Utf8Validator accepted every byte
                // and the end of the message (see `step`).
                Event::Text(unsafe { std::str::from_utf8_unchecked(payload(&src)) })
            }
            Ready::Message(MessageKind::Binary, src) => Event::Binary(payload(&src)),
            Ready::Fragment {
                kind,
                range,
                first,
                last,
            } => Event::Fragment {
                kind,
                data: &input[range],
                first,
                last,
            },
            Ready::Ping(src) => Event::Ping(payload(&src)),
            Ready::Pong(src) => Event::Pong(payload(&src)),
            Ready::Closed {
                code,
                reason,
                initiated_locally,
            } => {
                let bytes = payload(&reason);
                // SAFETY: `close::parse_payload` validated the reason (bytes after the code) as UTF-8.
                let reason = unsafe { std::str::from_utf8_unchecked(bytes.get(2..).unwrap_or(&[])) };
                Event::Closed(CloseInfo {
                    code,
                    reason,
                    clean: true,
                    initiated_locally,
                })
            }
            Ready::Failed(err) => Event::Closed(failure_info(err)),
            Ready::Error(err) => Event::Error(err),
        };
        Some((event, &mut conn.tx))
    }

    /// Advances the state machine to the next event.
    fn step(&mut self) -> Option<Ready> {
        let conn = &mut *self.conn;
        match std::mem::take(&mut conn.rx.after) {
            After::Nothing => {}
            After::ReleaseAssembly => {
                conn.assembly.clear();
                if conn.assembly.capacity() > 64 * 1024 {
                    conn.assembly = Vec::new();
                }
            }
            After::ClearControl => conn.control.clear(),
            After::ReportFailure(err) => return Some(Ready::Failed(err)),
        }
        let buf = self.buf.as_mut();
        loop {
            if conn.input_finished() {
                self.pos = buf.len();
                return None;
            }
            if conn.rx.frame.is_none() {
                if self.pos == buf.len() {
                    return None;
                }
                match conn.read_header(&buf[self.pos..]) {
                    Ok(Some((header, used))) => {
                        self.pos += used;
                        if let Err(err) = conn.start_frame(header) {
                            return Some(conn.fail(err));
                        }
                    }
                    Ok(None) => {
                        self.pos = buf.len();
                        return None;
                    }
                    Err(err) => return Some(conn.fail(err)),
                }
            }
            let Some(frame) = conn.rx.frame.as_mut() else {
                continue;
            };
            let avail = (frame.len - frame.received).min((buf.len() - self.pos) as u64) as usize;
            let range = self.pos..self.pos + avail;
            self.pos += avail;
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
                    conn.control.extend_from_slice(chunk);
                    return None;
                }
                conn.rx.frame = None;
                let src = if whole_frame_here {
                    Source::Input(range)
                } else {
                    conn.control.extend_from_slice(chunk);
                    conn.rx.after = After::ClearControl;
                    Source::Control
                };
                return Some(conn.control_frame(frame.opcode, src, buf));
            }

            let kind = conn.rx.message.expect("a data frame always belongs to a message");
            let last = complete && frame.fin;
            if kind == MessageKind::Text
                && (conn.rx.utf8.feed(chunk).is_err() || (last && conn.rx.utf8.finish().is_err()))
            {
                return Some(conn.fail(ProtocolError::InvalidUtf8));
            }
            if complete {
                conn.rx.frame = None;
            }
            if last {
                conn.rx.message = None;
            }
            if conn.config.streaming {
                if avail == 0 && !complete {
                    return None;
                }
                let first = std::mem::replace(&mut conn.rx.message_first_piece, last);
                return Some(Ready::Fragment {
                    kind,
                    range,
                    first,
                    last,
                });
            }
            if last && whole_frame_here && conn.rx.message_len == frame.len {
                return Some(Ready::Message(kind, Source::Input(range)));
            }
            conn.append_to_message(chunk);
            if last {
                conn.rx.after = After::ReleaseAssembly;
                return Some(Ready::Message(kind, Source::Assembly));
            }
            if !complete {
                return None;
            }
        }
    }
}

impl Drop for Incoming<'_> {
    /// Keeps input the caller did not pull events for, so no byte is lost.
    fn drop(&mut self) {
        if self.conn.input_finished() {
            return;
        }
        let pos = self.pos;
        match &mut self.buf {
            Input::Borrowed(buf) if pos < buf.len() => self.conn.stash.extend_from_slice(&buf[pos..]),
            Input::Owned(buf) if pos < buf.len() => {
                buf.drain(..pos);
                self.conn.stash = std::mem::take(buf);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
