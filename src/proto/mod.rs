//! Sans-I/O RFC 6455.
pub mod handshake;
