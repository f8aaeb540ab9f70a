//! Echo server: sends every text and binary message back as it came.
//!
//!     cargo run --release --example echo_server -- 127.0.0.1:9001 [--tls CERT_PEM KEY_PEM] [--trace]
//!         [--no-deflate | --deflate-takeover [--no-compact]]
//!
//! `--trace` prints every handshake and frame header to stderr. permessage-deflate is accepted
//! with the library's server default (`DeflateConfig::SERVER`: no context takeover both ways);
//! `--no-deflate` declines it. `--deflate-takeover` lets clients keep context both ways, with
//! windows of at most 12 bits and memory level 5 (Python `websockets`' defaults), and with the
//! server default's idle compaction (codecs back to the pool between messages, only the window's
//! history kept); `--no-compact` keeps each connection's codecs instead.
//!
//! Prints one line when listening and runs until killed. Limits are raised to what conformance
//! suites send (Autobahn 9.*: 16 MiB messages, 64 Ki fragments); the library defaults stay safe.
//! Text commands for tests: see `examples/support/echo_handler.rs`.

#[path = "support/echo_handler.rs"]
mod echo_handler;
#[path = "support/trace_printer.rs"]
mod trace_printer;

use std::time::Duration;

use echo_handler::Echo;
use wskit::net::{Context, ListenOptions, TlsServerConfig};
use wskit::proto::DeflateConfig;

fn usage() -> ! {
    eprintln!(
        "usage: echo_server [ADDR] [--tls CERT_PEM KEY_PEM] [--trace] [--no-deflate | --deflate-takeover [--no-compact]]   (default ADDR 127.0.0.1:9001)"
    );
    std::process::exit(2);
}

fn main() {
    let mut addr = "127.0.0.1:9001".to_string();
    let mut tls = None;
    let mut trace = false;
    let mut deflate = DeflateConfig::SERVER;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tls" => {
                let (Some(cert), Some(key)) = (args.next(), args.next()) else {
                    usage()
                };
                tls = Some(
                    TlsServerConfig::from_pem_files(&cert, &key).unwrap_or_else(|err| {
                        eprintln!("echo_server: {err}");
                        std::process::exit(1);
                    }),
                );
            }
            "--trace" => trace = true,
            "--no-deflate" => deflate = DeflateConfig::DISABLED,
            "--deflate-takeover" => {
                deflate = DeflateConfig {
                    enabled: true,
                    server_no_context_takeover: false,
                    client_no_context_takeover: false,
                    server_max_window_bits: 12,
                    client_max_window_bits: 12,
                    mem_level: 5,
                    ..deflate
                }
            }
            "--no-compact" => deflate.compact_idle = false,
            "-h" | "--help" => usage(),
            _ if arg.starts_with('-') => usage(),
            _ => addr = arg,
        }
    }
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let mut ctx = Context::new().expect("event loop");
    if trace {
        trace_printer::install(&mut ctx);
    }
    let options = ListenOptions {
        tls,
        deflate,
        ..echo_handler::echo_listen_options()
    };
    let listener = ctx.listen(addr.as_str(), options).unwrap_or_else(|err| {
        eprintln!("echo_server: cannot listen on {addr}: {err}");
        std::process::exit(1);
    });
    println!(
        "echo_server listening on {scheme}://{}",
        ctx.local_addr(listener).expect("bound")
    );
    let mut echo = Echo::default();
    loop {
        if let Err(err) = ctx.poll(&mut echo, Some(Duration::from_secs(1))) {
            eprintln!("echo_server: {err}");
        }
    }
}
