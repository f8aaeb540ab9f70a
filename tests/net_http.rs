//! Plain HTTP beside WebSocket on one listener, against real peers: curl for static files
//! (ranges, conditional GET, HEAD, big files), raw sockets for pipelining, limits and malformed
//! input, and upgrades on the same port (also after HTTP requests on the same connection).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use wskit::net::{ConnId, Context, Handler, HttpRequestInfo, ListenOptions, Message, Remote};

/// Answers `/dyn` itself, `/later` from a worker thread, `/stream` in pieces; everything else
/// goes to the default (static files). Echoes WebSocket messages.
struct App {
    remote: Remote,
}

impl Handler for App {
    fn on_http_request(&mut self, ctx: &mut Context, request: &HttpRequestInfo<'_>) {
        let r = request.request;
        match r.path.as_str() {
            "/dyn" => {
                let body = format!(
                    "{} {} {}",
                    r.method,
                    r.query.as_deref().unwrap_or(""),
                    r.body.len()
                );
                let headers = [("Content-Type".to_string(), "text/plain".to_string())];
                ctx.http_respond(request.conn, 200, &headers, body.as_bytes())
                    .unwrap();
            }
            "/echo" => ctx.http_respond(request.conn, 200, &[], &r.body).unwrap(),
            "/later" => {
                let remote = self.remote.clone();
                let conn = request.conn;
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(50));
                    remote.http_respond(conn, 202, vec![], "from a thread").unwrap();
                });
            }
            "/stream" => {
                ctx.http_begin(request.conn, 200, &[], None).unwrap();
                for piece in ["one,", "two,", "three"] {
                    ctx.http_write(request.conn, piece.as_bytes()).unwrap();
                }
                ctx.http_end(request.conn).unwrap();
            }
            _ => ctx.http_serve_default(request.conn, r).unwrap(),
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        if let Message::Text(text) = message {
            let _ = ctx.send_text(conn, text);
        }
    }
}

struct Server {
    addr: SocketAddr,
    remote: Remote,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(options: ListenOptions) -> Server {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let mut ctx = Context::new().unwrap();
        let listener = ctx.listen("127.0.0.1:0", options).unwrap();
        let remote = ctx.remote();
        tx.send((ctx.local_addr(listener).unwrap(), remote.clone()))
            .unwrap();
        let mut app = App { remote };
        ctx.run(&mut app).unwrap();
    });
    let (addr, remote) = rx.recv().unwrap();
    Server {
        addr,
        remote,
        thread: Some(thread),
    }
}

