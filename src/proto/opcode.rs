//! Frame opcodes (RFC 6455 section 5.2, 11.8).

/// A frame opcode that RFC 6455 defines. Reserved values (3-7, 0xB-0xF) never become an `Opcode`:
/// [`Opcode::from_u8`] returns `None` for them and the frame is rejected with 1002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: first frame of a text message.
    Text = 0x1,
    /// 0x2: first frame of a binary message.
    Binary = 0x2,
    /// 0x8: close.
    Close = 0x8,
    /// 0x9: ping.
    Ping = 0x9,
    /// 0xA: pong.
    Pong = 0xA,
}

impl Opcode {
    /// The opcode for a 4-bit value, or `None` when the value is reserved.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0x0 => Some(Self::Continuation),
            0x1 => Some(Self::Text),
            0x2 => Some(Self::Binary),
            0x8 => Some(Self::Close),
            0x9 => Some(Self::Ping),
            0xA => Some(Self::Pong),
            _ => None,
        }
    }

    /// Control frames (close, ping, pong) have the high opcode bit set; they may not be fragmented
    /// and carry at most 125 bytes.
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// The kind of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text; wskit guarantees the payload is valid UTF-8.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    /// The opcode of the first frame of a message of this kind.
    pub fn opcode(self) -> Opcode {
        match self {
            Self::Text => Opcode::Text,
            Self::Binary => Opcode::Binary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_opcodes_are_rejected_and_defined_ones_round_trip() {
        for value in 0u8..16 {
            match Opcode::from_u8(value) {
                Some(op) => assert_eq!(op as u8, value),
                None => assert!(matches!(value, 3..=7 | 0xB..=0xF), "{value} should be defined"),
            }
        }
        assert!(Opcode::Ping.is_control() && Opcode::Close.is_control() && Opcode::Pong.is_control());
        assert!(!Opcode::Text.is_control() && !Opcode::Continuation.is_control());
    }
}
