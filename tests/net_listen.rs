//! Listener options: connection limit (503 beyond it), SO_REUSEPORT, bad addresses.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Recorder, listen, raw_client};
use wskit::net::{Context, Error, ListenOptions};

#[test]
fn connections_beyond_the_limit_get_503_and_the_limit_frees_up() {
    let mut ctx = Context::new().unwrap();
    let mut handler = Recorder::echoing();
    let options = ListenOptions {
        max_connections: 2,
        ..ListenOptions::default()
    };
    let (_, addr) = listen(&mut ctx, &mut handler, options);
    let (first, _) = raw_client(&mut ctx, &mut handler, addr);
    let (_second, _) = raw_client(&mut ctx, &mut handler, addr);

    let mut third = TcpStream::connect(addr).unwrap();
    third.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    let mut reply = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        ctx.poll(&mut handler, Some(Duration::from_millis(5))).unwrap();
        let mut buf = [0u8; 256];
        match third.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        assert!(
            Instant::now() < deadline,
            "no answer for the connection over the limit"
        );
    }
    assert!(
        reply.starts_with(b"HTTP/1.1 503 "),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert_eq!(ctx.connection_count(), 2);

    // One leaves: a new one fits again.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(3);
    while ctx.connection_count() > 1 {
        ctx.poll(&mut handler, Some(Duration::from_millis(5))).unwrap();
        assert!(Instant::now() < deadline, "closed connection not released");
    }
    let (mut again, _) = raw_client(&mut ctx, &mut handler, addr);
    again.write_all(&common::client_frame(true, 0x1, b"hi")).unwrap();
    assert_eq!(ctx.connection_count(), 2);
}

#[test]
fn reuse_port_lets_two_contexts_share_a_port() {
    let mut a = Context::new().unwrap();
    let options = ListenOptions {
        reuse_port: true,
        ..ListenOptions::default()
    };
    let la = a.listen("127.0.0.1:0", options.clone()).unwrap();
    let port = a.local_addr(la).unwrap().port();
    let mut b = Context::new().unwrap();
    let lb = b.listen(("127.0.0.1", port), options).unwrap();
    assert_eq!(b.local_addr(lb).unwrap().port(), port);
    // Without SO_REUSEPORT the same bind fails.
    let mut c = Context::new().unwrap();
    assert!(matches!(
        c.listen(("127.0.0.1", port), ListenOptions::default()),
        Err(Error::Io(_))
    ));
}

#[test]
fn listener_ids_are_checked() {
    let mut ctx = Context::new().unwrap();
    let id = ctx.listen("127.0.0.1:0", ListenOptions::default()).unwrap();
    ctx.close_listener(id).unwrap();
    assert!(matches!(ctx.close_listener(id), Err(Error::NotFound)));
    assert!(matches!(
        ctx.local_addr(wskit::net::ListenerId::from_u32(0)),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        ctx.local_addr(wskit::net::ListenerId::from_u32(99)),
        Err(Error::NotFound)
    ));
}
