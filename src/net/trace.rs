//! The trace hook: handshakes and frame headers as they cross the wire, like the frame view of a
//! browser's developer tools. Off by default; when off it costs one `Option` check per read.

use super::id::ConnId;
use crate::proto::Opcode;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the peer.
    Received,
    /// To the peer.
    Sent,
}

/// One traced item.
#[derive(Debug, Clone, Copy)]
pub enum TraceEvent<'a> {
    /// Bytes of the HTTP upgrade request or response (received bytes may include the start of the
    /// first frames).
    Handshake {
        /// Which way.
        direction: Direction,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// A frame header.
    Frame {
        /// Which way.
        direction: Direction,
        /// The opcode.
        opcode: Opcode,
        /// FIN bit.
        fin: bool,
        /// RSV1-3 (RSV1 = 0b100).
        rsv: u8,
        /// Payload length.
        len: u64,
    },
}

/// Receives [`TraceEvent`]s; install with [`crate::net::Context::set_tracer`].
pub trait Tracer: Send {
    /// Called for every traced item of connection `conn`.
    fn trace(&mut self, conn: ConnId, event: &TraceEvent<'_>);
}

impl<F: FnMut(ConnId, &TraceEvent<'_>) + Send> Tracer for F {
    fn trace(&mut self, conn: ConnId, event: &TraceEvent<'_>) {
        self(conn, event)
    }
}
