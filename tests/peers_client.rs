//! The wskit client against real servers: Python `websockets` and Node `ws`.

mod peer_support;

use std::time::{Duration, Instant};

use peer_support::{PEERS, PeerServer};
use wskit::net::{ConnId, ConnectOptions, Context, Error, Handler, Message, OpenInfo};
use wskit::proto::handshake::HandshakeError;
use wskit::proto::{CloseInfo, MessageKind};

#[derive(Debug, Clone, PartialEq)]
enum Got {
    Open(Option<String>),
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String, bool),
    Error(String),
}

#[derive(Default)]
struct Recorder {
    got: Vec<Got>,
    rejected_status: Option<(u16, Vec<u8>)>,
}

impl Handler for Recorder {
    fn on_open(&mut self, _ctx: &mut Context, _conn: ConnId, info: &OpenInfo<'_>) {
        self.got.push(Got::Open(info.subprotocol.map(str::to_owned)));
    }
    fn on_message(&mut self, _ctx: &mut Context, _conn: ConnId, message: Message<'_>) {
        self.got.push(match message {
            Message::Text(text) => Got::Text(text.to_owned()),
            Message::Binary(data) => Got::Binary(data.to_vec()),
        });
    }
    fn on_ping(&mut self, _ctx: &mut Context, _conn: ConnId, payload: &[u8]) {
        self.got.push(Got::Ping(payload.to_vec()));
    }
    fn on_pong(&mut self, _ctx: &mut Context, _conn: ConnId, payload: &[u8]) {
        self.got.push(Got::Pong(payload.to_vec()));
    }
    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        self.got
            .push(Got::Close(info.code, info.reason.to_owned(), info.clean));
    }
    fn on_error(&mut self, _ctx: &mut Context, _conn: Option<ConnId>, error: &Error) {
        if let Error::Handshake(HandshakeError::Rejected { status, body, .. }) = error {
            self.rejected_status = Some((*status, body.clone()));
        }
        self.got.push(Got::Error(error.to_string()));
    }
}

struct Client {
    ctx: Context,
    conn: ConnId,
    rec: Recorder,
}

impl Client {
    fn connect(url: &str, subprotocols: &[&str]) -> Self {
        let mut options = ConnectOptions::default();
        options.handshake.subprotocols = subprotocols.iter().map(|s| s.to_string()).collect();
        options.handshake.headers = vec![("X-Wskit".into(), "client".into())];
        options.connection.protocol.max_message_size = 32 << 20;
        options.connection.protocol.max_frame_size = 32 << 20;
        options.connection.max_buffered = 64 << 20;
        let mut ctx = Context::new().unwrap();
        let conn = ctx.connect(url, options).unwrap();
        Self {
            ctx,
            conn,
            rec: Recorder::default(),
        }
    }

    /// Polls until `done` holds for what was received, or fails after 20 s.
    fn until(&mut self, what: &str, done: impl Fn(&[Got]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(&self.rec.got) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; got {:?}",
                self.rec.got
            );
            self.ctx
                .poll(&mut self.rec, Some(Duration::from_millis(20)))
                .unwrap();
        }
    }

    fn take(&mut self) -> Vec<Got> {
        std::mem::take(&mut self.rec.got)
    }

    fn open(&mut self) -> Option<String> {
        self.until("open", |got| got.iter().any(|g| matches!(g, Got::Open(_))));
        // Keep what arrived with the handshake response for the caller.
        match self.rec.got.remove(0) {
            Got::Open(sub) => sub,
            other => panic!("expected open first, got {other:?}"),
        }
    }

    fn closed(&mut self) -> (u16, String, bool) {
        self.until("close", |got| got.iter().any(|g| matches!(g, Got::Close(..))));
        let got = self.take();
        match got.iter().find(|g| matches!(g, Got::Close(..))) {
            Some(Got::Close(code, reason, clean)) => (*code, reason.clone(), *clean),
            _ => unreachable!(),
        }
    }
}

fn servers() -> Vec<(String, PeerServer)> {
    PEERS
        .iter()
        .map(|peer| (format!("{peer:?}"), peer.start_server()))
        .collect()
}

fn text_of(len: usize) -> String {
    "aé€😀".repeat(len / 10) + &"a".repeat(len % 10)
}

#[test]
fn echo_of_every_size_text_and_binary() {
    for (name, server) in servers() {
        let mut c = Client::connect(&server.url("/echo"), &[]);
        assert_eq!(c.open(), None, "{name}");
        for size in [0usize, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 << 20] {
            let text = text_of(size);
            assert_eq!(text.len(), size);
            c.ctx.send_text(c.conn, &text).unwrap();
            let binary: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            c.ctx.send_binary(c.conn, &binary).unwrap();
            c.until("two echoes", |got| got.len() >= 2);
            assert_eq!(
                c.take(),
                [Got::Text(text), Got::Binary(binary)],
                "{name} size {size}"
            );
        }
        c.ctx.close(c.conn, 1000, "done").unwrap();
        assert_eq!(c.closed(), (1000, "done".into(), true), "{name}");
    }
}

