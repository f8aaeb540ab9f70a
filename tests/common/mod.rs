//! Shared helpers of the `net_*` end-to-end tests: a recording handler, poll loops with deadlines,
//! and a raw-TCP WebSocket peer for tests that need to misbehave.
#![allow(dead_code)]

pub mod examples;

use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use wskit::net::{
    AcceptRequest, ConnId, ConnectOptions, Context, Decision, Error, Handler, ListenOptions, ListenerId,
    Message, OpenInfo,
};
use wskit::proto::handshake::HandshakeError;
use wskit::proto::{CloseInfo, ProtocolError, Role};

/// An owned copy of an `Error` (which is not `Clone`), keeping what tests match on.
#[derive(Debug, Clone, PartialEq)]
pub enum Err {
    Handshake(HandshakeError),
    Protocol(ProtocolError),
    Timeout(&'static str),
    Connect(String),
    NotFound,
    /// A remote send dropped for `max_buffered`, with its size.
    QueueFull(usize),
    Other(String),
}

impl From<&Error> for Err {
    fn from(err: &Error) -> Self {
        match err {
            Error::Handshake(e) => Err::Handshake(e.clone()),
            Error::Protocol(e) => Err::Protocol(*e),
            Error::Timeout(what) => Err::Timeout(what),
            Error::Connect(what) => Err::Connect(what.clone()),
            Error::NotFound => Err::NotFound,
            Error::QueueFull { dropped } => Err::QueueFull(*dropped),
            other => Err::Other(format!("{other:?}")),
        }
    }
}

/// Every handler call, owned.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Listen(ListenerId, SocketAddr),
    Accept {
        conn: ConnId,
        path: String,
        origin: Option<String>,
        subprotocols: Vec<String>,
        authorization: Option<String>,
    },
    Open {
        conn: ConnId,
        role: Role,
        subprotocol: Option<String>,
        /// `ctx.subprotocol(conn)` as seen inside `on_open`.
        ctx_subprotocol: Option<String>,
        path: String,
    },
    Msg {
        conn: ConnId,
        text: bool,
        data: Vec<u8>,
    },
    Ping(ConnId, Vec<u8>),
    Pong(ConnId, Vec<u8>),
    Writable(ConnId),
    Close {
        conn: ConnId,
        code: u16,
        reason: String,
        clean: bool,
        local: bool,
    },
    Error(Option<ConnId>, Err),
}

impl Ev {
    pub fn conn(&self) -> Option<ConnId> {
        match self {
            Ev::Listen(..) => None,
            Ev::Accept { conn, .. }
            | Ev::Open { conn, .. }
            | Ev::Msg { conn, .. }
            | Ev::Ping(conn, _)
            | Ev::Pong(conn, _)
            | Ev::Writable(conn)
            | Ev::Close { conn, .. } => Some(*conn),
            Ev::Error(conn, _) => *conn,
        }
    }
}

