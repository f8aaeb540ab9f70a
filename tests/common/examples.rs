//! The example programs as processes under test: the build directory, C examples compiled
//! against the libwskit.so of this `cargo test`, a server process that reports its port, its
//! memory use, and the wait for a writer that backpressure stopped.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`, where this test binary and the libwskit.so it goes with are.
pub fn profile_dir() -> PathBuf {
    // target/<profile>/deps/NAME-HASH -> target/<profile>
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf()
}

/// The libwskit.so of this `cargo test`'s profile, built once here if missing (`cargo test --test
/// NAME` alone builds only the rlib).
pub fn cdylib() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let lib = profile_dir().join("libwskit.so");
            if !lib.exists() {
                let mut build = Command::new(env!("CARGO"));
                build
                    .args(["build", "--quiet", "--locked", "--lib"])
                    .current_dir(repo());
                if !cfg!(debug_assertions) {
                    build.arg("--release");
                }
                assert!(
                    build.status().expect("run cargo build --lib").success(),
                    "building libwskit.so failed"
                );
            }
            assert!(
                lib.exists(),
                "{} is missing after cargo build --lib",
                lib.display()
            );
            lib
        })
        .clone()
}

/// `examples/c/NAME.c` compiled against [`cdylib`] into `target/<profile>/examples_c/NAME` (call
/// it once, e.g. behind a `OnceLock`).
pub fn compile_c_example(name: &str) -> PathBuf {
    let lib = cdylib();
    let dir = profile_dir().join("examples_c");
    std::fs::create_dir_all(&dir).unwrap();
    // The SONAME (libwskit.so.0.2) must resolve at run time, as install.sh lays it out.
    for link_name in ["libwskit.so", "libwskit.so.0.2"] {
        let link = dir.join(link_name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&lib, &link).unwrap();
    }
    let out = dir.join(name);
    let root = repo();
    let status = Command::new("gcc")
        .args(["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg(format!("-I{}", root.join("include").display()))
        .arg(format!("-I{}", root.join("examples/c").display()))
        .arg(root.join(format!("examples/c/{name}.c")))
        .arg(format!("-L{}", dir.display()))
        .arg("-lwskit")
        .arg(format!("-Wl,-rpath,{}", dir.display()))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run gcc (apt-get install build-essential)");
    assert!(status.success(), "compiling examples/c/{name}.c failed");
    out
}

/// An example server process started on 127.0.0.1:0; killed on drop.
pub struct ExampleServer {
    pub child: Child,
    pub addr: SocketAddr,
    pub name: &'static str,
}

impl ExampleServer {
    /// Runs `command 127.0.0.1:0` and takes the port from its first line, which ends with
    /// `ws://HOST:PORT` or `ws://HOST:PORT/PATH` ("echo_server listening on ws://127.0.0.1:PORT").
    pub fn start(name: &'static str, mut command: Command) -> Self {
        let mut child = command
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start the {name} server: {e}"));
        let mut stdout = child.stdout.take().unwrap();
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        let host_port = line.rsplit("://").next().unwrap_or("");
        let port: u16 = host_port
            .split('/')
            .next()
            .and_then(|hp| hp.rsplit(':').next())
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the {name} server printed {line:?}"));
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            name,
        }
    }

    pub fn rss(&self) -> u64 {
        rss_of(self.child.id())
    }
}

impl Drop for ExampleServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmRSS of a process in bytes (0 once it is gone).
pub fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Waits until a writer thread that counts its messages in `written` stops making progress
/// (`quiet` without one more), before it wrote all `total`: backpressure reached it. Returns how
/// many it wrote. Fails when it wrote them all (nothing pushed back) or after 60 s.
pub fn wait_for_writer_stall(name: &str, written: &AtomicUsize, total: usize, quiet: Duration) -> usize {
    let start = Instant::now();
    let mut last = (0, Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = written.load(Ordering::Relaxed);
        assert!(
            now < total,
            "{name}: all {total} messages went in while nobody read them: no backpressure"
        );
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > quiet {
            return now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{name}: the writer neither stalled nor finished"
        );
    }
}
