//! The library version, for run-time checks against the header's `WSKIT_VERSION_*` macros.

use std::ffi::c_char;

const fn parse(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

const MAJOR: u32 = parse(env!("CARGO_PKG_VERSION_MAJOR"));
const MINOR: u32 = parse(env!("CARGO_PKG_VERSION_MINOR"));
const PATCH: u32 = parse(env!("CARGO_PKG_VERSION_PATCH"));

crate::ffi_fn! {
    /// The version of the loaded library as `major << 16 | minor << 8 | patch` (Cargo.toml's
    /// version). Compare with `WSKIT_VERSION` from the header to detect a header/library mismatch.
    /// Any thread.
    fn wskit_version_number() -> u32 {
        (MAJOR << 16) | (MINOR << 8) | PATCH
    }
}

crate::ffi_fn! {
    /// The version of the loaded library as a static, NUL-terminated string, e.g. `"0.2.0"`.
    /// Never NULL; never freed. Any thread.
    fn wskit_version_string() -> *const c_char {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    }
}
