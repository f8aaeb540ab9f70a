//! HTTP/1.1 beside WebSocket, sans-I/O: a server reads plain HTTP requests on the same
//! connection type as upgrade requests.
//!
//! The contract is the same three verbs as the rest of `proto`: feed bytes
//! ([`HttpConnection::receive`]), pull requests ([`HttpConnection::next_event`]), answer and take
//! the bytes to send ([`HttpConnection::respond`] or `begin`/`write`/`end`, then
//! [`HttpConnection::output`]). A request that asks to upgrade is handed back
//! ([`HttpEvent::Upgrade`]) so the WebSocket handshake reads it exactly as it would on a fresh
//! connection.
//!
//! - Requests are answered one at a time, in order (pipelining is correct by construction).
//! - Bodies: `Content-Length` and `chunked`, bounded by [`HttpLimits::max_body_bytes`] (413);
//!   both framings at once, or differing lengths, are refused (400): request smuggling.
//! - `Expect: 100-continue` is answered when the body is about to be read.
//! - `HEAD` responses carry the length but no body; 204/304 carry neither.
//! - [`resource`]: the pure half of serving files (decoding paths, ranges, dates, validators).

mod chunked;
mod connection;
mod error;
mod request;
pub mod resource;
mod response;

pub use chunked::{ChunkedDecoder, LAST_CHUNK, encode_chunk};
pub use connection::{HttpConnection, HttpEvent};
pub use error::HttpError;
pub use request::{HttpLimits, HttpRequest};
pub use response::{RESERVED_HEADERS, RespondError};
