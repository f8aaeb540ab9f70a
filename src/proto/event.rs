//! What a [`crate::proto::Connection`] reports while it reads.

use super::error::ProtocolError;
use super::opcode::MessageKind;

/// One thing that happened on the connection. Payloads borrow from the buffer passed to
/// [`crate::proto::Connection::receive`] when a message arrived whole in it (no copy), or from the
/// connection's reassembly buffer; either way they are valid until the next call to
/// [`crate::proto::Incoming::next_event`]. Use [`Event::to_owned`] to keep one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A whole text message, validated as UTF-8.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// Streaming mode ([`crate::proto::Config::streaming`]): the next piece of a message as it
    /// arrived. Text pieces may split a code point, but the message as a whole is validated: invalid
    /// UTF-8 fails the connection at the first bad byte.
    Fragment {
        /// Text or binary, from the message's first frame.
        kind: MessageKind,
        /// The bytes that arrived (may be empty, e.g. for an empty final frame).
        data: &'a [u8],
        /// First piece of its message.
        first: bool,
        /// Last piece of its message.
        last: bool,
    },
    /// A ping arrived. With `auto_pong` (the default) the pong is already queued.
    Ping(&'a [u8]),
    /// A pong arrived (solicited or not; no answer is needed).
    Pong(&'a [u8]),
    /// The connection closed: the closing handshake completed, or the connection failed (after an
    /// [`Event::Error`]). No events follow. Bytes still in the output (a close reply) should be written
    /// before the transport is closed.
    Closed(CloseInfo<'a>),
    /// The peer broke the protocol. The close frame with the error's code is queued; the next event is
    /// `Closed` and all further input is ignored (RFC 6455 7.1.7).
    Error(ProtocolError),
}

/// How a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseInfo<'a> {
    /// The peer's close code, 1005 when its close frame had none, 1006 when the transport dropped
    /// without a close frame, or the code wskit sent when it failed the connection.
    pub code: u16,
    /// The peer's close reason, or wskit's reason when it failed the connection.
    pub reason: &'a str,
    /// True when the closing handshake completed (both close frames exchanged).
    pub clean: bool,
    /// True when this end sent the first close frame (or failed the connection).
    pub initiated_locally: bool,
}

impl Event<'_> {
    /// Copies the event's payload out so it can outlive the next read.
    pub fn to_owned(&self) -> OwnedEvent {
        match *self {
            Event::Text(text) => OwnedEvent::Text(text.to_owned()),
            Event::Binary(data) => OwnedEvent::Binary(data.to_vec()),
            Event::Fragment {
                kind,
                data,
                first,
                last,
            } => OwnedEvent::Fragment {
                kind,
                data: data.to_vec(),
                first,
                last,
            },
            Event::Ping(data) => OwnedEvent::Ping(data.to_vec()),
            Event::Pong(data) => OwnedEvent::Pong(data.to_vec()),
            Event::Closed(info) => OwnedEvent::Closed {
                code: info.code,
                reason: info.reason.to_owned(),
                clean: info.clean,
                initiated_locally: info.initiated_locally,
            },
            Event::Error(err) => OwnedEvent::Error(err),
        }
    }
}

/// An [`Event`] with its payload copied out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // fields mirror `Event`
pub enum OwnedEvent {
    Text(String),
    Binary(Vec<u8>),
    Fragment {
        kind: MessageKind,
        data: Vec<u8>,
        first: bool,
        last: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Closed {
        code: u16,
        reason: String,
        clean: bool,
        initiated_locally: bool,
    },
    Error(ProtocolError),
}
