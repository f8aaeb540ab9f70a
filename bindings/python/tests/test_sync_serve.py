"""wskit.sync.serve (a thread per connection, websockets.sync's shape) against the Python
websockets and Node ws clients of tests/peers, and the blocking client's bounded queue against
both peer servers."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest
from websockets.sync.client import connect as ws_connect

import wskit
from conftest import PeerServer, run_peer_client
from wskit.sync import ServerConnection


class Running:
    """A wskit.sync server with serve_forever on a thread; ``stop()`` shuts it down."""

    def __init__(self, handler: Callable[[ServerConnection], None], **options: Any) -> None:
        self.server = wskit.sync.serve(handler, "127.0.0.1", 0, **options)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.port}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(15)
        assert not self.thread.is_alive()


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    started: List[Running] = []

    def start(handler: Callable[[ServerConnection], None], **options: Any) -> Running:
        started.append(Running(handler, **options))
        return started[-1]
    yield start
    for r in started:
        r.stop()


def echo_protocol(ws: ServerConnection) -> None:
    """The peers' echo protocol (tests/peers/README.md), threaded."""
    for message in ws:
        if isinstance(message, str) and message.startswith("cmd:"):
            cmd, _, arg = message[4:].partition(" ")
            if cmd == "close":
                code, _, reason = arg.partition(" ")
                ws.close(int(code or 1000), reason)
                return
            if cmd == "headers":
                ws.send(json.dumps({**dict(ws.request.headers), "_subprotocol": ws.subprotocol}))
                continue
            if cmd == "ping":
                ws.ping(arg.encode())
                continue
        ws.send(message)


def first_offered(request: wskit.AcceptRequest) -> Any:
    return request.subprotocols[0] if request.subprotocols else None


@pytest.mark.parametrize("peer", ["websockets", "node-ws"])
def test_peer_clients_against_sync_serve(peer: str, running: Callable[..., Running]) -> None:
    server = running(echo_protocol, max_size=None, process_request=first_offered, ping_interval=None)

    async def go() -> Dict[str, Any]:
        url = server.url
        return {
            "echo": await run_peer_client(peer, url, "echo-sizes"),
            "fragmented": await run_peer_client(peer, url, "fragmented"),
            "server-ping": await run_peer_client(peer, url, "server-ping", "from-server"),
            "server-close": await run_peer_client(peer, url, "server-close", "4001", "bye now"),
            "subprotocol": await run_peer_client(peer, url, "subprotocol", "chat.v2,chat.v1"),
            "concurrent": await run_peer_client(peer, url, "concurrent", "20", "20"),
        }
    got = asyncio.run(asyncio.wait_for(go(), 120))
    assert got == {"echo": {"checked": 20}, "fragmented": {"checked": 2}, "server-ping": {"ok": True},
                   "server-close": {"code": 4001, "reason": "bye now"}, "subprotocol": {"subprotocol": "chat.v2"},
                   "concurrent": {"connections": 20, "messages": 400}}


def test_sync_handler_shape_with_websockets_sync_client(running: Callable[..., Running]) -> None:
    seen: Dict[str, Any] = {}

    def handler(ws: ServerConnection) -> None:
        seen.update(path=ws.request.path, addr=ws.remote_address, thread=threading.current_thread().name)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.05)
        ws.send(ws.recv(timeout=5))
        seen["pong"] = ws.ping(b"sync-ping").wait(5)
        ws.send(["frag", "ments"])

    server = running(handler)
    with ws_connect(server.url + "path?q=1") as client:
        time.sleep(0.1)
        client.send(b"\x00\x01")
        assert client.recv(timeout=5) == b"\x00\x01"
        assert client.recv(timeout=5) == "fragments"
        with pytest.raises(Exception):
            client.recv(timeout=5)  # handler returned: closed with 1000
        assert client.close_code == 1000
    assert seen["path"] == "/path?q=1" and seen["addr"][0] == "127.0.0.1"
    assert seen["thread"].startswith("wskit-handler-") and seen["pong"] is True


def test_sync_handler_exception_closes_1011(running: Callable[..., Running], caplog: Any) -> None:
    def handler(ws: ServerConnection) -> None:
        ws.recv()
        raise ValueError("sync boom")

    server = running(handler)
    with caplog.at_level(logging.ERROR, logger="wskit.server"):
        with ws_connect(server.url) as client:
            client.send("x")
            with pytest.raises(Exception):
                client.recv(timeout=5)
            assert client.close_code == 1011
        time.sleep(0.1)
    assert any("connection handler failed" in r.message and "sync boom" in str(r.exc_info[1])
               for r in caplog.records)


