//! wskit echo server with the smallest handler: every text and binary message goes back as it came.
//!
//!     cargo run --release -- 127.0.0.1:9207 [--tls CERT_PEM KEY_PEM]
//!
//! Same limits as `examples/echo_server.rs` (64 MiB messages and frames, 128 MiB send queue) but no
//! per-connection state in the handler, so `bench/compare.sh` can tell the library's memory per
//! connection from the example's, and `bench/tls.sh` what TLS adds to it.

use std::time::Duration;

use wskit::net::{ConnId, Context, Handler, ListenOptions, Message, TlsServerConfig};

struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let sent = match message {
            Message::Text(text) => ctx.send_text(conn, text),
            Message::Binary(data) => ctx.send_binary(conn, data),
        };
        if let Err(err) = sent {
            eprintln!("echo to {conn}: {err}");
        }
    }
}

fn fail(what: &str) -> ! {
    eprintln!("wskit-min-echo: {what}");
    std::process::exit(1);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9207".into());
    let tls = match (args.next().as_deref(), args.next(), args.next()) {
        (None, ..) => None,
        (Some("--tls"), Some(cert), Some(key)) => {
            Some(TlsServerConfig::from_pem_files(&cert, &key).unwrap_or_else(|err| fail(&err.to_string())))
        }
        _ => fail("usage: wskit-min-echo [ADDR] [--tls CERT_PEM KEY_PEM]"),
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let mut ctx = Context::new().expect("event loop");
    let mut options = ListenOptions::default();
    options.tls = tls;
    options.connection.protocol.max_message_size = 64 << 20;
    options.connection.protocol.max_frame_size = 64 << 20;
    options.connection.max_buffered = 128 << 20;
    let listener = ctx
        .listen(addr.as_str(), options)
        .unwrap_or_else(|err| fail(&format!("cannot listen on {addr}: {err}")));
    println!(
        "wskit-min-echo listening on {scheme}://{}",
        ctx.local_addr(listener).expect("bound")
    );
    loop {
        if let Err(err) = ctx.poll(&mut Echo, Some(Duration::from_secs(1))) {
            eprintln!("wskit-min-echo: {err}");
        }
    }
}
