//! Writing a response head: status line, the application's headers, and the framing headers
//! this layer owns (`Content-Length`, `Transfer-Encoding`, `Connection`).

use std::fmt;

use crate::proto::handshake::{check_header, reason_phrase};

/// Headers the framing writes itself; an application header with one of these names is refused.
pub const RESERVED_HEADERS: &[&str] = &["Content-Length", "Transfer-Encoding", "Connection"];

/// An answer the application gave that cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespondError {
    /// No request waits for a response (not arrived yet, or already answered).
    NoRequest,
    /// A response was begun already (`write`/`end` follow, not another `begin`).
    AlreadyBegun,
    /// `write`/`end` without `begin`.
    NotBegun,
    /// The status is outside 200..=599 (1xx and 101 are not the application's to send).
    InvalidStatus(u16),
    /// A header name or value is invalid, or a framing header (see [`RESERVED_HEADERS`]).
    InvalidHeader(String),
    /// More body than the announced `Content-Length`, or a body for 204/304.
    BodyTooLong,
    /// `end` before the announced `Content-Length` was written (the connection closes after).
    BodyTooShort(u64),
}

impl fmt::Display for RespondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RespondError::NoRequest => f.write_str("no HTTP request waits for a response"),
            RespondError::AlreadyBegun => f.write_str("the response was already begun"),
            RespondError::NotBegun => f.write_str("no response was begun"),
            RespondError::InvalidStatus(s) => write!(f, "status {s} cannot be sent (200-599 only)"),
            RespondError::InvalidHeader(why) => write!(f, "invalid header: {why}"),
            RespondError::BodyTooLong => f.write_str("body longer than announced"),
            RespondError::BodyTooShort(left) => write!(f, "body {left} bytes shorter than announced"),
        }
    }
}

impl std::error::Error for RespondError {}

/// Statuses whose responses never have a body (RFC 9110 6.4.1).
pub(crate) fn status_has_no_body(status: u16) -> bool {
    status == 204 || status == 304
}

/// Checks an application's status and headers.
pub(crate) fn check_response(status: u16, headers: &[(String, String)]) -> Result<(), RespondError> {
    if !(200..=599).contains(&status) {
        return Err(RespondError::InvalidStatus(status));
    }
    for (name, value) in headers {
        check_header(name, value, RESERVED_HEADERS)
            .map_err(|e| RespondError::InvalidHeader(e.to_string()))?;
    }
    Ok(())
}

/// How the body of a response is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the connection closes (HTTP/1.0 peers, unknown length).
    UntilClose,
    /// No body and no length (204, 304).
    None,
}

/// Appends a checked response head.
pub(crate) fn write_head(
    out: &mut Vec<u8>,
    status: u16,
    headers: &[(String, String)],
    framing: Framing,
    connection: Option<&str>,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason_phrase(status).unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        push(out, name, value);
    }
    match framing {
        Framing::Length(n) => push(out, "Content-Length", &n.to_string()),
        Framing::Chunked => push(out, "Transfer-Encoding", "chunked"),
        Framing::UntilClose | Framing::None => {}
    }
    if let Some(connection) = connection {
        push(out, "Connection", connection);
    }
    out.extend_from_slice(b"\r\n");
}

fn push(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A complete plain-text error response that closes the connection.
pub(crate) fn write_error(out: &mut Vec<u8>, status: u16, message: &str) {
    let body = format!("{message}\n");
    let headers = [(
        "Content-Type".to_string(),
        "text/plain; charset=utf-8".to_string(),
    )];
    write_head(
        out,
        status,
        &headers,
        Framing::Length(body.len() as u64),
        Some("close"),
    );
    out.extend_from_slice(body.as_bytes());
}
