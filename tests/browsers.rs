//! The wskit server against real browsers: headless Chromium and Firefox ESR, driven over
//! WebDriver by `tests/browser/webdriver.py` (standard-library Python), running the page
//! `tests/browser/echo_test.html` with the browser's own `WebSocket`.
//!
//! Needs `scripts/setup-browsers.sh` (Chromium, chromedriver, Firefox ESR, geckodriver); a missing
//! browser or driver fails the test with a message saying so. Each browser run takes a few seconds
//! and is killed after 75 s.

#[path = "../examples/support/echo_handler.rs"]
mod echo_handler;
#[path = "browser/support.rs"]
mod support;

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use echo_handler::Echo;
use support::{Browser, repo, run_script};
use wskit::net::{AcceptRequest, ConnId, Context, Decision, Error, Handler, Message, OpenInfo, Remote};
use wskit::proto::{CloseInfo, DeflateParams};

/// What the server saw of one connection.
#[derive(Debug, Clone, Default)]
struct ConnRecord {
    path: String,
    subprotocol: Option<String>,
    /// The permessage-deflate parameters agreed on (`OpenInfo::deflate`).
    deflate: Option<DeflateParams>,
    origin: Option<String>,
    messages: usize,
    pongs: Vec<Vec<u8>>,
    errors: Vec<String>,
    /// (code, reason, clean, initiated_locally) from `on_close`.
    close: Option<(u16, String, bool, bool)>,
}

type Records = Arc<Mutex<Vec<(ConnId, ConnRecord)>>>;

/// The echo handler, plus a record of every connection's events.
struct Recorder {
    echo: Echo,
    records: Records,
}

impl Recorder {
    fn with(&self, conn: ConnId, f: impl FnOnce(&mut ConnRecord)) {
        let mut records = self.records.lock().unwrap();
        match records.iter_mut().find(|(id, _)| *id == conn) {
            Some((_, record)) => f(record),
            None => {
                let mut record = ConnRecord::default();
                f(&mut record);
                records.push((conn, record));
            }
        }
    }
}

impl Handler for Recorder {
    fn on_accept(&mut self, ctx: &mut Context, request: &AcceptRequest<'_>) -> Decision {
        self.echo.on_accept(ctx, request)
    }

    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        let origin = info
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("origin"))
            .map(|(_, value)| value.clone());
        self.with(conn, |r| {
            r.path = info.path.to_string();
            r.subprotocol = info.subprotocol.map(str::to_string);
            r.deflate = info.deflate;
            r.origin = origin;
        });
        self.echo.on_open(ctx, conn, info);
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        self.with(conn, |r| r.messages += 1);
        self.echo.on_message(ctx, conn, message);
    }

    fn on_pong(&mut self, _ctx: &mut Context, conn: ConnId, payload: &[u8]) {
        self.with(conn, |r| r.pongs.push(payload.to_vec()));
    }

    fn on_error(&mut self, _ctx: &mut Context, conn: Option<ConnId>, error: &Error) {
        match conn {
            Some(conn) => self.with(conn, |r| r.errors.push(error.to_string())),
            None => eprintln!("server error: {error}"),
        }
    }

    fn on_close(&mut self, ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        self.with(conn, |r| {
            r.close = Some((
                info.code,
                info.reason.to_string(),
                info.clean,
                info.initiated_locally,
            ));
        });
        self.echo.on_close(ctx, conn, info);
    }
}

/// A wskit echo server with a [`Recorder`] on its own thread; stopped on drop.
struct Server {
    port: u16,
    records: Records,
    remote: Remote,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start() -> Self {
        let records = Records::default();
        let (tx, rx) = mpsc::channel();
        let thread_records = records.clone();
        let thread = std::thread::spawn(move || {
            let mut ctx = Context::new().expect("context");
            let listener = ctx
                .listen("127.0.0.1:0", echo_handler::echo_listen_options())
                .expect("listen");
            let port = ctx.local_addr(listener).expect("bound").port();
            tx.send((port, ctx.remote())).expect("report port");
            let mut recorder = Recorder {
                echo: Echo::default(),
                records: thread_records,
            };
            ctx.run(&mut recorder).expect("run");
        });
        let (port, remote) = rx.recv_timeout(Duration::from_secs(10)).expect("server started");
        Self {
            port,
            records,
            remote,
            thread: Some(thread),
        }
    }

