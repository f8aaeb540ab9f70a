//! `Remote`: other threads send through the loop; everything arrives, in order per thread.

mod common;

use std::thread;
use std::time::Duration;

use common::{Ev, Pair};
use wskit::net::{ConnId, ConnectOptions, Error, ListenOptions, Remote};

const THREADS: usize = 4;
const PER_THREAD: usize = 10_000;

fn spawn_senders(remote: &Remote, conn: ConnId) -> Vec<thread::JoinHandle<()>> {
    (0..THREADS)
        .map(|t| {
            let remote = remote.clone();
            thread::spawn(move || {
                for seq in 0..PER_THREAD {
                    loop {
                        match remote.send_text(conn, format!("t{t}-{seq}")) {
                            Ok(()) => break,
                            Err(Error::WouldBlock) => thread::yield_now(),
                            Err(e) => panic!("remote send: {e}"),
                        }
                    }
                }
            })
        })
        .collect()
}

fn check_order(messages: &[(bool, Vec<u8>)]) {
    assert_eq!(messages.len(), THREADS * PER_THREAD);
    let mut next = [0usize; THREADS];
    for (text, data) in messages {
        assert!(*text);
        let s = std::str::from_utf8(data).unwrap();
        let (t, seq) = s[1..].split_once('-').unwrap();
        let (t, seq): (usize, usize) = (t.parse().unwrap(), seq.parse().unwrap());
        assert_eq!(seq, next[t], "thread {t}: got {s} out of order");
        next[t] += 1;
    }
    assert_eq!(next, [PER_THREAD; THREADS]);
}

#[test]
fn remote_sends_from_four_threads_to_a_server_connection() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    // Server connection's remote sends; the wskit client in the other context receives.
    p.sh.echo = false;
    let handles = spawn_senders(&p.s.remote(), p.sid);
    p.pump_for(Duration::from_secs(30), "every message", |p| {
        p.ch.messages(p.cid).len() >= THREADS * PER_THREAD
    });
    for h in handles {
        h.join().unwrap();
    }
    check_order(&p.ch.messages(p.cid));
    assert!(
        !p.sh.events.iter().any(|e| matches!(e, Ev::Error(..))),
        "server errors"
    );
}

#[test]
fn remote_sends_from_four_threads_to_a_client_connection() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    p.sh.echo = false;
    let handles = spawn_senders(&p.c.remote(), p.cid);
    p.pump_for(Duration::from_secs(30), "every message", |p| {
        p.sh.messages(p.sid).len() >= THREADS * PER_THREAD
    });
    for h in handles {
        h.join().unwrap();
    }
    check_order(&p.sh.messages(p.sid));
    assert!(
        !p.ch.events.iter().any(|e| matches!(e, Ev::Error(..))),
        "client errors"
    );
}

#[test]
fn remote_close_and_stale_id_errors_reach_on_error() {
    let mut p = Pair::open(ListenOptions::default(), ConnectOptions::default());
    let remote = p.c.remote();
    let cid = p.cid;
    thread::spawn(move || remote.close(cid, 4321, "remote close").unwrap())
        .join()
        .unwrap();
    p.pump("closed", |p| p.sh.is_closed(p.sid) && p.ch.is_closed(cid));
    assert_eq!(
        p.sh.closes(p.sid),
        vec![(4321, "remote close".into(), true, false)]
    );
    p.drain();
    // The loop finds the id stale and reports it to on_error.
    p.c.remote().send_text(cid, "late").unwrap();
    p.pump("stale-id error", |p| !p.ch.errors(cid).is_empty());
    assert_eq!(p.ch.errors(cid), vec![common::Err::NotFound]);
    assert!(matches!(
        p.c.remote().ping(cid, vec![0; 126]),
        Err(Error::InvalidArgument(_))
    ));
}
