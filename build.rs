//! Build script. The C header (include/wskit.h) will be generated here by cbindgen once the C ABI
//! lands (src/ffi); until then there is nothing to generate.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}
