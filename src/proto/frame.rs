//! Frame header parsing and encoding (RFC 6455 section 5.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! ```
//! Parsing checks only what the header alone decides (reserved opcodes, control-frame rules, the
//! 64-bit length's top bit). Rules that depend on the connection (role, extensions, message state,
//! size limits) are checked by [`crate::proto::Connection`].

use super::error::ProtocolError;
use super::mask::apply_mask;
use super::opcode::Opcode;

/// The longest possible header: 2 bytes + 8 bytes of length + 4 bytes of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// The most payload a control frame may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// One parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last frame of its message.
    pub fin: bool,
    /// RSV1-3 as the low three bits (RSV1 = 0b100).
    pub rsv: u8,
    /// The frame's opcode.
    pub opcode: Opcode,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `input`. `Ok(None)` means more bytes are needed and nothing
    /// is consumed; `Ok(Some((header, n)))` means the header took the first `n` bytes.
    #[inline]
    pub fn parse(input: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let [b0, b1, ..] = *input else { return Ok(None) };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x7;
        let opcode = Opcode::from_u8(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0F))?;
        let masked = b1 & 0x80 != 0;
        let short_len = b1 & 0x7F;
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if usize::from(short_len) > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }
        let (payload_len, mut pos) = match short_len {
            126 => match input.get(2..4) {
                Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
                None => return Ok(None),
            },
            127 => match input.get(2..10) {
                Some(b) => {
                    let len = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                    if len >> 63 != 0 {
                        return Err(ProtocolError::LengthTopBitSet);
                    }
                    (len, 10)
                }
                None => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        let mask = if masked {
            match input.get(pos..pos + 4) {
                Some(b) => {
                    pos += 4;
                    Some([b[0], b[1], b[2], b[3]])
                }
                None => return Ok(None),
            }
        } else {
            None
        };
        Ok(Some((
            FrameHeader {
                fin,
                rsv,
                opcode,
                mask,
                payload_len,
            },
            pos,
        )))
    }

    /// Encodes the header into `out`, returning how many bytes of it were used (2 to 14).
    /// Uses the shortest length encoding, as RFC 6455 requires.
    #[inline]
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0x7) << 4) | self.opcode as u8;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut pos = match self.payload_len {
            len @ 0..=125 => {
                out[1] = mask_bit | len as u8;
                2
            }
            len @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            len => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                10
            }
        };
        if let Some(mask) = self.mask {
            out[pos..pos + 4].copy_from_slice(&mask);
            pos += 4;
        }
        pos
    }
}

/// Appends a whole frame (header, then the payload masked with `mask` if given) to `out`, copying the
/// payload once.
#[inline]
pub fn encode_frame(out: &mut Vec<u8>, fin: bool, opcode: Opcode, payload: &[u8], mask: Option<[u8; 4]>) {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask,
        payload_len: payload.len() as u64,
    };
    let mut buf = [0u8; MAX_HEADER_LEN];
    let header_len = header.encode(&mut buf);
    let start = out.len();
    let frame_len = header_len + payload.len();
    out.reserve(frame_len);
    let spare = &mut out.spare_capacity_mut()[..frame_len];
    // Two fixed-size copies through `MaybeUninit` slices: no zero-fill, no per-byte capacity checks,
    // and no call into `memcpy` for the few header bytes.
    for (dst, src) in spare.iter_mut().zip(&buf[..header_len]) {
        dst.write(*src);
    }
    write_bytes(&mut spare[header_len..], payload);
    // SAFETY: `reserve` made room for `frame_len` more bytes and the two copies above initialised
    // exactly those bytes (header, then payload).
    unsafe { out.set_len(start + frame_len) };
    if let Some(mask) = mask {
        apply_mask(&mut out[start + header_len..], mask, 0);
    }
}

/// The longest payload that fits the two-byte header.
pub const SHORT_PAYLOAD: usize = 125;

/// [`encode_frame`] for an unmasked frame of at most [`SHORT_PAYLOAD`] bytes (a server's small
/// message): the header is two bytes, so there is nothing to choose.
#[inline]
pub fn encode_short_unmasked_frame(out: &mut Vec<u8>, fin: bool, opcode: Opcode, payload: &[u8]) {
    assert!(payload.len() <= SHORT_PAYLOAD);
    let start = out.len();
    let frame_len = 2 + payload.len();
    out.reserve(frame_len);
    let spare = &mut out.spare_capacity_mut()[..frame_len];
    spare[0].write((u8::from(fin) << 7) | opcode as u8);
    spare[1].write(payload.len() as u8);
    write_bytes(&mut spare[2..], payload);
    // SAFETY: `reserve` made room for `frame_len` more bytes, all initialised just above.
    unsafe { out.set_len(start + frame_len) };
}

