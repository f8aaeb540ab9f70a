//! The trace hook sees handshakes and frame headers; listeners and clients work over IPv6.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wskit::net::{
    ConnId, ConnectOptions, Context, Direction, Handler, ListenOptions, Message, OpenInfo, TraceEvent,
};
use wskit::proto::{CloseInfo, Opcode};

#[derive(Default)]
struct Client {
    opened: bool,
    echoed: Vec<String>,
    closed: Option<u16>,
}

impl Handler for Client {
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.opened = true;
        ctx.send_text(conn, "traced").unwrap();
    }
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        if let Message::Text(text) = message {
            self.echoed.push(text.to_owned());
        }
        ctx.close(conn, 1000, "done").unwrap();
    }
    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        self.closed = Some(info.code);
    }
}

struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        ctx.send(conn, message.kind(), message.as_bytes()).unwrap();
    }
}

fn run_pair(server_addr: &str, url_host: &str, trace: bool) -> (Client, Vec<String>) {
    let mut server = Context::new().unwrap();
    let listener = server.listen(server_addr, ListenOptions::default()).unwrap();
    let port = server.local_addr(listener).unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    if trace {
        let sink = log.clone();
        server.set_tracer(Some(Box::new(move |_conn: ConnId, event: &TraceEvent<'_>| {
            let line = match event {
                TraceEvent::Handshake { direction, bytes } => {
                    let first = String::from_utf8_lossy(bytes)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    format!("{direction:?} handshake {first}")
                }
                TraceEvent::Frame {
                    direction,
                    opcode,
                    fin,
                    len,
                    ..
                } => {
                    format!("{direction:?} frame {opcode:?} fin={fin} len={len}")
                }
            };
            sink.lock().unwrap().push(line);
        })));
    }
    let mut client_ctx = Context::new().unwrap();
    client_ctx
        .connect(
            &format!("ws://{url_host}:{port}/trace"),
            ConnectOptions::default(),
        )
        .unwrap();
    let mut client = Client::default();
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.closed.is_none() && Instant::now() < deadline {
        server.poll(&mut Echo, Some(Duration::from_millis(1))).unwrap();
        client_ctx
            .poll(&mut client, Some(Duration::from_millis(1)))
            .unwrap();
    }
    for _ in 0..10 {
        server.poll(&mut Echo, Some(Duration::from_millis(1))).unwrap();
    }
    let lines = log.lock().unwrap().clone();
    (client, lines)
}

#[test]
fn tracer_sees_handshake_and_every_frame_header() {
    let (client, lines) = run_pair("127.0.0.1:0", "127.0.0.1", true);
    assert_eq!(client.echoed, ["traced"]);
    assert_eq!(client.closed, Some(1000));
    let expected = [
        "Received handshake GET /trace HTTP/1.1".to_string(),
        "Sent handshake HTTP/1.1 101 Switching Protocols".to_string(),
        format!(
            "{:?} frame {:?} fin=true len=6",
            Direction::Received,
            Opcode::Text
        ),
        format!("{:?} frame {:?} fin=true len=6", Direction::Sent, Opcode::Text),
        format!(
            "{:?} frame {:?} fin=true len=6",
            Direction::Received,
            Opcode::Close
        ),
        format!("{:?} frame {:?} fin=true len=2", Direction::Sent, Opcode::Close),
    ];
    assert_eq!(lines, expected);
}

#[test]
fn ipv6_listener_and_client() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipping: no IPv6 loopback on this machine");
        return;
    }
    let (client, lines) = run_pair("[::1]:0", "[::1]", false);
    assert!(client.opened);
    assert_eq!(client.echoed, ["traced"]);
    assert_eq!(client.closed, Some(1000));
    assert!(lines.is_empty(), "no tracer, no trace");
}
