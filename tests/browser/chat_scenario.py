#!/usr/bin/env python3
"""Drives the chat page (examples/web/chat/) in a headless browser over WebDriver, with two
windows chatting through a chat server. Standard library only; reuses tests/browser/webdriver.py.

Test mode (tests/browser_chat.rs): starts the server itself so that it can restart it.

    chat_scenario.py --browser chromium|firefox [--ca CA_PEM] -- SERVER_CMD ... {addr} ...

  SERVER_CMD is run with {addr} replaced by 127.0.0.1:0 (later by the same port, to restart it);
  it must print a "chat page: URL" line. Two windows (ann, bob) join a room; the checks, all read
  from the pages' DOM: a message each way shows in both message lists and in the frame logs; the
  handshake panel lists the request headers the server saw; "/close 4001 ..." from ann shows the
  server's close (code and reason) on her page and the page reconnects; then the server is stopped
  (SIGTERM: both pages show close 1001) and started again on the same port, both pages reconnect
  by themselves and chat again. --ca: the server speaks wss:// with a certificate from that test
  CA, which is installed into this run's browser profile only (certutil, NSS database). Prints a
  JSON summary on stdout; exit 0 when every check passed, 1 with the reason on stderr otherwise.

Demo mode (scripts/demo.sh): the server runs already.

    chat_scenario.py --browser chromium --url PAGE_URL --demo --room ROOM \
        --expect NAME ... --screenshot PATH

  Two windows chat in ROOM, wait until messages from every --expect name (the demo's Python and C
  clients) showed on the first page, and save a screenshot of it to PATH.
"""

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdriver  # noqa: E402  (tests/browser/webdriver.py)
from webdriver import Driver, Failure  # noqa: E402

STEP_SECONDS = 20
ENTER = "\ue007"


# ----- certificates for the test profile --------------------------------------------------------

def certutil():
    path = shutil.which("certutil")
    if not path:
        raise Failure("certutil not found (Debian: libnss3-tools): run scripts/setup-browsers.sh")
    return path


def nss_db_with_ca(directory, ca_pem):
    """Creates an NSS database in directory trusting ca_pem for TLS servers (this profile only)."""
    os.makedirs(directory, exist_ok=True)
    db = f"sql:{directory}"
    for argv in ([certutil(), "-N", "-d", db, "--empty-password"],
                 [certutil(), "-A", "-d", db, "-n", "wskit test CA", "-t", "C,,", "-i", ca_pem]):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise Failure(f"{' '.join(argv)}: {done.stderr.strip()}")


def capabilities(browser, tmp, ca_pem):
    """Session capabilities; with ca_pem, the profile trusts that CA (and only this profile)."""
    if browser == "chromium":
        binary = webdriver.which("WSKIT_CHROMIUM", "/usr/bin/chromium")
        if not binary:
            raise Failure("chromium not found: run scripts/setup-browsers.sh")
        profile = os.path.join(tmp, "chromium-profile")
        os.mkdir(profile)
        if ca_pem:
            # Chromium on Linux reads $HOME/.pki/nssdb; HOME is tmp for the driver and browser.
            nss_db_with_ca(os.path.join(tmp, ".pki", "nssdb"), ca_pem)
        return {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": webdriver.CHROMIUM_ARGS + [f"--user-data-dir={profile}", "--window-size=1280,860"],
            },
        }
    binary = webdriver.which("WSKIT_FIREFOX", "/usr/bin/firefox-esr")
    if not binary:
        raise Failure("firefox-esr not found: run scripts/setup-browsers.sh")
    args = ["-headless", "-width", "1280", "-height", "860"]
    if ca_pem:
        # A profile of our own (geckodriver uses it in place) whose cert9.db trusts the CA.
        profile = os.path.join(tmp, "firefox-profile")
        nss_db_with_ca(profile, ca_pem)
        args += ["-profile", profile]
    return {
        "browserName": "firefox",
        "moz:firefoxOptions": {"binary": binary, "args": args, "prefs": webdriver.FIREFOX_PREFS},
    }


# ----- the chat server process ------------------------------------------------------------------