/// Copies `src` into the uninitialised `dst` (same length). (`write_copy_of_slice` does this
/// safely from Rust 1.93; the crate supports 1.85.)
#[inline]
fn write_bytes(dst: &mut [std::mem::MaybeUninit<u8>], src: &[u8]) {
    assert_eq!(dst.len(), src.len());
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`; `dst` and `src` are distinct borrows of
    // equal length (checked above), so the copy stays in bounds and cannot overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse_all(bytes: &[u8]) -> (FrameHeader, usize) {
        FrameHeader::parse(bytes).unwrap().unwrap()
    }

    /// The examples of RFC 6455 section 5.7, byte for byte, both directions.
    #[test]
    fn rfc_6455_section_5_7_examples() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let unmasked_hello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let masked_hello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let hel = [0x01, 0x03, 0x48, 0x65, 0x6c];
        let lo = [0x80, 0x02, 0x6c, 0x6f];
        let unmasked_ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let masked_pong = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

        let mut out = Vec::new();
        encode_frame(&mut out, true, Opcode::Text, b"Hello", None);
        assert_eq!(out, unmasked_hello);
        out.clear();
        encode_frame(&mut out, true, Opcode::Text, b"Hello", Some(mask));
        assert_eq!(out, masked_hello);
        out.clear();
        encode_frame(&mut out, false, Opcode::Text, b"Hel", None);
        encode_frame(&mut out, true, Opcode::Continuation, b"lo", None);
        assert_eq!(out, [&hel[..], &lo[..]].concat());
        out.clear();
        encode_frame(&mut out, true, Opcode::Ping, b"Hello", None);
        assert_eq!(out, unmasked_ping);
        out.clear();
        encode_frame(&mut out, true, Opcode::Pong, b"Hello", Some(mask));
        assert_eq!(out, masked_pong);

        let (h, n) = parse_all(&masked_hello);
        assert_eq!(
            (h.fin, h.opcode, h.mask, h.payload_len, n),
            (true, Opcode::Text, Some(mask), 5, 6)
        );
        let (h, n) = parse_all(&hel);
        assert_eq!((h.fin, h.opcode, h.payload_len, n), (false, Opcode::Text, 3, 2));
        let (h, _) = parse_all(&lo);
        assert_eq!((h.fin, h.opcode), (true, Opcode::Continuation));
        let (h, _) = parse_all(&unmasked_ping);
        assert_eq!(h.opcode, Opcode::Ping);

        // 256 bytes binary in a single unmasked frame: 0x82 0x7E 0x0100; 64 KiB: 0x82 0x7F 0x...010000.
        let (h, n) = parse_all(&[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!((h.opcode, h.payload_len, n), (Opcode::Binary, 256, 4));
        let (h, n) = parse_all(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        assert_eq!((h.payload_len, n), (65536, 10));
        let mut out = Vec::new();
        encode_frame(&mut out, true, Opcode::Binary, &[0u8; 256], None);
        assert_eq!(out[..4], [0x82, 0x7E, 0x01, 0x00]);
        out.clear();
        encode_frame(&mut out, true, Opcode::Binary, &vec![0u8; 65536], None);
        assert_eq!(out[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    }

    #[test]
    fn header_alone_rules() {
        for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
        assert_eq!(
            FrameHeader::parse(&[0x09, 0]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::parse(&[0x89, 126, 0, 126]),
            Err(ProtocolError::ControlFrameTooLong)
        );
        assert_eq!(
            parse_all(&[0x89, 125]).0.payload_len,
            125,
            "125 is the largest control payload"
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(ProtocolError::LengthTopBitSet)
        );
        let (h, _) = parse_all(&[0xF2, 0]);
        assert_eq!(h.rsv, 0b111, "RSV bits are reported; the connection decides");
    }

    #[test]
    fn incomplete_headers_consume_nothing() {
        let mut out = Vec::new();
        encode_frame(&mut out, true, Opcode::Binary, &[7u8; 70000], Some([1, 2, 3, 4]));
        for len in 0..14 {
            assert_eq!(FrameHeader::parse(&out[..len]), Ok(None), "prefix {len}");
        }
        assert_eq!(FrameHeader::parse(&out[..14]).unwrap().unwrap().1, 14);
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(fin: bool, rsv in 0u8..8, op in prop::sample::select(vec![0u8, 1, 2, 8, 9, 10]),
                                         mask: Option<[u8; 4]>, len in prop_oneof![0u64..130, 125u64..70000, (1u64<<16)..(1u64<<63)]) {
            let opcode = Opcode::from_u8(op).unwrap();
            let fin = fin || opcode.is_control();
            let len = if opcode.is_control() { len % 126 } else { len };
            let header = FrameHeader { fin, rsv, opcode, mask, payload_len: len };
            let mut buf = [0u8; MAX_HEADER_LEN];
            let n = header.encode(&mut buf);
            prop_assert_eq!(FrameHeader::parse(&buf[..n]), Ok(Some((header, n))));
            let minimal = 2 + if len < 126 { 0 } else if len <= 0xFFFF { 2 } else { 8 } + if mask.is_some() { 4 } else { 0 };
            prop_assert_eq!(n, minimal);
        }

        #[test]
        fn parse_never_panics(bytes: Vec<u8>) {
            let _ = FrameHeader::parse(&bytes);
        }
    }
}
