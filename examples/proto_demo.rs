//! The sans-I/O core on its own: a client and a server talk through memory, no sockets.
//! Prints every byte that would cross the wire, so you can watch the handshake and the frames.
//!
//!     cargo run --example proto_demo

use wskit::proto::handshake::{AcceptOptions, ClientOptions, RequestLimits, url};
use wskit::proto::{Config, Endpoint, EndpointEvent, Event};

fn show(direction: &str, bytes: &[u8]) {
    if bytes.starts_with(b"GET ") || bytes.starts_with(b"HTTP/") {
        let text = String::from_utf8_lossy(bytes);
        for line in text.split("\r\n").filter(|l| !l.is_empty()) {
            println!("{direction} {line}");
        }
    } else {
        let hex: Vec<String> = bytes.iter().take(48).map(|b| format!("{b:02x}")).collect();
        let more = if bytes.len() > 48 { " ..." } else { "" };
        println!("{direction} [{} bytes] {}{more}", bytes.len(), hex.join(" "));
    }
}

fn main() {
    let url = url::parse("ws://localhost/chat").expect("valid URL");
    let options = ClientOptions {
        subprotocols: vec!["chat.v1".into()],
        ..Default::default()
    };
    let mut client = Endpoint::client(&url, &options, Config::default()).expect("valid options");
    let mut server = Endpoint::server(RequestLimits::default(), Config::default());

    let mut wire = client.take_output();
    show("client ->", &wire);
    let mut incoming = server.receive(&mut wire);
    if let Some(EndpointEvent::Request(request)) = incoming.next_event() {
        println!(
            "server: upgrade request for {} offering {:?}",
            request.path, request.subprotocols
        );
    }
    drop(incoming);
    server
        .accept(&AcceptOptions {
            subprotocol: Some("chat.v1"),
            ..Default::default()
        })
        .expect("offered");

    let mut wire = server.take_output();
    show("server ->", &wire);
    let mut incoming = client.receive(&mut wire);
    while let Some(event) = incoming.next_event() {
        if let EndpointEvent::Open(response) = event {
            println!("client: open, subprotocol {:?}", response.subprotocol);
        }
    }
    drop(incoming);

    let conn = client.connection().expect("open");
    conn.send_text("Hello, wskit!").expect("open");
    conn.sender().ping(b"are you there?").expect("open");
    conn.close(1000, "bye").expect("open");
    let mut wire = client.take_output();
    show("client ->", &wire);
    let server_conn = server.connection().expect("open");
    server_conn.receive_with(&mut wire, |event, _| match event {
        Event::Text(text) => println!("server: text {text:?}"),
        Event::Ping(data) => println!("server: ping {:?} (pong queued)", String::from_utf8_lossy(data)),
        Event::Closed(info) => println!(
            "server: closed {} {:?}, clean {}",
            info.code, info.reason, info.clean
        ),
        other => println!("server: {other:?}"),
    });
    let mut wire = server.take_output();
    show("server ->", &wire);
    let client_conn = client.connection().expect("open");
    client_conn.receive_with(&mut wire, |event, _| println!("client: {event:?}"));
    println!(
        "both sides closed cleanly: {}",
        server.should_close_transport() && client.should_close_transport()
    );
}
