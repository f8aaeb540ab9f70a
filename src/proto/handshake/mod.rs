//! Opening handshake (RFC 6455 section 4): client request/response, server request parsing, URLs.
//!
//! Everything here is sans-I/O: functions take the bytes received so far and return either
//! `Ok(None)` ("need more bytes, nothing consumed") or a parsed value plus the number of bytes it
//! used. Bytes after that belong to the WebSocket framing layer.

pub mod client;
mod error;
pub mod server;
pub mod url;

pub use client::{ClientHandshake, ClientOptions, Response};
pub use error::{HandshakeError, UrlError, reason_phrase};
pub use server::{AcceptOptions, Request, RequestLimits, parse_request, write_reject};
pub use url::WsUrl;

use base64::Engine as _;
use sha1::Digest as _;

/// The GUID RFC 6455 appends to the key before hashing.
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key ++ GUID)), RFC 6455 4.2.2.
///
/// `key` is the header value as sent (the base64 text, not the decoded bytes).
pub fn accept_key(key: &[u8]) -> String {
    let mut h = sha1::Sha1::new();
    h.update(key);
    h.update(WS_GUID);
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Whether a comma-separated header value (`Connection: keep-alive, Upgrade`) contains `token`.
/// Elements are trimmed of spaces and tabs and compared case-insensitively.
pub(crate) fn header_has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim_matches([' ', '\t']).eq_ignore_ascii_case(token))
}

/// Split an RFC 7230 `#list` header value into trimmed, non-empty elements. Commas inside
/// quoted strings (extension parameters) do not split.
pub(crate) fn split_list(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == ',' {
            push_trimmed(&mut out, value.get(start..i).unwrap_or(""));
            start = i + 1;
        }
    }
    push_trimmed(&mut out, value.get(start..).unwrap_or(""));
    out
}

fn push_trimmed<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    let s = s.trim_matches([' ', '\t']);
    if !s.is_empty() {
        out.push(s);
    }
}

/// The name of one extension element (`permessage-deflate; x=1` -> `permessage-deflate`).
pub(crate) fn extension_name(element: &str) -> &str {
    element.split(';').next().unwrap_or("").trim_matches([' ', '\t'])
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a non-empty RFC 7230 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Whether `s` can be sent as a header value: no control characters other than HTAB (so no CR,
/// LF or NUL), and no leading or trailing whitespace.
pub(crate) fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f)) && s.trim_matches([' ', '\t']).len() == s.len()
}

/// Validate one application-supplied header; `reserved` lists names the handshake writes itself.
pub(crate) fn check_header(name: &str, value: &str, reserved: &[&str]) -> Result<(), HandshakeError> {
    if !is_token(name) {
        return Err(HandshakeError::InvalidHeader(format!(
            "'{}' is not a valid header name",
            name.escape_debug()
        )));
    }
    if !is_header_value(value) {
        return Err(HandshakeError::InvalidHeader(format!(
            "value of '{name}' contains control characters (CR, LF, ...) or surrounding whitespace"
        )));
    }
    if let Some(r) = reserved.iter().find(|r| r.eq_ignore_ascii_case(name)) {
        return Err(HandshakeError::InvalidHeader(format!(
            "'{r}' is set by the handshake itself"
        )));
    }
    Ok(())
}

/// Convert httparse headers to owned pairs. Values that are not UTF-8 (obs-text) are converted
/// lossily; httparse already trimmed surrounding whitespace.
pub(crate) fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            let v = String::from_utf8_lossy(h.value);
            (h.name.to_string(), v.trim_matches([' ', '\t']).to_string())
        })
        .collect()
}

/// Case-insensitive header lookup (first occurrence).
pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// All values of a header, in order.
pub(crate) fn all_headers<'a, 'n>(
    headers: &'a [(String, String)],
    name: &'n str,
) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value of a header that may appear at most once.
pub(crate) fn single_header<'a>(
    headers: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, HandshakeError> {
    let mut it = all_headers(headers, name);
    let first = it.next();
    if it.next().is_some() {
        return Err(HandshakeError::DuplicateHeader(name.to_string()));
    }
    Ok(first)
}

/// Header slots to try first; grown on demand so small requests stay cheap.
pub(crate) const INITIAL_HEADER_SLOTS: usize = 32;

/// An upper bound on the headers a block of `len` bytes can hold (each needs at least `a:` and
/// a line ending), so the slot count never has to exceed it.
pub(crate) fn header_slot_bound(len: usize) -> usize {
    len / 3 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_rfc_examples() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            accept_key(b"x3JJHMbDL1EzLkh9GBhXDw=="),
            "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
        );
    }

    #[test]
    fn token_lists() {
        assert!(header_has_token("Upgrade", "upgrade"));
        assert!(header_has_token("keep-alive, Upgrade", "upgrade"));
        assert!(header_has_token("keep-alive,\tUPGRADE ", "upgrade"));
        assert!(!header_has_token("keep-alive", "upgrade"));
        assert!(!header_has_token("upgrades", "upgrade"));
        assert!(!header_has_token("", "upgrade"));
    }

    #[test]
    fn split_lists() {
        assert_eq!(split_list("a, b,,c ,"), vec!["a", "b", "c"]);
        assert_eq!(split_list(""), Vec::<&str>::new());
        assert_eq!(split_list(r#"x; p="1,2", y"#), vec![r#"x; p="1,2""#, "y"]);
        assert_eq!(split_list(r#"x; p="a\",b", y"#), vec![r#"x; p="a\",b""#, "y"]);
        assert_eq!(
            extension_name("permessage-deflate; client_max_window_bits"),
            "permessage-deflate"
        );
    }

    #[test]
    fn tokens_and_values() {
        assert!(is_token("chat.v1"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("a,b"));
        assert!(!is_token("ü"));
        assert!(is_header_value("Bearer abc"));
        assert!(is_header_value(""));
        assert!(!is_header_value("a\r\nX-Evil: 1"));
        assert!(!is_header_value("a\0"));
        assert!(!is_header_value(" a"));
        assert!(check_header("Authorization", "x", &["Host"]).is_ok());
        assert!(check_header("host", "x", &["Host"]).is_err());
        assert!(check_header("Bad Name", "x", &[]).is_err());
        assert!(check_header("X", "a\nb", &[]).is_err());
    }
}
