//! Reconnecting client: sends COUNT text messages to an echo server that may not be up yet, or
//! may go away and come back, and exits once every message was echoed.
//!
//!     cargo run --release --example reconnect_client -- ws://127.0.0.1:9001/ 5
//!     cargo run --release --example echo_server       # now, or kill and restart it meanwhile
//!
//! Reconnect is on (`ConnectOptions::reconnect`: 100 ms .. 2 s with full jitter, at most 40
//! attempts in a row) with an offline queue of 64 KiB: the messages sent before the first open go
//! out, in order, right after it. `on_reconnect` prints each attempt (and could return
//! `ReconnectDecision::Delay` or `Stop`); messages in flight when the connection dropped are sent
//! again on the first attempt, so every message gets its echo. Exit status 0 when all came back.

use std::time::Duration;

use wskit::net::{
    ConnId, ConnectOptions, Context, Handler, Message, OpenInfo, ReconnectDecision, ReconnectEvent,
    ReconnectOptions, UndeliveredReason,
};
use wskit::proto::CloseInfo;

struct Client {
    count: usize,
    echoed: usize,
    done: bool,
}

impl Client {
    fn send_from(&self, ctx: &mut Context, conn: ConnId, first: usize) {
        for i in first..self.count {
            if let Err(err) = ctx.send_text(conn, &format!("message {}", i + 1)) {
                eprintln!("reconnect_client: send: {err}");
            }
        }
    }
}

impl Handler for Client {
    fn on_open(&mut self, _ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        println!("open ({conn:?})");
    }

    fn on_reconnect(
        &mut self,
        ctx: &mut Context,
        conn: ConnId,
        event: &ReconnectEvent<'_>,
    ) -> ReconnectDecision {
        println!(
            "reconnect: attempt {} in {} ms ({})",
            event.attempt,
            event.delay.as_millis(),
            event.error
        );
        let queued = ctx.reconnect_state(conn).map_or(0, |s| s.queued_messages);
        if event.attempt == 1 && queued == 0 {
            // What was in flight went down with the connection: queue it again.
            self.send_from(ctx, conn, self.echoed);
        }
        ReconnectDecision::Proceed
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        println!("echo: {}", String::from_utf8_lossy(message.as_bytes()));
        self.echoed += 1;
        if self.echoed == self.count {
            let _ = ctx.close(conn, 1000, "done");
        }
    }

    fn on_undelivered(
        &mut self,
        _ctx: &mut Context,
        _conn: ConnId,
        message: Message<'_>,
        reason: UndeliveredReason,
    ) {
        println!(
            "undelivered ({reason:?}): {}",
            String::from_utf8_lossy(message.as_bytes())
        );
    }

    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        println!("closed {}", info.code);
        self.done = true;
    }
}

fn main() -> wskit::net::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    let count = args.next().and_then(|n| n.parse().ok()).unwrap_or(3);
    let mut ctx = Context::new()?;
    let options = ConnectOptions {
        reconnect: Some(ReconnectOptions {
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_attempts: Some(40),
            offline_queue_bytes: 64 << 10,
            ..ReconnectOptions::default()
        }),
        ..ConnectOptions::default()
    };
    let conn = ctx.connect(&url, options)?;
    let mut client = Client {
        count,
        echoed: 0,
        done: false,
    };
    // Not open yet: queued, written right after the open.
    client.send_from(&mut ctx, conn, 0);
    while !client.done {
        ctx.poll(&mut client, Some(Duration::from_millis(100)))?;
    }
    std::process::exit(if client.echoed == client.count { 0 } else { 1 });
}
