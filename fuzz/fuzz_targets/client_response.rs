//! The client's handshake-response validator on arbitrary bytes.
//! Oracle: no panic; an accepted response used at most the input, is a 101, and parsing its own
//! bytes again gives the same response; a rejection never carries more body than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wskit::proto::handshake::{ClientHandshake, ClientOptions, HandshakeError, url};

fuzz_target!(|data: &[u8]| {
    let url = url::parse("ws://example.com/chat").expect("valid url");
    let options = ClientOptions {
        subprotocols: vec!["chat".into()],
        max_response_header_bytes: 4096,
        max_rejection_body_bytes: 1024,
        ..ClientOptions::default()
    };
    // The key of the RFC 6455 example, so seeds can carry its accept value.
    let key = *b"the sample nonce";
    let handshake = ClientHandshake::with_key(&url, &options, key).expect("valid options");
    match handshake.parse_response(data) {
        Ok(Some((response, used))) => {
            assert!(used <= data.len());
            assert_eq!(response.status, 101);
            let again = handshake.parse_response(&data[..used]).expect("same bytes parse again");
            assert_eq!(again, Some((response, used)));
        }
        Ok(None) => {}
        Err(HandshakeError::Rejected { body, .. }) => assert!(body.len() <= 1024),
        Err(_) => {}
    }
});
