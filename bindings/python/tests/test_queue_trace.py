"""The 0.2 additions against real `websockets` peers: queue mode (typed events, the byte bound,
both overflow policies), the tracer, client response headers, a rejected handshake as data, and
accepting by id."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Iterator, List, Tuple

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed as WsClosed
from websockets.exceptions import InvalidStatus

import wskit
from conftest import PeerServer, ServerThread

READ_BUFFER = 256 << 10  # the context's read buffer: the header states the overshoot in it


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def client(url: str, **kw: Any) -> Any:
    return ws_connect(url, max_size=None, compression=None, ping_interval=None, **kw)


class ClientThread:
    """A websockets client in a thread: sends `messages`, then waits for the close."""

    def __init__(self, url: str, messages: List[Any], **kw: Any) -> None:
        self.url, self.messages, self.kw = url, messages, kw
        self.close: Tuple[Any, Any] = (None, None)
        self.error: Any = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        async def go() -> None:
            async with client(self.url, **self.kw) as ws:
                try:
                    for msg in self.messages:
                        await ws.send(msg)
                    await ws.wait_closed()
                except WsClosed:
                    pass
                self.close = (ws.close_code, ws.close_reason)
        try:
            run(go())
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        self.thread.join(30)
        assert not self.thread.is_alive()


def test_queue_events_are_typed() -> None:
    with wskit.Context(queue=1 << 20) as ctx:
        port = ctx.listen("127.0.0.1", 0)
        peer = ClientThread(f"ws://127.0.0.1:{port}/room?x=1", ["hello", b"\x00\x01"])
        events: List[wskit.Event] = []
        live: List[Any] = []
        for event in ctx.events(timeout=10):
            events.append(event)
            if isinstance(event, wskit.OpenEvent):
                live.append(event.conn.peer == event.peer)  # always kept
                try:
                    live.append(event.conn.path)
                except wskit.Unavailable:
                    live.append("unavailable")  # the listener did not ask to keep it
            if isinstance(event, wskit.MessageEvent) and event.data == b"\x00\x01":
                event.conn.close(4000, "bye")
            if isinstance(event, wskit.CloseEvent):
                break
        peer.join()
        kinds = [type(e).__name__ for e in events]
        assert kinds[0] == "ListenEvent" and kinds[1:] == ["OpenEvent", "MessageEvent", "MessageEvent", "CloseEvent"]
        listen = events[0]
        assert isinstance(listen, wskit.ListenEvent) and listen.port == port and listen.address.endswith(f":{port}")
        opened = events[1]
        assert isinstance(opened, wskit.OpenEvent)
        assert (opened.path, opened.query) == ("/room", "x=1")  # in the event, kept or not
        assert opened.peer.startswith("127.0.0.1:") and "sec-websocket-key" in opened.headers
        assert live == [True, "unavailable"]
        assert [e.data for e in events if isinstance(e, wskit.MessageEvent)] == ["hello", b"\x00\x01"]
        closed = events[-1]
        assert isinstance(closed, wskit.CloseEvent) and (closed.code, closed.clean) == (4000, True)
        assert peer.close == (4000, "bye")
        assert ctx.queue_stats().events == 0
        with pytest.raises(wskit.InvalidState):
            ctx.on_message(lambda conn, data: None)
    with pytest.raises(TypeError):
        wskit.Context(queue=1024, on_message=lambda conn, data: None)


def test_queue_pause_bound_holds_and_loses_nothing() -> None:
    """PAUSE: with nobody draining, the queue stops at the stated bound (max_bytes + one read
    buffer + one reassembled message); it is hit (overflows > 0); then every message arrives."""
    max_bytes, size, count = 64 << 10, 16 << 10, 200
    with wskit.Context(queue=max_bytes) as ctx:
        port = ctx.listen("127.0.0.1", 0, max_message_size=size)
        peer = ClientThread(f"ws://127.0.0.1:{port}/", [bytes([i]) * size for i in range(count)])
        for _ in range(100):  # poll without draining: the queue fills up to the bound
            ctx.poll(0.02)
        stats = ctx.queue_stats()
        assert stats.overflows > 0, stats
        assert max_bytes <= stats.bytes <= max_bytes + READ_BUFFER + size, stats
        assert stats.peak_bytes <= max_bytes + READ_BUFFER + size, stats
        assert stats.bytes < count * size  # paused: most of the stream is still in the sockets
        got: List[bytes] = []
        conn = None
        while len(got) < count:
            event = ctx.next_event(5)
            assert event is not None, f"stalled after {len(got)} messages"
            if isinstance(event, wskit.MessageEvent):
                assert isinstance(event.data, bytes)
                got.append(event.data)
                conn = event.conn
        assert got == [bytes([i]) * size for i in range(count)]
        assert ctx.queue_stats().peak_bytes <= max_bytes + READ_BUFFER + size
        assert conn is not None
        conn.close()
        for event in ctx.events(timeout=5):
            if isinstance(event, wskit.CloseEvent):
                break
        peer.join()


def test_queue_close_policy_closes_with_1013() -> None:
    max_bytes, size = 32 << 10, 8 << 10
    with wskit.Context(queue=max_bytes, queue_overflow="close") as ctx:
        port = ctx.listen("127.0.0.1", 0)
        peer = ClientThread(f"ws://127.0.0.1:{port}/", [b"x" * size] * 64)
        closed = None
        for _ in range(200):  # do not drain until the peer is closed
            ctx.poll(0.02)
            if peer.close != (None, None):
                break
        stats = ctx.queue_stats()
        assert stats.overflows > 0 and stats.peak_bytes <= max_bytes, stats
        for event in ctx.events(timeout=5):
            if isinstance(event, wskit.CloseEvent):
                closed = event
                break
        peer.join()
        assert closed is not None and closed.code == 1013
        assert peer.close[0] == 1013


def test_tracer_sees_handshake_and_frames(peer_server: PeerServer) -> None:
    traces: List[wskit.Trace] = []
    with wskit.Context() as ctx:
        ctx.set_tracer(traces.append)
        got: List[Any] = []
        ctx.on_message(lambda conn, data: got.append(data))
        conn = ctx.connect(peer_server.url("/echo"))
        while not conn.open and not conn.closed:
            ctx.poll(1)
        conn.send("traced")
        while not got:
            ctx.poll(1)
        ctx.set_tracer(None)
        before = len(traces)
        conn.send(b"untraced")
        while len(got) < 2:
            ctx.poll(1)
        assert len(traces) == before  # off: nothing more
        ctx.shutdown(2)
    shakes = [t for t in traces if t.kind == "handshake"]
    assert [t.direction for t in shakes] == ["out", "in"]
    assert shakes[0].data.startswith(b"GET /echo HTTP/1.1\r\n")
    assert shakes[1].data.startswith(b"HTTP/1.1 101 ")
    frames = [(t.direction, t.opcode, t.fin, t.payload_len) for t in traces if t.kind == "frame"]
    assert frames[:2] == [("out", 1, True, 6), ("in", 1, True, 6)]
    assert "TEXT" in str([t for t in traces if t.kind == "frame"][0])


def test_tracer_exception_surfaces_from_poll(peer_server: PeerServer) -> None:
    with wskit.Context() as ctx:
        def boom(trace: wskit.Trace) -> None:
            raise RuntimeError("tracer failed")
        ctx.set_tracer(boom)
        ctx.connect(peer_server.url())
        with pytest.raises(RuntimeError, match="tracer failed"):
            for _ in range(50):
                ctx.poll(0.1)


@pytest.fixture
def cookie_server() -> Iterator[int]:
    """A websockets server whose 101 response sets a cookie."""
    ready = threading.Event()
    port: List[int] = []
    stop: List[Any] = []

    def add_cookie(conn: Any, request: Any, response: Any) -> Any:
        response.headers["Set-Cookie"] = "session=abc123; HttpOnly"
        return response

    async def main() -> None:
        async def echo(ws: Any) -> None:
            async for msg in ws:
                await ws.send(msg)
        async with ws_serve(echo, "127.0.0.1", 0, process_response=add_cookie, compression=None) as server:
            port.append(server.sockets[0].getsockname()[1])
            stop.append((asyncio.get_running_loop(), asyncio.get_running_loop().create_future()))
            ready.set()
            await stop[0][1]

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield port[0]
    loop, fut = stop[0]
    loop.call_soon_threadsafe(fut.set_result, None)
    thread.join(10)


def test_client_reads_response_headers(cookie_server: int) -> None:
    with wskit.connect(f"ws://127.0.0.1:{cookie_server}/chat?room=1") as ws:
        headers = ws.connection.headers
        assert headers["set-cookie"] == "session=abc123; HttpOnly"
        assert headers["Upgrade"].lower() == "websocket" and "Sec-WebSocket-Accept" in headers
        assert "websockets" in headers["server"]
        assert (ws.connection.path, ws.connection.query) == ("/chat", "room=1")
        ws.send("x")
        assert ws.recv(timeout=5) == "x"


@pytest.mark.parametrize("status", [401, 503])
def test_rejected_handshake_as_data(peer_server: PeerServer, status: int) -> None:
    with pytest.raises(wskit.HandshakeRejected) as info:
        wskit.connect(peer_server.url(f"/reject?status={status}"))
    rejected = info.value
    assert rejected.status == status
    assert rejected.body == b"rejected by peer"
    assert rejected.headers["content-type"] == "text/plain; charset=utf-8"
    assert rejected.headers["Content-Length"] == str(len(rejected.body))


def test_rejected_handshake_in_queue_mode(peer_server: PeerServer) -> None:
    with wskit.Context(queue=1 << 20) as ctx:
        conn = ctx.connect(peer_server.url("/reject?status=418"))
        events = []
        for event in ctx.events(timeout=5):
            events.append(event)
            if isinstance(event, wskit.CloseEvent):
                break
        errors = [e for e in events if isinstance(e, wskit.ErrorEvent)]
        assert len(errors) == 1 and errors[0].conn is conn
        err = errors[0].error
        assert isinstance(err, wskit.HandshakeRejected) and err.status == 418 and err.body == b"rejected by peer"
        assert isinstance(events[-1], wskit.CloseEvent) and events[-1].code == 1006


def test_accept_by_id_with_headers_and_reserved_header_refused() -> None:
    refused: List[Any] = []

    def setup(ctx: wskit.Context) -> None:
        @ctx.on_accept
        def accept(req: wskit.AcceptRequest) -> None:
            assert req.default_subprotocol == "b" and req.subprotocols == ["x", "b", "a"]
            try:
                req.accept("b", headers={"Sec-WebSocket-Accept": "forged"})
            except wskit.InvalidArgument as exc:
                refused.append(exc)  # checked at once; the request stays pending
            if req.path == "/no":
                req.reject(451, "not here", headers={"X-Why": "legal"})
            else:
                req.accept("a", headers={"Set-Cookie": "id=7"})
    server = ServerThread(setup, subprotocols=["a", "b"])
    try:
        async def ok() -> Any:
            async with client(server.url(), subprotocols=["x", "b", "a"]) as ws:
                return ws.subprotocol, ws.response.headers["Set-Cookie"]
        assert run(ok()) == ("a", "id=7")

        async def no() -> None:
            async with client(server.url("/no"), subprotocols=["x", "b", "a"]):
                pass
        with pytest.raises(InvalidStatus) as info:
            run(no())
        response = info.value.response
        assert response.status_code == 451 and response.headers["X-Why"] == "legal" and response.body == b"not here"
    finally:
        server.stop()
    assert len(refused) == 2


def test_kept_request_information() -> None:
    """Only what the listener keeps is readable after the handshake; all of it during open."""
    seen: List[Any] = []

    def setup(ctx: wskit.Context) -> None:
        @ctx.on_open
        def opened(conn: wskit.Connection) -> None:
            seen.append(("open", conn.path, conn.query, conn.headers.get("x-other")))

        @ctx.on_message
        def message(conn: wskit.Connection, data: Any) -> None:
            row: List[Any] = [data, conn.peer.startswith("127.0.0.1:")]
            for read in (lambda: conn.path, lambda: conn.query, lambda: conn.header("X-Token"),
                         lambda: conn.header("x-absent"), lambda: dict(conn.headers), lambda: conn.header("X-Other")):
                try:
                    row.append(read())
                except wskit.Unavailable:
                    row.append("unavailable")
            seen.append(tuple(row))
            conn.send("ok")

    for keep in ({"keep_request": True, "keep_headers": ["x-token", "X-Absent"]}, {}):
        server = ServerThread(setup, **keep)
        try:
            async def go() -> None:
                async with client(server.url("/p?q=1"), additional_headers={"X-Token": "t1", "X-Other": "o"}) as ws:
                    await ws.send("hi")
                    assert await ws.recv() == "ok"
            run(go())
        finally:
            server.stop()
    assert seen == [
        ("open", "/p", "q=1", "o"),
        ("hi", True, "/p", "q=1", "t1", None, {"x-token": "t1"}, "unavailable"),
        ("open", "/p", "q=1", "o"),
        ("hi", True, "unavailable", "unavailable", "unavailable", "unavailable", "unavailable", "unavailable"),
    ]


def test_deferred_accept_decided_later() -> None:
    """The accept handler defers; the loop decides on a later turn (accept, reject), and an
    undecided request ends with the handshake timeout and leaves no pending entry."""
    with wskit.Context() as ctx:
        waiting: List[wskit.AcceptRequest] = []

        @ctx.on_accept
        def accept(req: wskit.AcceptRequest) -> None:
            req.defer()
            waiting.append(req)
        ctx.on_message(lambda conn, data: conn.send(data))
        port = ctx.listen("127.0.0.1", 0, subprotocols=["chat"], handshake_timeout=0.5)
        results: List[Any] = []

        def attempt(path: str) -> None:
            async def go() -> Any:
                async with client(f"ws://127.0.0.1:{port}{path}", subprotocols=["chat"], open_timeout=5) as ws:
                    await ws.send("late")
                    return (path, ws.subprotocol, await ws.recv())
            try:
                results.append(run(go()))
            except InvalidStatus as exc:
                results.append((path, exc.response.status_code, exc.response.body))
            except Exception as exc:  # the undecided one: the server drops it
                results.append((path, type(exc).__name__))
        threads = [threading.Thread(target=attempt, args=(p,)) for p in ("/yes", "/no", "/never")]
        for t in threads:
            t.start()
        while len(waiting) < 3:
            ctx.poll(0.05)
        assert {r.path for r in ctx.pending_requests} == {"/yes", "/no", "/never"}
        for _ in range(4):  # some turns of the loop later
            ctx.poll(0.01)
        for req in waiting:
            if req.path == "/yes":
                req.accept()
            elif req.path == "/no":
                req.reject(401, "token refused", headers={"WWW-Authenticate": "Bearer"})
        deadline = time.monotonic() + 20
        while any(t.is_alive() for t in threads) or ctx.pending_requests:
            assert time.monotonic() < deadline, ctx.pending_requests  # the timed-out one must go too
            ctx.poll(0.05)
        assert sorted(results, key=lambda r: r[0]) == [("/never", "InvalidMessage"), ("/no", 401, b"token refused"),
                                                       ("/yes", "chat", "late")]


def test_queue_accept_events() -> None:
    with wskit.Context(queue=1 << 20, queue_accept=True) as ctx:
        port = ctx.listen("127.0.0.1", 0, subprotocols=["v2"])
        results: List[Any] = []

        def attempt(path: str) -> None:
            async def go() -> Any:
                async with client(f"ws://127.0.0.1:{port}{path}", subprotocols=["v1", "v2"]) as ws:
                    return (path, ws.subprotocol, ws.response.headers.get("X-Ok"))
            try:
                results.append(run(go()))
            except InvalidStatus as exc:
                results.append((path, exc.response.status_code))
        threads = [threading.Thread(target=attempt, args=(p,)) for p in ("/a", "/b")]
        for t in threads:
            t.start()
        decided = 0
        for event in ctx.events(timeout=10):
            if isinstance(event, wskit.AcceptEvent):
                req = event.request
                assert req.default_subprotocol == "v2" and req.subprotocols == ["v1", "v2"]
                if req.path == "/a":
                    req.accept(headers={"X-Ok": "yes"})
                else:
                    req.reject(409)
                decided += 1
            if decided == 2 and not any(t.is_alive() for t in threads):
                break
        for t in threads:
            t.join(10)
        assert sorted(results) == [("/a", "v2", "yes"), ("/b", 409)]