type AcceptFn = Box<dyn FnMut(&AcceptRequest<'_>) -> Decision + Send>;
/// Decides upgrades with the context at hand (instead of `accept`).
pub type AcceptCtxFn = Box<dyn FnMut(&mut Context, &AcceptRequest<'_>) -> Decision + Send>;
/// Runs inside `on_open` after the event is recorded.
pub type OpenHook = Box<dyn FnMut(&mut Context, ConnId, Role) + Send>;
/// Runs inside `on_message` after the event is recorded (instead of the echo).
pub type MessageHook = Box<dyn FnMut(&mut Context, ConnId, &[u8]) + Send>;

/// A handler that records every event, optionally echoes messages received on server connections,
/// and optionally decides upgrades with a closure.
#[derive(Default)]
pub struct Recorder {
    pub events: Vec<Ev>,
    /// Echo every message that arrives on a server-role connection.
    pub echo: bool,
    pub accept: Option<AcceptFn>,
    pub accept_ctx: Option<AcceptCtxFn>,
    /// `ctx.user_data(conn)` as seen inside each `on_close`, in order.
    pub close_user_data: Vec<(ConnId, Option<u64>)>,
    pub on_open: Option<OpenHook>,
    pub on_message: Option<MessageHook>,
    pub roles: HashMap<ConnId, Role>,
    pub closed: HashSet<ConnId>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn echoing() -> Self {
        Self {
            echo: true,
            ..Self::default()
        }
    }

    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.events.iter().find_map(|e| match e {
            Ev::Listen(_, addr) => Some(*addr),
            _ => None,
        })
    }

    pub fn opens(&self, role: Role) -> Vec<ConnId> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Open { conn, role: r, .. } if *r == role => Some(*conn),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&self, conn: ConnId) -> Vec<(bool, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Msg { conn: c, text, data } if *c == conn => Some((*text, data.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn closes(&self, conn: ConnId) -> Vec<(u16, String, bool, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Close {
                    conn: c,
                    code,
                    reason,
                    clean,
                    local,
                } if *c == conn => Some((*code, reason.clone(), *clean, *local)),
                _ => None,
            })
            .collect()
    }

    pub fn errors(&self, conn: ConnId) -> Vec<Err> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Error(Some(c), err) if *c == conn => Some(err.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn events_of(&self, conn: ConnId) -> Vec<Ev> {
        self.events
            .iter()
            .filter(|e| e.conn() == Some(conn))
            .cloned()
            .collect()
    }

    pub fn is_closed(&self, conn: ConnId) -> bool {
        self.closed.contains(&conn)
    }
}

impl Handler for Recorder {
    fn on_listen(&mut self, _ctx: &mut Context, listener: ListenerId, addr: SocketAddr) {
        self.events.push(Ev::Listen(listener, addr));
    }

    fn on_accept(&mut self, ctx: &mut Context, request: &AcceptRequest<'_>) -> Decision {
        self.events.push(Ev::Accept {
            conn: request.conn,
            path: request.request.path.clone(),
            origin: request.request.origin.clone(),
            subprotocols: request.request.subprotocols.clone(),
            authorization: request.header("authorization").map(str::to_owned),
        });
        if let Some(decide) = self.accept_ctx.as_mut() {
            return decide(ctx, request);
        }
        match self.accept.as_mut() {
            Some(decide) => decide(request),
            None => Decision::accept(),
        }
    }

    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        self.roles.insert(conn, info.role);
        let ctx_subprotocol = ctx.subprotocol(conn).ok().flatten().map(str::to_owned);
        self.events.push(Ev::Open {
            conn,
            role: info.role,
            subprotocol: info.subprotocol.map(str::to_owned),
            ctx_subprotocol,
            path: info.path.to_owned(),
        });
        if let Some(hook) = self.on_open.as_mut() {
            hook(ctx, conn, info.role);
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        self.events.push(Ev::Msg {
            conn,
            text: matches!(message, Message::Text(_)),
            data: message.as_bytes().to_vec(),
        });
        if let Some(hook) = self.on_message.as_mut() {
            hook(ctx, conn, message.as_bytes());
        } else if self.echo && self.roles.get(&conn) == Some(&Role::Server) {
            ctx.send(conn, message.kind(), message.as_bytes())
                .expect("echo send");
        }
    }

    fn on_ping(&mut self, _ctx: &mut Context, conn: ConnId, payload: &[u8]) {
        self.events.push(Ev::Ping(conn, payload.to_vec()));
    }

    fn on_pong(&mut self, _ctx: &mut Context, conn: ConnId, payload: &[u8]) {
        self.events.push(Ev::Pong(conn, payload.to_vec()));
    }

    fn on_writable(&mut self, _ctx: &mut Context, conn: ConnId) {
        self.events.push(Ev::Writable(conn));
    }

    fn on_close(&mut self, ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        self.closed.insert(conn);
        self.close_user_data.push((conn, ctx.user_data(conn).ok()));
        self.events.push(Ev::Close {
            conn,
            code: info.code,
            reason: info.reason.to_owned(),
            clean: info.clean,
            local: info.initiated_locally,
        });
    }

    fn on_error(&mut self, _ctx: &mut Context, conn: Option<ConnId>, error: &Error) {
        self.events.push(Ev::Error(conn, error.into()));
    }
}

pub const TICK: Duration = Duration::from_millis(2);

/// Polls one context until `done` holds, failing the test with `what` after `timeout`.
pub fn pump<H: Handler>(
    ctx: &mut Context,
    handler: &mut H,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&mut Context, &mut H) -> bool,
) {
    let end = Instant::now() + timeout;
    loop {
        if done(ctx, handler) {
            return;
        }
        assert!(
            Instant::now() < end,
            "timed out after {timeout:?} waiting for: {what}"
        );
        ctx.poll(handler, Some(TICK)).expect("poll");
    }
}

/// Polls two contexts in turn until `done` holds, failing the test with `what` after `timeout`.
pub fn pump2<A: Handler, B: Handler>(
    a: &mut Context,
    ha: &mut A,
    b: &mut Context,
    hb: &mut B,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&mut Context, &mut A, &mut Context, &mut B) -> bool,
) {
    let end = Instant::now() + timeout;
    loop {
        if done(a, ha, b, hb) {
            return;
        }
        assert!(
            Instant::now() < end,
            "timed out after {timeout:?} waiting for: {what}"
        );
        a.poll(ha, Some(Duration::ZERO)).expect("poll a");
        b.poll(hb, Some(Duration::from_millis(1))).expect("poll b");
    }
}

