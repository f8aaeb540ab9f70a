//! tokio-tungstenite echo server for `bench/compare.sh`.
//!
//!     cargo run --release -- 127.0.0.1:9105 [current|multi]
//!
//! Every text and binary message goes back as it came: `read.forward(write)` feeds each echo into
//! the sink and flushes only when no more input is ready (batched writes, like the other servers).
//! 64 MiB message and frame limits (16 MiB messages must pass). Runtime: `current` (default) is a
//! current-thread runtime; `multi` is the multi-thread runtime with one worker. The server is
//! pinned to one core, and the current-thread runtime measured faster there (see bench/README.md).

use futures_util::{StreamExt, TryStreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

async fn serve(addr: String) {
    let listener = TcpListener::bind(&addr).await.expect("bind");
    println!("tungstenite_echo listening on ws://{addr}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue; // e.g. EMFILE: keep serving the others
        };
        tokio::spawn(echo(stream));
    }
}

async fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    let (write, read) = ws.split();
    let _ = read
        .try_filter(|m| std::future::ready(m.is_text() || m.is_binary()))
        .forward(write)
        .await;
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9105".into());
    let flavor = args.next().unwrap_or_else(|| "current".into());
    let runtime = match flavor.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread().enable_io().build(),
        "multi" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_io()
            .build(),
        other => panic!("runtime flavor {other:?}: use current or multi"),
    }
    .expect("runtime");
    runtime.block_on(serve(addr));
}
