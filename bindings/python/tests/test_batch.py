"""The batched fast path against real `websockets` clients: Context.drain (wskit_ctx_next_events)
and Connection.send_batched (wskit_ctx_send_batch): echoes in order with several events per call,
refused messages coming back with their payload (and keeping a connection's order), the bound on
events per drain, and the queue-mode requirement."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, List, Optional

import pytest
from websockets.asyncio.client import connect as ws_connect

import wskit

COUNT = 400


def client(url: str) -> Any:
    return ws_connect(url, max_size=None, compression=None, ping_interval=None)


def drain_until(ctx: wskit.Context, done: Any, seconds: float = 20, **kw: Any) -> List[wskit.Event]:
    """Drains (echoing messages with send_batched) until done() or the time is up; every event."""
    seen: List[wskit.Event] = []
    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        events = ctx.drain(timeout=0.05, **kw)
        seen.extend(events)
        for event in events:
            if isinstance(event, wskit.MessageEvent):
                event.conn.send_batched(event.data)
    return seen


def test_drain_echoes_in_order_many_events_per_call() -> None:
    ctx = wskit.Context(queue=1 << 20)
    port = ctx.listen("127.0.0.1", 0, compression=None)
    sent = [f"m{i}" if i % 3 else f"b{i}".encode() for i in range(COUNT)]
    echoed: List[Any] = []
    error: List[BaseException] = []

    def main() -> None:
        async def go() -> None:
            async with client(f"ws://127.0.0.1:{port}/") as ws:
                for msg in sent:  # all at once: the server sees them in batches
                    await ws.send(msg)
                for _ in sent:
                    echoed.append(await ws.recv())
        try:
            asyncio.run(asyncio.wait_for(go(), 30))
        except BaseException as exc:
            error.append(exc)

    t = threading.Thread(target=main, daemon=True)
    t.start()
    sizes: List[int] = []
    end = time.monotonic() + 30
    while t.is_alive() and time.monotonic() < end:
        events = ctx.drain(timeout=0.05)
        messages = [e for e in events if isinstance(e, wskit.MessageEvent)]
        if messages:
            sizes.append(len(messages))
        for event in messages:
            event.conn.send_batched(event.data)
    t.join(5)
    ctx.close()
    assert not error, error
    assert echoed == sent  # str stays text, bytes binary; nothing lost or reordered
    assert sum(sizes) == COUNT
    assert max(sizes) > 1, sizes  # the point: several messages per call into C


def test_max_events_bounds_one_drain() -> None:
    ctx = wskit.Context(queue=1 << 20)
    port = ctx.listen("127.0.0.1", 0, compression=None)
    received: List[int] = []

    async def go() -> None:
        async with client(f"ws://127.0.0.1:{port}/") as ws:
            for i in range(50):
                await ws.send(str(i))
            await asyncio.sleep(0.5)  # the server drains while this waits

    t = threading.Thread(target=lambda: asyncio.run(go()), daemon=True)
    t.start()
    end = time.monotonic() + 20
    most = 0
    while len(received) < 50 and time.monotonic() < end:
        events = ctx.drain(timeout=0.05, max_events=4)
        most = max(most, len(events))
        received += [int(e.data) for e in events if isinstance(e, wskit.MessageEvent)]  # type: ignore[arg-type]
    drain_until(ctx, lambda: not t.is_alive())  # the client's closing handshake
    ctx.close()
    assert received == list(range(50))
    assert 1 <= most <= 4


def test_refused_batched_sends_come_back_with_their_payload_in_order() -> None:
    """max_buffered 1 KiB: a 4 KiB message onto an empty send queue is taken (wskit always takes
    one), the next two to that connection are refused (WouldBlock), while the other connection's
    message between them goes; a message to a closed connection comes back as NotFound. Each
    ErrorEvent carries its payload, in order. (That a refusal also refuses the rest of its
    connection's batch is checked by tests/c/batch.c, with a refusal the next message would not
    hit.)"""
    ctx = wskit.Context(queue=1 << 20)
    port = ctx.listen("127.0.0.1", 0, compression=None, max_buffered=1024)
    got: List[Any] = []
    release = threading.Event()

    async def go() -> None:
        async with client(f"ws://127.0.0.1:{port}/") as a, client(f"ws://127.0.0.1:{port}/") as b:
            await a.send("hello a")
            await b.send("hello b")
            got.append(await b.recv())
            release.wait(20)

    t = threading.Thread(target=lambda: asyncio.run(asyncio.wait_for(go(), 30)), daemon=True)
    t.start()
    conns: List[wskit.Connection] = []
    end = time.monotonic() + 20
    while len(conns) < 2 and time.monotonic() < end:
        conns += [e.conn for e in ctx.drain(timeout=0.05) if isinstance(e, wskit.MessageEvent)]
    assert len(conns) == 2
    a, b = conns
    a.send_batched(b"x" * 4096)  # onto an empty queue: taken, and the queue is past max_buffered
    a.send_batched(b"second")    # refused
    b.send_batched("to b")       # another connection: goes
    a.send_batched("third")      # refused
    events = ctx.drain(timeout=0.05)
    errors = [e for e in events if isinstance(e, wskit.ErrorEvent)]
    assert [type(e.error) for e in errors] == [wskit.WouldBlock, wskit.WouldBlock], events
    assert [e.conn for e in errors] == [a, a]
    assert [e.error.unsent for e in errors] == [b"second", "third"]  # type: ignore[attr-defined]
    assert a.error is errors[1].error
    end = time.monotonic() + 10
    while not got and time.monotonic() < end:
        ctx.drain(timeout=0.05)
    assert got == ["to b"]
    release.set()
    closed = drain_until(ctx, lambda: a.closed and b.closed and not t.is_alive(), 10)
    assert a.closed and b.closed, closed
    a.send_batched("too late")
    late = ctx.drain(timeout=0)
    assert len(late) == 1 and isinstance(late[0], wskit.ErrorEvent) and isinstance(late[0].error, wskit.NotFound)
    assert late[0].conn is None and late[0].error.unsent == "too late"  # type: ignore[attr-defined]
    b.send_batched("flush raises")
    with pytest.raises(wskit.NotFound) as info:
        ctx.flush()
    assert info.value.unsent == "flush raises"  # type: ignore[attr-defined]
    ctx.close()


def test_drain_and_send_batched_need_queue_mode() -> None:
    with wskit.Context() as ctx:
        with pytest.raises(wskit.InvalidState):
            ctx.drain(timeout=0)
        conn: Optional[wskit.Connection] = None
        conn = wskit.Connection(ctx, 1, is_client=False)
        with pytest.raises(wskit.InvalidState):
            conn.send_batched("x")
    with wskit.Context(queue=1 << 16) as ctx:
        with pytest.raises(ValueError):
            ctx.drain(timeout=0, max_events=0)
        assert ctx.drain(timeout=0) == []


def test_zero_copy_views_echo_without_copies() -> None:
    """drain(zero_copy=True): binary messages of 16 KiB or more are memoryviews (of wskit's copy),
    smaller ones bytes, text str; send_batched(view) echoes a view before the next take frees it."""
    ctx = wskit.Context(queue=4 << 20)
    port = ctx.listen("127.0.0.1", 0, compression=None)
    sent: List[Any] = [bytes(range(256)) * 128, b"small", "text", b"\x01" * (1 << 20)]
    echoed: List[Any] = []

    async def go() -> None:
        async with client(f"ws://127.0.0.1:{port}/") as ws:
            for msg in sent:
                await ws.send(msg)
            for _ in sent:
                echoed.append(await ws.recv())

    t = threading.Thread(target=lambda: asyncio.run(asyncio.wait_for(go(), 30)), daemon=True)
    t.start()
    kinds: List[type] = []
    end = time.monotonic() + 20
    while t.is_alive() and time.monotonic() < end:
        for event in ctx.drain(timeout=0.05, zero_copy=True):
            if isinstance(event, wskit.MessageEvent):
                kinds.append(type(event.data))
                event.conn.send_batched(event.data)
    ctx.close()
    assert echoed == sent
    assert kinds == [memoryview, bytes, str, memoryview]