def test_sync_shutdown_closes_1001_and_joins() -> None:
    events: List[Any] = []

    def handler(ws: ServerConnection) -> None:
        try:
            ws.recv()
        except wskit.ConnectionClosedOK:
            events.append(ws.close_code)

    r = Running(handler)
    with ws_connect(r.url) as client:
        time.sleep(0.1)
        r.stop()  # shutdown() returns once serve_forever did
        with pytest.raises(Exception):
            client.recv(timeout=5)
        assert client.close_code == 1001
    assert events == [1001]


def test_sync_slow_handler_fast_sender_bounded(running: Callable[..., Running]) -> None:
    """2000 messages of 1 KiB, sent at once; the handler reads slowly: all arrive in order, at
    most max_queue wait, reading paused."""
    payloads = [os.urandom(1024) for _ in range(2000)]
    result: Dict[str, Any] = {}

    def handler(ws: ServerConnection) -> None:
        got = []
        for i in range(len(payloads)):
            got.append(ws.recv(timeout=30))
            if i % 200 == 0:
                time.sleep(0.02)
        result.update(ok=got == payloads, peak=ws.peak_queued)
        ws.send("done")

    server = running(handler, max_queue=16, compression=None)
    with ws_connect(server.url, compression=None) as client:
        for p in payloads:
            client.send(p)
        assert client.recv(timeout=30) == "done"
    assert result == {"ok": True, "peak": 16}


def test_sync_send_backpressure(running: Callable[..., Running]) -> None:
    """The handler sends 12.5 MiB to a client that does not read yet: sends wait (the handler
    gets no further than TCP buffers allow), then everything arrives in order."""
    progress: List[int] = []

    def handler(ws: ServerConnection) -> None:
        for i in range(200):
            ws.send(i.to_bytes(4, "big") + os.urandom((64 << 10) - 4))
            progress.append(i)

    server = running(handler, compression=None)
    with ws_connect(server.url, compression=None, max_queue=1, max_size=None) as client:
        time.sleep(0.5)
        stalled = len(progress)
        got = [int.from_bytes(client.recv(timeout=10)[:4], "big") for _ in range(200)]
    assert stalled < 100, stalled
    assert got == list(range(200))


# ----- the blocking client (wskit.connect == wskit.sync.connect) against both peer servers ----


def test_blocking_client_bounded_queue(any_peer_server: PeerServer) -> None:
    with wskit.sync.connect(any_peer_server.url("/send?size=1000&type=text&count=200"), max_queue=(8, 2),
                            compression=None) as ws:
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:  # let the server send everything it can
            ws._ctx.poll(0.01)
        assert len(ws._messages) == 8 and ws.connection.reading_paused
        got = [ws.recv(timeout=5) for _ in range(200)]
    text = ("abcdefghijklmnopqrstuvwxyz" * 40)[:1000]
    assert got == [text] * 200 and ws.peak_queued == 8


def test_blocking_client_close_exceptions(any_peer_server: PeerServer) -> None:
    with wskit.connect(any_peer_server.url()) as ws:
        ws.send("cmd:close 4004 nope")
        with pytest.raises(wskit.ConnectionClosedError) as info:
            list(ws)
    exc = info.value
    assert (exc.code, exc.reason, exc.clean) == (4004, "nope", True)
    assert exc.rcvd == wskit.Close(4004, "nope") and exc.sent == wskit.Close(4004, "")
    with wskit.connect(any_peer_server.url()) as ws:
        ws.send("cmd:close 1001 away")
        assert list(ws) == []  # ConnectionClosedOK ends the iteration


def test_sync_connect_takes_websockets_option_names(any_peer_server: PeerServer) -> None:
    with wskit.sync.connect(any_peer_server.url("/headers"), additional_headers={"X-Wskit-Test": "names"},
                            subprotocols=["p1"], origin="http://example.test", max_size=None,
                            ping_interval=None) as ws:
        headers = json.loads(ws.recv(timeout=5))
        assert headers["x-wskit-test"] == "names" and headers["origin"] == "http://example.test"
        assert ws.subprotocol == "p1"
        big = b"\x01" * (17 << 20)  # over wskit's 16 MiB default: max_size=None lifts it
        ws.send(big)
        assert ws.recv(timeout=30) == big
