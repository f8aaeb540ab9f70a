//! The layer rule, checked: `proto` uses neither `net` nor `ffi`; `net` does not use `ffi`.

use std::fs;
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn assert_layer_does_not_use(layer: &str, forbidden: &[&str]) {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer),
        &mut files,
    );
    assert!(
        !files.is_empty() || layer != "proto",
        "no sources found for {layer}"
    );
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for module in forbidden {
                let needle = format!("crate::{module}");
                assert!(
                    !line.contains(&needle),
                    "{}:{}: {layer} must not use {module}: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn proto_is_pure() {
    assert_layer_does_not_use("proto", &["net", "ffi"]);
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proto"),
        &mut files,
    );
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        // Address types (std::net::Ipv6Addr) are plain values; sockets and name lookups are I/O.
        for io in [
            "TcpStream",
            "TcpListener",
            "UdpSocket",
            "ToSocketAddrs",
            "std::fs",
            "std::thread",
            "std::time",
            "mio::",
        ] {
            assert!(
                !text.contains(io),
                "{}: proto must stay sans-I/O but uses {io}",
                file.display()
            );
        }
    }
}

#[test]
fn net_does_not_use_ffi() {
    assert_layer_does_not_use("net", &["ffi"]);
}
