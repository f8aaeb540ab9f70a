//! The short soak (`examples/soak.rs`; the long one is `scripts/soak.sh`): 300 connections on
//! loopback for 8 s of random text, binary and fragmented sends, pings, closes from both sides,
//! aborts and resets. The tool checks that cleanly closed connections lost and duplicated no
//! message, that every connection closed once on each side, that both contexts' counters
//! (`Context::stats`) are back to baseline, and that RSS is back within its margin; it exits 1
//! otherwise. This test runs it and asserts that, and that it did exercise every ending.

use std::process::Command;

#[test]
fn short_soak_loses_nothing_and_gives_everything_back() {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--locked", "--example", "soak"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the soak example failed");
    let exe = std::env::current_exe().unwrap();
    let soak = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples/soak");
    let output = Command::new(soak)
        .args([
            "--connections",
            "300",
            "--seconds",
            "8",
            "--total",
            "900",
            "--seed",
            "13",
        ])
        .output()
        .expect("run soak");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "soak failed:\n{stdout}");
    assert!(stdout.lines().any(|l| l == "soak: ok"));
    let endings = stdout
        .lines()
        .find(|l| l.starts_with("soak: endings"))
        .expect("endings line");
    for ending in [
        "client close",
        "server close",
        "client abort",
        "server abort/reset",
    ] {
        assert!(endings.contains(ending), "no {ending} in {endings}");
    }
    let checked: u64 = stdout
        .split(" clean closes checked")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("clean closes figure");
    assert!(
        checked >= 100,
        "only {checked} clean closes were checked for lost messages"
    );
}
