//! File descriptors run out under a listener: `accept` fails with EMFILE while connections wait
//! in the kernel's backlog. The listener must neither stall until another connection arrives
//! (epoll is edge-triggered: no new readiness comes for connections already waiting) nor busy-loop
//! on the failing `accept`; it backs off on a timer, reports the shortage once, and accepts the
//! waiting connections once descriptors are free again.
//!
//! The server is `examples/echo_server` in a child process whose RLIMIT_NOFILE is lowered (in
//! `pre_exec`), so the test process itself keeps its descriptors.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Descriptors the server may hold: stdin/out/err, epoll, waker, listener, and a few connections.
const FD_LIMIT: u64 = 24;
/// Connections the client opens: past what fits (about 17), fewer than twice that, so closing the
/// served ones makes room for every waiting one.
const CLIENTS: usize = 26;

fn echo_server() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--locked", "--example", "echo_server"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success(), "building echo_server failed");
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples/echo_server")
}

fn upgrade(addr: SocketAddr) -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// True once `stream` has received the 101 head (reads with a short timeout, keeps what it read).
fn upgraded(stream: &mut TcpStream, seen: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 1024];
    match stream.read(&mut chunk) {
        Ok(n) => seen.extend_from_slice(&chunk[..n]),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        Err(e) => panic!("client read: {e}"),
    }
    seen.starts_with(b"HTTP/1.1 101") && seen.windows(4).any(|w| w == b"\r\n\r\n")
}

/// utime + stime of a process, in clock ticks (100 per second on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based).
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn emfile_backs_off_reports_once_and_accepts_the_waiting_connections_when_fds_free_up() {
    let mut command = Command::new(echo_server());
    command
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: FD_LIMIT,
                rlim_max: FD_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("start echo_server");
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    let port: u16 = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .expect(&line);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stderr = Arc::new(Mutex::new(String::new()));
    {
        let stderr = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                stderr
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }

    // Open far more connections than the server has descriptors for.
    let mut clients: Vec<(TcpStream, Vec<u8>)> = (0..CLIENTS)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).expect("connect (the kernel's backlog takes it)");
            stream.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
            stream.write_all(&upgrade(addr)).unwrap();
            (stream, Vec::new())
        })
        .collect();
    let end = Instant::now() + Duration::from_secs(3);
    let mut open = 0;
    while Instant::now() < end {
        for (s, seen) in clients.iter_mut() {
            upgraded(s, seen);
        }
        open = clients.iter().filter(|(_, seen)| !seen.is_empty()).count();
        if stderr.lock().unwrap().contains("Too many open files") && open > 0 {
            break;
        }
    }
    thread::sleep(Duration::from_millis(300));
    for (s, seen) in clients.iter_mut() {
        upgraded(s, seen);
    }
    let served: Vec<usize> = (0..CLIENTS).filter(|&i| !clients[i].1.is_empty()).collect();
    assert!(
        served.len() > 2 && CLIENTS - served.len() <= served.len() - 2,
        "some but not all connections fit under the limit: {} of {CLIENTS} (open {open})",
        served.len()
    );

    // While descriptors stay short, the server waits on its timer: a busy loop on the failing
    // accept would burn a whole core (100 ticks a second); the back-off retries at most every
    // 10 ms to 1 s.
    let before = cpu_ticks(pid);
    thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(pid) - before;
    assert!(
        ticks < 50,
        "the server used {ticks} ticks of CPU in 2 s while out of descriptors"
    );
    assert_eq!(
        stderr.lock().unwrap().matches("Too many open files").count(),
        1,
        "reported once: {}",
        stderr.lock().unwrap()
    );

    // Free descriptors: close most served connections. No new connection arrives, yet every
    // waiting one must be accepted and upgraded (by the retry timer, within its 1 s back-off).
    let waiting: Vec<usize> = (0..CLIENTS).filter(|i| !served.contains(i)).collect();
    for &i in served.iter().skip(2) {
        clients[i].0.shutdown(std::net::Shutdown::Both).unwrap();
    }
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let mut done = 0;
        for &i in &waiting {
            let (s, seen) = &mut clients[i];
            done += usize::from(upgraded(s, seen));
        }
        if done == waiting.len() {
            break;
        }
        assert!(
            Instant::now() < end,
            "{done} of {} waiting connections upgraded after descriptors were freed; stderr: {}",
            waiting.len(),
            stderr.lock().unwrap()
        );
    }
    assert_eq!(
        stderr.lock().unwrap().matches("Too many open files").count(),
        1,
        "one shortage, one report: {}",
        stderr.lock().unwrap()
    );
    // They work: an echo on the last one.
    let (last, _) = &mut clients[*waiting.last().unwrap()];
    let key = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | 2];
    frame.extend_from_slice(&key);
    frame.extend(b"hi".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    last.write_all(&frame).unwrap();
    last.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut echo = [0u8; 4];
    last.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0x81, 2, b'h', b'i']);
    let _ = child.kill();
    let _ = child.wait();
}