class ChatServer:
    """The server under test, started from a command with {addr}; restartable on its port."""

    def __init__(self, argv, tmp):
        self.argv = argv
        self.log_path = os.path.join(tmp, "server.log")
        self.proc = None
        self.port = None
        self.page_url = None
        self.runs = 0

    def start(self):
        addr = f"127.0.0.1:{self.port or 0}"
        argv = [a.replace("{addr}", addr) for a in self.argv]
        self.runs += 1
        log = open(self.log_path, "ab")
        log.write(f"--- run {self.runs}: {' '.join(argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode("utf-8", "replace")
            if not line:
                raise Failure(f"the server exited ({self.proc.wait()}) before printing its page URL: "
                              f"{self.log_tail()}")
            if line.startswith("chat page: "):
                self.page_url = line[len("chat page: "):].strip()
                port = int(urllib.parse.urlsplit(self.ws_url()).port)
                if self.port not in (None, port):
                    raise Failure(f"restarted on port {port}, not {self.port}")
                self.port = port
                # Keep reading its log (joins, messages) so that a full pipe never blocks it.
                self.reader = threading.Thread(target=self.copy_log, args=(self.proc.stdout,), daemon=True)
                self.reader.start()
                return
        raise Failure("the server printed no page URL within 15 s")

    def copy_log(self, stream):
        with open(self.log_path, "ab") as log:
            for line in stream:
                log.write(line)
                log.flush()

    def ws_url(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.page_url).query)
        return query["ws"][0] if "ws" in query else self.page_url.replace("http", "ws", 1)

    def stop(self):
        """SIGTERM (graceful: the server closes every connection with 1001), then waits."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(timeout=5)
        self.proc = None

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""


# ----- the pages ----------------------------------------------------------------------------------

# Everything the checks read from a page's DOM.
SNAPSHOT_JS = """
const $ = (id) => document.getElementById(id);
const info = $("close-info");
return {
  status: $("status").dataset.state,
  statusText: $("status").textContent,
  reconnects: Number($("reconnects").textContent),
  room: $("room-name").textContent,
  members: $("members").textContent,
  messages: [...document.querySelectorAll("#messages li")].map((li) =>
    ({cls: li.className, name: li.dataset.name || null, text: li.dataset.text})),
  frames: [...document.querySelectorAll("#frames tr")].map((tr) =>
    ({dir: tr.dataset.dir, opcode: tr.dataset.opcode, size: Number(tr.cells[3].textContent),
      data: tr.cells[4].textContent})),
  headers: [...document.querySelectorAll("#headers tr")].map((tr) =>
    [tr.cells[0].textContent, tr.cells[1].textContent]),
  serverInfo: $("server-info").textContent,
  close: info.hidden ? null : {code: Number(info.dataset.code), reason: info.dataset.reason,
                               clean: info.dataset.clean === "true", text: info.textContent},
};
"""


class Page:
    """One browser window with the chat page."""

    def __init__(self, session, handle, name):
        self.session, self.handle, self.name = session, handle, name

    def focus(self):
        self.session.call("POST", "window", {"handle": self.handle})

    def snapshot(self):
        self.focus()
        return self.session.call("POST", "execute/sync", {"script": SNAPSHOT_JS, "args": []})

    def wait(self, what, predicate, seconds=STEP_SECONDS):
        deadline = time.monotonic() + seconds
        while True:
            snap = self.snapshot()
            if predicate(snap):
                return snap
            if time.monotonic() > deadline:
                raise Failure(f"{self.name}'s page: {what} not within {seconds} s; the page shows: "
                              f"{json.dumps(snap)[:3000]}")
            time.sleep(0.1)

    def say(self, text):
        """Types text into the message box and presses Enter, as a person would."""
        self.focus()
        box = self.session.call("POST", "element", {"using": "css selector", "value": "#text"})
        element = next(iter(box.values()))
        self.session.call("POST", f"element/{element}/value", {"text": text + ENTER})

    def has_message(self, name, text):
        return lambda snap: any(m["cls"] == "msg" and m["name"] == name and m["text"] == text
                                for m in snap["messages"])


class Session:
    def __init__(self, driver, session_id):
        self.driver, self.id = driver, session_id

    def call(self, method, path, body=None, timeout=30):
        return self.driver.call(method, f"/session/{self.id}/{path}", body, timeout=timeout)

    def open_page(self, url, name, new_window):
        if new_window:
            handle = self.call("POST", "window/new", {"type": "window"})["handle"]
            self.call("POST", "window", {"handle": handle})
        else:
            handle = self.call("GET", "window")
        self.call("POST", "url", {"url": url})
        return Page(self, handle, name)

    def screenshot(self, page, path):
        page.focus()
        png = base64.b64decode(self.call("GET", "screenshot"))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)


def page_url(base, name, room):
    split = urllib.parse.urlsplit(base)
    query = urllib.parse.parse_qsl(split.query) + [("name", name), ("room", room)]
    return urllib.parse.urlunsplit(split._replace(query=urllib.parse.urlencode(query)))


def is_open(snap):
    return snap["status"] == "open" and len(snap["headers"]) > 0


# ----- scenarios ----------------------------------------------------------------------------------

def check(condition, message):
    if not condition:
        raise Failure(message)


def header(snap, name):
    return next((v for (n, v) in snap["headers"] if n.lower() == name), None)


def test_scenario(session, server, secure):
    room = "browser-test"
    server.start()
    ws_url = server.ws_url()
    check(ws_url.startswith("wss://" if secure else "ws://"), f"the server's URL {ws_url}")
    ann = session.open_page(page_url(server.page_url, "ann", room), "ann", new_window=False)
    bob = session.open_page(page_url(server.page_url, "bob", room), "bob", new_window=True)
    ann.wait("open, with the handshake panel filled", is_open)
    bob.wait("open, with the handshake panel filled", is_open)

    # A message each way, seen by both pages (the sender's own comes back from the room).
    ann.say("hello from ann")
    bob.wait("ann's message", bob.has_message("ann", "hello from ann"))
    bob.say("hi ann, bob here \u2713")
    snap_a = ann.wait("bob's message", ann.has_message("bob", "hi ann, bob here \u2713"))
    check(ann.has_message("ann", "hello from ann")(snap_a), "ann does not see her own message")

    # The frame log: the sent text as typed, the received JSON, sizes in UTF-8 bytes.
    sent = [f for f in snap_a["frames"] if f["dir"] == "sent"]
    check(any(f["opcode"] == "text" and f["data"] == "hello from ann" and f["size"] == 14 for f in sent),
          f"ann's frame log lacks the sent text frame: {sent}")
    received = [f for f in snap_a["frames"] if f["dir"] == "received" and f["opcode"] == "text"]
    relayed = json.dumps({"type": "message", "name": "bob", "text": "hi ann, bob here \u2713"},
                         ensure_ascii=False, separators=(",", ":"))
    check(any(f["data"] == relayed and f["size"] == len(relayed.encode()) for f in received),
          f"ann's frame log lacks bob's message as received: {received}")
    check(json.loads(received[0]["data"])["type"] == "hello", "the first frame received is not the hello")

    # The handshake panel: the request headers the server saw.
    check((header(snap_a, "upgrade") or "").lower() == "websocket", f"no Upgrade header: {snap_a['headers']}")
    check(header(snap_a, "sec-websocket-key") and header(snap_a, "sec-websocket-version") == "13",
          f"no Sec-WebSocket-Key / -Version 13: {snap_a['headers']}")
    check(header(snap_a, "host") == urllib.parse.urlsplit(ws_url).netloc, f"Host: {snap_a['headers']}")
    check(header(snap_a, "user-agent"), f"no User-Agent: {snap_a['headers']}")
    check("/chat" in snap_a["serverInfo"] and "name=ann" in snap_a["serverInfo"],
          f"server info: {snap_a['serverInfo']}")
    check(snap_a["room"] == room and "bob" in snap_a["members"], f"room/members: {snap_a['room']} {snap_a['members']}")

    # A close by the server shows on the page; the page reconnects by itself.
    ann.say("/close 4001 kicked by the test")
    snap_a = ann.wait("the server's close, then open again",
                      lambda s: s["close"] is not None and s["status"] == "open" and s["reconnects"] == 1)
    check(snap_a["close"]["code"] == 4001 and snap_a["close"]["reason"] == "kicked by the test"
          and snap_a["close"]["clean"], f"close shown: {snap_a['close']}")
    check(any(f["dir"] == "received" and f["opcode"] == "close" and f["data"] == "4001 kicked by the test"
              for f in snap_a["frames"]), "no close frame in ann's log")
    bob.wait("ann leaving and coming back",
             lambda s: [m["text"] for m in s["messages"] if m["cls"] == "event"][-2:] == ["ann left", "ann joined"])

    # The server restarts: both pages see its close (1001), reconnect, and chat again.
    server.stop()
    for page in (ann, bob):
        snap = page.wait("the shutdown close (1001)",
                         lambda s: s["close"] is not None and s["close"]["code"] == 1001 and s["status"] != "open")
        check(snap["close"]["reason"] == "server shutting down", f"{page.name}: {snap['close']}")
    time.sleep(0.5)  # the pages retry meanwhile and find nobody listening
    server.start()
    ann.wait("reconnected after the restart", lambda s: is_open(s) and s["reconnects"] == 2, seconds=30)
    bob.wait("reconnected after the restart", lambda s: is_open(s) and s["reconnects"] == 1, seconds=30)
    ann.say("back after the restart")
    snap_b = bob.wait("ann's message after the restart", bob.has_message("ann", "back after the restart"))
    snap_a = ann.snapshot()

    def closed(snap):
        c = snap["close"]
        return f"{c['code']} {c['reason']}{'' if c['clean'] else ' (not clean)'}"

    return {
        "ok": True,
        "server": snap_a["serverInfo"],
        "ws": ws_url,
        "ann_reconnects": snap_a["reconnects"],
        "ann_last_close": closed(snap_a),
        "bob_reconnects": snap_b["reconnects"],
        "bob_last_close": closed(snap_b),
        "ann_messages": len(snap_a["messages"]),
        "ann_frames": len(snap_a["frames"]),
        "ann_headers": len(snap_a["headers"]),
    }


def demo_scenario(session, url, room, expect, screenshot):
    ann = session.open_page(page_url(url, "ann (Chromium)", room), "ann", new_window=False)
    bob = session.open_page(page_url(url, "bob (Chromium)", room), "bob", new_window=True)
    ann.wait("open", is_open)
    bob.wait("open", is_open)
    ann.say("hi! ann here, in a browser")
    bob.wait("ann's message", bob.has_message("ann (Chromium)", "hi! ann here, in a browser"))
    bob.say("bob too \u2014 every frame shows on the right")
    ann.wait("bob's message", ann.has_message("bob (Chromium)", "bob too \u2014 every frame shows on the right"))
    print("chat_scenario: two browser pages are chatting; waiting for " + ", ".join(expect), file=sys.stderr,
          flush=True)
    snap = ann.wait("messages from " + ", ".join(expect),
                    lambda s: all(any(m["cls"] == "msg" and m["name"] == n for m in s["messages"]) for n in expect),
                    seconds=40)
    ann.say("nice to meet you all")
    snap = ann.wait("the last message", ann.has_message("ann (Chromium)", "nice to meet you all"))
    time.sleep(0.3)  # let the last rows render
    session.screenshot(ann, screenshot)
    return {"ok": True, "messages": len(snap["messages"]), "frames": len(snap["frames"]), "screenshot": screenshot}


def run(args):
    tmp = tempfile.mkdtemp(prefix=f"wskit-chat-{args.browser}-")
    driver = session = server = None
    done = False
    try:
        caps = capabilities(args.browser, tmp, args.ca)
        port = webdriver.free_port()
        env = dict(os.environ, TMPDIR=tmp, HOME=tmp)  # the browser's files (and NSS db) stay in tmp
        driver = Driver(webdriver.driver_argv(args.browser, port), port, os.path.join(tmp, "driver.log"), env)
        driver.wait_ready(time.monotonic() + 15)
        value = driver.call("POST", "/session", {"capabilities": {"alwaysMatch": dict(caps, **{
            "pageLoadStrategy": "normal",
            "timeouts": {"script": 10000, "pageLoad": 20000, "implicit": 0},
        })}}, timeout=30)
        session = Session(driver, value["sessionId"])
        version = value.get("capabilities", {}).get("browserVersion")
        print(f"chat_scenario: {args.browser} {version}", file=sys.stderr, flush=True)
        if args.demo:
            result = demo_scenario(session, args.url, args.room, args.expect, args.screenshot)
        else:
            server = ChatServer(args.server, tmp)
            result = test_scenario(session, server, secure=args.ca is not None)
            if args.screenshot:
                session.screenshot(Page(session, session.call("GET", "window"), "current"), args.screenshot)
        result["browser"] = f"{args.browser} {version}"
        done = True
        return result
    finally:
        signal.alarm(0)
        if server is not None:
            try:
                server.stop()
            except (OSError, subprocess.SubprocessError):
                pass
            if not done:
                print(f"--- server log ---\n{server.log_tail()}", file=sys.stderr)
        if session is not None:
            try:
                driver.call("DELETE", f"/session/{session.id}", timeout=10)
            except (OSError, Failure, webdriver.Deadline):
                pass
        if driver is not None:
            driver.stop()
            if not done:
                print(f"--- {args.browser} driver log (tail) ---\n{driver.log_text(4000)}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", required=True, choices=["chromium", "firefox"])
    parser.add_argument("--ca", help="test CA (PEM) to trust in this run's profile: the server speaks wss://")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--url", help="demo: the page URL the running server printed")
    parser.add_argument("--room", default="demo")
    parser.add_argument("--expect", nargs="*", default=[], help="demo: names whose messages to wait for")
    parser.add_argument("--screenshot")
    parser.add_argument("--timeout", type=int, default=120, help="overall limit in seconds")
    parser.add_argument("server", nargs="*", help="test: the server command, with {addr}")
    args = parser.parse_args()
    if args.demo and not (args.url and args.screenshot):
        parser.error("--demo needs --url and --screenshot")
    if not args.demo and not args.server:
        parser.error("give the server command after --")

    signal.signal(signal.SIGALRM, webdriver.on_alarm)
    signal.signal(signal.SIGTERM, webdriver.on_term)
    signal.signal(signal.SIGINT, webdriver.on_term)
    signal.alarm(args.timeout)
    try:
        result = run(args)
    except webdriver.Deadline:
        print(f"chat_scenario FAIL: {args.browser}: not done within {args.timeout} s", file=sys.stderr)
        return 1
    except (Failure, OSError, KeyError, ValueError, TypeError) as err:
        print(f"chat_scenario FAIL: {args.browser}: {err}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