#[test]
fn fragmented_sends_and_receives() {
    for (name, server) in servers() {
        let mut c = Client::connect(&server.url("/fragmented"), &[]);
        c.open();
        c.until("server's fragmented messages", |got| got.len() >= 2);
        assert_eq!(
            c.take(),
            [Got::Text("fragmented".into()), Got::Binary(vec![1, 2, 3])],
            "{name}"
        );
        let text = "héllo 😀 wörld".as_bytes();
        c.ctx
            .begin_message(c.conn, MessageKind::Text, &text[..2])
            .unwrap();
        c.ctx.ping(c.conn, b"mid").unwrap();
        c.ctx.continue_message(c.conn, &text[2..9]).unwrap();
        c.ctx.finish_message(c.conn, &text[9..]).unwrap();
        c.until("pong and echo", |got| got.len() >= 2);
        assert_eq!(
            c.take(),
            [Got::Pong(b"mid".to_vec()), Got::Text("héllo 😀 wörld".into())],
            "{name}"
        );
    }
}

#[test]
fn server_ping_is_answered_and_reported() {
    for (name, server) in servers() {
        let mut c = Client::connect(&server.url("/ping?payload=are%20you%20there"), &[]);
        c.open();
        c.until("ping and pong confirmation", |got| got.len() >= 2);
        assert_eq!(
            c.take(),
            [
                Got::Ping(b"are you there".to_vec()),
                Got::Text("pong:are you there".into())
            ],
            "{name}"
        );
    }
}

#[test]
fn server_initiated_close_with_code_and_reason() {
    for (name, server) in servers() {
        for (code, reason) in [(1000u16, ""), (1001, "going"), (4000, "bye bye")] {
            let query = format!("/close?code={code}&reason={}", reason.replace(' ', "%20"));
            let mut c = Client::connect(&server.url(&query), &[]);
            c.open();
            assert_eq!(c.closed(), (code, reason.to_string(), true), "{name} {code}");
        }
    }
}

#[test]
fn subprotocol_and_extra_headers_reach_the_server() {
    for (name, server) in servers() {
        let mut c = Client::connect(&server.url("/headers?x=1"), &["chat.v2", "chat.v1"]);
        assert_eq!(c.open(), Some("chat.v2".into()), "{name}");
        c.until("headers", |got| !got.is_empty());
        let Got::Text(json) = c.take().remove(0) else {
            panic!("{name}: headers message")
        };
        let json = json.replace("\": ", "\":"); // Python's json.dumps puts a space after the colon
        for expected in [
            r#""x-wskit":"client""#,
            r#""sec-websocket-protocol":"chat.v2, chat.v1""#,
            r#""_path":"/headers?x=1""#,
        ] {
            assert!(json.contains(expected), "{name}: {expected} missing in {json}");
        }
        // ConnectOptions::default offers permessage-deflate (DeflateConfig::CLIENT).
        assert!(
            json.contains(
                r#""sec-websocket-extensions":"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12""#
            ),
            "{name}: the default deflate offer missing in {json}"
        );
    }
}

#[test]
fn rejected_handshake_is_an_error_with_status_and_body() {
    for (name, server) in servers() {
        let mut c = Client::connect(&server.url("/reject?status=403"), &[]);
        let (code, _, clean) = c.closed();
        assert_eq!((code, clean), (1006, false), "{name}");
        assert_eq!(
            c.rec.rejected_status,
            Some((403, b"rejected by peer".to_vec())),
            "{name}"
        );
    }
}

#[test]
fn abrupt_disconnect_is_reported_as_1006() {
    for (name, server) in servers() {
        for path in ["/drop", "/drop?rst=1"] {
            let mut c = Client::connect(&server.url(path), &[]);
            c.open();
            c.ctx.send_text(c.conn, "trigger").unwrap();
            assert_eq!(c.closed(), (1006, String::new(), false), "{name} {path}");
            assert!(c.ctx.send_text(c.conn, "after").is_err());
            assert_eq!(c.ctx.connection_count(), 0, "{name}: slot freed");
        }
    }
}

#[test]
fn many_messages_from_the_server() {
    for (name, server) in servers() {
        let mut c = Client::connect(&server.url("/send?size=1000&type=text&count=500"), &[]);
        c.open();
        c.until("500 messages", |got| got.len() >= 500);
        let expected: String = (0..1000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        assert!(
            c.take().iter().all(|g| *g == Got::Text(expected.clone())),
            "{name}"
        );
    }
}
