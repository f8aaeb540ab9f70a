"""permessage-deflate from Python against Python `websockets` (compression on) in both roles."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any, Iterator, List, Optional, Tuple

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed

import wskit
from conftest import ServerThread, binary_of, echo_setup, text_of

JSON_LIKE = '{"id":1234,"name":"player-one","pos":[1.5,-3.25,7.0],"alive":true},' * 300  # ~20 KB


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def extensions_of(ws: Any) -> str:
    return str(ws.response.headers.get("Sec-WebSocket-Extensions", ""))


@pytest.fixture
def opened() -> List[wskit.Connection]:
    return []


def deflate_server(opened: List[wskit.Connection], **listen: Any) -> ServerThread:
    def setup(ctx: wskit.Context) -> None:
        echo_setup(ctx)
        ctx.on_open(lambda conn: opened.append(conn))
    listen.setdefault("max_message_size", 64 << 20)
    return ServerThread(setup, **listen)


def test_server_default_negotiates_without_context_takeover(opened: List[wskit.Connection]) -> None:
    server = deflate_server(opened)
    try:
        async def go() -> str:
            async with ws_connect(server.url(), compression="deflate", max_size=None) as ws:
                for msg in (JSON_LIKE, JSON_LIKE.encode(), text_of(70000), binary_of(1 << 20), "short"):
                    await ws.send(msg)
                    assert await ws.recv() == msg
                await ws.send([JSON_LIKE[:100], JSON_LIKE[100:]])  # fragmented and compressed
                assert await ws.recv() == JSON_LIKE
                return extensions_of(ws)
        ext = run(go())
        assert ext.startswith("permessage-deflate"), ext
        assert "server_no_context_takeover" in ext and "client_no_context_takeover" in ext
        params = opened[0].deflate
        assert params is not None
        assert params.server_no_context_takeover and params.client_no_context_takeover
    finally:
        server.stop()


def test_server_compression_none_declines(opened: List[wskit.Connection]) -> None:
    server = deflate_server(opened, compression=None)
    try:
        async def go() -> str:
            async with ws_connect(server.url(), compression="deflate") as ws:
                await ws.send(JSON_LIKE)
                assert await ws.recv() == JSON_LIKE
                return extensions_of(ws)
        assert run(go()) == ""
        assert opened[0].deflate is None
    finally:
        server.stop()


@pytest.mark.parametrize("compact_idle", [True, False])
def test_server_deflate_options_allow_takeover(opened: List[wskit.Connection], compact_idle: bool) -> None:
    # compact_idle (the listener default): the codecs go back to the pool between messages and
    # are primed with the history again; websockets' zlib must read the same stream either way.
    takeover = dataclasses.replace(wskit.DeflateOptions.server(), server_no_context_takeover=False,
                                   client_no_context_takeover=False, server_max_window_bits=10,
                                   compact_idle=compact_idle)
    server = deflate_server(opened, deflate=takeover)
    try:
        async def go() -> str:
            async with ws_connect(server.url(), compression="deflate") as ws:
                for _ in range(3):  # context carried across messages on both sides
                    await ws.send(JSON_LIKE)
                    assert await ws.recv() == JSON_LIKE
                return extensions_of(ws)
        ext = run(go())
        assert "no_context_takeover" not in ext and "server_max_window_bits=10" in ext, ext
        params = opened[0].deflate
        assert params is not None and not params.server_no_context_takeover
        assert params.server_max_window_bits == 10
    finally:
        server.stop()


def test_server_inflated_size_limit_closes_1009(opened: List[wskit.Connection]) -> None:
    server = deflate_server(opened)
    server_limited = deflate_server([], max_message_size=1 << 20)
    try:
        async def go() -> Tuple[Optional[int], str]:
            async with ws_connect(server_limited.url(), compression="deflate", max_size=None) as ws:
                await ws.send(b"\x00" * (8 << 20))  # 8 MiB of zeros: a few KiB on the wire
                try:
                    await ws.recv()
                except ConnectionClosed as exc:
                    return (exc.rcvd.code if exc.rcvd else None), extensions_of(ws)
                return None, extensions_of(ws)
        code, ext = run(go())
        assert ext.startswith("permessage-deflate")
        assert code == 1009
    finally:
        server.stop()
        server_limited.stop()


class WebsocketsServer:
    """A Python `websockets` echo server with compression on, in its own thread; records the
    extensions it agreed to."""

    def __init__(self) -> None:
        self.port = 0
        self.agreed: List[str] = []
        self._ready = threading.Event()
        self._stop: Optional[asyncio.Future[None]] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    async def _main(self) -> None:
        async def echo(ws: Any) -> None:
            self.agreed.append(str(ws.response.headers.get("Sec-WebSocket-Extensions", "")))
            async for msg in ws:
                await ws.send(msg)
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with ws_serve(echo, "127.0.0.1", 0, compression="deflate", max_size=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)


@pytest.fixture
def ws_server() -> Iterator[WebsocketsServer]:
    server = WebsocketsServer()
    yield server
    server.stop()


def test_client_default_negotiates_with_takeover(ws_server: WebsocketsServer) -> None:
    with wskit.connect(ws_server.url(), max_message_size=64 << 20) as ws:
        params = ws.connection.deflate
        assert params is not None
        assert not params.server_no_context_takeover and not params.client_no_context_takeover
        assert params.client_max_window_bits == 12 and params.server_max_window_bits == 12
        for msg in (JSON_LIKE, JSON_LIKE, JSON_LIKE.encode(), text_of(70000), binary_of(1 << 20), "short"):
            ws.send(msg)
            assert ws.recv(timeout=30) == msg
    assert ws_server.agreed[0].startswith("permessage-deflate"), ws_server.agreed


def test_client_compression_none_offers_nothing(ws_server: WebsocketsServer) -> None:
    with wskit.connect(ws_server.url(), compression=None) as ws:
        assert ws.connection.deflate is None
        ws.send(JSON_LIKE)
        assert ws.recv(timeout=10) == JSON_LIKE
    assert ws_server.agreed == [""]


def test_client_deflate_options_reach_the_offer(ws_server: WebsocketsServer) -> None:
    options = dataclasses.replace(wskit.DeflateOptions.client(), client_no_context_takeover=True,
                                  server_max_window_bits=9, client_max_window_bits=10, level=1)
    with wskit.connect(ws_server.url(), deflate=options) as ws:
        params = ws.connection.deflate
        assert params is not None and params.client_no_context_takeover
        assert (params.server_max_window_bits, params.client_max_window_bits) == (9, 10)
        ws.send(JSON_LIKE)
        assert ws.recv(timeout=10) == JSON_LIKE
    assert "server_max_window_bits=9" in ws_server.agreed[0], ws_server.agreed


def test_option_errors() -> None:
    with wskit.Context() as ctx:
        with pytest.raises(ValueError):
            ctx.listen("127.0.0.1", 0, compression="gzip")
        with pytest.raises(ValueError):
            ctx.listen("127.0.0.1", 0, compression=None, deflate=wskit.DeflateOptions.server())
        bad = dataclasses.replace(wskit.DeflateOptions.server(), server_max_window_bits=16)
        with pytest.raises(wskit.InvalidArgument):
            ctx.listen("127.0.0.1", 0, deflate=bad)


def test_broadcast_reaches_compressed_and_plain_websockets_clients() -> None:
    opened: List[wskit.Connection] = []
    refused: List[Tuple[wskit.Connection, wskit.Error]] = []

    def setup(ctx: wskit.Context) -> None:
        ctx.on_open(opened.append)

        @ctx.on_message
        def go(conn: wskit.Connection, data: Any) -> None:  # on the loop thread
            if data == "go":
                gone = [c for c in opened if c.closed]
                refused.extend(ctx.broadcast(opened + gone, JSON_LIKE))

    server = ServerThread(setup)
    got: List[Tuple[str, Any]] = []
    try:
        async def go() -> None:
            clients = [await ws_connect(server.url(), compression=c) for c in ("deflate", "deflate", None)]
            try:
                for _ in range(100):
                    if len(opened) == 3:
                        break
                    await asyncio.sleep(0.05)
                await clients[2].send("go")
                for ws in clients:
                    got.append((extensions_of(ws), await ws.recv()))
            finally:
                for ws in clients:
                    await ws.close()
        run(go())
    finally:
        server.stop()
    assert refused == []
    assert [msg == JSON_LIKE for _, msg in got] == [True, True, True]
    assert [ext.startswith("permessage-deflate") for ext, _ in got] == [True, True, False]


def test_broadcast_reports_closed_connections() -> None:
    with wskit.Context() as ctx:
        port = ctx.listen("127.0.0.1", 0)
        a = ctx.connect(f"ws://127.0.0.1:{port}/")
        b = ctx.connect(f"ws://127.0.0.1:{port}/")
        for _ in range(100):
            if a.open and b.open:
                break
            ctx.poll(0.05)
        b.abort()
        ctx.poll(0.05)
        refused = ctx.broadcast([a, b], b"\x00" * 1000)
        assert [(conn, type(err)) for conn, err in refused] == [(b, wskit.NotFound)]
        ctx.shutdown(2)