/// Listens on 127.0.0.1:0 and polls until `on_listen` reports the address.
pub fn listen<H: Handler>(
    ctx: &mut Context,
    handler: &mut H,
    options: ListenOptions,
) -> (ListenerId, SocketAddr) {
    let id = ctx.listen("127.0.0.1:0", options).expect("listen");
    let addr = ctx.local_addr(id).expect("local_addr");
    ctx.poll(handler, Some(Duration::ZERO)).expect("poll");
    (id, addr)
}

pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

pub fn big_limits(options: &mut wskit::net::ConnectionOptions) {
    options.protocol.max_message_size = 32 << 20;
    options.protocol.max_frame_size = 32 << 20;
    options.max_buffered = 128 << 20;
}

pub fn connect_options() -> ConnectOptions {
    ConnectOptions::default()
}

// ----- a raw WebSocket peer over std TCP ------------------------------------------------------------

/// A valid upgrade request for `path` at `addr`.
pub fn upgrade_request(addr: SocketAddr, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Reads until the end of an HTTP header block (`\r\n\r\n`); returns the head and any bytes after.
/// The stream must have a read timeout or be driven by a peer that answers.
pub fn read_http_head(stream: &mut TcpStream, deadline: Instant) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(pos + 4);
            return (String::from_utf8_lossy(&buf).into_owned(), rest);
        }
        assert!(Instant::now() < deadline, "timed out reading an HTTP head");
        match stream.read(&mut chunk) {
            Ok(0) => panic!(
                "EOF before the end of the HTTP head: {:?}",
                String::from_utf8_lossy(&buf)
            ),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// A raw client that completed the opening handshake with a server in `ctx` (polled meanwhile).
/// Returns the stream (blocking, 10 ms read timeout), any bytes after the 101 head, and the server's
/// id of the connection.
pub fn raw_client<H: Handler>(ctx: &mut Context, handler: &mut H, addr: SocketAddr) -> (TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("raw connect");
    stream.set_nodelay(true).unwrap();
    stream
        .write_all(upgrade_request(addr, "/raw").as_bytes())
        .unwrap();
    stream.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(pos + 4);
            let head = String::from_utf8_lossy(&buf).into_owned();
            assert!(head.starts_with("HTTP/1.1 101"), "expected 101, got {head:?}");
            assert!(
                head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                "wrong accept key in {head:?}"
            );
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
            return (stream, rest);
        }
        assert!(Instant::now() < deadline, "timed out waiting for the 101");
        ctx.poll(handler, Some(TICK)).expect("poll");
        match stream.read(&mut chunk) {
            Ok(0) => panic!("EOF during the handshake"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("raw read: {e}"),
        }
    }
}

