//! Per-connection protocol settings with safe defaults.

use super::mask;

/// Which end of the connection this is. A client masks what it sends and expects unmasked frames;
/// a server the reverse (RFC 6455 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end that sent the opening handshake.
    Client,
    /// The end that accepted it.
    Server,
}

/// Protocol limits and behaviour for one connection. `Config::default()` is safe to face the
/// internet: a peer can make a connection hold at most `max_message_size` bytes of message data.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Largest frame payload accepted; a larger frame fails the connection with 1009 as soon as its
    /// header arrives. Default 16 MiB.
    pub max_frame_size: u64,
    /// Largest message (sum of its frames) accepted; exceeding it fails the connection with 1009
    /// before any of the excess is buffered. Default 16 MiB (tungstenite's frame limit; Python
    /// websockets defaults to 1 MiB, browsers have no limit).
    pub max_message_size: u64,
    /// Most frames one data message may span (its first frame and continuations); a message that
    /// goes on fails the connection with 1009 when the frame past the cap starts. Each frame costs
    /// a header's work and, when streaming, an event: this bounds the cost of a message sent as
    /// millions of 1-byte fragments. 0 and 1 both refuse fragmented messages. Default 131,072
    /// (twice the 65,536 frames of Autobahn's 9.3.1/9.4.1, 4 MiB in 64-byte fragments).
    pub max_fragments: u32,
    /// Deliver data as [`crate::proto::Event::Fragment`] pieces as they arrive instead of whole
    /// messages; nothing is buffered for reassembly. Default off.
    pub streaming: bool,
    /// Answer every ping with a pong carrying its payload. Default on; turn off only to answer
    /// pings yourself.
    pub auto_pong: bool,
    /// RSV bits that negotiated extensions define (RSV1 = 0b100). Frames with any other RSV bit set
    /// fail with 1002. Default 0 (no extensions).
    pub allowed_rsv: u8,
    /// Source of masking keys for frames a client sends. RFC 6455 10.3 wants them unpredictable;
    /// the default draws them from the operating system's CSPRNG. Tests inject fixed keys.
    pub mask_source: fn() -> [u8; 4],
}

/// 16 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 16 << 20;
/// 16 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: u64 = 16 << 20;
/// 131,072 frames per message.
pub const DEFAULT_MAX_FRAGMENTS: u32 = 1 << 17;

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_fragments: DEFAULT_MAX_FRAGMENTS,
            streaming: false,
            auto_pong: true,
            allowed_rsv: 0,
            mask_source: mask::random_mask,
        }
    }
}
