use super::*;
use crate::proto::handshake::RequestLimits;

fn conn() -> HttpConnection {
    HttpConnection::new(HttpLimits::default())
}

fn request(c: &mut HttpConnection) -> HttpRequest {
    match c.next_event() {
        Some(HttpEvent::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn out(c: &mut HttpConnection) -> String {
    String::from_utf8(c.take_output()).unwrap()
}

#[test]
fn pipelined_requests_come_one_at_a_time_in_order() {
    let mut c = conn();
    c.receive(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(request(&mut c).path, "/a");
    assert!(c.next_event().is_none(), "the next waits for the answer");
    c.respond(200, &[], b"A").unwrap();
    assert_eq!(request(&mut c).path, "/b");
    c.respond(200, &[], b"B").unwrap();
    assert_eq!(
        out(&mut c),
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB"
    );
    assert!(c.is_idle() && !c.should_close_transport());
}

#[test]
fn bodies_by_length_and_chunked_byte_by_byte() {
    let input = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloPUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let mut c = conn();
    let mut seen = Vec::new();
    for b in input {
        c.receive(&[*b]);
        while let Some(HttpEvent::Request(r)) = c.next_event() {
            seen.push((r.method.clone(), r.body.clone()));
            c.respond(204, &[], b"").unwrap();
        }
    }
    assert_eq!(
        seen,
        [
            ("POST".into(), b"hello".to_vec()),
            ("PUT".into(), b"abc".to_vec())
        ]
    );
}

#[test]
fn bodies_over_the_limit_get_413_and_close() {
    let limits = HttpLimits {
        head: RequestLimits::default(),
        max_body_bytes: 4,
    };
    let mut c = HttpConnection::new(limits);
    c.receive(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
    assert!(matches!(
        c.next_event(),
        Some(HttpEvent::Failed(HttpError::BodyTooLarge))
    ));
    assert!(out(&mut c).starts_with("HTTP/1.1 413 "));
    assert!(c.should_close_transport());

    let mut c = HttpConnection::new(limits);
    c.receive(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n");
    assert!(matches!(
        c.next_event(),
        Some(HttpEvent::Failed(HttpError::BodyTooLarge))
    ));
}

#[test]
fn expect_continue_is_answered_before_the_body() {
    let mut c = conn();
    c.receive(b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert!(c.next_event().is_none());
    assert_eq!(out(&mut c), "HTTP/1.1 100 Continue\r\n\r\n");
    c.receive(b"ok");
    assert_eq!(request(&mut c).body, b"ok");
}

#[test]
fn head_gets_the_length_but_no_body() {
    let mut c = conn();
    c.receive(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
    request(&mut c);
    c.respond(200, &[("Content-Type".into(), "text/plain".into())], b"hello")
        .unwrap();
    assert_eq!(
        out(&mut c),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
    );
}

#[test]
fn streamed_bodies_are_chunked_for_1_1_and_close_delimited_for_1_0() {
    let mut c = conn();
    c.receive(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    request(&mut c);
    c.begin(200, &[], None).unwrap();
    c.write(b"abc").unwrap();
    c.write(b"").unwrap();
    c.end().unwrap();
    assert_eq!(
        out(&mut c),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    );

    let mut c = conn();
    c.receive(b"GET / HTTP/1.0\r\n\r\n");
    request(&mut c);
    c.begin(200, &[], None).unwrap();
    c.write(b"abc").unwrap();
    c.end().unwrap();
    assert_eq!(out(&mut c), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc");
    assert!(c.should_close_transport());
}

#[test]
fn connection_close_closes_after_the_response() {
    let mut c = conn();
    c.receive(
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    request(&mut c);
    c.respond(200, &[], b"x").unwrap();
    assert!(out(&mut c).contains("Connection: close\r\n"));
    assert!(c.next_event().is_none(), "nothing after Connection: close");
    assert!(c.should_close_transport());
}

#[test]
fn misuse_is_refused() {
    let mut c = conn();
    assert_eq!(c.respond(200, &[], b""), Err(RespondError::NoRequest));
    c.receive(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    request(&mut c);
    assert_eq!(c.write(b"x"), Err(RespondError::NotBegun));
    assert_eq!(c.begin(101, &[], None), Err(RespondError::InvalidStatus(101)));
    let bad = [("Content-Length".to_string(), "1".to_string())];
    assert!(matches!(
        c.begin(200, &bad, None),
        Err(RespondError::InvalidHeader(_))
    ));
    let crlf = [("X".to_string(), "a\r\nb".to_string())];
    assert!(matches!(
        c.begin(200, &crlf, None),
        Err(RespondError::InvalidHeader(_))
    ));
    c.begin(200, &[], Some(2)).unwrap();
    assert_eq!(c.begin(200, &[], Some(2)), Err(RespondError::AlreadyBegun));
    assert_eq!(c.write(b"abc"), Err(RespondError::BodyTooLong));
    c.write(b"a").unwrap();
    assert_eq!(c.end(), Err(RespondError::BodyTooShort(1)));
    assert!(c.is_closing(), "a short body breaks the framing: close");
}

#[test]
fn upgrades_are_handed_back_untouched() {
    let mut c = conn();
    c.receive(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    request(&mut c);
    c.respond(200, &[], b"").unwrap();
    let upgrade = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    c.receive(upgrade);
    assert!(matches!(c.next_event(), Some(HttpEvent::Upgrade)));
    assert_eq!(c.take_input(), upgrade);
}

#[test]
fn garbage_gets_400_and_closes() {
    for bad in [
        &b"\x00\x01\x02 / HTTP/1.1\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
    ] {
        let mut c = conn();
        c.receive(bad);
        assert!(matches!(c.next_event(), Some(HttpEvent::Failed(_))), "{bad:?}");
        assert!(out(&mut c).starts_with("HTTP/1.1 400 "));
        assert!(c.should_close_transport());
    }
}
