//! Raw TCP echo server: the physical-limit reference for `bench/compare.sh`.
//!
//!     cargo run --release --example raw_echo_server -- 127.0.0.1:9100
//!
//! Single-threaded mio loop that writes every byte it reads straight back (no framing: the load
//! generator in `--mode raw` counts messages by length). One shared read buffer; a connection keeps
//! a buffer only while the socket does not take everything (and then stops reading from it until
//! the backlog is written: back-pressure like a WebSocket server's send queue). It does nothing a
//! WebSocket server could skip, so the gap to it is what the protocol and the library cost.
//!
//! Prints one line when listening and runs until killed.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const LISTENER: Token = Token(usize::MAX);
const READ_BUF: usize = 256 << 10;

struct Conn {
    stream: TcpStream,
    /// Bytes read but not yet written back (empty almost always).
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
            let alive = service(
                conn,
                &mut buf,
                &poll,
                index,
                event.is_read_closed() || event.is_error(),
            );
            if !alive {
                if let Some(mut conn) = conns[index].take() {
                    let _ = poll.registry().deregister(&mut conn.stream);
                }
                free.push(index);
            }
        }
    }
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
        match conn.stream.read(buf) {
            Ok(0) => return false,
            Ok(n) => {
                match write_some(&mut conn.stream, &buf[..n]) {
                    Ok(written) if written == n => {}
                    Ok(written) => conn.pending.extend_from_slice(&buf[written..n]),
                    Err(_) => return false,
                }
                if n < buf.len() && !read_closed {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
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
    if !want_write && conn.pending.capacity() > 0 {
        conn.pending = Vec::new();
    }
    true
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
