"""examples/python: the echo server with --trace, driven by a `websockets` client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

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