    /// The record of the connection to `path`, once it has closed (waits up to 10 s).
    fn closed(&self, path: &str) -> ConnRecord {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .records
                .lock()
                .unwrap()
                .iter()
                .find(|(_, r)| r.path == path)
                .map(|(_, r)| r.clone());
            match found {
                Some(record) if record.close.is_some() => return record,
                _ if Instant::now() > deadline => {
                    panic!(
                        "the server saw no close of {path} within 10 s: {:?}",
                        self.records.lock().unwrap()
                    )
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.remote.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs the page in `browser` through the WebDriver script; returns the page's JSON result.
fn run_page(browser: Browser, url: &str) -> String {
    let args = ["--browser", browser.name(), "--url", url, "--timeout", "50"].map(String::from);
    run_script(
        browser,
        "tests/browser/webdriver.py",
        &args,
        &[],
        Duration::from_secs(75),
    )
}

/// One browser run at a time: two browsers plus 1 MiB messages at once are slow on a small machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn check_browser(browser: Browser) {
    browser.check_installed();
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let page = repo().join("tests/browser/echo_test.html");
    let url = format!("file://{}?ws=ws://127.0.0.1:{}/", page.display(), server.port);
    let result = run_page(browser, &url);
    eprintln!("{browser:?} result: {result}");

    // The page's own verdict: every echo byte-for-byte, subprotocol, both close events.
    let has = |needle: &str| {
        assert!(
            result.contains(needle),
            "{browser:?}: page result lacks {needle}:\n{result}"
        );
    };
    has(r#""ok":true"#);
    has(r#""protocol":"chat.v2""#);
    // The browser's view of the negotiated extension (ws.extensions: Chromium gives the whole
    // response element, Firefox the name), and its offer.
    match browser {
        Browser::Chromium => has(
            r#""extensions":"permessage-deflate; server_no_context_takeover; client_no_context_takeover""#,
        ),
        Browser::Firefox => has(r#""extensions":"permessage-deflate""#),
    }
    has(r#""offeredExtensions":"permessage-deflate"#);
    has(r#""protocolWithoutOffer":"""#);
    has(r#""close":{"code":4000,"#);
    has(r#""serverClose":{"code":4001,"reason":"server-done","wasClean":true}"#);
    has(r#""errors":[]"#);
    // 4 + 7 texts, 10 + 3 binaries, 100 pipelined, the echo after the server's ping.
    has(r#""checked":125,"#);
    let close = &result[result.find(r#""close":{"#).unwrap()..];
    let close = &close[..close.find('}').unwrap()];
    assert!(
        close.ends_with(r#""wasClean":true"#),
        "{browser:?}: browser close not clean: {close}"
    );

    // What the server saw: the browser's close code and reason, a clean closing handshake.
    let main = server.closed("/main");
    assert_eq!(main.subprotocol.as_deref(), Some("chat.v2"), "{main:?}");
    let deflate = main
        .deflate
        .expect("permessage-deflate negotiated with the browser");
    assert!(
        deflate.server_no_context_takeover && deflate.client_no_context_takeover,
        "{browser:?}: {deflate:?}"
    );
    assert_eq!(
        main.close,
        Some((4000, "browser says bye".to_string(), true, false)),
        "{browser:?}: server's on_close for the browser-initiated close: {main:?}"
    );
    assert_eq!(
        main.pongs,
        vec![b"browser-ping".to_vec()],
        "{browser:?}: the browser's pong to the server's ping"
    );
    assert!(main.errors.is_empty(), "{browser:?}: {main:?}");
    let origin = main.origin.as_deref().unwrap_or("(none)");
    eprintln!("{browser:?}: Origin of a file:// page: {origin}");

    let second = server.closed("/server-close");
    assert_eq!(second.subprotocol, None, "{second:?}");
    let (code, _reason, clean, initiated_locally) = second.close.clone().unwrap();
    assert!(
        clean && initiated_locally && code == 4001,
        "{browser:?}: server-initiated close as the server saw it: {second:?}"
    );
    assert!(second.errors.is_empty(), "{browser:?}: {second:?}");
}

#[test]
fn chromium_echoes_closes_and_negotiates_with_wskit() {
    check_browser(Browser::Chromium);
}

#[test]
fn firefox_echoes_closes_and_negotiates_with_wskit() {
    check_browser(Browser::Firefox);
}
