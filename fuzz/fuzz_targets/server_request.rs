//! The server's upgrade-request parser on arbitrary bytes.
//! Oracle: no panic; a parsed request used at most the input; parsing the request's own bytes again
//! gives the same request; an accepted request yields a 101 response; an error yields an HTTP error
//! response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wskit::proto::handshake::{AcceptOptions, RequestLimits, parse_request};

fuzz_target!(|data: &[u8]| {
    let limits = RequestLimits { max_header_bytes: 4096, max_headers: 32 };
    match parse_request(data, &limits) {
        Ok(Some((request, used))) => {
            assert!(used <= data.len());
            let again = parse_request(&data[..used], &limits).expect("same bytes parse again");
            assert_eq!(again, Some((request.clone(), used)));
            let mut out = Vec::new();
            request.write_accept(&AcceptOptions::default(), &mut out).expect("plain accept");
            assert!(out.starts_with(b"HTTP/1.1 101 "));
        }
        Ok(None) => {}
        Err(err) => {
            let mut out = Vec::new();
            err.write_error_response(&mut out);
            assert!(out.starts_with(b"HTTP/1.1 4") || out.starts_with(b"HTTP/1.1 5"));
        }
    }
});
