//! Running real peers (Python `websockets`, Node `ws`; see tests/peers/README.md) against wskit.
#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

#[path = "../../examples/support/echo_handler.rs"]
mod echo_handler;

use wskit::net::{Context, Remote};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The two peer implementations.
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    Python,
    Node,
}

pub const PEERS: [Peer; 2] = [Peer::Python, Peer::Node];

impl Peer {
    fn command(self, script: &str) -> Command {
        let (program, file) = match self {
            Peer::Python => (
                repo().join(".peers/venv/bin/python"),
                format!("tests/peers/py_{script}.py"),
            ),
            Peer::Node => (PathBuf::from("node"), format!("tests/peers/node_{script}.js")),
        };
        assert!(
            repo().join(".peers/venv/bin/python").exists()
                && repo().join(".peers/node/node_modules/ws").exists(),
            "the peer libraries are not installed: run scripts/setup-peers.sh"
        );
        let mut command = Command::new(program);
        command.current_dir(repo()).arg(file);
        command
    }

    /// Runs a client scenario against `url`; returns its JSON line. Panics with the peer's stderr if
    /// it failed.
    pub fn run_client(self, url: &str, scenario: &str, args: &[&str]) -> String {
        self.run_client_env(url, scenario, args, &[])
    }

    /// Like [`Peer::run_client`] with extra environment (e.g. `WSKIT_PEER_CA` for wss://).
    pub fn run_client_env(self, url: &str, scenario: &str, args: &[&str], env: &[(&str, &str)]) -> String {
        let output = self
            .command("client")
            .arg(url)
            .arg(scenario)
            .args(args)
            .env("WSKIT_PEER_TIMEOUT", "60")
            .envs(env.iter().copied())
            .output()
            .expect("run peer client");
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        assert!(
            output.status.success(),
            "{self:?} client `{scenario} {}` against {url} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Runs a client scenario that is expected to fail; returns its stderr.
    pub fn run_client_expect_failure(self, url: &str, scenario: &str, args: &[&str]) -> String {
        let output = self
            .command("client")
            .arg(url)
            .arg(scenario)
            .args(args)
            .output()
            .expect("run peer client");
        assert!(
            !output.status.success(),
            "{self:?} client `{scenario}` unexpectedly succeeded"
        );
        String::from_utf8_lossy(&output.stderr).to_string()
    }

    /// Starts the peer's server; it is killed when the returned value drops.
    pub fn start_server(self) -> PeerServer {
        self.start_server_with(&[])
    }

    /// Starts the peer's server with extra arguments (e.g. `--tls CERT KEY`, Python only).
    pub fn start_server_with(self, extra: &[&str]) -> PeerServer {
        self.start_script(self.command("server"), extra)
    }

    /// Starts `py_<script>.py server` / `node_<script>.js server` (e.g. `deflate`).
    pub fn start_server_of(self, script: &str) -> PeerServer {
        let mut command = self.command(script);
        command.arg("server");
        self.start_script(command, &[])
    }

    /// Runs `py_<script>.py client <url>` / `node_<script>.js client <url>`; returns its stdout.
    /// Panics with the peer's stderr if it failed.
    pub fn run_client_of(self, script: &str, url: &str) -> String {
        let output = self
            .command(script)
            .args(["client", url])
            .output()
            .expect("run peer client");
        assert!(
            output.status.success(),
            "{self:?} {script} client against {url} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    fn start_script(self, mut command: Command, extra: &[&str]) -> PeerServer {
        let mut child = command
            .args(["--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start peer server");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("READY line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{self:?} server did not start: {line:?}"));
        PeerServer { child, port }
    }
}

pub struct PeerServer {
    child: Child,
    pub port: u16,
}

impl PeerServer {
    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The wskit echo server (examples/support/echo_handler.rs) running on its own thread.
pub struct WskitServer {
    pub port: u16,
    remote: Remote,
    thread: Option<JoinHandle<()>>,
}

/// The echo example's listen options, to start [`WskitServer::start_listening`] from.
#[allow(dead_code)]
pub fn echo_listen_options() -> wskit::net::ListenOptions {
    echo_handler::echo_listen_options()
}

impl WskitServer {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts it serving wss:// with `tls`.
    pub fn start_with(tls: Option<wskit::net::TlsServerConfig>) -> Self {
        Self::start_listening(wskit::net::ListenOptions {
            tls,
            ..echo_handler::echo_listen_options()
        })
    }

    /// Starts it with these listen options (start from [`echo_listen_options`]).
    #[allow(dead_code)]
    pub fn start_listening(options: wskit::net::ListenOptions) -> Self {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut ctx = Context::new().expect("context");
            let listener = ctx.listen("127.0.0.1:0", options).expect("listen");
            let port = ctx.local_addr(listener).expect("bound").port();
            tx.send((port, ctx.remote())).expect("report port");
            let mut echo = echo_handler::Echo::default();
            ctx.run(&mut echo).expect("run");
        });
        let (port, remote) = rx.recv_timeout(Duration::from_secs(10)).expect("server started");
        Self {
            port,
            remote,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    pub fn wss_url(&self, host: &str, path: &str) -> String {
        format!("wss://{host}:{}{path}", self.port)
    }
}

impl Drop for WskitServer {
    fn drop(&mut self) {
        let _ = self.remote.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
