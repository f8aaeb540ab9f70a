//! Incremental UTF-8 validation that fails at the first byte that cannot be part of valid UTF-8.
//!
//! Text arrives in pieces (frames, reads), and a code point may be split between pieces. The
//! validator keeps at most three bytes of an unfinished code point between calls. Everything else is
//! checked with `simdutf8` (SIMD, several GB/s). A piece ending in bytes that can never complete (an
//! overlong lead, a surrogate, a code point above U+10FFFF) is rejected at once, not at message end:
//! Autobahn 6.4.* checks exactly this, and it stops a peer from streaming megabytes of doomed text.

use std::fmt;

/// The text is not valid UTF-8 (close code 1007).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8 in text")
    }
}

impl std::error::Error for Utf8Error {}

/// Validates a byte stream piece by piece. Five bytes; no allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    pending: [u8; 4],
    pending_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub const fn new() -> Self {
        Self {
            pending: [0; 4],
            pending_len: 0,
        }
    }

    /// Checks the next piece. Fails as soon as `input` holds a byte that cannot continue valid UTF-8.
    #[inline]
    pub fn feed(&mut self, input: &[u8]) -> Result<(), Utf8Error> {
        // Most text is ASCII, and ASCII can neither continue nor leave a code point unfinished.
        if self.pending_len == 0 && input.is_ascii() {
            return Ok(());
        }
        self.feed_mixed(input)
    }

    fn feed_mixed(&mut self, mut input: &[u8]) -> Result<(), Utf8Error> {
        if self.pending_len > 0 {
            let have = usize::from(self.pending_len);
            let need = sequence_len(self.pending[0]) - have;
            let take = need.min(input.len());
            self.pending[have..have + take].copy_from_slice(&input[..take]);
            self.pending_len += take as u8;
            input = &input[take..];
            match std::str::from_utf8(&self.pending[..usize::from(self.pending_len)]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_none() => return Ok(()), // still unfinished; input used up
                Err(_) => return Err(Utf8Error),
            }
        }
        let split = unfinished_tail_start(input);
        // Not `validate`: `feed` already found a byte above 0x7F, so its ASCII scan would be wasted.
        if simdutf8::basic::from_utf8(&input[..split]).is_err() {
            return Err(Utf8Error);
        }
        let tail = &input[split..];
        match std::str::from_utf8(tail) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => {
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(Utf8Error),
        }
    }

    /// Ends the text: fails if it stopped inside a code point. Resets the validator for the next text.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let unfinished = self.pending_len != 0;
        *self = Self::new();
        if unfinished { Err(Utf8Error) } else { Ok(()) }
    }

    /// True when no partial code point is pending.
    pub fn is_complete(&self) -> bool {
        self.pending_len == 0
    }
}

/// Validates a whole text at once.
#[inline(always)]
pub fn validate(input: &[u8]) -> Result<&str, Utf8Error> {
    // simdutf8 pays a fixed cost per call (and hands inputs under 64 bytes to the standard
    // library's byte loop); a word-wide ASCII scan settles short and ASCII texts in a few
    // instructions.
    if input.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(input) });
    }
    simdutf8::basic::from_utf8(input).map_err(|_| Utf8Error)
}

/// Length of the sequence a lead byte starts (1 for ASCII and for bytes that are not leads).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Where a code point that `input` does not finish starts (`input.len()` if none): the split keeps
/// the SIMD check on whole code points only.
fn unfinished_tail_start(input: &[u8]) -> usize {
    let len = input.len();
    for back in 1..=len.min(3) {
        let byte = input[len - back];
        if byte & 0xC0 == 0x80 {
            continue; // continuation byte: keep looking for its lead
        }
        return if sequence_len(byte) > back {
            len - back
        } else {
            len
        };
    }
    len
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn feed_in_pieces(bytes: &[u8], piece: usize) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        for chunk in bytes.chunks(piece.max(1)) {
            v.feed(chunk)?;
        }
        v.finish()
    }

    #[test]
    fn accepts_valid_text_split_anywhere() {
        let text = "κόσμε Hello-µ@ßöäüàá-UTF-8!! 𝄞 \u{10FFFF} \u{FEFF}".as_bytes();
        for piece in 1..text.len() + 1 {
            assert_eq!(feed_in_pieces(text, piece), Ok(()), "piece {piece}");
        }
        for cut in 0..text.len() {
            let mut v = Utf8Validator::new();
            v.feed(&text[..cut]).unwrap();
            v.feed(&text[cut..]).unwrap();
            v.finish().unwrap();
        }
    }

    #[test]
    fn fails_at_the_first_impossible_byte_not_at_the_end() {
        // Autobahn 6.4.1: "κόσμε" then F4 90 80 80 (> U+10FFFF). Fails on the F4 90, before the rest.
        let mut v = Utf8Validator::new();
        v.feed("κόσμε".as_bytes()).unwrap();
        assert_eq!(v.feed(&[0xF4]), Ok(()), "F4 alone can still be valid");
        assert_eq!(v.feed(&[0x90]), Err(Utf8Error));
        // A surrogate lead pair fails on its second byte.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xED]), Ok(()));
        assert_eq!(v.feed(&[0xA0]), Err(Utf8Error));
        // Overlong encodings and never-valid bytes fail immediately.
        for bad in [
            &[0xC0][..],
            &[0xC1],
            &[0xF5],
            &[0xFF],
            &[0xE0, 0x80],
            &[0xF0, 0x80],
        ] {
            assert_eq!(Utf8Validator::new().feed(bad), Err(Utf8Error), "{bad:02x?}");
        }
        // Invalid bytes inside a chunk, and at its end.
        assert_eq!(Utf8Validator::new().feed(b"abc\x80def"), Err(Utf8Error));
        assert_eq!(Utf8Validator::new().feed(b"abcdef\xF4\x90"), Err(Utf8Error));
    }

    #[test]
    fn unfinished_code_point_fails_at_finish() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xE2, 0x82]).unwrap();
        assert!(!v.is_complete());
        assert_eq!(v.finish(), Err(Utf8Error));
        assert!(v.is_complete(), "finish resets");
    }

    proptest! {
        #[test]
        fn agrees_with_std_for_any_bytes_and_any_split(bytes: Vec<u8>, piece in 1usize..9) {
            let expected = std::str::from_utf8(&bytes).is_ok();
            prop_assert_eq!(feed_in_pieces(&bytes, piece).is_ok(), expected);
        }

        #[test]
        fn fails_no_later_than_the_first_invalid_byte(s: String, junk in prop::sample::select(vec![0x80u8, 0xC0, 0xF5, 0xFF])) {
            let mut bytes = s.into_bytes();
            bytes.push(junk);
            let mut v = Utf8Validator::new();
            let mut failed_at = None;
            for (i, b) in bytes.iter().enumerate() {
                if v.feed(std::slice::from_ref(b)).is_err() { failed_at = Some(i); break; }
            }
            prop_assert_eq!(failed_at, Some(bytes.len() - 1));
        }
    }
}
