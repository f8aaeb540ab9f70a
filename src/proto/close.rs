//! Close status codes (RFC 6455 section 7.4) and close frame payloads.

use super::error::ProtocolError;
use super::utf8;

/// 1000: normal closure.
pub const NORMAL: u16 = 1000;
/// 1001: endpoint going away (server shutdown, page navigation).
pub const GOING_AWAY: u16 = 1001;
/// 1002: protocol error.
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1003: received a data type it cannot accept.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// 1005: reported locally when a close frame had no status code. Never sent.
pub const NO_STATUS_RECEIVED: u16 = 1005;
/// 1006: reported locally when the connection dropped without a close frame. Never sent.
pub const ABNORMAL_CLOSURE: u16 = 1006;
/// 1007: message data inconsistent with its type (invalid UTF-8 text).
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1008: policy violation.
pub const POLICY_VIOLATION: u16 = 1008;
/// 1009: message too big to process.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// 1010: client expected an extension the server did not negotiate.
pub const MANDATORY_EXTENSION: u16 = 1010;
/// 1011: server hit an unexpected condition.
pub const INTERNAL_ERROR: u16 = 1011;
/// 1015: reported locally when the TLS handshake failed. Never sent.
pub const TLS_HANDSHAKE: u16 = 1015;

/// Largest close reason in bytes (125 bytes of control payload minus the 2-byte code).
pub const MAX_REASON_LEN: usize = 123;

/// Whether `code` may appear in a close frame: 1000-1003, 1007-1014 and 3000-4999.
pub fn is_valid_on_wire(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// A parsed close frame payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosePayload<'a> {
    /// The status code, `None` for an empty payload.
    pub code: Option<u16>,
    /// The UTF-8 reason (empty if none).
    pub reason: &'a str,
}

/// Parses and validates a received close payload: empty, or a valid code and a UTF-8 reason.
pub fn parse_payload(payload: &[u8]) -> Result<ClosePayload<'_>, ProtocolError> {
    match payload {
        [] => Ok(ClosePayload {
            code: None,
            reason: "",
        }),
        [_] => Err(ProtocolError::CloseFrameTooShort),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_on_wire(code) {
                return Err(ProtocolError::InvalidCloseCode(code));
            }
            let reason = utf8::validate(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(ClosePayload {
                code: Some(code),
                reason,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_matches_rfc_and_iana_ranges() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000 | 1001 | 1002 | 1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(is_valid_on_wire(code), expected, "{code}");
        }
        for never in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(!is_valid_on_wire(never), "{never}");
        }
    }

    #[test]
    fn payload_rules() {
        assert_eq!(
            parse_payload(&[]),
            Ok(ClosePayload {
                code: None,
                reason: ""
            })
        );
        assert_eq!(parse_payload(&[0x03]), Err(ProtocolError::CloseFrameTooShort));
        assert_eq!(
            parse_payload(&[0x03, 0xE8]),
            Ok(ClosePayload {
                code: Some(1000),
                reason: ""
            })
        );
        assert_eq!(
            parse_payload(b"\x0f\xa0bye"),
            Ok(ClosePayload {
                code: Some(4000),
                reason: "bye"
            })
        );
        assert_eq!(
            parse_payload(&[0x03, 0xED]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            parse_payload(b"\x03\xe8\xce\xba\xe1"),
            Err(ProtocolError::InvalidUtf8)
        );
        assert_eq!(ProtocolError::InvalidUtf8.close_code(), INVALID_PAYLOAD);
    }
}
