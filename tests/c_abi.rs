//! The C ABI, from C: runs `scripts/test-c.sh` against the libraries this `cargo test` built
//! (target/<profile>/libwskit.so and .a): C99/C++ header compile, NULL/stale-id/re-entrancy misuse,
//! 10,000 remote sends in order and remote sends past max_buffered, 1,000 context create/free
//! cycles, the pull API with its byte bound, accept by id (deferred, queued, rejected), kept request
//! information, tracing, per-connection user data freed on every close path (1,000 clients), every
//! test linked shared and static, under ASan+UBSan and valgrind, exported symbols == header, the
//! SONAME, C echo server and client, game loop, C++ wrapper, and Python `websockets` against the C
//! echo server.
//!
//! Nothing is skipped: without gcc/g++/valgrind (and no root to apt-install them) the test fails.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn c_abi_suite() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // target/<profile>/deps/c_abi-HASH -> target/<profile>
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .to_path_buf();
    for lib in ["libwskit.so", "libwskit.a"] {
        assert!(
            profile_dir.join(lib).exists(),
            "{} is missing: cargo test should have built the cdylib and staticlib",
            profile_dir.join(lib).display()
        );
    }
    let output = Command::new("bash")
        .arg(root.join("scripts/test-c.sh"))
        .arg("--lib-dir")
        .arg(&profile_dir)
        .current_dir(&root)
        .output()
        .expect("run bash scripts/test-c.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("c tests:"))
        .unwrap_or("no summary line");
    assert!(output.status.success(), "C ABI tests failed: {summary}");
    assert!(summary.ends_with(" 0 failed"), "{summary}");
}
