//! The chat page (`examples/web/chat/`) in real browsers, headless Chromium and Firefox ESR,
//! against the C chat server (`examples/c/chat_server.c`) and the Python one
//! (`examples/python/chat.py`), over ws:// and over wss://.
//!
//! `tests/browser/chat_scenario.py` drives two windows over WebDriver and checks what the pages
//! show (their DOM, not logs): a message each way in both message lists and frame logs, the
//! handshake headers the server saw, a close by the server (4001 and its reason) and the page
//! reconnecting, then a restart of the server (close 1001 on both pages, both reconnect and chat
//! again). For wss:// a test CA and a server certificate for 127.0.0.1 are made here (rcgen), and
//! the CA is put into the NSS database of that run's browser profile only.
//!
//! Needs `scripts/setup-browsers.sh` (browsers, drivers, certutil); a missing one fails the test.
//! One browser runs at a time; each run takes 10-20 s and is killed after 150 s.

mod common;
#[path = "browser/support.rs"]
mod support;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use common::examples::{cdylib, compile_c_example, repo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use support::{Browser, run_script};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    C,
    Python,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Ws,
    Wss,
}

/// Test certificates, made once per test binary: (CA PEM, server chain PEM, server key PEM) files.
struct Certs {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(|| {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "wskit browser test CA");
        let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
        let cert = params
            .signed_by(&key, &Issuer::from_params(&ca_params, &ca_key))
            .unwrap();
        let dir = std::env::temp_dir().join(format!("wskit-browser-chat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        Certs {
            ca: write("ca.pem", &ca_pem),
            cert: write("cert.pem", &cert.pem()),
            key: write("key.pem", &key.serialize_pem()),
        }
    })
}

fn c_chat_server() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| compile_c_example("chat_server")).clone()
}

/// The server command for chat_scenario.py, `{addr}` where the address goes.
fn server_command(server: Server, scheme: Scheme) -> Vec<String> {
    let mut argv: Vec<String> = match server {
        Server::C => vec![c_chat_server().display().to_string(), "{addr}".into()],
        Server::Python => vec![
            "python3".into(),
            repo().join("examples/python/chat.py").display().to_string(),
            "server".into(),
            "{addr}".into(),
        ],
    };
    if scheme == Scheme::Wss {
        let certs = certs();
        argv.push("--tls".into());
        argv.push(certs.cert.display().to_string());
        argv.push(certs.key.display().to_string());
    }
    argv
}

/// One browser run at a time: two browsers at once are slow on a small machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn check_chat(browser: Browser, server: Server, scheme: Scheme) {
    browser.check_installed();
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut args = vec![
        "--browser".to_string(),
        browser.name().into(),
        "--timeout".into(),
        "120".into(),
    ];
    if scheme == Scheme::Wss {
        args.push("--ca".into());
        args.push(certs().ca.display().to_string());
    }
    args.push("--".into());
    args.extend(server_command(server, scheme));
    let result = run_script(
        browser,
        "tests/browser/chat_scenario.py",
        &args,
        // The Python server loads the library this `cargo test` built.
        &[("WSKIT_LIBRARY", cdylib())],
        Duration::from_secs(150),
    );
    eprintln!("{browser:?} / {server:?} / {scheme:?}: {result}");

    // The scenario checked every step on the pages; the summary says what they showed last.
    let has = |needle: &str| {
        assert!(
            result.contains(needle),
            "{browser:?} / {server:?} / {scheme:?}: the summary lacks {needle}:\n{result}"
        );
    };
    has(r#""ok": true"#);
    has(match server {
        Server::C => r#""server": "wskit C chat_server saw /chat?"#,
        Server::Python => r#""server": "wskit Python chat.py saw /chat?"#,
    });
    has(match scheme {
        Scheme::Ws => r#""ws": "ws://127.0.0.1:"#,
        Scheme::Wss => r#""ws": "wss://127.0.0.1:"#,
    });
    // ann: kicked (4001) and restarted (1001); bob: restarted only. Both back and chatting.
    has(r#""ann_reconnects": 2, "ann_last_close": "1001 server shutting down", "#);
    has(r#""bob_reconnects": 1, "bob_last_close": "1001 server shutting down", "#);
}

#[test]
fn chromium_chats_through_the_c_server() {
    check_chat(Browser::Chromium, Server::C, Scheme::Ws);
}

#[test]
fn chromium_chats_through_the_c_server_over_wss() {
    check_chat(Browser::Chromium, Server::C, Scheme::Wss);
}

#[test]
fn chromium_chats_through_the_python_server() {
    check_chat(Browser::Chromium, Server::Python, Scheme::Ws);
}

#[test]
fn chromium_chats_through_the_python_server_over_wss() {
    check_chat(Browser::Chromium, Server::Python, Scheme::Wss);
}

#[test]
fn firefox_chats_through_the_c_server() {
    check_chat(Browser::Firefox, Server::C, Scheme::Ws);
}

#[test]
fn firefox_chats_through_the_c_server_over_wss() {
    check_chat(Browser::Firefox, Server::C, Scheme::Wss);
}

#[test]
fn firefox_chats_through_the_python_server() {
    check_chat(Browser::Firefox, Server::Python, Scheme::Ws);
}

#[test]
fn firefox_chats_through_the_python_server_over_wss() {
    check_chat(Browser::Firefox, Server::Python, Scheme::Wss);
}
