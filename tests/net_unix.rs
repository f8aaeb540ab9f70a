//! Unix domain sockets: a wskit server and client over a socket path and a Linux abstract socket,
//! `ws+unix:` URLs, the socket file's mode, refusing to remove what is not ours, removing a stale
//! socket on request, removal at close; and the real peers: Python `websockets` (`unix_connect`
//! against a wskit server, a wskit client against `unix_serve`) and Node `ws` (`ws+unix:` URL).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Err, Ev, Recorder};
use wskit::net::{ConnectOptions, Context, Error, ListenOptions, TlsServerConfig, UnixListenOptions};
use wskit::proto::Role;

/// A fresh directory for socket files, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("wskit-unix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

/// Records the Host header of every upgrade request.
fn host_recorder() -> (Recorder, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let hosts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = hosts.clone();
    let mut recorder = Recorder::echoing();
    recorder.accept = Some(Box::new(move |request| {
        seen.lock()
            .unwrap()
            .push(request.header("host").unwrap_or("").to_owned());
        request.accept_default()
    }));
    (recorder, hosts)
}

/// Echo both ways over `socket`, the client given a `ws+unix:` URL; checks what the API reports.
fn echo_over(socket: &str, file: Option<&Path>) {
    let mut s = Context::new().unwrap();
    let (mut sh, hosts) = host_recorder();
    let listener = s
        .listen_unix(socket, UnixListenOptions::new(), ListenOptions::default())
        .unwrap();
    assert_eq!(s.unix_listener_path(listener).unwrap(), Path::new(socket));
    assert!(matches!(s.local_addr(listener), Err(Error::InvalidState(_))));
    if let Some(file) = file {
        assert!(is_socket(file), "{} is not a socket", file.display());
    }
    let mut c = Context::new().unwrap();
    let mut ch = Recorder::new();
    let url = format!("ws+unix://{socket}:/chat?room=1");
    let cid = c.connect(&url, ConnectOptions::default()).unwrap();
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(5),
        "open",
        |_, sh, _, ch| ch.opens(Role::Client) == vec![cid] && sh.opens(Role::Server).len() == 1,
    );
    let sid = sh.opens(Role::Server)[0];
    assert_eq!(*hosts.lock().unwrap(), vec!["localhost".to_string()]);
    let path = sh.events.iter().find_map(|e| match e {
        Ev::Open {
            path,
            role: Role::Server,
            ..
        } => Some(path.clone()),
        _ => None,
    });
    assert_eq!(path.as_deref(), Some("/chat"));
    assert_eq!(c.path(cid).unwrap(), "/chat");
    assert_eq!(c.query(cid).unwrap(), Some("room=1"));
    assert_eq!(c.unix_path(cid).unwrap(), Some(Path::new(socket)));
    assert_eq!(s.unix_path(sid).unwrap(), Some(Path::new(socket)));
    assert!(matches!(s.peer_addr(sid), Err(Error::InvalidState(_))));
    assert!(matches!(c.peer_addr(cid), Err(Error::InvalidState(_))));

    let big: Vec<u8> = (0..(4 << 20)).map(|i| (i * 7) as u8).collect();
    c.send_text(cid, "hello").unwrap();
    c.send_binary(cid, &big).unwrap();
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(10),
        "echoes",
        |_, _, _, ch| ch.messages(cid).len() == 2,
    );
    let got = ch.messages(cid);
    assert_eq!(got[0], (true, b"hello".to_vec()));
    assert!(got[1].1 == big, "binary echo differs");

    c.close(cid, 1000, "bye").unwrap();
    common::pump2(
        &mut s,
        &mut sh,
        &mut c,
        &mut ch,
        Duration::from_secs(5),
        "close",
        |_, sh, _, ch| ch.is_closed(cid) && sh.is_closed(sid),
    );
    let (code, _, clean, local) = ch.closes(cid)[0].clone();
    assert_eq!((code, clean, local), (1000, true, true));
    s.close_listener(listener).unwrap();
    if let Some(file) = file {
        assert!(
            !file.exists(),
            "the socket file is removed when the listener closes"
        );
    }
}

#[test]
fn echoes_over_a_socket_file_and_removes_it_at_close() {
    let dir = TempDir::new("echo");
    let file = dir.path("ws.sock");
    echo_over(file.to_str().unwrap(), Some(&file));
}

#[cfg(target_os = "linux")]
#[test]
fn echoes_over_an_abstract_socket() {
    let name = format!("@wskit-test-{}", std::process::id());
    echo_over(&name, None);
}

