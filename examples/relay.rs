//! A bounded relay: connections to the same path are paired two by two, and each message from one
//! is forwarded to the other; a slow reader pauses its fast partner instead of growing memory (see
//! `examples/support/relay_handler.rs`).
//!
//!     cargo run --release --example relay -- 127.0.0.1:9002
//!
//! Per direction the relay holds at most `max_buffered` (1 MiB here) plus one message.

#[path = "support/relay_handler.rs"]
mod relay_handler;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".to_string());
    let mut ctx = wskit::net::Context::new().expect("context");
    let mut options = wskit::net::ListenOptions::default();
    options.connection.max_buffered = 1 << 20;
    let listener = ctx.listen(addr.as_str(), options).unwrap_or_else(|err| {
        eprintln!("relay: cannot listen on {addr}: {err}");
        std::process::exit(1);
    });
    let bound = ctx.local_addr(listener).expect("local address");
    println!("relay listening on ws://{bound}");
    ctx.run(&mut relay_handler::Relay::default()).expect("run");
}
