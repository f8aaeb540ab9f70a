//! Echo server: sends every text and binary message back as it came.
//!
//!     cargo run --release --example echo_server -- 127.0.0.1:9001
//!
//! Prints one line when listening and runs until killed. Limits are raised to what conformance
//! suites send (Autobahn 9.*: 16 MiB messages, 64 Ki fragments); the library defaults stay safe.
//! Text commands for tests: see `examples/support/echo_handler.rs`.

#[path = "support/echo_handler.rs"]
mod echo_handler;

use std::time::Duration;

use echo_handler::Echo;
use wskit::net::Context;

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".into());
    let mut ctx = Context::new().expect("event loop");
    let options = echo_handler::echo_listen_options();
    let listener = ctx.listen(addr.as_str(), options).unwrap_or_else(|err| {
        eprintln!("echo_server: cannot listen on {addr}: {err}");
        std::process::exit(1);
    });
    println!(
        "echo_server listening on ws://{}",
        ctx.local_addr(listener).expect("bound")
    );
    let mut echo = Echo::default();
    loop {
        if let Err(err) = ctx.poll(&mut echo, Some(Duration::from_secs(1))) {
            eprintln!("echo_server: {err}");
        }
    }
}
