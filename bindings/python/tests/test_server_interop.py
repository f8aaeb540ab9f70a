"""wskit as the server (Context in a thread), Python `websockets` as the client."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, List

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

import wskit
from conftest import SIZES, ServerThread, binary_of, text_of


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def client(url: str, **kw: Any) -> Any:
    return ws_connect(url, max_size=None, compression=None, ping_interval=None, **kw)


def test_echo_sizes_text_and_binary(echo_server: ServerThread) -> None:
    async def go() -> int:
        checked = 0
        async with client(echo_server.url()) as ws:
            for n in SIZES:
                for msg in (text_of(n), binary_of(n)):
                    await ws.send(msg)
                    assert await ws.recv() == msg
                    checked += 1
        return checked
    assert run(go()) == 2 * len(SIZES)


def test_fragmented_from_client(echo_server: ServerThread) -> None:
    async def go() -> None:
        async with client(echo_server.url()) as ws:
            await ws.send(["hél", "lo ", "wörld 😀"])
            assert await ws.recv() == "héllo wörld 😀"
            await ws.send([b"\x00" * 70000, b"\x01" * 3, b""])
            assert await ws.recv() == b"\x00" * 70000 + b"\x01" * 3
    run(go())


def test_fragmented_from_server() -> None:
    def setup(ctx: wskit.Context) -> None:
        @ctx.on_open
        def opened(conn: wskit.Connection) -> None:
            with conn.stream("text") as m:
                m.write("frag")
                m.write("mé".encode()[:2])  # ends inside é
                m.write("é".encode()[1:] + b"nted")
            conn.begin("binary", b"\x01")
            conn.write(b"\x02")
            conn.end(b"\x03")
    server = ServerThread(setup)
    try:
        async def go() -> List[Any]:
            async with client(server.url()) as ws:
                return [await ws.recv(), await ws.recv()]
        assert run(go()) == ["fragménted", b"\x01\x02\x03"]
    finally:
        server.stop()


def test_subprotocols_and_headers() -> None:
    seen: List[wskit.AcceptRequest] = []

    def setup(ctx: wskit.Context) -> None:
        @ctx.on_accept
        def accept(req: wskit.AcceptRequest) -> Any:
            seen.append(req)
            req.add_header("X-Served-By", "wskit-python")
            return "chat.v2" if "chat.v2" in req.subprotocols else True

        @ctx.on_message
        def message(conn: wskit.Connection, data: Any) -> None:
            conn.send(json.dumps({"sub": conn.subprotocol, "path": conn.path, "auth": conn.headers.get("authorization"),
                                  "peer": conn.remote_address}))
    server = ServerThread(setup, keep_request=True, keep_headers=["Authorization"])
    try:
        async def go() -> Any:
            async with client(server.url("/room?x=1"), subprotocols=["chat.v1", "chat.v2"],
                              additional_headers={"Authorization": "Bearer t"}, origin="http://example.test") as ws:
                assert ws.subprotocol == "chat.v2"
                assert ws.response.headers["X-Served-By"] == "wskit-python"
                await ws.send("?")
                return json.loads(await ws.recv())
        got = run(go())
        assert got["sub"] == "chat.v2" and got["path"] == "/room" and got["auth"] == "Bearer t"
        assert got["peer"].startswith("127.0.0.1:")
        req = seen[0]
        assert req.path == "/room" and req.query == "x=1" and req.origin == "http://example.test"
        assert req.subprotocols == ["chat.v1", "chat.v2"]
        assert req.headers["AUTHORIZATION"] == "Bearer t"
    finally:
        server.stop()


@pytest.mark.parametrize("decision,status", [(False, 403), (wskit.Reject(401, "who are you"), 401), ("raise", 429)])
def test_rejected_handshake(decision: Any, status: int) -> None:
    def setup(ctx: wskit.Context) -> None:
        @ctx.on_accept
        def accept(req: wskit.AcceptRequest) -> Any:
            if decision == "raise":
                raise wskit.Reject(429, "slow down")
            return decision
    server = ServerThread(setup)
    try:
        async def go() -> None:
            async with client(server.url()):
                pass
        with pytest.raises(InvalidStatus) as info:
            run(go())
        assert info.value.response.status_code == status
    finally:
        server.stop()


def test_server_close_and_ping() -> None:
    pongs: List[bytes] = []

    def setup(ctx: wskit.Context) -> None:
        @ctx.on_message
        def message(conn: wskit.Connection, data: Any) -> None:
            if data == "ping":
                conn.ping(b"abc")
            else:
                conn.close(4001, "bye now")
        ctx.on_pong(lambda conn, payload: pongs.append(payload))
    server = ServerThread(setup)
    try:
        async def go() -> Any:
            async with client(server.url()) as ws:
                await ws.send("ping")
                await asyncio.sleep(0.2)
                await ws.send("close")
                await ws.wait_closed()
                return ws.close_code, ws.close_reason
        assert run(go()) == (4001, "bye now")
        assert pongs == [b"abc"]
    finally:
        server.stop()


def test_handler_exception_surfaces_from_poll() -> None:
    ctx = wskit.Context()
    try:
        @ctx.on_message
        def boom(conn: wskit.Connection, data: Any) -> None:
            raise RuntimeError(f"handler failed on {data!r}")
        port = ctx.listen("127.0.0.1", 0)

        async def go() -> None:
            async with client(f"ws://127.0.0.1:{port}/") as ws:
                await ws.send("x")
                await asyncio.sleep(0.5)
        t = threading.Thread(target=run, args=(go(),))
        t.start()
        with pytest.raises(RuntimeError, match="handler failed on 'x'"):
            for _ in range(100):
                ctx.poll(0.1)
        # The context is still usable after the exception.
        while t.is_alive():
            ctx.poll(0.05)
        t.join()
    finally:
        ctx.close()


def test_handler_errors_log_mode(caplog: Any) -> None:
    with wskit.Context(handler_errors="log") as ctx:
        ctx.on_message(lambda conn, data: 1 / 0)
        ctx.on_open(lambda conn: conn.send("hello") if conn.is_client else None)
        port = ctx.listen("127.0.0.1", 0)
        ctx.connect(f"ws://127.0.0.1:{port}/")
        for _ in range(20):
            ctx.poll(0.05)
        assert "ZeroDivisionError" in caplog.text
