//! wskit: a WebSocket library (RFC 6455) built for C, Python and game-engine hosts.
//!
//! # Layers
//! Dependencies point down only; `tests/layering.rs` checks it.
//! - [`proto`]: the sans-I/O protocol. Bytes in, events out, bytes to send out. No sockets, no clocks,
//!   no threads; randomness (masks, keys) is injectable.
//! - [`net`]: a mio event loop that moves bytes between sockets and `proto`.
//! - [`ffi`]: the C ABI (`extern "C"` translation only), generated into `include/wskit.h` by
//!   `build.rs` with cbindgen.
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod ffi;
pub mod net;
pub mod proto;

/// The README's Rust examples, compiled and run as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
