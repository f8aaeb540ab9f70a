//! Interactive client: connects to a URL, sends each line of stdin as a text message, prints what
//! comes back. EOF on stdin closes the connection with 1000.
//!
//!     cargo run --release --example client -- ws://127.0.0.1:9001/ [--ca CA_PEM] [--trace]
//!
//! Stdin is read on a helper thread that hands lines to the loop through a `Remote`. `--trace`
//! prints the handshake and every frame header to stderr.

#[path = "support/trace_printer.rs"]
mod trace_printer;

use std::io::BufRead;
use std::time::Duration;

use wskit::net::{
    ConnId, ConnectOptions, Context, Error, Handler, Message, OpenInfo, Remote, TlsClientConfig,
};
use wskit::proto::CloseInfo;

struct Printer {
    done: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: client [URL] [--ca CA_PEM] [--trace]   (default URL ws://127.0.0.1:9001/; wss:// verifies"
    );
    eprintln!("       against the system trust store, or only against CA_PEM when given)");
    std::process::exit(2);
}

/// Sends stdin lines once the connection is open (sending earlier is an error, as in browsers).
fn forward_stdin(remote: Remote, conn: ConnId) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if remote.send_text(conn, line).is_err() {
                break;
            }
        }
        let _ = remote.close(conn, 1000, "bye");
    });
}

impl Handler for Printer {
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        let peer = info.peer.map(|p| p.to_string()).unwrap_or_default();
        println!("connected to {peer} (subprotocol {:?})", info.subprotocol);
        forward_stdin(ctx.remote(), conn);
    }

    fn on_message(&mut self, _ctx: &mut Context, _conn: ConnId, message: Message<'_>) {
        match message {
            Message::Text(text) => println!("< {text}"),
            Message::Binary(data) => println!("< [{} bytes binary]", data.len()),
        }
    }

    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        println!(
            "closed: code {} reason {:?} clean {}",
            info.code, info.reason, info.clean
        );
        self.done = true;
    }

    fn on_error(&mut self, _ctx: &mut Context, _conn: Option<ConnId>, error: &Error) {
        eprintln!("error: {error}");
    }
}

fn main() {
    let mut url = "ws://127.0.0.1:9001/".to_string();
    let mut options = ConnectOptions::default();
    let mut trace = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => {
                let Some(file) = args.next() else { usage() };
                options.tls = Some(TlsClientConfig::with_ca_file(&file).unwrap_or_else(|err| {
                    eprintln!("client: {err}");
                    std::process::exit(1);
                }));
            }
            "--trace" => trace = true,
            "-h" | "--help" => usage(),
            _ if arg.starts_with('-') => usage(),
            _ => url = arg,
        }
    }
    let mut ctx = Context::new().expect("event loop");
    if trace {
        trace_printer::install(&mut ctx);
    }
    ctx.connect(&url, options).unwrap_or_else(|err| {
        eprintln!("client: {err}");
        std::process::exit(1);
    });
    let mut printer = Printer { done: false };
    while !printer.done {
        if let Err(err) = ctx.poll(&mut printer, Some(Duration::from_millis(500))) {
            eprintln!("client: {err}");
            break;
        }
    }
    std::process::exit(if printer.done { 0 } else { 1 });
}
