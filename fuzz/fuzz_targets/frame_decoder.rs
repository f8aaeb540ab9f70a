//! `FrameHeader::parse` on arbitrary bytes.
//!
//! Oracle: never panics; a parsed header used 2..=14 bytes, no more than were given; every shorter
//! prefix of those bytes is "need more" (`Ok(None)`), never an error or a different header; the
//! header re-encodes (minimal length encoding, so possibly shorter than the input) to bytes that parse
//! back to the same header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wskit::proto::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(Some((header, used))) = FrameHeader::parse(data) else {
        return;
    };
    assert!((2..=MAX_HEADER_LEN).contains(&used), "header length {used}");
    assert!(used <= data.len(), "used {used} of {} bytes", data.len());
    assert!(header.rsv <= 0b111, "rsv {:#b}", header.rsv);
    assert!(header.payload_len >> 63 == 0, "length top bit set");
    if header.opcode.is_control() {
        assert!(header.fin, "fragmented control frame accepted");
        assert!(
            header.payload_len <= MAX_CONTROL_PAYLOAD as u64,
            "control payload too long"
        );
    }

    // The header depends on its own bytes only.
    assert_eq!(FrameHeader::parse(&data[..used]), Ok(Some((header, used))));
    for short in 0..used {
        assert_eq!(
            FrameHeader::parse(&data[..short]),
            Ok(None),
            "prefix of {short} bytes"
        );
    }

    // Re-encoding gives the minimal encoding of the same header.
    let mut buf = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut buf);
    assert!((2..=MAX_HEADER_LEN).contains(&n), "encoded length {n}");
    assert!(
        n <= used,
        "re-encoded header is longer ({n}) than the parsed one ({used})"
    );
    assert_eq!(FrameHeader::parse(&buf[..n]), Ok(Some((header, n))), "round trip");
});
