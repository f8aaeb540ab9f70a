//! Proxy traversal against real proxies started by scripts/proxies.sh: tinyproxy and squid (HTTP
//! CONNECT, with and without Basic auth, 403, 502, 503), stunnel in front of squid (an https://
//! proxy) and dante (SOCKS5, with and without username/password, remote resolution, reply
//! codes). A wskit echo server is the target, over ws:// and wss:// (TLS end to end, the target's
//! certificate verified). Two raw sockets stand in for broken proxies: one that answers with an
//! SSH banner (not HTTP) and one that never answers (the proxy timeout).

mod peer_support;

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use peer_support::{WskitServer, repo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use wskit::net::{
    ConnId, ConnectOptions, Context, Error, Handler, Message, OpenInfo, ProxyError, ProxyOptions,
    TlsClientConfig, TlsServerConfig,
};
use wskit::proto::CloseInfo;

/// The proxies of this test process, started once and stopped at exit.
struct Proxies {
    ports: HashMap<String, String>,
}

static PROXIES: OnceLock<Proxies> = OnceLock::new();
static DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn stop_proxies() {
    if let Some(dir) = DIR.get() {
        let _ = Command::new("bash")
            .arg(repo().join("scripts/proxies.sh"))
            .arg("stop")
            .arg(dir)
            .status();
    }
}

fn proxies() -> &'static Proxies {
    PROXIES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("wskit-proxies-{}", std::process::id()));
        DIR.set(dir.clone()).unwrap();
        // SAFETY: registering a plain `extern "C"` function with no arguments.
        unsafe { libc::atexit(stop_proxies) };
        let out = Command::new("bash")
            .arg(repo().join("scripts/proxies.sh"))
            .arg("start")
            .arg(&dir)
            .output()
            .expect("run scripts/proxies.sh");
        assert!(
            out.status.success(),
            "scripts/proxies.sh start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let ports = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies { ports }
    })
}

impl Proxies {
    fn get(&self, key: &str) -> &str {
        self.ports
            .get(key)
            .unwrap_or_else(|| panic!("{key} not in ports.env"))
    }

    fn port(&self, key: &str) -> u16 {
        self.get(key).parse().unwrap()
    }
}

#[derive(Default)]
struct Client {
    opened: bool,
    peer: Option<SocketAddr>,
    got: Vec<Vec<u8>>,
    closed: Option<(u16, bool)>,
    errors: Vec<Error>,
}

impl Handler for Client {
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        self.opened = true;
        self.peer = info.peer;
        ctx.send_text(conn, "through the proxy").unwrap();
    }
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        self.got.push(message.as_bytes().to_vec());
        ctx.close(conn, 1000, "done").unwrap();
    }
    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        self.closed = Some((info.code, info.clean));
    }
    fn on_error(&mut self, _ctx: &mut Context, _conn: Option<ConnId>, error: &Error) {
        self.errors.push(clone_error(error));
    }
}

fn clone_error(error: &Error) -> Error {
    match error {
        Error::Proxy(p) => Error::Proxy(p.clone()),
        Error::Tls(t) => Error::Tls(t.clone()),
        Error::Connect(t) => Error::Connect(t.clone()),
        Error::Resolve(t) => Error::Resolve(t.clone()),
        other => Error::InvalidArgument(other.to_string()),
    }
}

/// Connects `url` with `options` and runs until the connection is closed.
fn run(url: &str, options: ConnectOptions) -> Client {
    let mut ctx = Context::new().unwrap();
    let mut client = Client::default();
    ctx.connect(url, options).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.closed.is_none() {
        assert!(Instant::now() < deadline, "timed out: errors {:?}", client.errors);
        ctx.poll(&mut client, Some(Duration::from_millis(10))).unwrap();
    }
    client
}

fn through(proxy: String) -> ConnectOptions {
    ConnectOptions {
        proxy: ProxyOptions::url(proxy),
        ..ConnectOptions::default()
    }
}

