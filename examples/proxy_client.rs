//! Client through a proxy: connects to URL through PROXY, sends MESSAGE, prints the answer, closes
//! with 1000. A proxy failure is printed with its detail (status, Proxy-Authenticate challenge,
//! SOCKS5 reply code).
//!
//!     cargo run --release --example proxy_client -- URL PROXY|env MESSAGE [--ca CA_PEM]
//!
//! PROXY: `http://[user:pass@]host:port` (HTTP CONNECT), `https://...` (TLS to the proxy),
//! `socks5://...` / `socks5h://...` (SOCKS5; `h`: the proxy resolves the target's name), or `env`
//! for `http_proxy` / `https_proxy` / `all_proxy` / `no_proxy` (the default of `ConnectOptions`).
//! A wss:// target is verified end to end (system roots, or only CA_PEM).

use std::time::Duration;

use wskit::net::{
    ConnId, ConnectOptions, Context, Error, Handler, Message, OpenInfo, ProxyError, ProxyOptions,
    TlsClientConfig,
};
use wskit::proto::CloseInfo;

struct Client {
    message: String,
    answered: bool,
    done: bool,
    clean: bool,
}

impl Handler for Client {
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        if let Err(err) = ctx.send_text(conn, &self.message) {
            eprintln!("proxy_client: send: {err}");
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        println!("{}", String::from_utf8_lossy(message.as_bytes()));
        self.answered = true;
        let _ = ctx.close(conn, 1000, "bye");
    }

    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        self.clean = info.clean;
        self.done = true;
    }

    fn on_error(&mut self, _ctx: &mut Context, _conn: Option<ConnId>, error: &Error) {
        eprintln!("proxy_client: {error}");
        match error {
            Error::Proxy(ProxyError::Auth {
                status,
                proxy_authenticate,
                ..
            }) => eprintln!("  status: {status}\n  Proxy-Authenticate: {proxy_authenticate:?}"),
            Error::Proxy(ProxyError::Refused { status, .. }) => eprintln!("  status: {status}"),
            Error::Proxy(ProxyError::Socks { reply }) => eprintln!("  SOCKS5 reply code: {reply}"),
            _ => {}
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: proxy_client URL PROXY|env MESSAGE [--ca CA_PEM]");
        std::process::exit(2);
    }
    let mut options = ConnectOptions::default();
    if args[1] != "env" {
        options.proxy = ProxyOptions::url(&args[1]);
    }
    if args.len() > 4 && args[3] == "--ca" {
        options.tls = Some(TlsClientConfig::with_ca_file(&args[4]).unwrap_or_else(|err| {
            eprintln!("proxy_client: {err}");
            std::process::exit(1)
        }));
    }
    let mut ctx = Context::new().expect("context");
    let mut client = Client {
        message: args[2].clone(),
        answered: false,
        done: false,
        clean: false,
    };
    if let Err(err) = ctx.connect(&args[0], options) {
        eprintln!("proxy_client: {err}");
        std::process::exit(1);
    }
    while !client.done {
        ctx.poll(&mut client, Some(Duration::from_millis(100)))
            .expect("poll");
    }
    std::process::exit(if client.answered && client.clean { 0 } else { 1 });
}
