"""Shared fixtures: the real Python `websockets` peers (tests/peers/py_server.py as a subprocess,
websockets clients in a thread) and a wskit server running in a background thread."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from typing import Any, Callable, Iterator, List, Optional

import pytest

os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(2**31))  # see tests/peers/README.md

import wskit  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PY_SERVER = os.path.join(REPO, "tests", "peers", "py_server.py")


class PeerServer:
    """tests/peers/py_server.py (websockets) in a subprocess."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, PY_SERVER, "--cmd", *args], stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"py_server did not start: {line!r}")
        self.port = int(line.split()[1])

    def url(self, path: str = "/", scheme: str = "ws", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def peer_server() -> Iterator[PeerServer]:
    server = PeerServer()
    yield server
    server.stop()


class ServerThread:
    """A wskit Context listening and running in its own thread (the loop thread).

    ``setup(ctx)`` runs on that thread before listening (register handlers there)."""

    def __init__(self, setup: Callable[[wskit.Context], None], **listen: Any) -> None:
        self.ready = threading.Event()
        self.error: Optional[BaseException] = None
        self.ctx: Optional[wskit.Context] = None
        self.port = 0
        self._setup, self._listen = setup, listen
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("server thread did not start")
        if self.error:
            raise self.error

    def _main(self) -> None:
        try:
            ctx = self.ctx = wskit.Context()
            self._setup(ctx)
            self.port = ctx.listen("127.0.0.1", 0, **self._listen)
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        try:
            ctx.run()
            ctx.shutdown(2)
        except BaseException as exc:
            self.error = exc
        finally:
            ctx.close()

    def url(self, path: str = "/", scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        assert self.ctx is not None
        self.ctx.stop()
        self.thread.join(10)
        if self.error:
            raise self.error


def echo_setup(ctx: wskit.Context) -> None:
    ctx.on_message(lambda conn, data: conn.send(data))


@pytest.fixture
def echo_server() -> Iterator[ServerThread]:
    server = ServerThread(echo_setup, max_message_size=64 << 20, max_frame_size=64 << 20,
                          max_buffered=128 << 20, subprotocols=["chat.v1", "chat.v2"])
    yield server
    server.stop()


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def text_of(n: int) -> str:
    """`aé€😀` repeated, then `a`s: n UTF-8 bytes with multi-byte characters on boundaries."""
    unit = "aé€😀"  # 10 bytes
    return unit * (n // 10) + "a" * (n % 10)


def binary_of(n: int) -> bytes:
    return bytes(i % 251 for i in range(251)) * (n // 251) + bytes(range(n % 251))


SIZES: List[int] = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 << 20]


def openssl_cert(tmp: str, name: str = "localhost") -> tuple:
    """A self-signed certificate for localhost/127.0.0.1 made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:FALSE"],
        check=True, capture_output=True)
    return cert, key


# ----- the websockets-style API's peers: both clients and both servers of tests/peers --------

NODE_SERVER = os.path.join(REPO, "tests", "peers", "node_server.js")
PEER_CLIENTS = {
    "websockets": [sys.executable, os.path.join(REPO, "tests", "peers", "py_client.py")],
    "node-ws": ["node", os.path.join(REPO, "tests", "peers", "node_client.js")],
}


class NodePeerServer(PeerServer):
    """tests/peers/node_server.js (Node ws) in a subprocess."""

    def __init__(self, *args: str) -> None:  # noqa: D107 - same protocol as PeerServer
        if shutil.which("node") is None:
            raise RuntimeError("node is not installed: run scripts/setup-peers.sh")
        self.proc = subprocess.Popen(["node", NODE_SERVER, "--cmd", *args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"node_server did not start: {line!r}")
        self.port = int(line.split()[1])


@pytest.fixture(scope="session", params=["websockets", "node-ws"])
def any_peer_server(request: Any) -> Iterator[PeerServer]:
    """The websockets server, then the Node ws server (both with --cmd)."""
    server = PeerServer() if request.param == "websockets" else NodePeerServer()
    yield server
    server.stop()


async def run_peer_client(peer: str, url: str, scenario: str, *args: str, timeout: float = 60) -> Any:
    """Runs a tests/peers client scenario against ``url`` without blocking the event loop;
    returns its JSON result (raises AssertionError with its stderr when it fails)."""
    import asyncio
    import json

    proc = await asyncio.create_subprocess_exec(*PEER_CLIENTS[peer], url, scenario, *args,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, f"{peer} {scenario}: {err.decode(errors='replace')}"
    return json.loads(out)