/// Asserts a clean echo through the proxy listening on `proxy_port`.
fn assert_echoed(client: &Client, proxy_port: u16) {
    assert!(client.opened, "not opened: {:?}", client.errors);
    assert!(client.errors.is_empty(), "{:?}", client.errors);
    assert_eq!(client.got, vec![b"through the proxy".to_vec()]);
    assert_eq!(client.closed, Some((1000, true)));
    // The TCP connection went to the proxy, not to the target.
    assert_eq!(client.peer.map(|p| p.port()), Some(proxy_port));
}

/// The one proxy error of a failed connect.
fn proxy_failure(client: &Client) -> &ProxyError {
    assert!(!client.opened);
    assert_eq!(client.closed, Some((1006, false)));
    match client.errors.as_slice() {
        [Error::Proxy(err)] => err,
        other => panic!("expected one proxy error, got {other:?}"),
    }
}

#[test]
fn ws_through_tinyproxy_http_connect() {
    let p = proxies();
    let server = WskitServer::start();
    let port = p.port("TINYPROXY_PORT");
    let client = run(&server.url("/"), through(format!("http://127.0.0.1:{port}")));
    assert_echoed(&client, port);
}

#[test]
fn ws_through_squid_http_connect_with_a_target_name() {
    let p = proxies();
    let server = WskitServer::start();
    let port = p.port("SQUID_PORT");
    let url = format!("ws://localhost:{}/", server.port);
    let client = run(&url, through(format!("127.0.0.1:{port}")));
    assert_echoed(&client, port);
}

#[test]
fn basic_auth_from_userinfo_and_from_explicit_credentials() {
    let p = proxies();
    let server = WskitServer::start();
    let port = p.port("TINYPROXY_AUTH_PORT");
    let (user, pass) = (p.get("PROXY_USER"), p.get("PROXY_PASS"));
    let client = run(
        &server.url("/"),
        through(format!("http://{user}:{pass}@127.0.0.1:{port}")),
    );
    assert_echoed(&client, port);
    let options = ConnectOptions {
        proxy: ProxyOptions {
            credentials: Some((user.to_string(), pass.to_string())),
            ..ProxyOptions::url(format!("http://wrong:creds@127.0.0.1:{port}"))
        },
        ..ConnectOptions::default()
    };
    assert_echoed(&run(&server.url("/"), options), port);
}