#[test]
fn connect_unix_sends_the_urls_host_and_path() {
    let dir = TempDir::new("connect-unix");
    let file = dir.path("ws.sock");
    let mut s = Context::new().unwrap();
    let (mut sh, hosts) = host_recorder();
    s.listen_unix(&file, UnixListenOptions::new(), ListenOptions::default())
        .unwrap();
    let cid = s
        .connect_unix(&file, "ws://app.internal/api?v=2", ConnectOptions::default())
        .unwrap();
    common::pump(&mut s, &mut sh, Duration::from_secs(5), "open", |_, sh| {
        sh.opens(Role::Client) == vec![cid] && sh.opens(Role::Server).len() == 1
    });
    assert_eq!(*hosts.lock().unwrap(), vec!["app.internal".to_string()]);
    let paths: Vec<String> = sh
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Accept { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(paths, vec!["/api".to_string()]);
    drop(s);
    assert!(!file.exists(), "dropping the context removes the socket file");
}

#[test]
fn sets_the_socket_files_mode() {
    let dir = TempDir::new("mode");
    for mode in [0o600, 0o660, 0o666] {
        let file = dir.path(&format!("m{mode:o}.sock"));
        let mut s = Context::new().unwrap();
        s.listen_unix(
            &file,
            UnixListenOptions::new().mode(mode),
            ListenOptions::default(),
        )
        .unwrap();
        let got = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(got, mode, "mode of {}", file.display());
    }
}

#[test]
fn refuses_existing_paths_and_removes_only_stale_sockets() {
    let dir = TempDir::new("stale");
    // A regular file: refused, with or without remove_stale, and left alone.
    let file = dir.path("regular");
    std::fs::write(&file, b"keep me").unwrap();
    let mut s = Context::new().unwrap();
    let err = s
        .listen_unix(&file, UnixListenOptions::new(), ListenOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::AddrInUse),
        "{err:?}"
    );
    let err = s
        .listen_unix(
            &file,
            UnixListenOptions::new().remove_stale(true),
            ListenOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");

    // A stale socket (its process is gone): refused by default, replaced with remove_stale.
    let stale = dir.path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(is_socket(&stale));
    assert!(
        s.listen_unix(&stale, UnixListenOptions::new(), ListenOptions::default())
            .is_err()
    );
    let id = s
        .listen_unix(
            &stale,
            UnixListenOptions::new().remove_stale(true),
            ListenOptions::default(),
        )
        .unwrap();

    // A live server: never removed, even with remove_stale.
    let mut other = Context::new().unwrap();
    let err = other
        .listen_unix(
            &stale,
            UnixListenOptions::new().remove_stale(true),
            ListenOptions::default(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::AddrInUse),
        "{err:?}"
    );
    let cid = other
        .connect(
            &format!("ws+unix://{}:/", stale.display()),
            ConnectOptions::default(),
        )
        .unwrap();
    let mut sh = Recorder::echoing();
    let mut oh = Recorder::new();
    common::pump2(
        &mut s,
        &mut sh,
        &mut other,
        &mut oh,
        Duration::from_secs(5),
        "still served",
        |_, _, _, oh| oh.opens(Role::Client) == vec![cid],
    );
    s.close_listener(id).unwrap();
    assert!(!stale.exists());
}

#[test]
fn leaves_a_file_that_replaced_its_socket() {
    let dir = TempDir::new("replaced");
    let file = dir.path("ws.sock");
    let mut s = Context::new().unwrap();
    let id = s
        .listen_unix(&file, UnixListenOptions::new(), ListenOptions::default())
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, b"someone else's").unwrap();
    s.close_listener(id).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), b"someone else's");
}

