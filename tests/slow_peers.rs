//! Slow attackers on open connections and fragment floods: the idle timeout (off by default)
//! closes a peer that trickles a frame header or only pings, with 1001; a message in more frames
//! than `max_fragments` fails with 1009, pings between its frames answered until then.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Err, Ev, FrameReader, Recorder, client_frame, listen, raw_client};
use wskit::net::{Context, ListenOptions};
use wskit::proto::Role;

const IDLE: Duration = Duration::from_millis(400);

/// A server with `idle_timeout` (or none) and a raw client connected to it.
fn server_and_raw(idle: Option<Duration>) -> (Context, Recorder, TcpStream, FrameReader) {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let mut options = ListenOptions::default();
    options.connection.idle_timeout = idle;
    options.connection.close_timeout = Duration::from_secs(1);
    let (_, addr) = listen(&mut s, &mut sh, options);
    let (raw, leftover) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    (s, sh, raw, FrameReader::with(leftover))
}

/// Runs the server for `run`, calling `tick` every `every`, until the server closes the raw
/// connection with a close frame (returns when, and its code) or `run` passes (`None`). Frames
/// other than close (pongs, echoes) are counted in `others`.
fn drive(
    s: &mut Context,
    sh: &mut Recorder,
    raw: &mut TcpStream,
    frames: &mut FrameReader,
    run: Duration,
    every: Duration,
    mut tick: impl FnMut(&mut TcpStream, usize),
    others: &mut Vec<u8>,
) -> Option<(Duration, u16)> {
    use std::io::Read;
    let start = Instant::now();
    let mut next = start;
    let mut ticks = 0;
    let mut chunk = [0u8; 4096];
    while start.elapsed() < run {
        if Instant::now() >= next {
            tick(raw, ticks);
            ticks += 1;
            next += every;
        }
        s.poll(sh, Some(Duration::from_millis(5))).unwrap();
        match raw.read(&mut chunk) {
            Ok(0) => panic!("EOF before a close frame"),
            Ok(n) => frames.buf.extend_from_slice(&chunk[..n]),
            Err(_) => {}
        }
        while let Some((_, opcode, payload)) = frames.next_frame() {
            if opcode == 0x8 {
                return Some((start.elapsed(), u16::from_be_bytes([payload[0], payload[1]])));
            }
            others.push(opcode);
        }
    }
    None
}

#[test]
fn idle_timeout_is_off_by_default() {
    let (mut s, mut sh, mut raw, mut frames) = server_and_raw(None);
    let frame = client_frame(true, 0x2, &vec![0; 70_000]);
    let mut others = Vec::new();
    // One byte of a frame every 100 ms for 1.5 s: nothing closes it (the default is off).
    let closed = drive(
        &mut s,
        &mut sh,
        &mut raw,
        &mut frames,
        Duration::from_millis(1500),
        Duration::from_millis(100),
        |raw, i| raw.write_all(&frame[i..i + 1]).unwrap(),
        &mut others,
    );
    assert_eq!(closed, None);
    assert_eq!(s.connection_count(), 1);
}

#[test]
fn a_peer_trickling_a_frame_header_is_closed_with_1001_after_the_idle_timeout() {
    let (mut s, mut sh, mut raw, mut frames) = server_and_raw(Some(IDLE));
    let sid = sh.opens(Role::Server)[0];
    // A 64-bit length header (14 bytes with the mask), one byte every 100 ms: never complete.
    let header = client_frame(true, 0x2, &vec![0; 70_000]);
    let mut others = Vec::new();
    let closed = drive(
        &mut s,
        &mut sh,
        &mut raw,
        &mut frames,
        Duration::from_secs(3),
        Duration::from_millis(100),
        |raw, i| {
            let _ = raw.write_all(&header[i..i + 1]);
        },
        &mut others,
    );
    let (after, code) = closed.expect("closed by the idle timeout");
    assert_eq!(code, 1001);
    // The timer fires at the timeout; allow generous scheduling slack on a loaded machine.
    assert!(
        after >= IDLE - Duration::from_millis(20) && after < IDLE + Duration::from_millis(600),
        "closed after {after:?}"
    );
    assert!(
        matches!(sh.errors(sid).as_slice(), [Err::Timeout(_)]),
        "{:?}",
        sh.errors(sid)
    );
    // The close is this end's: the peer never answers, so the close timeout ends it (1006 after
    // this end's 1001 frame is reported as not clean, initiated locally).
    common::pump(&mut s, &mut sh, Duration::from_secs(3), "closed", |_, h| {
        h.is_closed(sid)
    });
    assert_eq!(sh.closes(sid), vec![(1006, String::new(), false, true)]);
}

