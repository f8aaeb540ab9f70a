"""examples/python: the echo server with --trace, driven by a `websockets` client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

from websockets.asyncio.client import connect as ws_connect

from conftest import REPO

ECHO = os.path.join(REPO, "examples", "python", "echo_server.py")


def test_echo_server_trace_flag() -> None:
    proc = subprocess.Popen([sys.executable, ECHO, "127.0.0.1:0", "--trace"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("echo_server listening on ws://127.0.0.1:"), line
        url = line.split()[-1] + "/"

        async def go() -> dict:
            async with ws_connect(url, compression=None, additional_headers={"X-Trace": "1"}) as ws:
                await ws.send("cmd:headers")
                return json.loads(await ws.recv())
        headers = asyncio.run(asyncio.wait_for(go(), 20))
        assert headers["x-trace"] == "1"  # kept after the handshake (keep_headers=["*"])
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "<< handshake\n    GET / HTTP/1.1" in err and ">> handshake\n    HTTP/1.1 101 Switching Protocols" in err
    assert "<< TEXT fin=1 rsv=0 len=11" in err  # "cmd:headers"
    assert ">> TEXT fin=1" in err and "<< CLOSE" in err and ">> CLOSE" in err


COMPRESSION = os.path.join(REPO, "examples", "python", "compression.py")


def test_compression_example() -> None:
    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, COMPRESSION, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout
    on = run()
    assert "server negotiated: DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True" in on
    sent = int(on.split("on the wire: ")[1].split()[0])
    assert 0 < sent < 1000, on  # 20,100 bytes of repetitive JSON
    takeover = run("--takeover")
    assert "server negotiated: DeflateParams(server_no_context_takeover=False" in takeover
    off = run("--no-compression")
    assert "server negotiated: None" in off and "on the wire: 20100 bytes sent" in off


WEB = os.path.join(REPO, "examples", "python", "web_server.py")
WEB_C = os.path.join(REPO, "target", "c", "web_server")


def _web_server_serves_files_api_and_websocket(cmd: list, tmp_path: "os.PathLike[str]") -> None:
    import urllib.request

    root = os.path.join(str(tmp_path), "public")
    os.makedirs(root)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<h1>web</h1>")
    proc = subprocess.Popen(cmd + ["127.0.0.1:0", root], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("web_server: listening on port "), line
        port = int(line.split()[4])
        base = f"http://127.0.0.1:{port}"
        assert urllib.request.urlopen(base + "/", timeout=10).read() == b"<h1>web</h1>"
        assert json.loads(urllib.request.urlopen(base + "/api/hello?name=ann", timeout=10).read()) == {"hello": "ann"}

        async def go() -> str:
            async with ws_connect(f"ws://127.0.0.1:{port}/ws", compression=None) as ws:
                await ws.send("echo me")
                return str(await ws.recv())
        assert asyncio.run(asyncio.wait_for(go(), 20)) == "echo me"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_python_web_server(tmp_path: "os.PathLike[str]") -> None:
    _web_server_serves_files_api_and_websocket([sys.executable, WEB], tmp_path)


def test_c_web_server(tmp_path: "os.PathLike[str]") -> None:
    if not os.path.exists(WEB_C):
        subprocess.run(["bash", os.path.join(REPO, "scripts", "build-c.sh")], check=True, capture_output=True)
    _web_server_serves_files_api_and_websocket([WEB_C], tmp_path)


FAST_ECHO = os.path.join(REPO, "examples", "python", "fast_echo_server.py")


def test_fast_echo_server_echoes_in_order_and_stops_cleanly() -> None:
    """examples/python/fast_echo_server.py (drain + send_batched) against two websockets clients
    sending a pipelined burst each (text and binary, one message of 1 MiB); SIGTERM shuts it down
    gracefully (exit 0)."""
    proc = subprocess.Popen([sys.executable, FAST_ECHO, "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("fast_echo_server listening on ws://127.0.0.1:"), line
        url = line.split()[-1] + "/"
        sent = [f"t{i}" if i % 2 else bytes([i % 256]) * (i % 50) for i in range(300)] + [b"\x07" * (1 << 20)]

        async def one() -> list:
            async with ws_connect(url, compression=None, max_size=None) as ws:
                for msg in sent:
                    await ws.send(msg)
                return [await ws.recv() for _ in sent]

        async def two() -> list:
            return await asyncio.gather(one(), one())
        for echoed in asyncio.run(asyncio.wait_for(two(), 30)):
            assert echoed == sent
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


# ----- the websockets-style examples: aio_echo_server.py, sync_echo_server.py, aio_client.py ----

AIO_ECHO = os.path.join(REPO, "examples", "python", "aio_echo_server.py")
SYNC_ECHO = os.path.join(REPO, "examples", "python", "sync_echo_server.py")
AIO_CLIENT = os.path.join(REPO, "examples", "python", "aio_client.py")


def _start(script: str, banner: str) -> "tuple[subprocess.Popen[str], str]":
    proc = subprocess.Popen([sys.executable, script, "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert line.startswith(f"{banner} listening on ws://127.0.0.1:"), (line, proc.stderr.read())  # type: ignore
    return proc, line.split()[-1] + "/"


def _stop(proc: "subprocess.Popen[str]") -> None:
    import signal

    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_aio_echo_server_example() -> None:
    from conftest import run_peer_client

    proc, url = _start(AIO_ECHO, "aio_echo_server")
    try:
        async def go() -> dict:
            async with ws_connect(url + "some/path") as ws:
                await ws.send("one")
                await ws.send(b"\x00two")
                assert [await ws.recv(), await ws.recv()] == ["one", b"\x00two"]
                await ws.send("stats")
                stats = json.loads(await ws.recv())
            stats["node"] = await run_peer_client("node-ws", url, "concurrent", "5", "10")
            # Open while the server is stopped: it closes with 1001 (going away).
            ws = await ws_connect(url)
            proc.send_signal(__import__("signal").SIGTERM)
            await ws.wait_closed()
            stats["shutdown_code"] = ws.close_code
            return stats
        stats = asyncio.run(asyncio.wait_for(go(), 60))
        assert stats["path"] == "/some/path" and stats["echoed"] == 2 and stats["remote"][0] == "127.0.0.1"
        assert stats["node"] == {"connections": 5, "messages": 50}
        assert stats["shutdown_code"] == 1001
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_sync_echo_server_example() -> None:
    import time

    from websockets.sync.client import connect as sync_connect

    from conftest import run_peer_client

    proc, url = _start(SYNC_ECHO, "sync_echo_server")
    try:
        with sync_connect(url) as slow, sync_connect(url) as fast:
            slow.send("slow")
            t0 = time.monotonic()
            fast.send("quick")
            assert fast.recv(timeout=5) == "quick"
            assert time.monotonic() - t0 < 0.4  # not behind the sleeping handler
            assert slow.recv(timeout=5) == "slow"
        got = asyncio.run(asyncio.wait_for(run_peer_client("websockets", url, "concurrent", "5", "10"), 60))
        assert got == {"connections": 5, "messages": 50}
    finally:
        _stop(proc)


def test_aio_client_example() -> None:
    from conftest import NodePeerServer, PeerServer

    for server in (PeerServer(), NodePeerServer()):
        try:
            done = subprocess.run([sys.executable, AIO_CLIENT, server.url(), "a", "b"], capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            lines = done.stdout.splitlines()
            assert lines[:2] == ["a", "b"] and lines[2].startswith("latency: ") and lines[2].endswith(" ms")
            refused = subprocess.run([sys.executable, AIO_CLIENT, server.url("/reject?status=403")],
                                     capture_output=True, text=True, timeout=60)
            assert refused.returncode == 1 and "refused with HTTP 403" in refused.stderr
        finally:
            server.stop()


# ----- examples/python/unix_echo.py: Unix domain sockets ---------------------------------------

UNIX_ECHO = os.path.join(REPO, "examples", "python", "unix_echo.py")


def test_unix_echo_example(tmp_path: "os.PathLike[str]") -> None:
    path = os.path.join(str(tmp_path), "echo.sock")
    done = subprocess.run([sys.executable, UNIX_ECHO, path, "hello", "wörld"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"listening on unix:{path}\nhello\nwörld\n"
    assert not os.path.exists(path)


def test_unix_echo_example_serves_websockets_unix_connect(tmp_path: "os.PathLike[str]") -> None:
    from websockets.asyncio.client import unix_connect

    path = os.path.join(str(tmp_path), "serve.sock")
    proc = subprocess.Popen([sys.executable, UNIX_ECHO, "--serve", path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line == f"listening on unix:{path}\n", line
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o660)

        async def go() -> str:
            async with unix_connect(path) as ws:
                await ws.send("via websockets")
                return str(await ws.recv())
        assert asyncio.run(asyncio.wait_for(go(), 20)) == "via websockets"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not os.path.exists(path)
# ----- examples/python/proxy_client.py through real proxies (scripts/proxies.sh) -------------

PROXY_CLIENT = os.path.join(REPO, "examples", "python", "proxy_client.py")


def test_proxy_client_example(tmp_path: "os.PathLike[str]", echo_server: "object") -> None:
    from proxy_support import Proxies

    proxies = Proxies(os.path.join(str(tmp_path), "proxies"))
    try:
        url = echo_server.url()  # type: ignore[attr-defined]
        user, password = proxies.ports["PROXY_USER"], proxies.ports["PROXY_PASS"]
        for proxy in (proxies.url("http", "TINYPROXY_PORT"), proxies.url("http", "SQUID_PORT"),
                      proxies.url("http", "TINYPROXY_AUTH_PORT", f"{user}:{password}"),
                      proxies.url("socks5h", "DANTE_PORT")):
            done = subprocess.run([sys.executable, PROXY_CLIENT, url, proxy, "hi via proxy"], capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0 and done.stdout == "hi via proxy\n", (proxy, done.stderr)
        refused = subprocess.run([sys.executable, PROXY_CLIENT, url, proxies.url("http", "TINYPROXY_AUTH_PORT"), "x"],
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1, refused.stderr
        assert "ProxyAuthError" in refused.stderr and "status: 407" in refused.stderr
        assert "Proxy-Authenticate: Basic" in refused.stderr
    finally:
        proxies.stop()
RECONNECT_CLIENT = os.path.join(REPO, "examples", "python", "reconnect_client.py")


def test_reconnect_client_example() -> None:
    """The server (Python websockets, its own process) is started after the client: the client
    retries until it is up, then every message it sent is echoed (kills and restarts of a
    running server are tested in test_reconnect.py)."""
    from conftest import PY_SERVER
    from test_reconnect import free_port

    port = free_port()
    client = subprocess.Popen([sys.executable, RECONNECT_CLIENT, f"ws://127.0.0.1:{port}/echo", "3"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server = None
    try:
        time.sleep(0.7)  # refused meanwhile: the client reconnects
        server = subprocess.Popen([sys.executable, PY_SERVER, "--port", str(port)], stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None and server.stdout.readline().strip() == f"READY {port}"
        out, err = client.communicate(timeout=60)
    finally:
        client.kill()
        if server is not None:
            server.kill()
            server.wait()
    assert client.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("reconnect: attempt 1 in 100 ms"), out
    assert "open" in lines
    assert [line for line in lines if line.startswith("echo: ")] == ["echo: message 1", "echo: message 2",
                                                                    "echo: message 3"]
