//! wss:// end to end: wskit against itself, Python `websockets` with `ssl` in both roles, `openssl
//! s_client`, TLS records split into single bytes, and certificates that must be rejected (untrusted,
//! expired, wrong host name), each with an error naming the reason. Certificates are generated here.

mod peer_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use peer_support::{Peer, WskitServer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, date_time_ymd};
use wskit::net::{
    ConnId, ConnectOptions, Context, Error, Handler, Message, OpenInfo, TlsClientConfig, TlsServerConfig,
};
use wskit::proto::CloseInfo;

/// A test CA and what it signs.
struct Pki {
    ca_pem: String,
    ca_params: CertificateParams,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Self {
        let ca_key = KeyPair::generate().unwrap();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Distinct names: a leaf or another CA with the same subject would look self-issued.
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("wskit test CA {n}"));
        let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
        Self {
            ca_pem,
            ca_params,
            ca_key,
        }
    }

    /// A leaf certificate for `names` signed by this CA: (chain PEM, key PEM).
    fn leaf(&self, names: &[&str], expired: bool) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        if expired {
            params.not_before = date_time_ymd(2001, 1, 1);
            params.not_after = date_time_ymd(2002, 1, 1);
        }
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn server_config(&self, names: &[&str], expired: bool) -> TlsServerConfig {
        let (chain, key) = self.leaf(names, expired);
        TlsServerConfig::from_pem(chain.as_bytes(), key.as_bytes()).unwrap()
    }

    fn client_config(&self) -> TlsClientConfig {
        TlsClientConfig::with_ca_pem(self.ca_pem.as_bytes()).unwrap()
    }
}

/// A scratch directory for PEM files the external tools read.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wskit-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[derive(Default)]
struct Client {
    opened: bool,
    got: Vec<Vec<u8>>,
    closed: Option<(u16, bool)>,
    errors: Vec<String>,
}

impl Handler for Client {
    fn on_open(&mut self, _ctx: &mut Context, _conn: ConnId, _info: &OpenInfo<'_>) {
        self.opened = true;
    }
    fn on_message(&mut self, _ctx: &mut Context, _conn: ConnId, message: Message<'_>) {
        self.got.push(message.as_bytes().to_vec());
    }
    fn on_close(&mut self, _ctx: &mut Context, _conn: ConnId, info: &CloseInfo<'_>) {
        self.closed = Some((info.code, info.clean));
    }
    fn on_error(&mut self, _ctx: &mut Context, _conn: Option<ConnId>, error: &Error) {
        self.errors.push(error.to_string());
    }
}

fn drive(ctx: &mut Context, client: &mut Client, what: &str, done: impl Fn(&Client) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(client) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: errors {:?}",
            client.errors
        );
        ctx.poll(client, Some(Duration::from_millis(10))).unwrap();
    }
}

fn connect(url: &str, tls: TlsClientConfig) -> (Context, ConnId, Client) {
    let mut options = ConnectOptions {
        tls: Some(tls),
        ..ConnectOptions::default()
    };
    options.connection.protocol.max_message_size = 32 << 20;
    options.connection.protocol.max_frame_size = 32 << 20;
    let mut ctx = Context::new().unwrap();
    let conn = ctx.connect(url, options).unwrap();
    (ctx, conn, Client::default())
}

/// Connects and expects the TLS handshake to fail; returns the error text.
fn rejected(url: &str, tls: TlsClientConfig) -> String {
    let (mut ctx, _conn, mut client) = connect(url, tls);
    drive(&mut ctx, &mut client, "the failure", |c| c.closed.is_some());
    assert!(!client.opened);
    assert_eq!(client.closed, Some((1006, false)));
    client.errors.join("; ")
}

#[test]
fn wss_echo_between_wskit_client_and_server_including_16_mib() {
    let pki = Pki::new();
    let server = WskitServer::start_with(Some(pki.server_config(&["localhost"], false)));
    let (mut ctx, conn, mut client) = connect(&server.wss_url("localhost", "/"), pki.client_config());
    drive(&mut ctx, &mut client, "open", |c| c.opened);
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i % 253) as u8).collect();
    for message in [b"hello over TLS".to_vec(), Vec::new(), vec![7; 70_000], big] {
        ctx.send_binary(conn, &message).unwrap();
        drive(&mut ctx, &mut client, "echo", |c| !c.got.is_empty());
        assert!(
            client.got.pop().unwrap() == message,
            "echo of {} bytes differs",
            message.len()
        );
    }
    ctx.close(conn, 1000, "bye").unwrap();
    drive(&mut ctx, &mut client, "close", |c| c.closed.is_some());
    assert_eq!(client.closed, Some((1000, true)));
}

