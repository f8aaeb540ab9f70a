//! Request and response information after the handshake, kept only when the options ask:
//! `ListenOptions::keep_request`/`keep_headers`, `ConnectOptions::keep_headers`.

mod common;

use common::Pair;
use wskit::net::{ConnId, ConnectOptions, Context, Error, KeepHeaders, ListenOptions};

/// A pair whose client sends `X-Token` and `X-Other` and connects to `/test?x=1`.
fn pair(listen: ListenOptions, mut connect: ConnectOptions) -> Pair {
    connect.handshake.headers = vec![
        ("X-Token".into(), "secret".into()),
        ("X-Other".into(), "other".into()),
    ];
    Pair::open(listen, connect)
}

/// Closes the connection and waits until both contexts are empty.
fn finish(mut p: Pair) {
    p.c.close(p.cid, 1000, "").unwrap();
    p.drain();
}

fn unavailable<T: std::fmt::Debug>(result: Result<T, Error>) -> &'static str {
    match result {
        Err(Error::Unavailable(option)) => option,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn header_names(ctx: &Context, conn: ConnId) -> Vec<String> {
    ctx.headers(conn)
        .unwrap()
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect()
}

#[test]
fn a_server_keeps_nothing_by_default_and_says_which_option_keeps_it() {
    let p = pair(ListenOptions::default(), ConnectOptions::default());
    let sid = p.sid;
    assert_eq!(unavailable(p.s.path(sid)), "ListenOptions::keep_request");
    assert_eq!(unavailable(p.s.query(sid)), "ListenOptions::keep_request");
    assert_eq!(unavailable(p.s.headers(sid)), "ListenOptions::keep_headers");
    assert_eq!(
        unavailable(p.s.header(sid, "x-token")),
        "ListenOptions::keep_headers"
    );
    let text = Error::Unavailable("ListenOptions::keep_request").to_string();
    assert!(text.contains("ListenOptions::keep_request"), "{text}");
    // The open event carried it all.
    assert!(matches!(&p.sh.events_of(sid)[1], common::Ev::Open { path, .. } if path == "/test"));
    finish(p);
}

#[test]
fn a_server_keeps_the_path_and_query_and_the_headers_it_names() {
    let listen = ListenOptions {
        keep_request: true,
        keep_headers: KeepHeaders::Names(vec!["x-TOKEN".into(), "X-Missing".into()]),
        ..ListenOptions::default()
    };
    let p = pair(listen, ConnectOptions::default());
    let sid = p.sid;
    assert_eq!(p.s.path(sid).unwrap(), "/test");
    assert_eq!(p.s.query(sid).unwrap(), Some("x=1"));
    assert_eq!(p.s.header(sid, "X-Token").unwrap(), Some("secret"));
    assert_eq!(p.s.header(sid, "x-missing").unwrap(), None, "kept but absent");
    assert_eq!(
        unavailable(p.s.header(sid, "X-Other")),
        "ListenOptions::keep_headers"
    );
    assert_eq!(
        unavailable(p.s.header(sid, "Host")),
        "ListenOptions::keep_headers"
    );
    assert_eq!(header_names(&p.s, sid), vec!["x-token"]);
    finish(p);
}

#[test]
fn a_server_keeps_every_header_with_keep_all() {
    let listen = ListenOptions {
        keep_headers: KeepHeaders::All,
        ..ListenOptions::default()
    };
    let p = pair(listen, ConnectOptions::default());
    let sid = p.sid;
    assert_eq!(p.s.header(sid, "upgrade").unwrap(), Some("websocket"));
    assert_eq!(p.s.header(sid, "x-other").unwrap(), Some("other"));
    assert_eq!(p.s.header(sid, "x-absent").unwrap(), None);
    let names = header_names(&p.s, sid);
    for name in ["host", "upgrade", "connection", "x-token", "x-other"] {
        assert!(names.contains(&name.to_string()), "{name} in {names:?}");
    }
    assert_eq!(unavailable(p.s.path(sid)), "ListenOptions::keep_request");
    finish(p);
}

#[test]
fn a_client_knows_its_url_and_keeps_the_response_headers_unless_told_not_to() {
    let p = pair(ListenOptions::default(), ConnectOptions::default());
    let cid = p.cid;
    assert_eq!(p.c.path(cid).unwrap(), "/test");
    assert_eq!(p.c.query(cid).unwrap(), Some("x=1"));
    assert_eq!(p.c.header(cid, "UPGRADE").unwrap(), Some("websocket"));
    assert!(p.c.header(cid, "sec-websocket-accept").unwrap().is_some());
    assert_eq!(p.c.header(cid, "x-absent").unwrap(), None);
    assert!(header_names(&p.c, cid).contains(&"connection".to_string()));
    finish(p);

    let connect = ConnectOptions {
        keep_headers: KeepHeaders::None,
        ..ConnectOptions::default()
    };
    let p = pair(ListenOptions::default(), connect);
    let cid = p.cid;
    assert_eq!(p.c.path(cid).unwrap(), "/test");
    assert_eq!(unavailable(p.c.headers(cid)), "ConnectOptions::keep_headers");
    assert_eq!(
        unavailable(p.c.header(cid, "upgrade")),
        "ConnectOptions::keep_headers"
    );
    finish(p);
}

#[test]
fn closed_and_unknown_connections_are_not_found() {
    let listen = ListenOptions {
        keep_request: true,
        ..ListenOptions::default()
    };
    let mut p = pair(listen, ConnectOptions::default());
    let sid = p.sid;
    p.c.close(p.cid, 1000, "").unwrap();
    p.drain();
    assert!(matches!(p.s.path(sid), Err(Error::NotFound)));
    assert!(matches!(p.s.headers(sid), Err(Error::NotFound)));
    assert!(matches!(
        p.s.header(ConnId::from_u64(0), "host"),
        Err(Error::NotFound)
    ));
}
