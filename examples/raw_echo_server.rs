//! Raw TCP echo server: the physical-limit reference for `bench/compare.sh`.
//!
//!     cargo run --release --example raw_echo_server -- 127.0.0.1:9100
//!
//! Single-threaded mio loop that echoes frames of a 4-byte big-endian length and a payload (what
//! the load generator sends in `--mode raw`): each frame goes back once all of it arrived, as a
//! WebSocket server echoes a whole message, so the comparison is of message servers, and the gap
//! to this one is what the WebSocket protocol and the library cost. It does nothing more: no
//! masking, no validation, no events. The complete frames of a read are written back straight
//! from the one shared read buffer; a connection keeps a buffer only for a frame that is not
//! complete yet or for output the socket did not take (and then stops reading until it is written:
//! back-pressure like a WebSocket server's send queue). Reads stop at a short read, as wskit's do.
//!
//! Prints one line when listening and runs until killed.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const LISTENER: Token = Token(usize::MAX);
const READ_BUF: usize = 256 << 10;
const PREFIX: usize = 4;
/// Frames larger than this close the connection (the generator's limit: 64 MiB, like the servers').
const MAX_FRAME: usize = 64 << 20;

struct Conn {
    stream: TcpStream,
    /// The beginning of a frame that has not arrived whole (empty almost always).
    partial: Vec<u8>,
    /// Complete frames the socket did not take yet (empty almost always).
    pending: Vec<u8>,
    /// Writable interest registered (only while `pending` is not empty).
    want_write: bool,
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9100".into())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let mut poll = Poll::new()?;
    let mut listener = bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("raw_echo_server listening on tcp://{}", listener.local_addr()?);

    let mut events = Events::with_capacity(1024);
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut buf = vec![0u8; READ_BUF];
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            let index = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            if poll
                                .registry()
                                .register(&mut stream, Token(index), Interest::READABLE)
                                .is_err()
                            {
                                free.push(index);
                                continue;
                            }
                            conns[index] = Some(Conn {
                                stream,
                                partial: Vec::new(),
                                pending: Vec::new(),
                                want_write: false,
                            });
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            // EMFILE and friends: say so and try again at the next event.
                            eprintln!("raw_echo_server: accept: {e}");
                            break;
                        }
                    }
                }
                continue;
            }
            let index = event.token().0;
            let Some(conn) = conns.get_mut(index).and_then(Option::as_mut) else {
                continue;
            };
            let read_closed = event.is_read_closed() || event.is_error();
            let alive = service(conn, &mut buf, &poll, index, read_closed);
            if !alive {
                if let Some(mut conn) = conns[index].take() {
                    let _ = poll.registry().deregister(&mut conn.stream);
                }
                free.push(index);
            }
        }
    }
}

/// How many leading bytes of `data` are whole frames; `Err` for a frame over `MAX_FRAME`.
fn whole_frames(data: &[u8]) -> Result<usize, ()> {
    let mut pos = 0;
    while let Some(prefix) = data.get(pos..pos + PREFIX) {
        let len = u32::from_be_bytes(prefix.try_into().expect("4 bytes")) as usize;
        if len > MAX_FRAME {
            return Err(());
        }
        if data.len() - pos - PREFIX < len {
            break;
        }
        pos += PREFIX + len;
    }
    Ok(pos)
}

/// Flushes the backlog, then reads and echoes until the socket is drained or blocks on write.
/// Returns false when the connection is finished. A read shorter than the buffer emptied the
/// socket (new data raises a new edge), so it ends the loop without the read that would only say
/// "would block", as wskit does; unless the peer closed its side (`read_closed`), whose FIN raises
/// no new edge.
fn service(conn: &mut Conn, buf: &mut [u8], poll: &Poll, index: usize, read_closed: bool) -> bool {
    if !conn.pending.is_empty() {
        match write_some(&mut conn.stream, &conn.pending) {
            Ok(n) => {
                conn.pending.drain(..n);
            }
            Err(_) => return false,
        }
    }
    // Read only while nothing is waiting to be written (back-pressure).
    while conn.pending.is_empty() {
        let n = match conn.stream.read(buf) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        };
        let echoed = if conn.partial.is_empty() {
            let Ok(whole) = whole_frames(&buf[..n]) else {
                return false;
            };
            let echoed = echo(conn, &buf[..whole]);
            let rest = &buf[whole..n];
            if let Some(prefix) = rest.get(..PREFIX) {
                // Room for the whole frame at once: no copying as the buffer grows.
                let len = u32::from_be_bytes(prefix.try_into().expect("4 bytes")) as usize;
                conn.partial.reserve_exact(PREFIX + len);
            }
            conn.partial.extend_from_slice(rest);
            echoed
        } else {
            conn.partial.extend_from_slice(&buf[..n]);
            let Ok(whole) = whole_frames(&conn.partial) else {
                return false;
            };
            let partial = std::mem::take(&mut conn.partial);
            let echoed = echo(conn, &partial[..whole]);
            conn.partial = partial;
            conn.partial.drain(..whole);
            echoed
        };
        if !echoed {
            return false;
        }
        if n < buf.len() && !read_closed {
            break;
        }
    }
    let want_write = !conn.pending.is_empty();
    if want_write != conn.want_write {
        let interest = if want_write {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if poll
            .registry()
            .reregister(&mut conn.stream, Token(index), interest)
            .is_err()
        {
            return false;
        }
        conn.want_write = want_write;
    }
    if conn.partial.is_empty() && conn.partial.capacity() > 0 {
        conn.partial = Vec::new();
    }
    if !want_write && conn.pending.capacity() > 0 {
        conn.pending = Vec::new();
    }
    true
}

/// Writes `frames` back, keeping what the socket does not take. False if the connection failed.
fn echo(conn: &mut Conn, frames: &[u8]) -> bool {
    if frames.is_empty() {
        return true;
    }
    match write_some(&mut conn.stream, frames) {
        Ok(written) => {
            conn.pending.extend_from_slice(&frames[written..]);
            true
        }
        Err(_) => false,
    }
}

/// Writes as much of `data` as the socket takes; returns how much.
fn write_some(stream: &mut TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < data.len() {
        match stream.write(&data[written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}