/// Reads one unmasked server frame from a blocking stream: (opcode, payload). `buf` holds what was
/// read past it. Panics on EOF, a read error, a masked or a fragmented frame.
pub fn read_server_frame(stream: &mut TcpStream, buf: &mut Vec<u8>) -> (u8, Vec<u8>) {
    let mut chunk = vec![0u8; 256 << 10];
    loop {
        if buf.len() >= 2 {
            assert_eq!(buf[1] & 0x80, 0, "server frames are not masked");
            let (len, head) = match buf[1] & 0x7F {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize, 10),
                126 | 127 => (usize::MAX, 0),
                n => (n as usize, 2),
            };
            if len != usize::MAX && buf.len() >= head + len {
                assert_ne!(buf[0] & 0x80, 0, "the servers here send whole messages");
                let opcode = buf[0] & 0x0F;
                let payload = buf[head..head + len].to_vec();
                buf.drain(..head + len);
                return (opcode, payload);
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => panic!("EOF while reading a frame"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// A masked client frame.
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(fin, opcode, payload.len(), true);
    let key = [0x12u8, 0x34, 0x56, 0x78];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// An unmasked frame (as a server sends, or a misbehaving client).
pub fn unmasked_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(fin, opcode, payload.len(), false);
    out.extend_from_slice(payload);
    out
}

fn frame_header(fin: bool, opcode: u8, len: usize, masked: bool) -> Vec<u8> {
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
    let mask = if masked { 0x80 } else { 0 };
    if len < 126 {
        out.push(mask | len as u8);
    } else if len <= 0xFFFF {
        out.push(mask | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out
}

/// Incremental parser of unmasked (server) frames.
#[derive(Default)]
pub struct FrameReader {
    pub buf: Vec<u8>,
}

/// One parsed frame: (fin, opcode, payload).
pub type Frame = (bool, u8, Vec<u8>);

impl FrameReader {
    pub fn with(initial: Vec<u8>) -> Self {
        Self { buf: initial }
    }

    /// Takes one complete frame from the buffer, if there is one.
    pub fn next_frame(&mut self) -> Option<Frame> {
        let b = &self.buf;
        if b.len() < 2 {
            return None;
        }
        assert_eq!(b[1] & 0x80, 0, "server frames must not be masked");
        let (len, head) = match b[1] & 0x7F {
            126 => {
                if b.len() < 4 {
                    return None;
                }
                (u16::from_be_bytes([b[2], b[3]]) as usize, 4)
            }
            127 => {
                if b.len() < 10 {
                    return None;
                }
                (u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize, 10)
            }
            n => (n as usize, 2),
        };
        if b.len() < head + len {
            return None;
        }
        let frame = (b[0] & 0x80 != 0, b[0] & 0x0F, b[head..head + len].to_vec());
        self.buf.drain(..head + len);
        Some(frame)
    }

    /// Reads from `stream` (which must have a read timeout) until a frame is complete, polling `ctx`
    /// in between so the server keeps running.
    pub fn read_frame<H: Handler>(
        &mut self,
        stream: &mut TcpStream,
        ctx: &mut Context,
        handler: &mut H,
        timeout: Duration,
    ) -> Frame {
        let end = Instant::now() + timeout;
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            if let Some(frame) = self.next_frame() {
                return frame;
            }
            assert!(Instant::now() < end, "timed out reading a frame");
            ctx.poll(handler, Some(Duration::ZERO)).expect("poll");
            match stream.read(&mut chunk) {
                Ok(0) => panic!("EOF while waiting for a frame"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("raw read: {e}"),
            }
        }
    }
}

/// Waits (polling `ctx`) until `stream` reports EOF (or a reset); returns how long it took.
/// Data read on the way is returned too.
pub fn wait_eof<H: Handler>(
    stream: &mut TcpStream,
    ctx: &mut Context,
    handler: &mut H,
    timeout: Duration,
) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    stream.set_nonblocking(true).unwrap();
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return (start.elapsed(), data),
            Ok(n) => data.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (start.elapsed(), data),
            Err(e) => panic!("raw read: {e}"),
        }
        assert!(
            start.elapsed() < timeout,
            "the server did not close the raw socket within {timeout:?}"
        );
        ctx.poll(handler, Some(TICK)).expect("poll");
    }
}

// ----- a server context and a client context, one connection open between them -------------------

/// A server `Context` and a client `Context` (both recording), with one client connection.
pub struct Pair {
    pub s: Context,
    pub sh: Recorder,
    pub c: Context,
    pub ch: Recorder,
    pub addr: SocketAddr,
    /// The client's id of the connection.
    pub cid: ConnId,
    /// The server's id of the connection (valid once open).
    pub sid: ConnId,
}

impl Pair {
    /// Listens with `listen`, connects with `connect`, and waits until both sides are open.
    pub fn open(listen_options: ListenOptions, connect: ConnectOptions) -> Pair {
        let mut pair = Pair::start(listen_options, Recorder::echoing());
        pair.connect(connect);
        pair.pump("both sides open", |p| {
            !p.sh.opens(Role::Server).is_empty() && p.ch.opens(Role::Client).contains(&p.cid)
        });
        pair.sid = pair.sh.opens(Role::Server)[0];
        pair
    }

    /// A listening server and an idle client context; no connection yet.
    pub fn start(listen_options: ListenOptions, server_handler: Recorder) -> Pair {
        let mut s = Context::new().expect("server context");
        let mut sh = server_handler;
        let (_, addr) = listen(&mut s, &mut sh, listen_options);
        Pair {
            s,
            sh,
            c: Context::new().expect("client context"),
            ch: Recorder::new(),
            addr,
            cid: ConnId::from_u64(0),
            sid: ConnId::from_u64(0),
        }
    }

    pub fn connect(&mut self, options: ConnectOptions) -> ConnId {
        self.cid = self
            .c
            .connect(&url(self.addr, "/test?x=1"), options)
            .expect("connect");
        self.cid
    }

    /// Polls both contexts until `done` holds (10 s at most).
    pub fn pump(&mut self, what: &str, done: impl FnMut(&mut Pair) -> bool) {
        self.pump_for(Duration::from_secs(10), what, done)
    }

    pub fn pump_for(&mut self, timeout: Duration, what: &str, mut done: impl FnMut(&mut Pair) -> bool) {
        let end = Instant::now() + timeout;
        loop {
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < end,
                "timed out after {timeout:?} waiting for: {what}"
            );
            self.s
                .poll(&mut self.sh, Some(Duration::ZERO))
                .expect("server poll");
            self.c
                .poll(&mut self.ch, Some(Duration::from_millis(1)))
                .expect("client poll");
        }
    }

    /// Polls until both contexts hold no connection.
    pub fn drain(&mut self) {
        self.pump("both contexts empty", |p| {
            p.s.connection_count() == 0 && p.c.connection_count() == 0
        });
    }
}
