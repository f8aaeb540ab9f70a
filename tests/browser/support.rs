//! Shared by the browser tests (`tests/browsers.rs`, `tests/browser_chat.rs`): which browsers
//! there are, the check that one is installed (a missing browser fails the test, it is never
//! skipped), and running a WebDriver script with a deadline.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
}

impl Browser {
    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
        }
    }

    /// Fails the test (never skips it) when the browser, its driver or python3 is missing.
    pub fn check_installed(self) {
        let browsers_dir = repo()
            .join(std::env::var("WSKIT_BROWSERS_DIR").unwrap_or_else(|_| "/opt/wskit-browsers".to_string()));
        let gecko_local = browsers_dir.join("cargo/bin/geckodriver");
        let needed: Vec<(&str, &str, Vec<PathBuf>)> = match self {
            Browser::Chromium => vec![
                ("chromium", "WSKIT_CHROMIUM", vec!["/usr/bin/chromium".into()]),
                (
                    "chromedriver",
                    "WSKIT_CHROMEDRIVER",
                    vec!["/usr/bin/chromedriver".into(), on_path("chromedriver")],
                ),
            ],
            Browser::Firefox => vec![
                (
                    "firefox-esr",
                    "WSKIT_FIREFOX",
                    vec!["/usr/bin/firefox-esr".into()],
                ),
                (
                    "geckodriver",
                    "WSKIT_GECKODRIVER",
                    vec![gecko_local, on_path("geckodriver")],
                ),
            ],
        };
        for (what, env, defaults) in needed {
            let candidates = match std::env::var_os(env) {
                Some(path) => vec![PathBuf::from(path)],
                None => defaults,
            };
            assert!(
                candidates.iter().any(|p| is_executable(p)),
                "{what} is not installed (looked at {candidates:?}; ${env} overrides): \
                 run `bash scripts/setup-browsers.sh` (as root) first"
            );
        }
        assert!(
            is_executable(&on_path("python3")),
            "python3 is needed to drive the browsers (tests/browser/webdriver.py)"
        );
    }
}

pub fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
        .unwrap_or_else(|| PathBuf::from(name))
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs `python3 SCRIPT ARGS...` (with `envs` added) from the repository root; returns its stdout (trimmed). Panics
/// with its stderr if it failed, or after `limit` (the scripts bound themselves below that and
/// clean up; this is the last resort).
pub fn run_script(
    browser: Browser,
    script: &str,
    args: &[String],
    envs: &[(&str, PathBuf)],
    limit: Duration,
) -> String {
    let started = Instant::now();
    let mut child = Command::new("python3")
        .current_dir(repo())
        .arg(script)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start python3 {script}: {e}"));
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the script") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    eprint!("{err}");
    match status {
        Some(status) if status.success() => {}
        Some(status) => panic!("{browser:?}: {script} failed ({status}):\n{err}"),
        None => panic!("{browser:?}: {script} killed after {limit:?}:\n{err}"),
    }
    eprintln!(
        "{browser:?}: {script} finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    out.trim().to_string()
}
