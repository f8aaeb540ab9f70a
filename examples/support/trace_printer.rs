//! `--trace` for the Rust examples: prints the handshake lines and every frame header to stderr,
//! like the frame view of a browser's developer tools.

use wskit::net::{ConnId, Context, Direction, TraceEvent};

/// Installs a tracer on `ctx` that prints to stderr.
pub fn install(ctx: &mut Context) {
    ctx.set_tracer(Some(Box::new(|conn: ConnId, event: &TraceEvent<'_>| {
        eprintln!("{}", describe(conn, event));
    })));
}

/// One trace event as text: `conn 1 <- GET / HTTP/1.1 | Host: ...` or `conn 1 -> Text fin len 5`.
pub fn describe(conn: ConnId, event: &TraceEvent<'_>) -> String {
    let arrow = |direction: Direction| match direction {
        Direction::Received => "<-",
        Direction::Sent => "->",
    };
    match *event {
        TraceEvent::Handshake { direction, bytes } => {
            // Only the header block: received bytes may carry the first frames after it.
            let end = bytes
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or(bytes.len());
            let text = String::from_utf8_lossy(&bytes[..end]);
            let lines: Vec<&str> = text.split("\r\n").collect();
            format!(
                "trace conn {} {} {}",
                conn.as_u64(),
                arrow(direction),
                lines.join(" | ")
            )
        }
        TraceEvent::Frame {
            direction,
            opcode,
            fin,
            rsv,
            len,
        } => format!(
            "trace conn {} {} {:?}{}{} len {}",
            conn.as_u64(),
            arrow(direction),
            opcode,
            if fin { " fin" } else { "" },
            if rsv != 0 {
                format!(" rsv {rsv:#05b}")
            } else {
                String::new()
            },
            len
        ),
    }
}
