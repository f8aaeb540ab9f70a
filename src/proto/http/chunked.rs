//! `Transfer-Encoding: chunked` (RFC 9112 7.1): an incremental decoder for request bodies and the
//! encoder for response bodies.

use super::HttpError;

/// Longest chunk-size line accepted (size, extensions, CRLF): extensions are ignored, but not
/// buffered without bound.
const MAX_SIZE_LINE: usize = 1024;

/// Decodes a chunked body piece by piece; input may be split anywhere.
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
    /// Bytes of the current size or trailer line seen so far (only its length matters).
    line_len: usize,
    size: u64,
    size_digits: u32,
    in_extension: bool,
    /// Trailer bytes so far (bounded by the header limit).
    trailer_bytes: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    SizeLf,
    Data(u64),
    DataCr,
    DataLf,
    Trailer,
    TrailerLf,
    Done,
}

impl ChunkedDecoder {
    /// Decodes from `input`, appending data to `body`. Returns the bytes used and whether the
    /// body is complete (then the bytes after it belong to the next request). `max_trailer` bounds
    /// the trailer section (trailers are read and dropped).
    pub fn decode(
        &mut self,
        input: &[u8],
        body: &mut Vec<u8>,
        max_trailer: usize,
    ) -> Result<(usize, bool), HttpError> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                ChunkState::Done => break,
                ChunkState::Size => {
                    self.line_len += 1;
                    if self.line_len > MAX_SIZE_LINE {
                        return Err(HttpError::BadChunk("chunk size line too long".into()));
                    }
                    if b == b'\r' {
                        self.state = ChunkState::SizeLf;
                    } else if self.in_extension {
                        // Extensions are ignored.
                    } else if b == b';' || b == b' ' || b == b'\t' {
                        self.in_extension = true;
                    } else {
                        let digit = (b as char)
                            .to_digit(16)
                            .ok_or_else(|| HttpError::BadChunk(format!("bad chunk size byte 0x{b:02x}")))?;
                        self.size_digits += 1;
                        if self.size_digits > 15 {
                            return Err(HttpError::BadChunk("chunk size too large".into()));
                        }
                        self.size = self.size * 16 + u64::from(digit);
                    }
                }
                ChunkState::SizeLf => {
                    if b != b'\n' {
                        return Err(HttpError::BadChunk("chunk size line not ended by CRLF".into()));
                    }
                    if self.size_digits == 0 {
                        return Err(HttpError::BadChunk("missing chunk size".into()));
                    }
                    self.state = if self.size == 0 {
                        ChunkState::Trailer
                    } else {
                        ChunkState::Data(self.size)
                    };
                    self.line_len = 0;
                    self.size = 0;
                    self.size_digits = 0;
                    self.in_extension = false;
                }
                ChunkState::Data(left) => {
                    let n = (input.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                    body.extend_from_slice(&input[i..i + n]);
                    i += n;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        ChunkState::DataCr
                    } else {
                        ChunkState::Data(left)
                    };
                    continue;
                }
                ChunkState::DataCr => {
                    if b != b'\r' {
                        return Err(HttpError::BadChunk("chunk data not followed by CRLF".into()));
                    }
                    self.state = ChunkState::DataLf;
                }
                ChunkState::DataLf => {
                    if b != b'\n' {
                        return Err(HttpError::BadChunk("chunk data not followed by CRLF".into()));
                    }
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailer => {
                    self.trailer_bytes += 1;
                    if self.trailer_bytes > max_trailer {
                        return Err(HttpError::HeadersTooLarge);
                    }
                    if b == b'\r' {
                        self.state = ChunkState::TrailerLf;
                    } else {
                        self.line_len += 1;
                    }
                }
                ChunkState::TrailerLf => {
                    if b != b'\n' {
                        return Err(HttpError::BadChunk("trailer line not ended by CRLF".into()));
                    }
                    if self.line_len == 0 {
                        self.state = ChunkState::Done;
                        i += 1;
                        break;
                    }
                    self.line_len = 0;
                    self.state = ChunkState::Trailer;
                }
            }
            i += 1;
        }
        Ok((i, self.state == ChunkState::Done))
    }
}

/// Appends one chunk (`data` must not be empty: an empty chunk ends the body).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    debug_assert!(!data.is_empty());
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The last chunk (no trailers).
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], step: usize) -> Result<(Vec<u8>, usize), HttpError> {
        let mut decoder = ChunkedDecoder::default();
        let mut body = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let end = (pos + step).min(input.len());
            let (used, done) = decoder.decode(&input[pos..end], &mut body, 1024)?;
            if done {
                return Ok((body, pos + used));
            }
            assert_eq!(used, end - pos, "all input is used until the end");
            pos += used;
        }
        Err(HttpError::BadChunk("incomplete".into()))
    }

    #[test]
    fn decodes_split_anywhere_and_stops_at_the_end() {
        let input = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nGET";
        for step in 1..input.len() {
            let (body, used) = decode_all(input, step).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.");
            assert_eq!(&input[used..], b"GET", "step {step}");
        }
    }

    #[test]
    fn rejects_bad_sizes_and_framing() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"4\r\nWikiXX",
            b"4\n",
            b"1000000000000000\r\n",
        ] {
            assert!(decode_all(bad, 64).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn bounds_trailers_and_size_lines() {
        let mut long = b"0\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', 2000));
        assert_eq!(decode_all(&long, 64), Err(HttpError::HeadersTooLarge));
        let mut ext = b"1;".to_vec();
        ext.extend(std::iter::repeat_n(b'e', 2000));
        assert!(matches!(decode_all(&ext, 64), Err(HttpError::BadChunk(_))));
    }

    #[test]
    fn encodes_chunks() {
        let mut out = Vec::new();
        encode_chunk(b"hello, world!!!!", &mut out);
        out.extend_from_slice(LAST_CHUNK);
        assert_eq!(out, b"10\r\nhello, world!!!!\r\n0\r\n\r\n");
        let (body, _) = decode_all(&out, 3).unwrap();
        assert_eq!(body, b"hello, world!!!!");
    }
}
