//! Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key, cycling.
//!
//! The hot path works on 8-byte words: the key is rotated to the caller's position in the mask cycle
//! once, widened to a `u64`, and applied to unaligned words; only the last few bytes go byte by
//! byte. That is several times faster than a byte loop and lets the compiler vectorise the bulk.

/// XORs `buf` with `mask`, where `buf[0]` sits at position `offset` of the payload (so a payload
/// unmasked in several pieces continues the cycle correctly). Returns nothing; masking is its own
/// inverse, so the same call masks and unmasks.
#[inline(always)]
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    let wide = widen(mask, offset);
    // Unaligned 8-byte words: no alignment prologue, so a 16-byte frame is two XORs; 32-byte
    // blocks let the compiler use vector registers for the bulk.
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for word in block.chunks_exact_mut(8) {
            xor_word(word, wide);
        }
    }
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for word in &mut words {
        xor_word(word, wide);
    }
    let key = wide.to_ne_bytes();
    for (byte, k) in words.into_remainder().iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// The key as a word whose first byte in memory is key byte `offset % 4`: two copies of the
/// rotated key.
#[inline(always)]
fn widen(mask: [u8; 4], offset: usize) -> u64 {
    let shift = 8 * (offset & 3) as u32;
    let key = u32::from_ne_bytes(mask);
    // Rotating the word moves the byte at `offset` to the lowest address.
    let rotated = if cfg!(target_endian = "little") {
        key.rotate_right(shift)
    } else {
        key.rotate_left(shift)
    };
    u64::from(rotated) | (u64::from(rotated) << 32)
}

#[inline(always)]
fn xor_word(word: &mut [u8], wide: u64) {
    let value = u64::from_ne_bytes(word.try_into().expect("8 bytes")) ^ wide;
    word.copy_from_slice(&value.to_ne_bytes());
}

/// The obvious byte-by-byte masking, kept as the reference the fast path is tested against.
#[inline]
pub fn apply_mask_bytes(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= mask[(i + offset) & 3];
    }
}

/// A masking key from the operating system's CSPRNG. Keys are drawn 64 at a time into a
/// thread-local buffer, so a client pays one `getrandom` call per 64 frames, not one per frame.
pub fn random_mask() -> [u8; 4] {
    use std::cell::RefCell;
    thread_local! {
        static POOL: RefCell<([u8; 256], usize)> = const { RefCell::new(([0; 256], 256)) };
    }
    POOL.with(|pool| {
        let (bytes, next) = &mut *pool.borrow_mut();
        if *next == bytes.len() {
            // Without OS entropy there is no safe key to use; this is the machine failing, not input.
            getrandom::fill(bytes).expect("operating system random source failed");
            *next = 0;
        }
        let key = [bytes[*next], bytes[*next + 1], bytes[*next + 2], bytes[*next + 3]];
        *next += 4;
        key
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rfc_example_masked_hello() {
        // RFC 6455 5.7: "Hello" masked with 37 fa 21 3d.
        let mut data = *b"Hello";
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    #[test]
    fn fast_path_matches_reference_at_every_alignment_length_and_offset() {
        let mask = [0x6d, 0xb6, 0xb2, 0x80];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..8 {
            for len in 0..(source.len() - start) {
                for offset in 0..4 {
                    let mut fast = source.clone();
                    let mut slow = source.clone();
                    apply_mask(&mut fast[start..start + len], mask, offset);
                    apply_mask_bytes(&mut slow[start..start + len], mask, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn random_masks_vary() {
        let keys: std::collections::HashSet<[u8; 4]> = (0..200).map(|_| random_mask()).collect();
        assert!(keys.len() > 190, "{} distinct keys of 200", keys.len());
    }

    proptest! {
        #[test]
        fn masking_in_pieces_equals_masking_at_once(data: Vec<u8>, mask: [u8; 4], cut in 0usize..64) {
            let cut = cut.min(data.len());
            let mut whole = data.clone();
            apply_mask(&mut whole, mask, 0);
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, mask, 0);
            apply_mask(b, mask, cut);
            prop_assert_eq!(&whole, &pieces);
            apply_mask(&mut whole, mask, 0);
            prop_assert_eq!(whole, data);
        }
    }
}
