//! Echo over a Unix domain socket: a server on a socket path and, in the same loop, a client that
//! reaches it with a `ws+unix:` URL (as Node `ws` writes them).
//!
//! ```text
//! cargo run --release --example unix_echo -- /tmp/echo.sock hello world
//!     -> prints "hello" and "world" (the echoes), then exits
//! cargo run --release --example unix_echo -- --serve /tmp/echo.sock
//!     -> only the server, until killed (e.g. for websockets' unix_connect)
//! ```
//!
//! The socket file gets mode 0660 (owner and group may connect), replaces a stale socket left by
//! a crashed run (`remove_stale`), and is removed when the context is dropped. A path starting
//! with `@` is a Linux abstract socket (no file).

use std::path::Path;

use wskit::net::{
    ConnId, ConnectOptions, Context, Handler, ListenOptions, ListenerId, Message, OpenInfo, UnixListenOptions,
};
use wskit::proto::{CloseInfo, Role};

struct Echo {
    messages: Vec<String>,
    /// The client connection (the other end of the loop is the server's).
    client: Option<ConnId>,
    replies: usize,
    done: bool,
}

impl Handler for Echo {
    fn on_listen_unix(&mut self, _ctx: &mut Context, _listener: ListenerId, path: &Path) {
        println!("listening on unix:{}", path.display());
    }

    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        if info.role == Role::Client {
            for message in &self.messages {
                let _ = ctx.send_text(conn, message);
            }
            if self.messages.is_empty() {
                let _ = ctx.close(conn, 1000, "");
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        if self.client == Some(conn) {
            // The client: print the echo.
            println!("{}", String::from_utf8_lossy(message.as_bytes()));
            self.replies += 1;
            if self.replies == self.messages.len() {
                let _ = ctx.close(conn, 1000, "done");
            }
        } else {
            let _ = ctx.send(conn, message.kind(), message.as_bytes());
        }
    }

    fn on_close(&mut self, _ctx: &mut Context, conn: ConnId, _info: &CloseInfo<'_>) {
        if self.client == Some(conn) {
            self.done = true;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let serve = args.first().is_some_and(|a| a == "--serve");
    if serve {
        args.remove(0);
    }
    if args.is_empty() {
        eprintln!("usage: unix_echo SOCKET_PATH [MESSAGE...] | unix_echo --serve SOCKET_PATH");
        std::process::exit(2);
    }
    let path = args.remove(0);
    let mut ctx = Context::new()?;
    let unix = UnixListenOptions::new().mode(0o660).remove_stale(true);
    ctx.listen_unix(&path, unix, ListenOptions::default())?;
    let mut echo = Echo {
        messages: args,
        client: None,
        replies: 0,
        done: false,
    };
    if serve {
        return Ok(ctx.run(&mut echo)?);
    }
    echo.client = Some(ctx.connect(&format!("ws+unix://{path}:/echo"), ConnectOptions::default())?);
    while !echo.done {
        ctx.poll(&mut echo, None)?;
    }
    if echo.replies != echo.messages.len() {
        return Err("not every message came back".into());
    }
    Ok(())
}
