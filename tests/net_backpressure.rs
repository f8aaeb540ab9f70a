//! A slow reader: `max_buffered` caps the queue, `WouldBlock` is returned, and `on_writable` fires
//! once the reader catches up.

mod common;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{Ev, FrameReader, Recorder, listen, raw_client};
use wskit::net::{Context, Error, ListenOptions};
use wskit::proto::Role;

const MSG: usize = 64 << 10;
const MAX_BUFFERED: usize = 1 << 20;

#[test]
fn slow_reader_gets_would_block_then_writable() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    let mut options = ListenOptions::default();
    options.connection.max_buffered = MAX_BUFFERED;
    options.connection.low_water_mark = 64 << 10;
    let (_, addr) = listen(&mut s, &mut sh, options);
    let (raw, leftover) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(5), "server open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    assert!(leftover.is_empty());

    // Fill the kernel buffers and the queue: the raw client reads nothing.
    let data = vec![0x5Au8; MSG];
    let mut sent = 0usize;
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match s.send_binary(sid, &data) {
            Ok(()) => sent += 1,
            Err(Error::WouldBlock) => break,
            Err(e) => panic!("send: {e}"),
        }
        let buffered = s.buffered_amount(sid).unwrap();
        assert!(
            buffered <= MAX_BUFFERED + MSG,
            "buffered {buffered} over the cap after {sent} sends"
        );
        s.poll(&mut sh, Some(Duration::ZERO)).unwrap();
        assert!(Instant::now() < end, "never got WouldBlock after {sent} sends");
    }
    assert!(
        sent > MAX_BUFFERED / MSG,
        "the socket must have taken some and the queue some"
    );
    // Keep trying for a while: still blocked, still capped, no writable event.
    let until = Instant::now() + Duration::from_millis(200);
    while Instant::now() < until {
        assert!(matches!(s.send_binary(sid, &data), Err(Error::WouldBlock)));
        let buffered = s.buffered_amount(sid).unwrap();
        assert!(buffered <= MAX_BUFFERED + MSG, "buffered {buffered}");
        assert!(
            buffered > MAX_BUFFERED - MSG,
            "the queue should stay full, is {buffered}"
        );
        s.poll(&mut sh, Some(Duration::from_millis(5))).unwrap();
    }
    assert!(
        !sh.events.contains(&Ev::Writable(sid)),
        "on_writable before the reader read anything"
    );

    // The reader catches up, counting whole 64 KiB binary frames.
    let frames = Arc::new(AtomicUsize::new(0));
    let reader = {
        let frames = frames.clone();
        let mut raw = raw.try_clone().unwrap();
        thread::spawn(move || {
            let mut parser = FrameReader::default();
            let mut chunk = vec![0u8; 256 << 10];
            let end = Instant::now() + Duration::from_secs(20);
            while Instant::now() < end {
                match raw.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => parser.buf.extend_from_slice(&chunk[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => panic!("reader: {e}"),
                }
                while let Some((fin, opcode, payload)) = parser.next_frame() {
                    if opcode == 0x8 {
                        return;
                    }
                    assert!(fin && opcode == 0x2 && payload.len() == MSG);
                    assert!(payload.iter().all(|&b| b == 0x5A));
                    frames.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    common::pump(&mut s, &mut sh, Duration::from_secs(10), "on_writable", |_, h| {
        h.events.contains(&Ev::Writable(sid))
    });
    assert!(
        s.buffered_amount(sid).unwrap() <= 64 << 10,
        "writable above the low-water mark"
    );
    // Sending resumes.
    for _ in 0..8 {
        s.send_binary(sid, &data).expect("send after on_writable");
        sent += 1;
    }
    let total = sent;
    common::pump(
        &mut s,
        &mut sh,
        Duration::from_secs(10),
        "every frame read",
        |_, _| frames.load(Ordering::SeqCst) == total,
    );
    s.close(sid, 1000, "done").unwrap();
    common::pump(
        &mut s,
        &mut sh,
        Duration::from_secs(10),
        "reader saw the close",
        |_, _| reader.is_finished(),
    );
    reader.join().unwrap();
    assert_eq!(frames.load(Ordering::SeqCst), total);
    assert!(sh.errors(sid).is_empty(), "{:?}", sh.errors(sid));
    drop(raw.shutdown(std::net::Shutdown::Both));
    common::pump(
        &mut s,
        &mut sh,
        Duration::from_secs(10),
        "connection gone",
        |s, _| s.connection_count() == 0,
    );
}

#[test]
fn remote_sends_obey_max_buffered_and_are_reported_then_writable() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    let mut options = ListenOptions::default();
    options.connection.max_buffered = MAX_BUFFERED;
    options.connection.low_water_mark = 64 << 10;
    let (_, addr) = listen(&mut s, &mut sh, options);
    let (raw, _) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(5), "server open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];

    // Another thread queues far more than max_buffered (and the socket) can hold; the raw client
    // reads nothing yet.
    const COUNT: usize = 128;
    let remote = s.remote();
    thread::spawn(move || {
        for _ in 0..COUNT {
            remote.send_binary(sid, vec![0x5Au8; MSG]).unwrap();
        }
    })
    .join()
    .unwrap();
    let dropped = |h: &Recorder| {
        h.errors(sid)
            .iter()
            .filter(|e| **e == common::Err::QueueFull(MSG))
            .count()
    };
    common::pump(
        &mut s,
        &mut sh,
        Duration::from_secs(5),
        "drops reported",
        |_, h| dropped(h) > 0,
    );
    for _ in 0..20 {
        s.poll(&mut sh, Some(Duration::from_millis(2))).unwrap();
    }
    let buffered = s.buffered_amount(sid).unwrap();
    assert!(
        buffered <= MAX_BUFFERED + MSG,
        "remote sends went past max_buffered: {buffered} queued"
    );
    // All of them reach the loop in one batch, before the socket takes anything: only what fits
    // under max_buffered is queued.
    let refused = dropped(&sh);
    assert!(
        refused >= COUNT - MAX_BUFFERED / MSG,
        "only {refused} of {COUNT} dropped"
    );
    assert!(
        sh.errors(sid).iter().all(|e| *e == common::Err::QueueFull(MSG)),
        "{:?}",
        sh.errors(sid)
    );
    let text = Error::QueueFull { dropped: MSG }.to_string();
    assert!(text.contains(&format!("{MSG} bytes")), "{text}");

    // The reader catches up: on_writable follows the drops (it may come before, as the socket
    // takes the queue), and exactly the accepted messages arrive.
    let frames = Arc::new(AtomicUsize::new(0));
    let reader = {
        let frames = frames.clone();
        let mut raw = raw.try_clone().unwrap();
        thread::spawn(move || {
            let mut parser = FrameReader::default();
            let mut chunk = vec![0u8; 256 << 10];
            let end = Instant::now() + Duration::from_secs(20);
            while Instant::now() < end {
                match raw.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => parser.buf.extend_from_slice(&chunk[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => panic!("reader: {e}"),
                }
                while let Some((_, opcode, payload)) = parser.next_frame() {
                    if opcode == 0x8 {
                        return;
                    }
                    assert_eq!(payload.len(), MSG);
                    frames.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    common::pump(&mut s, &mut sh, Duration::from_secs(10), "on_writable", |_, h| {
        h.events.contains(&Ev::Writable(sid))
    });
    let last_error = sh
        .events
        .iter()
        .rposition(|e| matches!(e, Ev::Error(..)))
        .unwrap();
    let writable = sh.events.iter().position(|e| *e == Ev::Writable(sid)).unwrap();
    assert!(writable > last_error, "on_writable comes after the drops");
    // The sender retries what was dropped.
    let remote = s.remote();
    for _ in 0..refused {
        remote.send_binary(sid, vec![0x5Au8; MSG]).unwrap();
        s.poll(&mut sh, Some(Duration::from_millis(1))).unwrap();
        while s.buffered_amount(sid).unwrap() > MAX_BUFFERED / 2 {
            s.poll(&mut sh, Some(Duration::from_millis(1))).unwrap();
        }
    }
    common::pump(
        &mut s,
        &mut sh,
        Duration::from_secs(10),
        "every message read",
        |_, _| frames.load(Ordering::SeqCst) == COUNT,
    );
    assert_eq!(dropped(&sh), refused, "no drop while the queue had room");
    s.close(sid, 1000, "done").unwrap();
    common::pump(&mut s, &mut sh, Duration::from_secs(10), "reader done", |_, _| {
        reader.is_finished()
    });
    reader.join().unwrap();
}
