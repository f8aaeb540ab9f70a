//! Web server: a directory, a tiny dynamic endpoint and a WebSocket echo, all on one port.
//!
//!     cargo run --release --example web_server -- 127.0.0.1:8080 ./public
//!
//! - `GET /api/hello?name=you` answers `{"hello":"you"}` (from the handler);
//! - `GET /api/slow` is answered 100 ms later from a worker thread (through a `Remote`);
//! - WebSocket upgrades on any path echo every message;
//! - everything else is served from DIR (`index.html` for directories, `Range`,
//!   `If-Modified-Since`; files stream from disk).
//!
//! Prints one line when listening and runs until killed. Paired with examples/c/web_server.c and
//! examples/python/web_server.py (same CLI and endpoints).

use std::time::Duration;

use wskit::net::{ConnId, Context, Handler, HttpRequestInfo, ListenOptions, Message, Remote};

struct Web {
    remote: Remote,
}

impl Handler for Web {
    fn on_listen(
        &mut self,
        _ctx: &mut Context,
        _listener: wskit::net::ListenerId,
        addr: std::net::SocketAddr,
    ) {
        println!("web_server: listening on http://{addr}/ (ws:// on the same port)");
    }

    fn on_http_request(&mut self, ctx: &mut Context, request: &HttpRequestInfo<'_>) {
        let r = request.request;
        match r.path.as_str() {
            "/api/hello" => {
                let name = r
                    .query
                    .as_deref()
                    .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("name=")))
                    .unwrap_or("world");
                // Keep the JSON valid whatever the query holds.
                let name: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                let body = format!("{{\"hello\":\"{name}\"}}\n");
                let headers = [("Content-Type".to_string(), "application/json".to_string())];
                let _ = ctx.http_respond(request.conn, 200, &headers, body.as_bytes());
            }
            "/api/slow" => {
                let (remote, conn) = (self.remote.clone(), request.conn);
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(100));
                    let _ = remote.http_respond(conn, 200, Vec::new(), "slow answer\n");
                });
            }
            _ => {
                let _ = ctx.http_serve_default(request.conn, r);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let _ = match message {
            Message::Text(text) => ctx.send_text(conn, text),
            Message::Binary(data) => ctx.send_binary(conn, data),
        };
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let dir = args.next().unwrap_or_else(|| ".".into());
    let mut ctx = Context::new().expect("context");
    if let Err(err) = ctx.listen(addr.as_str(), ListenOptions::default().static_dir(&dir)) {
        eprintln!("web_server: {err}");
        std::process::exit(1);
    }
    let mut web = Web { remote: ctx.remote() };
    ctx.run(&mut web).expect("run");
}