/// A directory with a page, a small file, a 3 MiB file, and a symlink that leads out of it.
fn site(name: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!("wskit-http-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("root");
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><h1>wskit</h1>").unwrap();
    std::fs::write(root.join("docs/index.html"), "docs").unwrap();
    std::fs::write(root.join("small.txt"), "0123456789abcdef").unwrap();
    std::fs::write(root.join("space name.txt"), "spaced").unwrap();
    std::fs::write(root.join("big.bin"), big_content()).unwrap();
    std::fs::write(base.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(base.join("secret.txt"), root.join("link-out")).unwrap();
    root
}

fn big_content() -> Vec<u8> {
    (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

fn static_server(name: &str) -> (Server, PathBuf) {
    let root = site(name);
    let server = serve(ListenOptions::default().static_dir(&root));
    (server, root)
}

/// Runs curl; returns (status, headers, body).
fn curl(args: &[&str]) -> (u16, String, Vec<u8>) {
    let headers_file = std::env::temp_dir().join(format!(
        "wskit-curl-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "-D"])
        .arg(&headers_file)
        .args(args)
        .output()
        .expect("curl runs (scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let headers = std::fs::read_to_string(&headers_file).unwrap();
    let _ = std::fs::remove_file(&headers_file);
    // After a 100 Continue the final response's head comes last.
    let headers = headers
        .rsplit("\r\n\r\n")
        .find(|h| h.starts_with("HTTP/"))
        .unwrap()
        .to_string();
    let status = headers.split(' ').nth(1).unwrap().parse().unwrap();
    (status, headers, out.stdout)
}

fn url(server: &Server, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads one response (head and Content-Length or chunked body) from a raw socket.
fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> (u16, String, Vec<u8>) {
    read_response_to(stream, pending, "GET")
}

/// [`read_response`] for a request with this method (a HEAD response has no body).
fn read_response_to(stream: &mut TcpStream, pending: &mut Vec<u8>, method: &str) -> (u16, String, Vec<u8>) {
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, pending);
    };
    let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
    pending.drain(..head_end);
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = Vec::new();
    if method == "HEAD" || status == 100 || status == 304 {
        return (status, head, body);
    }
    if let Some(len) = header(&head, "Content-Length") {
        let len: usize = len.parse().unwrap();
        while pending.len() < len {
            fill(stream, pending);
        }
        body = pending.drain(..len).collect();
    } else if header(&head, "Transfer-Encoding") == Some("chunked") {
        loop {
            let line_end = loop {
                if let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                fill(stream, pending);
            };
            let size = usize::from_str_radix(std::str::from_utf8(&pending[..line_end]).unwrap(), 16).unwrap();
            while pending.len() < line_end + 2 + size + 2 {
                fill(stream, pending);
            }
            body.extend_from_slice(&pending[line_end + 2..line_end + 2 + size]);
            pending.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break;
            }
        }
    }
    (status, head, body)
}

fn fill(stream: &mut TcpStream, pending: &mut Vec<u8>) {
    let mut buf = [0u8; 65536];
    let n = stream.read(&mut buf).unwrap();
    assert!(
        n > 0,
        "connection closed early; have {:?}",
        String::from_utf8_lossy(pending)
    );
    pending.extend_from_slice(&buf[..n]);
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
}

/// True if the server closes the connection (EOF) within `within`.
fn closes_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).is_ok()
}

#[test]
fn curl_gets_files_pages_and_types() {
    let (server, _root) = static_server("types");
    let (status, headers, body) = curl(&[&url(&server, "/small.txt")]);
    assert_eq!((status, body.as_slice()), (200, &b"0123456789abcdef"[..]));
    assert_eq!(
        header(&headers, "Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(header(&headers, "Content-Length"), Some("16"));
    assert!(header(&headers, "Last-Modified").is_some());
    let (status, headers, body) = curl(&[&url(&server, "/")]);
    assert_eq!(
        (status, body.as_slice()),
        (200, &b"<!doctype html><h1>wskit</h1>"[..])
    );
    assert_eq!(header(&headers, "Content-Type"), Some("text/html; charset=utf-8"));
    let (status, headers, _) = curl(&[&url(&server, "/docs")]);
    assert_eq!((status, header(&headers, "Location")), (301, Some("/docs/")));
    assert_eq!(curl(&[&url(&server, "/docs/")]).2, b"docs");
    assert_eq!(curl(&[&url(&server, "/space%20name.txt")]).2, b"spaced");
    assert_eq!(curl(&[&url(&server, "/nope.txt")]).0, 404);
}

#[test]
fn head_range_and_conditional_requests() {
    let (server, _root) = static_server("range");
    let (status, headers, _) = curl(&["-I", &url(&server, "/small.txt")]);
    assert_eq!((status, header(&headers, "Content-Length")), (200, Some("16")));
    let (status, headers, body) = curl(&["-r", "2-5", &url(&server, "/small.txt")]);
    assert_eq!((status, body.as_slice()), (206, &b"2345"[..]));
    assert_eq!(header(&headers, "Content-Range"), Some("bytes 2-5/16"));
    let (status, _, body) = curl(&["-r", "-3", &url(&server, "/small.txt")]);
    assert_eq!((status, body.as_slice()), (206, &b"def"[..]));
    let (status, headers, _) = curl(&["-r", "100-", &url(&server, "/small.txt")]);
    assert_eq!(
        (status, header(&headers, "Content-Range")),
        (416, Some("bytes */16"))
    );
    let modified = header(&curl(&[&url(&server, "/small.txt")]).1, "Last-Modified")
        .unwrap()
        .to_string();
    let (status, _, body) = curl(&[
        "-H",
        &format!("If-Modified-Since: {modified}"),
        &url(&server, "/small.txt"),
    ]);
    assert_eq!((status, body.len()), (304, 0));
    let (status, _, _) = curl(&[
        "-H",
        "If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT",
        &url(&server, "/small.txt"),
    ]);
    assert_eq!(status, 200);
    let (status, headers, _) = curl(&["-X", "DELETE", &url(&server, "/small.txt")]);
    assert_eq!((status, header(&headers, "Allow")), (405, Some("GET, HEAD")));
}

#[test]
fn traversal_attempts_and_bad_paths_find_nothing() {
    let (server, root) = static_server("traversal");
    let secret = root.parent().unwrap().join("secret.txt");
    for probe in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/docs/..%2f..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/link-out",
        &format!("/{}", secret.display()),
        &format!("//{}", secret.display()),
    ] {
        let (status, _, body) = curl(&["--path-as-is", &url(&server, probe)]);
        assert_eq!(status, 404, "{probe}");
        assert!(!body.windows(6).any(|w| w == b"secret"), "{probe}");
    }
    for bad in ["/small.txt%00", "/%zz", "/a%5c..%5csecret.txt"] {
        assert_eq!(curl(&["--path-as-is", &url(&server, bad)]).0, 400, "{bad}");
    }
    // Absolute-form targets keep only their path.
    let mut stream = connect(&server);
    stream
        .write_all(b"GET http://evil/../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 404);
}

#[test]
fn a_big_file_streams_whole_and_in_ranges() {
    let (server, _root) = static_server("big");
    let (status, _, body) = curl(&[&url(&server, "/big.bin")]);
    assert_eq!(status, 200);
    assert!(
        body == big_content(),
        "3 MiB arrive intact ({} bytes)",
        body.len()
    );
    let (status, _, body) = curl(&["-r", "1000000-2999999", &url(&server, "/big.bin")]);
    assert_eq!(status, 206);
    assert!(body == big_content()[1_000_000..3_000_000]);
    // A slow reader: the file is streamed as the socket takes it, and arrives intact.
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(300));
    let mut pending = Vec::new();
    let (status, _, body) = read_response(&mut stream, &mut pending);
    assert_eq!(status, 200);
    assert!(body == big_content());
    // The connection is kept alive: a second request on it.
    stream
        .write_all(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut pending).2, b"0123456789abcdef");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (server, _root) = static_server("pipeline");
    let mut stream = connect(&server);
    stream
        .write_all(
            b"GET /dyn?1 HTTP/1.1\r\nHost: x\r\n\r\n\
              GET /later HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /dyn?3 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody\
              GET /stream HTTP/1.1\r\nHost: x\r\n\r\n\
              HEAD /small.txt HTTP/1.1\r\nHost: x\r\n\r\n\
              PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n\
              GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut pending = Vec::new();
    let mut answers = Vec::new();
    for method in ["GET", "GET", "POST", "GET", "HEAD", "PUT", "GET"] {
        let (status, _, body) = read_response_to(&mut stream, &mut pending, method);
        answers.push((status, String::from_utf8(body).unwrap()));
    }
    assert_eq!(
        answers,
        [
            (200, "GET 1 0".to_string()),
            (202, "from a thread".to_string()),
            (200, "POST 3 4".to_string()),
            (200, "one,two,three".to_string()),
            (200, String::new()),
            (200, "abcde".to_string()),
            (200, "0123456789abcdef".to_string()),
        ]
    );
    assert!(
        closes_within(&mut stream, Duration::from_secs(5)),
        "Connection: close closes"
    );
    assert!(pending.is_empty());
}

#[test]
fn python_http_client_keeps_the_connection_alive() {
    let (server, _root) = static_server("python");
    let script = format!(
        r#"
import http.client
c = http.client.HTTPConnection("127.0.0.1", {port}, timeout=10)
for i in range(3):
    c.request("POST", "/dyn?%d" % i, body=b"x" * i)
    r = c.getresponse()
    print(r.status, r.read().decode())
c.request("GET", "/small.txt")
r = c.getresponse()
print(r.status, r.read().decode(), r.getheader("Content-Type"))
sock = c.sock
c.request("GET", "/stream")
r = c.getresponse()
print(r.status, r.read().decode(), c.sock is sock)
"#,
        port = server.addr.port()
    );
    let out = Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "200 POST 0 0\n200 POST 1 1\n200 POST 2 2\n200 0123456789abcdef text/plain; charset=utf-8\n200 one,two,three True\n"
    );
}

#[test]
fn expect_continue_is_answered_before_the_body_is_sent() {
    let (server, _root) = static_server("expect");
    let mut stream = connect(&server);
    stream
        .write_all(b"PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    let mut pending = Vec::new();
    let (status, _, _) = read_response(&mut stream, &mut pending);
    assert_eq!(status, 100);
    stream.write_all(b"hello").unwrap();
    assert_eq!(
        read_response(&mut stream, &mut pending),
        (
            200,
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".into(),
            b"hello".to_vec()
        )
    );
    // curl sends Expect: 100-continue for large bodies itself.
    let data = "z".repeat(2 << 20);
    let file = std::env::temp_dir().join(format!("wskit-expect-{}", std::process::id()));
    std::fs::write(&file, &data).unwrap();
    let small = serve(ListenOptions {
        max_http_body: 4 << 20,
        ..ListenOptions::default()
    });
    let (status, _, body) = curl(&[
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        &format!("@{}", file.display()),
        &url(&small, "/echo"),
    ]);
    let _ = std::fs::remove_file(file);
    assert_eq!(status, 200);
    assert!(body == data.as_bytes());
}

#[test]
fn limits_give_clear_statuses() {
    let server = serve(ListenOptions {
        max_http_body: 1000,
        http_keep_alive: Duration::from_millis(300),
        ..ListenOptions::default()
    });
    // Header block over request_limits (16 KiB): 431.
    let mut stream = connect(&server);
    let big = format!(
        "GET /dyn HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    stream.write_all(big.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 431);
    assert!(closes_within(&mut stream, Duration::from_secs(5)));
    // Body over max_http_body: 413 (by Content-Length at once, or chunked as it arrives).
    let mut stream = connect(&server);
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 413);
    let mut stream = connect(&server);
    let chunk = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n{}\r\n",
        "b".repeat(1001)
    );
    stream.write_all(chunk.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 413);
    // A body of exactly the limit passes.
    let mut stream = connect(&server);
    let exact = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{}",
        "c".repeat(1000)
    );
    stream.write_all(exact.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).2.len(), 1000);
    // Idle keep-alive: closed after http_keep_alive, not before a response.
    let started = Instant::now();
    assert!(
        closes_within(&mut stream, Duration::from_secs(5)),
        "an idle keep-alive connection is closed"
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn malformed_and_smuggling_requests_get_400_and_close() {
    let server = serve(ListenOptions::default());
    for bad in [
        &b"\x16\x03\x01\x02\x00 garbage\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
    ] {
        let mut stream = connect(&server);
        stream.write_all(bad).unwrap();
        let (status, _, _) = read_response(&mut stream, &mut Vec::new());
        assert_eq!(status, 400, "{:?}", String::from_utf8_lossy(bad));
        assert!(closes_within(&mut stream, Duration::from_secs(5)));
    }
    let mut stream = connect(&server);
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 501);
}

#[test]
fn without_static_dir_plain_requests_get_what_they_got_before() {
    let server = serve(ListenOptions::default());
    let (status, headers, _) = curl(&[&url(&server, "/")]);
    assert_eq!((status, header(&headers, "Connection")), (400, Some("close")));
    let (status, headers, _) = curl(&["-X", "POST", &url(&server, "/")]);
    assert_eq!((status, header(&headers, "Allow")), (405, Some("GET")));
    // The application's own endpoints work regardless.
    assert_eq!(curl(&[&url(&server, "/dyn?q")]).2, b"GET q 0");
}

#[test]
fn upgrades_work_on_the_same_port_and_after_http_on_one_connection() {
    let (server, _root) = static_server("upgrade");
    let upgrade = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let masked_hi = [0x81u8, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    for first_http in [false, true] {
        let mut stream = connect(&server);
        let mut pending = Vec::new();
        if first_http {
            stream
                .write_all(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            assert_eq!(read_response(&mut stream, &mut pending).0, 200);
        }
        stream.write_all(upgrade).unwrap();
        let (status, headers, _) = read_response(&mut stream, &mut pending);
        assert_eq!(status, 101);
        assert_eq!(
            header(&headers, "Sec-WebSocket-Accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        stream.write_all(&masked_hi).unwrap();
        while pending.len() < 4 {
            fill(&mut stream, &mut pending);
        }
        assert_eq!(&pending[..4], &[0x81, 2, b'h', b'i'], "echoed over WebSocket");
    }
    // A bad upgrade keeps today's answer.
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 426);
}

#[test]
fn http_connections_count_toward_the_connection_limit() {
    let root = site("limit");
    let server = serve(ListenOptions {
        max_connections: 2,
        ..ListenOptions::default().static_dir(&root)
    });
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&server);
        stream
            .write_all(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 200);
        held.push(stream);
    }
    let mut third = connect(&server);
    let _ = third.write_all(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(read_response(&mut third, &mut Vec::new()).0, 503);
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = connect(&server);
        stream
            .write_all(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        if read_response(&mut stream, &mut Vec::new()).0 == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slots come back when HTTP connections close"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_half_closed_client_still_gets_its_response() {
    let (server, _root) = static_server("halfclose");
    for path in ["/small.txt", "/later"] {
        let mut stream = connect(&server);
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let (status, _, _) = read_response(&mut stream, &mut Vec::new());
        assert!(status == 200 || status == 202, "{path}: {status}");
        assert!(closes_within(&mut stream, Duration::from_secs(5)));
    }
}
