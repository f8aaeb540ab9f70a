//! Why an HTTP/1.1 request could not be read, each with the status to answer it with.

use std::fmt;

/// A request this end cannot serve; the connection answers with [`HttpError::status`] and closes
/// (the request stream can no longer be framed reliably).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Not valid HTTP/1.x (request line, header syntax, target, `Content-Length`). 400.
    Malformed(String),
    /// Both `Content-Length` and `Transfer-Encoding`, or differing `Content-Length`s: a request
    /// smuggling attempt or a broken proxy. 400.
    AmbiguousLength,
    /// A `Transfer-Encoding` other than `chunked` alone. 501.
    UnsupportedEncoding(String),
    /// The request line plus headers exceed `max_header_bytes`, or there are more than
    /// `max_headers` headers. 431.
    HeadersTooLarge,
    /// The body is larger than `max_body_bytes`. 413.
    BodyTooLarge,
    /// An `Expect` other than `100-continue`. 417.
    UnsupportedExpectation(String),
    /// The chunked body is malformed. 400.
    BadChunk(String),
}

impl HttpError {
    /// The status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::Malformed(_) | HttpError::AmbiguousLength | HttpError::BadChunk(_) => 400,
            HttpError::UnsupportedEncoding(_) => 501,
            HttpError::HeadersTooLarge => 431,
            HttpError::BodyTooLarge => 413,
            HttpError::UnsupportedExpectation(_) => 417,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Malformed(why) => write!(f, "malformed HTTP request: {why}"),
            HttpError::AmbiguousLength => f.write_str("ambiguous request body length"),
            HttpError::UnsupportedEncoding(te) => write!(f, "unsupported Transfer-Encoding '{te}'"),
            HttpError::HeadersTooLarge => f.write_str("request header block too large"),
            HttpError::BodyTooLarge => f.write_str("request body too large"),
            HttpError::UnsupportedExpectation(e) => write!(f, "unsupported Expect '{e}'"),
            HttpError::BadChunk(why) => write!(f, "malformed chunked body: {why}"),
        }
    }
}

impl std::error::Error for HttpError {}