#[test]
fn http_407_reports_proxy_authenticate() {
    let p = proxies();
    let server = WskitServer::start();
    let port = p.port("TINYPROXY_AUTH_PORT");
    // No credentials: 407; wrong ones: tinyproxy answers 401 (with WWW-Authenticate).
    for (proxy, expected) in [
        (format!("http://127.0.0.1:{port}"), 407),
        (format!("http://wskit:wrong@127.0.0.1:{port}"), 401),
    ] {
        let client = run(&server.url("/"), through(proxy));
        match proxy_failure(&client) {
            ProxyError::Auth {
                status,
                proxy_authenticate,
                ..
            } => {
                assert_eq!(*status, expected);
                let challenge = proxy_authenticate.as_deref().expect("Proxy-Authenticate");
                assert!(challenge.starts_with("Basic"), "{challenge}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn http_403_is_a_refusal_with_its_status() {
    let p = proxies();
    let server = WskitServer::start();
    let client = run(
        &server.url("/"),
        through(format!("http://127.0.0.1:{}", p.port("TINYPROXY_DENY_PORT"))),
    );
    match proxy_failure(&client) {
        ProxyError::Refused { status, .. } => assert_eq!(*status, 403),
        other => panic!("{other:?}"),
    }
}

#[test]
fn http_502_is_a_refusal_with_its_status() {
    let p = proxies();
    let server = WskitServer::start();
    let client = run(
        &server.url("/"),
        through(format!("http://127.0.0.1:{}", p.port("TINYPROXY_BADGW_PORT"))),
    );
    match proxy_failure(&client) {
        ProxyError::Refused { status, .. } => assert_eq!(*status, 502),
        other => panic!("{other:?}"),
    }
}

#[test]
fn http_503_when_the_target_refuses_the_proxy() {
    let p = proxies();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("ws://127.0.0.1:{dead}/");
    let client = run(
        &url,
        through(format!("http://127.0.0.1:{}", p.port("SQUID_PORT"))),
    );
    match proxy_failure(&client) {
        ProxyError::Refused { status, headers, .. } => {
            assert_eq!(*status, 503);
            assert!(
                headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("server")),
                "{headers:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_non_http_answer_is_a_proxy_error() {
    // An SSH-like server where a proxy was expected.
    let banner = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = banner.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (mut socket, _) = banner.accept().unwrap();
        socket.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(500));
    });
    let client = run("ws://127.0.0.1:9/", through(format!("http://127.0.0.1:{port}")));
    match proxy_failure(&client) {
        ProxyError::Protocol(text) => {
            assert!(text.contains("not HTTP") && text.contains("SSH-2.0"), "{text}")
        }
        other => panic!("{other:?}"),
    }
    thread.join().unwrap();
    // A SOCKS5 server spoken to in HTTP closes without answering; an HTTP proxy spoken to in
    // SOCKS5 does not answer in SOCKS5.
    let p = proxies();
    let client = run(
        "ws://127.0.0.1:9/",
        through(format!("http://127.0.0.1:{}", p.port("DANTE_PORT"))),
    );
    assert!(matches!(proxy_failure(&client), ProxyError::Protocol(t) if t.contains("closed")));
}

#[test]
fn a_silent_proxy_times_out() {
    // Accepts (the kernel's backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let options = ConnectOptions {
        proxy: ProxyOptions {
            timeout: Duration::from_millis(300),
            ..ProxyOptions::url(format!("http://127.0.0.1:{port}"))
        },
        ..ConnectOptions::default()
    };
    let started = Instant::now();
    let client = run("ws://127.0.0.1:9/", options);
    assert_eq!(proxy_failure(&client), &ProxyError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);
}

#[test]
fn socks5_without_auth_local_and_remote_resolution() {
    let p = proxies();
    let server = WskitServer::start();
    let port = p.port("DANTE_PORT");
    let by_addr = run(&server.url("/"), through(format!("socks5://127.0.0.1:{port}")));
    assert_echoed(&by_addr, port);
    let name = format!("ws://localhost:{}/", server.port);
    assert_echoed(&run(&name, through(format!("socks5://127.0.0.1:{port}"))), port);
    assert_echoed(&run(&name, through(format!("socks5h://127.0.0.1:{port}"))), port);
}

#[test]
fn socks5_username_password() {
    let p = proxies();
    let server = WskitServer::start();
    let port = p.port("DANTE_AUTH_PORT");
    let (user, pass) = (p.get("SOCKS_USER"), p.get("SOCKS_PASS"));
    let client = run(
        &server.url("/"),
        through(format!("socks5h://{user}:{pass}@127.0.0.1:{port}")),
    );
    assert_echoed(&client, port);
    for proxy in [
        format!("socks5://127.0.0.1:{port}"),
        format!("socks5://{user}:wrong@127.0.0.1:{port}"),
    ] {
        let client = run(&server.url("/"), through(proxy.clone()));
        assert!(
            matches!(proxy_failure(&client), ProxyError::Auth { status: 0, .. }),
            "{proxy}: {:?}",
            client.errors
        );
    }
}

#[test]
fn socks5_failures_carry_the_reply_code() {
    let p = proxies();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    let port = p.port("DANTE_PORT");
    let refused = run(
        &format!("ws://127.0.0.1:{dead}/"),
        through(format!("socks5://127.0.0.1:{port}")),
    );
    assert_eq!(proxy_failure(&refused), &ProxyError::Socks { reply: 5 });
    let unknown = run(
        "ws://nonexistent.invalid/",
        through(format!("socks5h://127.0.0.1:{port}")),
    );
    assert_eq!(proxy_failure(&unknown), &ProxyError::Socks { reply: 4 });
}

/// A test CA, a target certificate it signs, and the client config trusting it.
fn pki(names: &[&str]) -> (TlsServerConfig, TlsClientConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "wskit proxy test CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, names[0]);
    let cert = leaf.signed_by(&key, &Issuer::from_params(&ca, &ca_key)).unwrap();
    (
        TlsServerConfig::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap(),
        TlsClientConfig::with_ca_pem(ca_pem.as_bytes()).unwrap(),
    )
}

#[test]
fn wss_through_http_and_socks_proxies_verifies_the_target_end_to_end() {
    let p = proxies();
    let (server_tls, client_tls) = pki(&["localhost"]);
    let server = WskitServer::start_with(Some(server_tls));
    let url = server.wss_url("localhost", "/");
    for (proxy, port) in [
        (
            format!("http://127.0.0.1:{}", p.port("SQUID_PORT")),
            p.port("SQUID_PORT"),
        ),
        (
            format!("http://127.0.0.1:{}", p.port("TINYPROXY_PORT")),
            p.port("TINYPROXY_PORT"),
        ),
        (
            format!("socks5h://127.0.0.1:{}", p.port("DANTE_PORT")),
            p.port("DANTE_PORT"),
        ),
    ] {
        let options = ConnectOptions {
            tls: Some(client_tls.clone()),
            ..through(proxy)
        };
        assert_echoed(&run(&url, options), port);
    }
    // The certificate checked is the target's: a name it does not carry fails, through the proxy.
    let wrong = server.wss_url("127.0.0.1", "/");
    let options = ConnectOptions {
        tls: Some(client_tls),
        ..through(format!("http://127.0.0.1:{}", p.port("SQUID_PORT")))
    };
    let client = run(&wrong, options);
    assert!(!client.opened);
    match client.errors.as_slice() {
        [Error::Tls(text)] => assert!(text.contains("hostname mismatch"), "{text}"),
        other => panic!("{other:?}"),
    }
}

/// The environment, read in a child process (this test binary again) so that no other test
/// sees the variables.
#[test]
fn environment_variables_choose_the_proxy() {
    let p = proxies();
    let server = WskitServer::start();
    let auth_proxy = format!("http://127.0.0.1:{}", p.port("TINYPROXY_AUTH_PORT"));
    let plain_proxy = format!("http://127.0.0.1:{}", p.port("TINYPROXY_PORT"));
    let child = |env: &[(&str, &str)], expect: &str| {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "env_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("WSKIT_PROXY_CHILD_URL", server.url("/"))
            .env("WSKIT_PROXY_CHILD_EXPECT", expect);
        for var in [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
            "no_proxy",
            "NO_PROXY",
        ] {
            command.env_remove(var);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{env:?} expecting {expect}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let plain_port = p.port("TINYPROXY_PORT").to_string();
    // http_proxy (lower or upper case) is used for ws://: the auth proxy answers 407.
    child(&[("http_proxy", &auth_proxy)], "auth");
    child(&[("HTTP_PROXY", &auth_proxy)], "auth");
    child(
        &[("http_proxy", &plain_proxy), ("HTTP_PROXY", &auth_proxy)],
        &plain_port,
    );
    // all_proxy when there is no http_proxy; https_proxy is for wss:// only.
    child(&[("ALL_PROXY", &auth_proxy)], "auth");
    child(&[("https_proxy", &auth_proxy)], "direct");
    // no_proxy exceptions, and the option that ignores the environment.
    child(
        &[
            ("http_proxy", &auth_proxy),
            ("no_proxy", "example.com,127.0.0.0/8"),
        ],
        "direct",
    );
    child(&[("http_proxy", &auth_proxy), ("NO_PROXY", "*")], "direct");
    child(
        &[
            ("http_proxy", &auth_proxy),
            ("no_proxy", &format!("127.0.0.1:{}", server.port)),
        ],
        "direct",
    );
    child(
        &[("http_proxy", &auth_proxy), ("no_proxy", "127.0.0.1:1")],
        "auth",
    );
    child(
        &[("http_proxy", &auth_proxy), ("WSKIT_PROXY_CHILD_NO_ENV", "1")],
        "direct",
    );
}

#[test]
#[ignore = "run by environment_variables_choose_the_proxy in a child process"]
fn env_child() {
    let url = std::env::var("WSKIT_PROXY_CHILD_URL").unwrap();
    let expect = std::env::var("WSKIT_PROXY_CHILD_EXPECT").unwrap();
    let mut options = ConnectOptions::default();
    if std::env::var_os("WSKIT_PROXY_CHILD_NO_ENV").is_some() {
        options.proxy = ProxyOptions::none();
    }
    let client = run(&url, options);
    match expect.as_str() {
        "auth" => assert!(matches!(
            proxy_failure(&client),
            ProxyError::Auth { status: 407, .. }
        )),
        "direct" => {
            assert!(client.opened, "{:?}", client.errors);
            let target_port = url
                .rsplit(':')
                .next()
                .unwrap()
                .trim_end_matches('/')
                .parse::<u16>()
                .unwrap();
            assert_eq!(client.peer.map(|p| p.port()), Some(target_port));
        }
        port => assert_echoed(&client, port.parse().unwrap()),
    }
}

#[test]
fn https_proxy_tls_to_the_proxy_and_tls_inside_it_to_the_target() {
    let p = proxies();
    let port = p.port("HTTPS_PROXY_PORT");
    let proxy_tls = TlsClientConfig::with_ca_file(p.get("HTTPS_PROXY_CA")).unwrap();
    let https_proxy = |tls: Option<TlsClientConfig>| ProxyOptions {
        tls,
        ..ProxyOptions::url(format!("https://localhost:{port}"))
    };
    // ws:// through TLS to the proxy.
    let plain = WskitServer::start();
    let options = ConnectOptions {
        proxy: https_proxy(Some(proxy_tls.clone())),
        ..ConnectOptions::default()
    };
    assert_echoed(&run(&plain.url("/"), options), port);
    // wss:// inside it: two TLS sessions, each verified against its own CA.
    let (server_tls, client_tls) = pki(&["localhost"]);
    let secure = WskitServer::start_with(Some(server_tls));
    let options = ConnectOptions {
        tls: Some(client_tls.clone()),
        proxy: https_proxy(Some(proxy_tls)),
        ..ConnectOptions::default()
    };
    assert_echoed(&run(&secure.wss_url("localhost", "/"), options), port);
    // The proxy's certificate is checked against the proxy's trust (here the system's: refused).
    let options = ConnectOptions {
        tls: Some(client_tls),
        proxy: https_proxy(None),
        ..ConnectOptions::default()
    };
    let client = run(&secure.wss_url("localhost", "/"), options);
    assert!(!client.opened);
    match client.errors.as_slice() {
        [Error::Tls(text)] => assert!(text.starts_with("proxy localhost"), "{text}"),
        other => panic!("{other:?}"),
    }
}

/// examples/proxy_client.rs, built with this test's profile (`cargo test` compiles examples but
/// does not put them where `cargo run --example` would).
fn proxy_client_example() -> PathBuf {
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet", "--locked", "--example", "proxy_client"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    assert!(
        build.status().unwrap().success(),
        "building examples/proxy_client.rs failed"
    );
    let test_exe = std::env::current_exe().unwrap();
    let profile_dir = test_exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join("proxy_client")
}

#[test]
fn the_rust_example_goes_through_the_proxies() {
    let p = proxies();
    let server = WskitServer::start();
    let example = proxy_client_example();
    for proxy in [
        format!("http://127.0.0.1:{}", p.port("TINYPROXY_PORT")),
        format!("socks5h://127.0.0.1:{}", p.port("DANTE_PORT")),
    ] {
        let out = Command::new(&example)
            .args([&server.url("/"), &proxy, "hi via proxy"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{proxy}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hi via proxy\n");
    }
    let refused = Command::new(&example)
        .args([
            &server.url("/"),
            &format!("http://127.0.0.1:{}", p.port("TINYPROXY_AUTH_PORT")),
            "x",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        err.contains("status: 407") && err.contains("Proxy-Authenticate: Some(\"Basic"),
        "{err}"
    );
}