#[test]
fn a_peer_that_only_pings_is_closed_and_its_pings_are_answered_until_then() {
    let (mut s, mut sh, mut raw, mut frames) = server_and_raw(Some(IDLE));
    let sid = sh.opens(Role::Server)[0];
    let ping = client_frame(true, 0x9, b"p");
    let mut others = Vec::new();
    let closed = drive(
        &mut s,
        &mut sh,
        &mut raw,
        &mut frames,
        Duration::from_secs(3),
        Duration::from_millis(50),
        |raw, _| {
            let _ = raw.write_all(&ping);
        },
        &mut others,
    );
    let (after, code) = closed.expect("closed by the idle timeout");
    assert_eq!(code, 1001);
    assert!(
        after >= IDLE - Duration::from_millis(20) && after < IDLE + Duration::from_millis(600),
        "closed after {after:?}"
    );
    assert!(
        others.len() >= 4 && others.iter().all(|&op| op == 0xA),
        "pongs: {others:?}"
    );
    // The peer answers the close: a clean close, 1001, initiated by this end.
    raw.write_all(&client_frame(true, 0x8, &1001u16.to_be_bytes()))
        .unwrap();
    common::pump(&mut s, &mut sh, Duration::from_secs(3), "closed", |_, h| {
        h.is_closed(sid)
    });
    assert_eq!(sh.closes(sid), vec![(1001, String::new(), true, true)]);
}

#[test]
fn whole_messages_keep_a_connection_with_an_idle_timeout_open() {
    let (mut s, mut sh, mut raw, mut frames) = server_and_raw(Some(IDLE));
    let sid = sh.opens(Role::Server)[0];
    let mut others = Vec::new();
    // A message every 150 ms for 2 s (five idle timeouts): never closed, every message echoed.
    let closed = drive(
        &mut s,
        &mut sh,
        &mut raw,
        &mut frames,
        Duration::from_secs(2),
        Duration::from_millis(150),
        |raw, i| {
            raw.write_all(&client_frame(true, 0x1, format!("m{i}").as_bytes()))
                .unwrap()
        },
        &mut others,
    );
    assert_eq!(closed, None);
    assert!(others.len() >= 12, "echoes: {}", others.len());
    assert!(!sh.is_closed(sid));
    // Then silence: closed about one timeout after the last message.
    let closed = drive(
        &mut s,
        &mut sh,
        &mut raw,
        &mut frames,
        Duration::from_secs(3),
        Duration::from_secs(10),
        |_, _| {},
        &mut others,
    );
    let (after, code) = closed.expect("closed once silent");
    assert_eq!(code, 1001);
    assert!(
        after < IDLE + Duration::from_millis(600),
        "closed after {after:?}"
    );
}

#[test]
fn a_million_one_byte_fragments_with_pings_between_fail_with_1009_at_the_cap() {
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::echoing();
    let mut options = ListenOptions::default();
    options.connection.protocol.max_fragments = 10_000;
    let (_, addr) = listen(&mut s, &mut sh, options);
    let (mut raw, leftover) = raw_client(&mut s, &mut sh, addr);
    common::pump(&mut s, &mut sh, Duration::from_secs(2), "open", |_, h| {
        !h.opens(Role::Server).is_empty()
    });
    let sid = sh.opens(Role::Server)[0];
    let mut frames = FrameReader::with(leftover);
    let mut bytes = Vec::new();
    for i in 0..1_000_000u32 {
        bytes.extend(client_frame(i == 999_999, if i == 0 { 0x2 } else { 0x0 }, b"x"));
        if i % 100 == 0 {
            bytes.extend(client_frame(true, 0x9, b"p"));
        }
    }
    raw.set_nonblocking(true).unwrap();
    let (mut written, mut pongs) = (0, 0);
    let code = loop {
        if written < bytes.len() {
            match raw.write(&bytes[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => written = bytes.len(), // reset once the server closed
            }
        }
        s.poll(&mut sh, Some(Duration::from_millis(1))).unwrap();
        let mut chunk = [0u8; 65536];
        if let Ok(n) = std::io::Read::read(&mut raw, &mut chunk) {
            frames.buf.extend_from_slice(&chunk[..n]);
        }
        match frames.next_frame() {
            Some((_, 0xA, _)) => pongs += 1,
            Some((_, 0x8, payload)) => break u16::from_be_bytes([payload[0], payload[1]]),
            Some(other) => panic!("unexpected frame {other:?}"),
            None => {}
        }
    };
    assert_eq!(code, 1009);
    // A ping after frames 0, 100, ..., 9,900: each answered before the 10,001st frame failed it.
    while let Some((_, 0xA, _)) = frames.next_frame() {
        pongs += 1;
    }
    assert_eq!(pongs, 100);
    common::pump(&mut s, &mut sh, Duration::from_secs(6), "closed", |_, h| {
        h.is_closed(sid)
    });
    assert!(sh.messages(sid).is_empty());
    assert!(
        matches!(sh.closes(sid)[0], (1009, _, false, true)),
        "{:?}",
        sh.closes(sid)
    );
    assert!(sh.events.iter().any(|e| matches!(e, Ev::Error(..))));
}
