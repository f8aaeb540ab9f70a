//! 1,000 concurrent client connections to one server: ordered echoes, clean closes, no leaks.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Ev, Recorder, listen, url};
use wskit::net::{ConnId, ConnectOptions, Context, Error, Handler, ListenOptions, Message, OpenInfo};
use wskit::proto::CloseInfo;

const CLIENTS: usize = 1000;
const MESSAGES: usize = 10;

/// Makes sure the process may hold ~2 fds per connection on each side plus slack.
fn ensure_fd_limit(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    if limit.rlim_cur >= needed {
        return;
    }
    assert!(
        limit.rlim_max >= needed,
        "fd hard limit {} is below the {needed} this test needs",
        limit.rlim_max
    );
    limit.rlim_cur = needed;
    // SAFETY: setrlimit reads the struct we pass.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

#[derive(Default)]
struct Clients {
    received: HashMap<ConnId, Vec<String>>,
    opened: usize,
    closes: Vec<(ConnId, u16, bool)>,
    errors: Vec<String>,
}

impl Handler for Clients {
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, _info: &OpenInfo<'_>) {
        self.opened += 1;
        for seq in 0..MESSAGES {
            ctx.send_text(conn, &format!("{}-{seq}", conn.as_u64())).unwrap();
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let Message::Text(text) = message else {
            panic!("binary echo")
        };
        let got = self.received.entry(conn).or_default();
        got.push(text.to_owned());
        if got.len() == MESSAGES {
            ctx.close(conn, 1000, "done").unwrap();
        }
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        self.closes.push((conn, info.code, info.clean));
    }

    fn on_error(&mut self, _ctx: &mut Context, conn: Option<ConnId>, error: &Error) {
        self.errors.push(format!("{conn:?}: {error}"));
    }
}

#[test]
fn thousand_clients_echo_in_order_and_close_cleanly() {
    ensure_fd_limit(2 * CLIENTS as u64 + 200);
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let (_, addr) = listen(&mut s, &mut sh, ListenOptions::default());
    let mut c = Context::new().unwrap();
    let mut ch = Clients::default();
    let target = url(addr, "/many");
    let ids: Vec<ConnId> = (0..CLIENTS)
        .map(|_| c.connect(&target, ConnectOptions::default()).unwrap())
        .collect();
    assert_eq!(c.connection_count(), CLIENTS);
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(30),
        "every client closed",
        |s, sh, c, ch| {
            ch.closes.len() == CLIENTS
                && sh.closed.len() == CLIENTS
                && s.connection_count() == 0
                && c.connection_count() == 0
        },
    );
    assert!(
        ch.errors.is_empty(),
        "client errors: {:?}",
        &ch.errors[..ch.errors.len().min(5)]
    );
    assert_eq!(ch.opened, CLIENTS);
    for id in &ids {
        let want: Vec<String> = (0..MESSAGES)
            .map(|seq| format!("{}-{seq}", id.as_u64()))
            .collect();
        assert_eq!(ch.received.get(id), Some(&want), "echoes of {id}");
    }
    let mut closed: Vec<ConnId> = ch.closes.iter().map(|c| c.0).collect();
    closed.sort();
    closed.dedup();
    assert_eq!(closed.len(), CLIENTS, "exactly one on_close per client");
    assert!(
        ch.closes.iter().all(|&(_, code, clean)| code == 1000 && clean),
        "client closes: {:?}",
        ch.closes.iter().find(|c| c.1 != 1000 || !c.2)
    );
    let server_closes: Vec<_> = sh
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Close {
                conn,
                code,
                clean,
                reason,
                ..
            } => Some((*conn, *code, *clean, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(server_closes.len(), CLIENTS, "one on_close per server connection");
    assert!(
        server_closes
            .iter()
            .all(|(_, code, clean, reason)| *code == 1000 && *clean && reason == "done"),
        "server closes: {:?}",
        server_closes.iter().find(|c| c.1 != 1000 || !c.2)
    );
    assert_eq!(
        sh.events.iter().filter(|e| matches!(e, Ev::Msg { .. })).count(),
        CLIENTS * MESSAGES
    );
    assert!(
        !sh.events.iter().any(|e| matches!(e, Ev::Error(..))),
        "server errors"
    );
    assert_eq!(s.connection_count(), 0);
    assert_eq!(c.connection_count(), 0);
}

/// Idle connections must not keep their expired handshake deadlines: once stale timer entries are
/// most of the heap they are dropped (16 bytes each, 10k idle connections = 160 KB otherwise).
#[test]
fn stale_handshake_timers_are_dropped_once_connections_open() {
    const IDLE: usize = 600;
    ensure_fd_limit(2 * IDLE as u64 + 200);
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    let (_, addr) = listen(&mut s, &mut sh, ListenOptions::default());
    let mut c = Context::new().unwrap();
    let mut ch = wskit::net::NoHandler;
    for _ in 0..IDLE {
        c.connect(&url(addr, "/"), ConnectOptions::default()).unwrap();
    }
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(20),
        "all open",
        |_, sh, _, _| sh.opens(wskit::proto::Role::Server).len() == IDLE,
    );
    assert_eq!(s.connection_count(), IDLE);
    assert!(
        s.timer_entries() < IDLE,
        "{} timer entries kept for {IDLE} open connections",
        s.timer_entries()
    );
}
