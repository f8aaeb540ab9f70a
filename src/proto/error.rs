//! Errors: what the peer did wrong ([`ProtocolError`], each with the close code to send back) and
//! what the local caller asked for that cannot be done ([`SendError`]).

use std::fmt;

use super::close;

/// The peer broke RFC 6455. Every variant names the rule and carries the close code
/// ([`ProtocolError::close_code`]) that the connection sends when it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Opcode 3-7 or 0xB-0xF.
    ReservedOpcode(u8),
    /// RSV1-3 bits set that no negotiated extension defines (the bits, RSV1 = 0b100).
    ReservedBits(u8),
    /// Control frame with more than 125 bytes of payload.
    ControlFrameTooLong,
    /// Control frame with FIN clear.
    FragmentedControlFrame,
    /// 64-bit payload length with the most significant bit set.
    LengthTopBitSet,
    /// A client sent an unmasked frame to a server.
    UnmaskedFrame,
    /// A server sent a masked frame to a client.
    MaskedFrame,
    /// Continuation frame with no fragmented message open.
    UnexpectedContinuation,
    /// New text/binary frame while a fragmented message is still open.
    ExpectedContinuation,
    /// Text message or close reason that is not valid UTF-8 (1007).
    InvalidUtf8,
    /// A compressed message (permessage-deflate) that is not valid deflate data (1007).
    InvalidCompressedData,
    /// Close frame with a one-byte payload.
    CloseFrameTooShort,
    /// Close frame with a status code that may not appear on the wire.
    InvalidCloseCode(u16),
    /// Frame longer than the configured `max_frame_size` (1009).
    FrameTooLarge {
        /// The frame's declared payload length.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Message longer than the configured `max_message_size` (1009).
    MessageTooLarge {
        /// The message size the frame would bring it to.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Message in more frames than the configured `max_fragments` (1009).
    TooManyFragments {
        /// The configured limit.
        limit: u32,
    },
}

impl ProtocolError {
    /// The close code to send when failing the connection for this error.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::InvalidUtf8 | Self::InvalidCompressedData => close::INVALID_PAYLOAD,
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } | Self::TooManyFragments { .. } => {
                close::MESSAGE_TOO_BIG
            }
            _ => close::PROTOCOL_ERROR,
        }
    }

    /// A short reason for the close frame (fits the 123-byte limit, ASCII).
    pub fn close_reason(&self) -> &'static str {
        match self {
            Self::ReservedOpcode(_) => "reserved opcode",
            Self::ReservedBits(_) => "reserved bits set",
            Self::ControlFrameTooLong => "control frame too long",
            Self::FragmentedControlFrame => "fragmented control frame",
            Self::LengthTopBitSet => "invalid payload length",
            Self::UnmaskedFrame => "unmasked client frame",
            Self::MaskedFrame => "masked server frame",
            Self::UnexpectedContinuation => "unexpected continuation frame",
            Self::ExpectedContinuation => "expected continuation frame",
            Self::InvalidUtf8 => "invalid UTF-8",
            Self::InvalidCompressedData => "invalid compressed data",
            Self::CloseFrameTooShort => "close payload of 1 byte",
            Self::InvalidCloseCode(_) => "invalid close code",
            Self::FrameTooLarge { .. } => "frame too large",
            Self::MessageTooLarge { .. } => "message too large",
            Self::TooManyFragments { .. } => "too many fragments",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "peer used reserved opcode {op:#x}"),
            Self::ReservedBits(bits) => {
                write!(f, "peer set RSV bits {bits:#05b} without a negotiated extension")
            }
            Self::InvalidCloseCode(code) => {
                write!(f, "peer sent close code {code}, which is not allowed on the wire")
            }
            Self::FrameTooLarge { size, limit } => {
                write!(f, "peer sent a {size}-byte frame; max_frame_size is {limit}")
            }
            Self::MessageTooLarge { size, limit } => {
                write!(
                    f,
                    "peer's message reached {size} bytes; max_message_size is {limit}"
                )
            }
            Self::TooManyFragments { limit } => {
                write!(
                    f,
                    "peer's message passed {limit} frames; max_fragments is {limit}"
                )
            }
            other => write!(f, "peer sent {}", other.close_reason()),
        }?;
        write!(f, " (close code {})", self.close_code())
    }
}

impl std::error::Error for ProtocolError {}

/// A send or close the connection cannot perform. Nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent: no data frames may follow (RFC 6455 5.5.1).
    Closed,
    /// A fragmented message is open: finish it before sending another message.
    MessageInProgress,
    /// `continue_message`/`finish_message` without `begin_message`.
    NoMessageInProgress,
    /// Ping, pong or close payload over 125 bytes (close reason over 123).
    ControlPayloadTooLong,
    /// Close code that an endpoint may not send (only 1000-1003, 1007-1014 and 3000-4999).
    InvalidCloseCode(u16),
    /// Text that is not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("the connection is closing: no data may be sent after a close frame"),
            Self::MessageInProgress => f.write_str("a fragmented message is in progress; finish it first"),
            Self::NoMessageInProgress => f.write_str("no fragmented message is in progress; begin one first"),
            Self::ControlPayloadTooLong => {
                f.write_str("control frame payload too long (125 bytes max; close reason 123 bytes max)")
            }
            Self::InvalidCloseCode(code) => write!(
                f,
                "close code {code} may not be sent (use 1000-1003, 1007-1014 or 3000-4999)"
            ),
            Self::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
        }
    }
}

impl std::error::Error for SendError {}
