//! The HTTP/1.1 request reader (`proto::http::HttpConnection`) on arbitrary bytes.
//! Oracle: no panic; the input fed whole and fed in two pieces (split at a point the first byte
//! picks) gives the same requests and the same failure; every response written starts with a
//! status line; an error is answered with a 4xx/5xx and closes the connection; a body never
//! exceeds the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wskit::proto::handshake::RequestLimits;
use wskit::proto::http::{HttpConnection, HttpEvent, HttpLimits, HttpRequest};

const LIMITS: HttpLimits = HttpLimits {
    head: RequestLimits { max_header_bytes: 4096, max_headers: 32 },
    max_body_bytes: 8192,
};

/// Feeds `pieces` in order, answering each request (streamed for odd ones), and returns what was
/// read: requests, then the failure status or whether an upgrade was seen.
fn run(pieces: &[&[u8]]) -> (Vec<HttpRequest>, Option<u16>, bool) {
    let mut conn = HttpConnection::new(LIMITS);
    let mut requests = Vec::new();
    for piece in pieces {
        conn.receive(piece);
        while let Some(event) = conn.next_event() {
            match event {
                HttpEvent::Request(request) => {
                    assert!(request.body.len() <= LIMITS.max_body_bytes);
                    if requests.len() % 2 == 0 {
                        conn.respond(200, &[], b"ok").expect("a plain answer is valid");
                    } else {
                        conn.begin(200, &[], None).expect("begin");
                        conn.write(&request.body).expect("write");
                        conn.end().expect("end");
                    }
                    let out = conn.take_output();
                    assert!(out.windows(9).any(|w| w == b"HTTP/1.1 "), "a response was written");
                    requests.push(request);
                }
                HttpEvent::Failed(err) => {
                    let out = conn.take_output();
                    let status = err.status();
                    assert!((400..600).contains(&status));
                    let line = format!("HTTP/1.1 {status} ");
                    assert!(out.windows(line.len()).any(|w| w == line.as_bytes()), "the error is answered");
                    assert!(conn.should_close_transport());
                    return (requests, Some(status), false);
                }
                HttpEvent::Upgrade => return (requests, None, true),
            }
        }
    }
    (requests, None, false)
}

fuzz_target!(|data: &[u8]| {
    let whole = run(&[data]);
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let pieces = run(&[&data[..split], &data[split..]]);
    assert_eq!(whole, pieces, "split at {split}");
});
