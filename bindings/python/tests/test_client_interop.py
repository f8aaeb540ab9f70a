"""wskit as the client (blocking client, Context, asyncio adapter), Python `websockets`
(tests/peers/py_server.py) as the server."""

from __future__ import annotations

import asyncio
import json
from typing import Any, List

import pytest

import wskit
from conftest import SIZES, PeerServer, binary_of, text_of


def test_blocking_client_echo_sizes(peer_server: PeerServer) -> None:
    with wskit.connect(peer_server.url(), max_message_size=64 << 20) as ws:
        for n in SIZES:
            for msg in (text_of(n), binary_of(n)):
                ws.send(msg)
                got = ws.recv(timeout=30)
                assert type(got) is type(msg) and got == msg, n
        ws.ping("are you there")


def test_client_fragmented_both_ways(peer_server: PeerServer) -> None:
    with wskit.connect(peer_server.url("/fragmented")) as ws:
        assert ws.recv(timeout=5) == "fragmented"
        assert ws.recv(timeout=5) == b"\x01\x02\x03"
        conn = ws.connection
        with conn.stream("text") as m:
            m.write("héllo wörld, €uro 😀".encode()[:2])  # cut inside é
            conn.ping(b"between-fragments")
            m.write("héllo wörld, €uro 😀".encode()[2:])
        assert ws.recv(timeout=5) == "héllo wörld, €uro 😀"
        conn.begin("binary", bytes(range(10)))
        for i in range(1, 4):
            conn.write(bytes(range(10 * i, 10 * i + 10)))
        conn.end()
        assert ws.recv(timeout=5) == bytes(range(40))


def test_client_streaming_mode(peer_server: PeerServer) -> None:
    pieces: List[Any] = []
    with wskit.Context() as ctx:
        ctx.on_fragment(lambda conn, data, is_text, first, last: pieces.append((data, is_text, first, last)))
        conn = ctx.connect(peer_server.url("/fragmented"), streaming=True)
        while len(pieces) < 5 and not conn.closed:
            ctx.poll(1)
        assert pieces == [(b"frag", True, True, False), (b"men", True, False, False), (b"ted", True, False, True),
                          (b"\x01\x02", False, True, False), (b"\x03", False, False, True)]
        ctx.shutdown(2)


@pytest.mark.parametrize("offer,expected", [(["p1", "p2"], "p1"), ([], None)])
def test_client_subprotocols(peer_server: PeerServer, offer: List[str], expected: Any) -> None:
    with wskit.connect(peer_server.url(), subprotocols=offer) as ws:
        assert ws.subprotocol == expected
        ws.send("cmd:headers")
        assert json.loads(ws.recv(timeout=5))["_subprotocol"] == expected


def test_client_headers_and_origin(peer_server: PeerServer) -> None:
    with wskit.connect(peer_server.url("/headers?x=1"), headers={"X-Wskit-Test": "peer", "Authorization": "Bearer t"},
                       origin="http://example.test") as ws:
        got = json.loads(ws.recv(timeout=5))
        assert got["x-wskit-test"] == "peer" and got["authorization"] == "Bearer t"
        assert got["origin"] == "http://example.test" and got["_path"] == "/headers?x=1"
        assert ws.connection.path == "/headers"
        assert ws.connection.remote_address.startswith("127.0.0.1:")


@pytest.mark.parametrize("status", [403, 404, 503])
def test_client_rejected_handshake(peer_server: PeerServer, status: int) -> None:
    with pytest.raises(wskit.HandshakeRejected) as info:
        wskit.connect(peer_server.url(f"/reject?status={status}"))
    assert info.value.status == status
    assert info.value.code == wskit.Status.ERR_HANDSHAKE_REJECTED


def test_client_connect_refused() -> None:
    with pytest.raises(wskit.NetworkError):
        wskit.connect("ws://127.0.0.1:1/")
    with pytest.raises(wskit.InvalidArgument):
        wskit.connect("http://example.test/")


def test_client_server_close(peer_server: PeerServer) -> None:
    ws = wskit.connect(peer_server.url())
    try:
        ws.send("before")
        ws.send("cmd:close 4000 see you")
        assert ws.recv(timeout=5) == "before"
        with pytest.raises(wskit.ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert (info.value.code, info.value.reason, info.value.clean) == (4000, "see you", True)
        assert ws.closed
    finally:
        ws.close()


def test_client_recv_timeout(peer_server: PeerServer) -> None:
    with wskit.connect(peer_server.url()) as ws:
        with pytest.raises(wskit.WskitTimeout):
            ws.recv(timeout=0.2)
        with pytest.raises(TimeoutError):  # WskitTimeout is a TimeoutError
            ws.recv(timeout=0.1)


def test_client_iteration_ends_on_close(peer_server: PeerServer) -> None:
    with wskit.connect(peer_server.url()) as ws:
        for word in ("a", "b", "cmd:close 1000 done"):
            ws.send(word)
        assert list(ws) == ["a", "b"]


def test_asyncio_adapter_round_trip(peer_server: PeerServer) -> None:
    async def go() -> List[Any]:
        got: List[Any] = []
        async with wskit.aio.connect(peer_server.url(), subprotocols=["chat"]) as ws:
            assert ws.subprotocol == "chat"
            for msg in ("hello", b"\x00\xff", text_of(1 << 20), binary_of(3 << 20)):
                await ws.send(msg)
                got.append(await ws.recv() == msg)
            # other asyncio work keeps running meanwhile
            await asyncio.gather(ws.send("x"), asyncio.sleep(0.01))
            got.append(await ws.recv())
        return got
    assert asyncio.run(asyncio.wait_for(go(), 30)) == [True, True, True, True, "x"]


def test_asyncio_adapter_rejected_and_closed(peer_server: PeerServer) -> None:
    async def go() -> Any:
        with pytest.raises(wskit.HandshakeRejected):
            await wskit.aio.connect(peer_server.url("/reject?status=403"))
        ws = await wskit.aio.connect(peer_server.url("/close?code=4002&reason=later"))
        try:
            messages: List[Any] = []
            # As websockets: iteration ends quietly on 1000/1001 only; 4002 raises.
            with pytest.raises(wskit.ConnectionClosedError):
                async for m in ws:
                    messages.append(m)
            with pytest.raises(wskit.ConnectionClosed) as info:
                await ws.recv()
            return messages, info.value.code, info.value.reason
        finally:
            await ws.close()
    assert asyncio.run(asyncio.wait_for(go(), 30)) == ([], 4002, "later")


def test_asyncio_attach_server() -> None:
    """A wskit server Context driven by asyncio, with the blocking client in a thread."""
    async def go() -> Any:
        ctx = wskit.Context()
        ctx.on_message(lambda conn, data: conn.send(data.upper() if isinstance(data, str) else data))
        port = ctx.listen("127.0.0.1", 0)
        driver = wskit.aio.attach(ctx)

        def use() -> Any:
            with wskit.connect(f"ws://127.0.0.1:{port}/") as ws:
                ws.send("shout")
                return ws.recv(timeout=5)
        try:
            return await asyncio.get_running_loop().run_in_executor(None, use)
        finally:
            driver.detach()
            ctx.close()
    assert asyncio.run(asyncio.wait_for(go(), 30)) == "SHOUT"
