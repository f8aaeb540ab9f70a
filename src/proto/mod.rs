//! Sans-I/O RFC 6455: the whole protocol as pure functions and state machines.
//!
//! No sockets, no clocks, no threads. The contract:
//! 1. feed received bytes: [`Connection::receive`];
//! 2. pull events: [`Incoming::next_event`] ([`Event`]);
//! 3. take the bytes to send: [`Connection::output`] / [`Connection::consume_output`].
//!
//! The opening handshake lives in [`handshake`]; once it completes, a [`Connection`] takes over the
//! byte stream (including any frame bytes that arrived with the handshake).
//! Randomness (client masking keys) comes from [`Config::mask_source`], so tests can fix it.

pub mod close;
pub mod config;
pub mod connection;
pub mod deflate;
pub mod endpoint;
pub mod error;
pub mod event;
pub(crate) mod feed;
pub mod frame;
pub mod handshake;
pub mod http;
pub mod mask;
pub mod opcode;
pub mod prepared;
pub mod sender;
#[cfg(test)]
pub(crate) mod testing;
pub mod utf8;

pub use config::{Config, Role};
pub use connection::{Connection, Incoming, RawEvent, ReadStep, State};
pub use deflate::{DeflateConfig, DeflateParams, DeflatePool};
pub use endpoint::{Endpoint, EndpointEvent, EndpointIncoming, EndpointStep, RawEndpointEvent};
pub use error::{ProtocolError, SendError};
pub use event::{CloseInfo, Event, OwnedEvent};
pub use opcode::{MessageKind, Opcode};
pub use prepared::PreparedMessage;
pub use sender::{FrameRecord, OutputBuffer, Sender};

/// What the fuzz targets (a separate crate, `fuzz/`) need beyond the public API: the event loop's
/// way of reading ([`feed::Feed`]), so they check the code `net` runs. Not part of the API: it may change
/// in any release.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::feed::{EndpointFed, Fed, Feed};
}
