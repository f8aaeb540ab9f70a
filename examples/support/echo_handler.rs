//! The echo handler shared by `examples/echo_server.rs` and the integration tests: echoes every
//! message as it came; text commands for tests: `cmd:close <code> <reason>` closes, `cmd:headers`
//! answers with the request headers (names lowercased) and `_subprotocol` as JSON, `cmd:ping
//! <payload>` sends a ping. Accepts the first subprotocol the client offers.
//!
//! It never drops a message. The library's automatic read pause
//! (`ConnectionOptions::read_pause_high_water`) stops reading a connection whose echoes the client
//! is not reading, so the queue stays far below `max_buffered`; the one case left is a single
//! message bigger than the room under `max_buffered`: its send fails with `WouldBlock`, and the
//! handler keeps a copy, pauses reading (`Context::pause_reading`) and sends it from
//! `on_writable` before reading resumes.

use std::collections::HashMap;

use wskit::net::{AcceptRequest, ConnId, Context, Decision, Handler, Message, OpenInfo};
use wskit::proto::CloseInfo;

/// Echoes every message and understands the test commands.
#[derive(Default)]
pub struct Echo {
    /// Request headers per connection, for `cmd:headers`.
    headers: HashMap<ConnId, String>,
    /// Per connection, the echo that did not fit (`WouldBlock`) while its reading is paused.
    waiting: HashMap<ConnId, (bool, Vec<u8>)>,
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
                let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
                match verb {
                    "close" => {
                        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
                        let _ = ctx.close(conn, code.parse().unwrap_or(1000), reason);
                        return;
                    }
                    "headers" => {
                        let json = self.headers.get(&conn).cloned().unwrap_or_default();
                        let _ = ctx.send_text(conn, &json);
                        return;
                    }
                    "ping" => {
                        let _ = ctx.ping(conn, rest.as_bytes());
                        return;
                    }
                    _ => {}
                }
            }
        }
        // `send_text` takes the `&str` as it is; `send` with bytes would check the UTF-8 again.
        let sent = match message {
            Message::Text(text) => ctx.send_text(conn, text),
            Message::Binary(data) => ctx.send_binary(conn, data),
        };
        match sent {
            Ok(()) => {}
            Err(wskit::net::Error::WouldBlock) => {
                // Keep it and stop the input until it is sent (`on_writable`): nothing is lost.
                let is_text = matches!(message, Message::Text(_));
                self.waiting.insert(conn, (is_text, message.as_bytes().to_vec()));
                let _ = ctx.pause_reading(conn);
            }
            Err(err) => eprintln!("echo to {conn}: {err}"),
        }
    }

    fn on_writable(&mut self, ctx: &mut Context, conn: ConnId) {
        let Some((is_text, data)) = self.waiting.remove(&conn) else {
            return;
        };
        let kind = if is_text {
            wskit::proto::MessageKind::Text
        } else {
            wskit::proto::MessageKind::Binary
        };
        match ctx.send(conn, kind, &data) {
            Ok(()) => {
                let _ = ctx.resume_reading(conn);
            }
            // Still no room: wait for the next `on_writable`.
            Err(wskit::net::Error::WouldBlock) => {
                self.waiting.insert(conn, (is_text, data));
            }
            Err(err) => eprintln!("echo to {conn}: {err}"),
        }
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, _info: &CloseInfo<'_>) {
        self.headers.remove(&conn);
        self.waiting.remove(&conn);
    }

    /// Errors not tied to a connection (e.g. `accept` out of file descriptors: reported once per
    /// shortage, while the listener retries on a timer) go to stderr.
    fn on_error(&mut self, _ctx: &mut Context, conn: Option<ConnId>, error: &wskit::net::Error) {
        if conn.is_none() {
            eprintln!("echo_server: {error}");
        }
    }
}

/// Listener options for echo servers under test: limits raised to what conformance suites send
/// (16 MiB messages in up to 64 Ki fragments) with room to spare.
#[allow(dead_code)] // not every includer uses it
pub fn echo_listen_options() -> wskit::net::ListenOptions {
    let mut options = wskit::net::ListenOptions::default();
    options.connection.protocol.max_message_size = 64 << 20;
    options.connection.protocol.max_frame_size = 64 << 20;
    options.connection.max_buffered = 128 << 20;
    options
}
