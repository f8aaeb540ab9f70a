//! Echo server: sends every text and binary message back as it came.
//!
//!     cargo run --release --example echo_server -- 127.0.0.1:9001
//!
//! Prints one line when listening and runs until killed. Limits are raised to what conformance
//! suites send (Autobahn 9.*: 16 MiB messages, 64 Ki fragments); the library defaults stay safe.
//! Text commands for tests: `cmd:close <code> <reason>` closes, `cmd:headers` answers with the
//! request headers as JSON, `cmd:ping <payload>` sends a ping.

use std::collections::HashMap;
use std::time::Duration;

use wskit::net::{AcceptRequest, ConnId, Context, Decision, Handler, ListenOptions, Message, OpenInfo};
use wskit::proto::CloseInfo;

#[derive(Default)]
struct Echo {
    /// Request headers per connection, for `cmd:headers`.
    headers: HashMap<ConnId, String>,
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Handler for Echo {
    fn on_accept(&mut self, _ctx: &mut Context, request: &AcceptRequest<'_>) -> Decision {
        match request.request.subprotocols.first() {
            Some(first) => Decision::accept_subprotocol(first.clone()),
            None => Decision::accept(),
        }
    }

    fn on_open(&mut self, _ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        let mut fields: Vec<String> = Vec::new();
        for (name, value) in info.headers {
            fields.push(format!(
                "{}:{}",
                json_string(&name.to_ascii_lowercase()),
                json_string(value)
            ));
        }
        let sub = info.subprotocol.map_or("null".to_string(), json_string);
        fields.push(format!("\"_subprotocol\":{sub}"));
        self.headers.insert(conn, format!("{{{}}}", fields.join(",")));
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        if let Message::Text(text) = message {
            if let Some(command) = text.strip_prefix("cmd:") {
                let mut parts = command.splitn(3, ' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some("close"), Some(code), reason) => {
                        let code = code.parse().unwrap_or(1000);
                        let _ = ctx.close(conn, code, reason.unwrap_or(""));
                        return;
                    }
                    (Some("headers"), _, _) => {
                        let json = self.headers.get(&conn).cloned().unwrap_or_default();
                        let _ = ctx.send_text(conn, &json);
                        return;
                    }
                    (Some("ping"), payload, _) => {
                        let _ = ctx.ping(conn, payload.unwrap_or("").as_bytes());
                        return;
                    }
                    _ => {}
                }
            }
        }
        if let Err(err) = ctx.send(conn, message.kind(), message.as_bytes()) {
            eprintln!("echo to {conn}: {err}");
        }
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, _info: &CloseInfo<'_>) {
        self.headers.remove(&conn);
    }
}

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".into());
    let mut ctx = Context::new().expect("event loop");
    let mut options = ListenOptions::default();
    options.connection.protocol.max_message_size = 64 << 20;
    options.connection.protocol.max_frame_size = 64 << 20;
    options.connection.max_buffered = 128 << 20;
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
