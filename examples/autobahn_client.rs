//! Autobahn TestSuite client driver: runs every case of a `wstest -m fuzzingserver`, echoing each
//! message, then asks the server to write its report.
//!
//!     cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 wskit
//!
//! Limits are raised to what the suite sends (16 MiB messages, 64 Ki fragments); library defaults
//! stay safe.

use std::time::{Duration, Instant};

use wskit::net::{ConnId, ConnectOptions, Context, Handler, Message};
use wskit::proto::CloseInfo;

/// One case: its own connection, so a close or a message of any other connection never ends it.
struct Case {
    conn: ConnId,
    closed: bool,
    last_text: Option<String>,
}

impl Handler for Case {
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        if conn != self.conn {
            return;
        }
        if let Message::Text(text) = message {
            self.last_text = Some(text.to_owned());
        }
        // Errors are expected in cases that provoke them; the case goes on to the close.
        let _ = ctx.send(conn, message.kind(), message.as_bytes());
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, _info: &CloseInfo<'_>) {
        self.closed |= conn == self.conn;
    }
}

/// How long one case may run. The suite's slowest cases (12.*/13.* with 128 KiB messages) take
/// minutes on a busy machine; the suite itself fails a case that stalls.
const CASE_LIMIT: Duration = Duration::from_secs(600);

/// Connects to `url`, echoes until the connection closes, returns the last text. A case still
/// open after [`CASE_LIMIT`] is aborted (and reported), never left running beside the next one.
fn run(ctx: &mut Context, url: &str) -> Option<String> {
    let mut options = ConnectOptions::default();
    options.connection.protocol.max_message_size = 64 << 20;
    options.connection.protocol.max_frame_size = 64 << 20;
    options.connection.max_buffered = 128 << 20;
    let conn = match ctx.connect(url, options) {
        Ok(conn) => conn,
        Err(err) => {
            eprintln!("autobahn_client: {url}: {err}");
            return None;
        }
    };
    let mut case = Case {
        conn,
        closed: false,
        last_text: None,
    };
    let deadline = Instant::now() + CASE_LIMIT;
    while !case.closed {
        if Instant::now() >= deadline {
            eprintln!("autobahn_client: {url}: still open after {CASE_LIMIT:?}; aborted");
            if ctx.abort(conn).is_err() {
                break; // already gone: its close was reported
            }
        }
        if let Err(err) = ctx.poll(&mut case, Some(Duration::from_millis(100))) {
            eprintln!("autobahn_client: {err}");
            break;
        }
    }
    case.last_text
}

fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "wskit".into());
    let mut ctx = Context::new().expect("event loop");
    let count: u32 = run(&mut ctx, &format!("{base}/getCaseCount"))
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| {
            eprintln!("autobahn_client: could not read the case count from {base}");
            std::process::exit(2);
        });
    println!("autobahn_client: {count} cases");
    for case in 1..=count {
        run(&mut ctx, &format!("{base}/runCase?case={case}&agent={agent}"));
    }
    run(&mut ctx, &format!("{base}/updateReports?agent={agent}"));
    println!("autobahn_client: done");
}