#[test]
fn untrusted_expired_and_wrong_name_certificates_are_rejected_with_the_reason() {
    let pki = Pki::new();
    let other = Pki::new();

    let server = WskitServer::start_with(Some(pki.server_config(&["localhost"], false)));
    let err = rejected(&server.wss_url("localhost", "/"), other.client_config());
    assert!(err.contains("unknown issuer"), "{err}");

    let server = WskitServer::start_with(Some(pki.server_config(&["localhost"], true)));
    let err = rejected(&server.wss_url("localhost", "/"), pki.client_config());
    assert!(err.contains("expired"), "{err}");

    let server = WskitServer::start_with(Some(pki.server_config(&["other.example"], false)));
    let err = rejected(&server.wss_url("localhost", "/"), pki.client_config());
    assert!(
        err.contains("hostname mismatch") && err.contains("localhost"),
        "{err}"
    );

    // The loudly named escape hatch accepts all of them.
    let (mut ctx, _conn, mut client) = connect(
        &server.wss_url("localhost", "/"),
        TlsClientConfig::dangerous_skip_verification_for_testing_only(),
    );
    drive(&mut ctx, &mut client, "open without verification", |c| c.opened);
}

#[test]
fn bad_pem_is_a_clear_error() {
    let err = TlsServerConfig::from_pem(b"not pem", b"not pem")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no certificate"), "{err}");
    let pki = Pki::new();
    let (chain, _) = pki.leaf(&["localhost"], false);
    let err = TlsServerConfig::from_pem(chain.as_bytes(), b"nope")
        .unwrap_err()
        .to_string();
    assert!(err.contains("private key"), "{err}");
    let err = TlsServerConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
}

#[test]
fn python_websockets_client_over_wss() {
    let pki = Pki::new();
    let server = WskitServer::start_with(Some(pki.server_config(&["localhost"], false)));
    let dir = scratch("pyclient");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let env = [("WSKIT_PEER_CA", ca.to_str().unwrap())];
    let url = server.wss_url("localhost", "/");
    assert_eq!(
        Peer::Python.run_client_env(&url, "echo-sizes", &[], &env),
        r#"{"checked":20}"#
    );
    assert_eq!(
        Peer::Python.run_client_env(&url, "client-close", &["4000", "bye"], &env),
        r#"{"code":4000,"reason":""}"#
    );
}

#[test]
fn wskit_client_against_python_websockets_wss_server() {
    let pki = Pki::new();
    let dir = scratch("pyserver");
    let (chain, key) = pki.leaf(&["localhost"], false);
    std::fs::write(dir.join("cert.pem"), chain).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let server = Peer::Python.start_server_with(&["--tls", cert.to_str().unwrap(), key.to_str().unwrap()]);
    let url = format!("wss://localhost:{}/echo", server.port);
    let (mut ctx, conn, mut client) = connect(&url, pki.client_config());
    drive(&mut ctx, &mut client, "open", |c| c.opened);
    let big = vec![0x5a; 16 << 20];
    for message in [b"tls".to_vec(), big] {
        ctx.send_binary(conn, &message).unwrap();
        drive(&mut ctx, &mut client, "echo", |c| !c.got.is_empty());
        assert!(client.got.pop().unwrap() == message);
    }
    ctx.close(conn, 1000, "").unwrap();
    drive(&mut ctx, &mut client, "close", |c| c.closed.is_some());
    assert_eq!(client.closed, Some((1000, true)));
}

#[test]
fn openssl_s_client_completes_a_handshake() {
    let pki = Pki::new();
    let server = WskitServer::start_with(Some(pki.server_config(&["localhost"], false)));
    let dir = scratch("openssl");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let output = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", server.port),
            "-servername",
            "localhost",
        ])
        .args(["-CAfile", ca.to_str().unwrap(), "-verify_return_error", "-brief"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl is installed (scripts/install-deps.sh)");
    let text = String::from_utf8_lossy(&output.stderr).to_string() + &String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("CONNECTION ESTABLISHED"), "{text}");
    assert!(text.contains("Verification: OK"), "{text}");
}

/// A TLS client over a blocking socket that writes its ciphertext one byte per `write`, so the server
/// sees TLS records split across as many reads as possible.
#[test]
fn tls_records_delivered_one_byte_at_a_time() {
    let pki = Pki::new();
    let server = WskitServer::start_with(Some(pki.server_config(&["localhost"], false)));
    let mut tcp = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
            .unwrap();
        roots
    };
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut tls = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();

    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let mut frame = vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]; // "Hello"
    tls.writer().write_all(request.as_bytes()).unwrap();
    tls.writer().write_all(&frame).unwrap();
    frame.clear();

    let mut plaintext = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let expected_echo = [0x81, 0x05, b'H', b'e', b'l', b'l', b'o'];
    while !plaintext.windows(expected_echo.len()).any(|w| w == expected_echo) {
        assert!(
            Instant::now() < deadline,
            "no echo; got {:?}",
            String::from_utf8_lossy(&plaintext)
        );
        let mut ciphertext = Vec::new();
        while tls.wants_write() {
            tls.write_tls(&mut ciphertext).unwrap();
        }
        for byte in &ciphertext {
            tcp.write_all(std::slice::from_ref(byte)).unwrap();
        }
        if tls.wants_read() {
            let mut chunk = [0u8; 4096];
            let n = tcp.read(&mut chunk).unwrap();
            assert!(n > 0, "server closed");
            tls.read_tls(&mut &chunk[..n]).unwrap();
            tls.process_new_packets().unwrap();
            let _ = tls.reader().read_to_end(&mut plaintext);
        }
    }
    assert!(plaintext.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    assert_eq!(
        tls.alpn_protocol(),
        Some(&b"http/1.1"[..]),
        "the server negotiates ALPN http/1.1"
    );
}
