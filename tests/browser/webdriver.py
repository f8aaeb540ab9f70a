#!/usr/bin/env python3
"""Minimal W3C WebDriver client (standard library only) that runs one test page in a headless
browser and prints the page's result.

    python3 tests/browser/webdriver.py --browser chromium|firefox --url URL [--timeout S]

Starts chromedriver / geckodriver on a free 127.0.0.1 port, opens a session with a headless
browser (Chromium: fresh empty --user-data-dir; Firefox ESR: fresh profile made by geckodriver),
navigates to URL, polls `window.__wskitResult` until the page sets it, prints it as one line on
stdout and exits 0. On any error or timeout: a `webdriver FAIL: ...` line and the driver's log on
stderr, nothing on stdout, exit 1 (2 for a usage error). Whatever happens, the session is deleted,
the driver's process group (driver and browser) is terminated and the temporary directory
removed. The whole run is bounded by --timeout (default 45 s).

Environment: WSKIT_CHROMIUM, WSKIT_CHROMEDRIVER, WSKIT_FIREFOX, WSKIT_GECKODRIVER override the
binaries (defaults: /usr/bin/chromium, chromedriver on PATH, /usr/bin/firefox-esr,
/opt/wskit-browsers/cargo/bin/geckodriver (or $WSKIT_BROWSERS_DIR) then geckodriver on PATH).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROWSERS_DIR = os.path.join(REPO_ROOT, os.environ.get("WSKIT_BROWSERS_DIR", "/opt/wskit-browsers"))

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
]

# geckodriver already sets its "recommended preferences" (no updates, telemetry, safe-browsing
# downloads, ...); these make sure nothing else leaves the machine.
FIREFOX_PREFS = {
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "extensions.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.http.http3.enable": False,
    "network.prefetch-next": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "toolkit.telemetry.enabled": False,
}


class Failure(Exception):
    pass


class Deadline(Exception):
    pass


def which(env, *candidates):
    if os.environ.get(env):
        return os.environ[env]
    for candidate in candidates:
        if os.path.isabs(candidate):
            if os.access(candidate, os.X_OK):
                return candidate
        elif shutil.which(candidate):
            return shutil.which(candidate)
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """A WebDriver server process and the HTTP calls to it."""

    def __init__(self, argv, port, log_path, env):
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")
        # Own process group: the browser the driver starts inherits it, so one killpg ends both.
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True,
        )

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                payload = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                payload = json.loads(err.read() or b"{}")
            except ValueError:
                payload = {}
            value = payload.get("value") or {}
            raise Failure(f"{method} {path}: HTTP {err.code}: {value.get('error')}: "
                          f"{str(value.get('message', ''))[:500]}") from None
        return payload.get("value")

    def wait_ready(self, deadline):
        while True:
            if self.proc.poll() is not None:
                raise Failure(f"driver exited with status {self.proc.returncode} before it was ready")
            try:
                value = self.call("GET", "/status", timeout=2)
                if value and value.get("ready", True):
                    return
            except (OSError, Failure):
                pass
            if time.monotonic() > deadline:
                raise Failure("driver not ready within 15 s")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # Anything left in the group (a browser the driver did not end) goes too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()

    def log_text(self, limit=8000):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return text[-limit:]


def capabilities(browser, tmp):
    if browser == "chromium":
        binary = which("WSKIT_CHROMIUM", "/usr/bin/chromium")
        if not binary:
            raise Failure("chromium not found: run scripts/setup-browsers.sh")
        profile = os.path.join(tmp, "chromium-profile")
        os.mkdir(profile)
        return {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": CHROMIUM_ARGS + [f"--user-data-dir={profile}"],
            },
        }
    binary = which("WSKIT_FIREFOX", "/usr/bin/firefox-esr")
    if not binary:
        raise Failure("firefox-esr not found: run scripts/setup-browsers.sh")
    return {
        "browserName": "firefox",
        "moz:firefoxOptions": {"binary": binary, "args": ["-headless"], "prefs": FIREFOX_PREFS},
    }


def driver_argv(browser, port):
    if browser == "chromium":
        chromedriver = which("WSKIT_CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver")
        if not chromedriver:
            raise Failure("chromedriver not found: run scripts/setup-browsers.sh")
        return [chromedriver, f"--port={port}", "--allowed-ips=127.0.0.1"]
    geckodriver = which("WSKIT_GECKODRIVER", os.path.join(BROWSERS_DIR, "cargo", "bin", "geckodriver"),
                        "geckodriver")
    if not geckodriver:
        raise Failure("geckodriver not found: run scripts/setup-browsers.sh")
    return [geckodriver, "--host", "127.0.0.1", "--port", str(port)]


def on_alarm(signum, frame):
    raise Deadline()


def on_term(signum, frame):
    raise Failure(f"terminated by signal {signum}")


def run(browser, url):
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix=f"wskit-{browser}-")
    driver = None
    session = None
    done = False
    try:
        caps = capabilities(browser, tmp)
        port = free_port()
        env = dict(os.environ, TMPDIR=tmp, HOME=tmp)  # the browser's files stay in tmp
        driver = Driver(driver_argv(browser, port), port, os.path.join(tmp, "driver.log"), env)
        driver.wait_ready(time.monotonic() + 15)
        value = driver.call("POST", "/session", {
            "capabilities": {
                "alwaysMatch": dict(caps, **{
                    "pageLoadStrategy": "normal",
                    "timeouts": {"script": 10000, "pageLoad": 20000, "implicit": 0},
                }),
            },
        }, timeout=30)
        session = value["sessionId"]
        caps_out = value.get("capabilities", {})
        print(f"webdriver: {caps_out.get('browserName')} {caps_out.get('browserVersion')} "
              f"session {session} in {time.monotonic() - start:.1f} s", file=sys.stderr)
        driver.call("POST", f"/session/{session}/url", {"url": url}, timeout=30)
        while True:
            found = driver.call("POST", f"/session/{session}/execute/sync", {
                "script": "return window.__wskitResult || null;", "args": [],
            }, timeout=15)
            if found:
                print(f"webdriver: page done in {time.monotonic() - start:.1f} s", file=sys.stderr)
                done = True
                return found
            time.sleep(0.2)
    finally:
        signal.alarm(0)  # cleanup has its own time limits (10 s + 10 s)
        if session is not None and driver is not None:
            try:
                driver.call("DELETE", f"/session/{session}", timeout=10)
            except (OSError, Failure, Deadline) as err:
                print(f"webdriver: deleting the session failed: {err}", file=sys.stderr)
        if driver is not None:
            driver.stop()
            if not done:
                print(f"--- {browser} driver log (tail) ---\n{driver.log_text()}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", required=True, choices=["chromium", "firefox"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--timeout", type=int, default=45, help="overall limit in seconds")
    args = parser.parse_args()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.alarm(args.timeout)
    try:
        result = run(args.browser, args.url)
    except Deadline:
        print(f"webdriver FAIL: {args.browser}: no result within {args.timeout} s", file=sys.stderr)
        return 1
    except (Failure, OSError, KeyError, ValueError) as err:
        print(f"webdriver FAIL: {args.browser}: {err}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    print(result, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
