"""Unix domain sockets from Python: Context.listen_unix / connect_unix / ws+unix: URLs, the socket
file's mode and removal, stale sockets; wskit.aio.unix_serve against websockets' unix_connect,
and wskit.aio.unix_connect against websockets' unix_serve."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import sys
import tempfile
import threading
import time
from typing import Any, Iterator, List

import pytest
from websockets.asyncio.client import unix_connect as ws_unix_connect
from websockets.asyncio.server import ServerConnection as WsServerConnection
from websockets.asyncio.server import unix_serve as ws_unix_serve

import wskit
import wskit.sync
from wskit.aio import ServerConnection


def run(coro: Any, timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture
def sock_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="wskit-py-unix-") as d:
        yield d


def is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def pump(ctx: wskit.Context, done: Any, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "timed out"
        ctx.poll(0.01)


def test_context_echo_over_a_socket_file(sock_dir: str) -> None:
    path = os.path.join(sock_dir, "ws.sock")
    got: List[Any] = []
    hosts: List[str] = []
    with wskit.Context() as ctx:
        @ctx.on_accept
        def accept(req: wskit.AcceptRequest) -> None:
            hosts.append(req.headers.get("host") or "")
            assert req.peer == ""

        @ctx.on_message
        def message(conn: wskit.Connection, data: Any) -> None:
            if conn.is_client:
                got.append(data)
            else:
                conn.send(data)

        assert ctx.listen_unix(path, mode=0o600) == path
        assert is_socket(path) and stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        client = ctx.connect(f"ws+unix://{path}:/chat?x=1")
        pump(ctx, lambda: client.open)
        assert client.peer == ""
        client.send("hello")
        client.send(b"\x00" * 100_000)
        pump(ctx, lambda: len(got) == 2)
        assert got == ["hello", b"\x00" * 100_000]
        assert hosts == ["localhost"]
        other = ctx.connect_unix(path, "ws://svc.local/api")
        pump(ctx, lambda: other.open)
        assert hosts == ["localhost", "svc.local"]
        ctx.close_listener(path)
        assert not os.path.exists(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract sockets are Linux only")
def test_abstract_socket() -> None:
    name = f"@wskit-py-{os.getpid()}"
    got: List[Any] = []
    with wskit.Context() as ctx:
        ctx.on_message(lambda conn, data: got.append(data) if conn.is_client else conn.send(data))
        ctx.listen_unix(name)
        client = ctx.connect(f"ws+unix://{name}:/")
        pump(ctx, lambda: client.open)
        client.send("abstract")
        pump(ctx, lambda: got == ["abstract"])


def test_stale_sockets_and_files_that_are_not_sockets(sock_dir: str) -> None:
    stale = os.path.join(sock_dir, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()  # the file stays: a stale socket
    regular = os.path.join(sock_dir, "regular")
    with open(regular, "w") as f:
        f.write("keep")
    with wskit.Context() as ctx:
        with pytest.raises(wskit.NetworkError):
            ctx.listen_unix(stale)
        ctx.listen_unix(stale, remove_stale=True)
        with pytest.raises(wskit.InvalidArgument):
            ctx.listen_unix(regular, remove_stale=True)
        assert open(regular).read() == "keep"
        with pytest.raises(wskit.InvalidURI):
            ctx.connect("wss+unix:///tmp/x.sock:/")
        with pytest.raises(wskit.InvalidURI):
            ctx.connect("ws+unix://:/x")
        with pytest.raises(ValueError):
            ctx.listen_unix(os.path.join(sock_dir, "m.sock"), mode=0o70000)
    assert not os.path.exists(stale), "closing the context removes the socket file"


def test_failed_connect_is_reported(sock_dir: str) -> None:
    errors: List[wskit.Error] = []
    closes: List[int] = []
    with wskit.Context() as ctx:
        ctx.on_error(lambda conn, err: errors.append(err))
        ctx.on_close(lambda conn, code, reason, clean: closes.append(code))
        ctx.connect(f"ws+unix://{sock_dir}/nobody.sock:/")
        pump(ctx, lambda: bool(closes))
    assert closes == [1006]
    assert len(errors) == 1 and "nobody.sock" in str(errors[0])


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


def test_aio_unix_serve_with_websockets_unix_connect(sock_dir: str) -> None:
    path = os.path.join(sock_dir, "aio.sock")

    async def go() -> List[Any]:
        async with wskit.aio.unix_serve(echo, path, mode=0o660) as server:
            assert server.path == path and server.port == 0
            assert stat.S_IMODE(os.lstat(path).st_mode) == 0o660
            async with ws_unix_connect(path, "ws://localhost/ws", max_size=None) as ws:
                out = []
                for message in ["é" * 1000, bytes(range(256)) * 1000, ""]:
                    await ws.send(message)
                    out.append(await ws.recv())
                return out
    out = run(go())
    assert out == ["é" * 1000, bytes(range(256)) * 1000, ""]
    assert not os.path.exists(path), "closing the server removes the socket file"


def test_aio_unix_connect_against_websockets_unix_serve(sock_dir: str) -> None:
    path = os.path.join(sock_dir, "ws.sock")

    async def handler(ws: WsServerConnection) -> None:
        assert ws.request is not None
        await ws.send(json.dumps({"path": ws.request.path, "host": ws.request.headers.get("Host")}))
        async for message in ws:
            await ws.send(message)

    async def go() -> List[Any]:
        async with ws_unix_serve(handler, path, max_size=None):
            out: List[Any] = []
            async with wskit.aio.unix_connect(path, "ws://localhost/from-wskit") as ws:
                out.append(json.loads(await ws.recv()))
                await ws.send("über")
                out.append(await ws.recv())
                await ws.send(b"\x01" * 300_000)
                out.append(await ws.recv())
            # and the ws+unix: URL form through the plain connect
            async with wskit.aio.connect(f"ws+unix://{path}:/url-form") as ws:
                out.append(json.loads(await ws.recv()))
            return out
    out = run(go())
    assert out == [{"path": "/from-wskit", "host": "localhost"}, "über", b"\x01" * 300_000,
                   {"path": "/url-form", "host": "localhost"}]


def sync_echo(ws: wskit.sync.ServerConnection) -> None:
    for message in ws:
        ws.send(message)


def test_sync_unix_serve_with_websockets_sync_unix_connect(sock_dir: str) -> None:
    from websockets.sync.client import unix_connect as ws_sync_unix_connect

    path = os.path.join(sock_dir, "sync.sock")
    server = wskit.sync.unix_serve(sync_echo, path, mode=0o600)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server.path == path and stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        with ws_sync_unix_connect(path, "ws://localhost/sync") as ws:
            ws.send("sync é")
            assert ws.recv(timeout=10) == "sync é"
            ws.send(b"\x02" * 70_000)
            assert ws.recv(timeout=10) == b"\x02" * 70_000
    finally:
        server.shutdown()
        thread.join(10)
    assert not os.path.exists(path)


def test_sync_unix_connect_against_websockets_sync_unix_serve(sock_dir: str) -> None:
    from websockets.sync.server import ServerConnection as WsSyncConnection
    from websockets.sync.server import unix_serve as ws_sync_unix_serve

    path = os.path.join(sock_dir, "ws-sync.sock")

    def handler(ws: WsSyncConnection) -> None:
        ws.send(json.dumps({"path": ws.request.path, "host": ws.request.headers.get("Host")}))  # type: ignore[union-attr]
        for message in ws:
            ws.send(message)

    with ws_sync_unix_serve(handler, path) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with wskit.sync.unix_connect(path, "ws://example.test/sync?q") as ws:
                assert json.loads(ws.recv(timeout=10)) == {"path": "/sync?q", "host": "example.test"}
                ws.send("ping")
                assert ws.recv(timeout=10) == "ping"
        finally:
            server.shutdown()
            thread.join(10)