#[test]
fn reports_failed_connects_and_refuses_tls() {
    let dir = TempDir::new("fail");
    let missing = dir.path("nobody.sock");
    let mut c = Context::new().unwrap();
    let mut ch = Recorder::new();
    let cid = c
        .connect(
            &format!("ws+unix://{}:/x", missing.display()),
            ConnectOptions::default(),
        )
        .unwrap();
    common::pump(&mut c, &mut ch, Duration::from_secs(5), "failure", |_, ch| {
        ch.is_closed(cid)
    });
    let errors = ch.errors(cid);
    assert!(
        matches!(&errors[..], [Err::Connect(what)] if what.contains("nobody.sock")),
        "{errors:?}"
    );
    assert_eq!(ch.closes(cid)[0].0, 1006);

    // A socket file nobody listens on: refused.
    let stale = dir.path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let cid = c
        .connect_unix(&stale, "ws://localhost/", ConnectOptions::default())
        .unwrap();
    common::pump(&mut c, &mut ch, Duration::from_secs(5), "refused", |_, ch| {
        ch.is_closed(cid)
    });
    assert!(matches!(&ch.errors(cid)[..], [Err::Connect(_)]));

    assert!(matches!(
        c.connect("wss+unix:///tmp/x.sock:/", ConnectOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.connect_unix(&stale, "wss://localhost/", ConnectOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.connect("ws+unix://:/x", ConnectOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
    let long = dir.path(&"x".repeat(200));
    assert!(matches!(
        c.listen_unix(&long, UnixListenOptions::new(), ListenOptions::default()),
        Err(Error::InvalidArgument(_))
    ));

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let tls = TlsServerConfig::from_pem(
        cert.cert.pem().as_bytes(),
        cert.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let options = ListenOptions {
        tls: Some(tls),
        ..ListenOptions::default()
    };
    let file = dir.path("tls.sock");
    assert!(matches!(
        c.listen_unix(&file, UnixListenOptions::new(), options),
        Err(Error::InvalidArgument(_))
    ));
    assert!(!file.exists());
}

// ----- real peers ------------------------------------------------------------------------------

fn peers_dir() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = repo.join(std::env::var("WSKIT_PEERS_DIR").unwrap_or_else(|_| ".peers".into()));
    assert!(
        dir.join("venv/bin/python").exists() && dir.join("node/node_modules/ws").exists(),
        "the peer libraries are not installed in {}: run scripts/setup-peers.sh",
        dir.display()
    );
    dir
}

/// Runs `command` to completion while polling `ctx`; returns its stdout (fails on a non-zero exit).
fn run_while_serving(ctx: &mut Context, handler: &mut Recorder, mut command: Command) -> String {
    let mut child = command
        .env("WSKIT_PEER_TIMEOUT", "30")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn peer");
    let end = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < end, "peer did not finish");
        ctx.poll(handler, Some(Duration::from_millis(5))).unwrap();
    };
    let output = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "peer failed ({status}): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn python_websockets_unix_connect_against_a_wskit_server() {
    let peers = peers_dir();
    let dir = TempDir::new("py-client");
    let file = dir.path("ws.sock");
    let mut s = Context::new().unwrap();
    let (mut sh, hosts) = host_recorder();
    let mut options = ListenOptions::default();
    common::big_limits(&mut options.connection);
    s.listen_unix(&file, UnixListenOptions::new().mode(0o600), options)
        .unwrap();
    let mut command = Command::new(peers.join("venv/bin/python"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("tests/peers/py_unix.py")
        .arg("connect")
        .arg(&file)
        .arg("/py");
    let out = run_while_serving(&mut s, &mut sh, command);
    assert_eq!(out, r#"{"checked": 14, "close": 1000}"#);
    assert_eq!(*hosts.lock().unwrap(), vec!["localhost".to_string()]);
}

#[test]
fn node_ws_unix_url_against_a_wskit_server() {
    let _ = peers_dir();
    let dir = TempDir::new("node-client");
    let file = dir.path("ws.sock");
    let mut s = Context::new().unwrap();
    let (mut sh, hosts) = host_recorder();
    s.listen_unix(&file, UnixListenOptions::new(), ListenOptions::default())
        .unwrap();
    let mut command = Command::new("node");
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("tests/peers/node_unix.js")
        .arg(format!("ws+unix://{}:/node", file.display()));
    let out = run_while_serving(&mut s, &mut sh, command);
    assert_eq!(out, r#"{"checked":14,"close":1000}"#);
    assert_eq!(hosts.lock().unwrap().len(), 1);
    let paths: Vec<String> = sh
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Accept { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(paths, vec!["/node".to_string()]);
}

#[test]
fn wskit_client_against_python_websockets_unix_serve() {
    let peers = peers_dir();
    let dir = TempDir::new("py-server");
    let file = dir.path("ws.sock");
    let mut server = Command::new(peers.join("venv/bin/python"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("tests/peers/py_unix.py")
        .arg("serve")
        .arg(&file)
        .env("WSKIT_PEER_TIMEOUT", "30")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn websockets server");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");

    let mut c = Context::new().unwrap();
    let mut ch = Recorder::new();
    let cid = c
        .connect(
            &format!("ws+unix://{}:/from-wskit?q=1", file.display()),
            ConnectOptions::default(),
        )
        .unwrap();
    common::pump(&mut c, &mut ch, Duration::from_secs(10), "hello", |_, ch| {
        ch.messages(cid).len() == 1
    });
    assert_eq!(
        String::from_utf8(ch.messages(cid)[0].1.clone()).unwrap(),
        r#"{"path": "/from-wskit?q=1", "host": "localhost"}"#
    );
    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    c.send_text(cid, "über").unwrap();
    c.send_binary(cid, &big).unwrap();
    common::pump(&mut c, &mut ch, Duration::from_secs(10), "echoes", |_, ch| {
        ch.messages(cid).len() == 3
    });
    let got = ch.messages(cid);
    assert_eq!(got[1], (true, "über".as_bytes().to_vec()));
    assert!(got[2] == (false, big), "binary echo differs");
    c.close(cid, 1000, "").unwrap();
    common::pump(&mut c, &mut ch, Duration::from_secs(5), "close", |_, ch| {
        ch.is_closed(cid)
    });
    assert_eq!(ch.closes(cid)[0].0, 1000);
    let _ = server.stdin.take().unwrap().write_all(b"");
    assert!(server.wait().unwrap().success());
}

#[test]
fn serves_plain_http_to_curl_over_the_socket() {
    let dir = TempDir::new("http");
    let root = dir.path("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("hello.txt"), b"hello over a unix socket\n").unwrap();
    let file = dir.path("http.sock");
    let mut s = Context::new().unwrap();
    let mut sh = Recorder::new();
    s.listen_unix(
        &file,
        UnixListenOptions::new(),
        ListenOptions::default().static_dir(&root),
    )
    .unwrap();
    let mut command = Command::new("curl");
    command
        .args(["-sS", "--fail", "--max-time", "20", "--unix-socket"])
        .arg(&file)
        .arg("http://localhost/hello.txt");
    let out = run_while_serving(&mut s, &mut sh, command);
    assert_eq!(out, "hello over a unix socket");
}
