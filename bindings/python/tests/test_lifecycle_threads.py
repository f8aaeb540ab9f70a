"""Lifetimes (create/destroy cycles under gc stress, no fd leak, handles after close) and
sending from several Python threads through the C remote."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any, Dict, List

import pytest

import wskit
from conftest import ServerThread, fd_count


def one_cycle(explicit_close: bool) -> None:
    opened: List[Any] = []
    ctx = wskit.Context(on_open=lambda conn: opened.append(conn))
    ctx.on_message(lambda conn, data: conn.send(data))
    port = ctx.listen("127.0.0.1", 0)
    client = ctx.connect(f"ws://127.0.0.1:{port}/", user_data={"n": 1})
    while len(opened) < 2:
        ctx.poll(1)
    client.send("x")
    if explicit_close:
        with ctx:
            pass
    else:
        del ctx  # left to refcounting / the cycle collector: weakref.finalize frees it
    del opened, client


def test_create_destroy_cycles_under_gc() -> None:
    gc.collect()
    before = fd_count()
    old = gc.get_threshold()
    gc.set_threshold(1, 1, 1)  # collect all the time
    try:
        for i in range(1000):
            one_cycle(explicit_close=i % 2 == 0)
            if i % 100 == 0:
                gc.collect()
    finally:
        gc.set_threshold(*old)
    gc.collect()
    assert fd_count() == before


def test_handles_after_close_raise_cleanly() -> None:
    ctx = wskit.Context()
    port = ctx.listen("127.0.0.1", 0)
    conn = ctx.connect(f"ws://127.0.0.1:{port}/")
    ctx.close()
    ctx.close()  # idempotent
    assert ctx.closed and conn.closed
    for call in (lambda: ctx.poll(0), lambda: conn.send("x"), lambda: ctx.fileno(), lambda: conn.send_threadsafe("x")):
        with pytest.raises(wskit.InvalidState):
            call()
    conn.close()  # no-op on a closed connection
    assert conn.buffered_amount == 0
    ctx.stop()  # harmless


def test_close_and_poll_refused_inside_handler() -> None:
    seen: List[Any] = []
    with wskit.Context() as ctx:
        @ctx.on_open
        def opened(conn: wskit.Connection) -> None:
            for call in (ctx.close, lambda: ctx.poll(0), lambda: ctx.shutdown(1)):
                try:
                    call()
                except wskit.ReentrantCall as exc:
                    seen.append(exc.code)
        port = ctx.listen("127.0.0.1", 0)
        ctx.connect(f"ws://127.0.0.1:{port}/")
        while len(seen) < 6:
            ctx.poll(1)
        assert seen == [wskit.Status.ERR_REENTRANT] * 6


def test_stale_connection_is_not_found() -> None:
    with wskit.Context() as ctx:
        closed: List[Any] = []
        ctx.on_close(lambda conn, code, reason, clean: closed.append((code, reason, clean)))
        ctx.on_open(lambda conn: conn.close(4000, "done") if conn.is_client else None)
        port = ctx.listen("127.0.0.1", 0)
        conn = ctx.connect(f"ws://127.0.0.1:{port}/")
        while len(closed) < 2:
            ctx.poll(1)
        # the server sees the client's reason; the client sees the server's reply (code echoed)
        assert sorted(closed) == [(4000, "", True), (4000, "done", True)]
        with pytest.raises(wskit.NotFound):
            conn.send("late")


def test_send_from_four_threads_in_order() -> None:
    per_thread = 500
    received: Dict[int, List[int]] = {t: [] for t in range(4)}
    done = threading.Event()

    def setup(ctx: wskit.Context) -> None:
        @ctx.on_open
        def opened(conn: wskit.Connection) -> None:
            def sender(t: int) -> None:
                for i in range(per_thread):
                    conn.send_threadsafe(f"{t}:{i}" if i % 2 else f"{t}:{i}".encode())
            threads = [threading.Thread(target=sender, args=(t,)) for t in range(4)]
            for th in threads:
                th.start()
            # joined from another thread: the loop must keep polling meanwhile
            threading.Thread(target=lambda: [th.join() for th in threads]).start()

    server = ServerThread(setup)
    try:
        with wskit.connect(server.url()) as ws:
            total = 0
            while total < 4 * per_thread:
                msg = ws.recv(timeout=10)
                text = msg.decode() if isinstance(msg, bytes) else msg
                t, i = map(int, text.split(":"))
                assert isinstance(msg, str) == bool(i % 2)
                received[t].append(i)
                total += 1
        done.set()
    finally:
        server.stop()
    for t in range(4):
        assert received[t] == list(range(per_thread)), t


def test_stop_from_another_thread() -> None:
    with wskit.Context() as ctx:
        ctx.listen("127.0.0.1", 0)
        timer = threading.Timer(0.2, ctx.stop)
        timer.start()
        ctx.run()  # returns once stop() woke it
        timer.join()


def test_writable_after_would_block() -> None:
    events: List[str] = []
    with wskit.Context() as ctx:
        @ctx.on_open
        def opened(conn: wskit.Connection) -> None:
            if not conn.is_client:
                return
            try:
                for _ in range(100):
                    conn.send(b"x" * 65536)
            except wskit.WouldBlock:
                events.append("would_block")
        ctx.on_writable(lambda conn: events.append("writable"))
        port = ctx.listen("127.0.0.1", 0)
        # Uncompressed: 100 sends of b"x" * 65536 must overflow 256 KiB of send buffer.
        ctx.connect(f"ws://127.0.0.1:{port}/", max_buffered=256 << 10, compression=None)
        for _ in range(200):
            ctx.poll(0.05)
            if "writable" in events:
                break
        assert events == ["would_block", "writable"]


def test_close_delivers_close_events() -> None:
    """Context.close() frees the C context, which ends every connection with a CLOSE event
    (1006, not clean): the close handler runs for each, so what it owns can be released."""
    closed: List[Any] = []
    ctx = wskit.Context()
    opened: List[Any] = []
    ctx.on_open(opened.append)
    ctx.on_close(lambda conn, code, reason, clean: closed.append((conn.is_client, code, clean)))
    port = ctx.listen("127.0.0.1", 0)
    ctx.connect(f"ws://127.0.0.1:{port}/")
    while len(opened) < 2:
        ctx.poll(1)
    ctx.close()
    assert sorted(closed) == [(False, 1006, False), (True, 1006, False)]
    assert all(conn.closed for conn in opened)


def test_close_reraises_close_handler_error() -> None:
    ctx = wskit.Context()
    opened: List[Any] = []
    ctx.on_open(opened.append)

    def fail(conn: wskit.Connection, code: int, reason: str, clean: bool) -> None:
        conn.send("too late")  # the context is going: InvalidState

    ctx.on_close(fail)
    port = ctx.listen("127.0.0.1", 0)
    ctx.connect(f"ws://127.0.0.1:{port}/")
    while len(opened) < 2:
        ctx.poll(1)
    with pytest.raises(wskit.InvalidState):
        ctx.close()
    assert ctx.closed


def test_threadsafe_send_past_max_buffered_is_refused() -> None:
    """A remote send that would pass max_buffered is dropped on the loop thread: the error
    handler gets a WouldBlock for that connection (saying how many bytes), then writable."""
    import asyncio
    from websockets.asyncio.client import connect as ws_connect

    events: List[Any] = []
    opened = threading.Event()
    release = threading.Event()
    conns: List[wskit.Connection] = []

    def setup(ctx: wskit.Context) -> None:
        @ctx.on_open
        def on_open(conn: wskit.Connection) -> None:
            conns.append(conn)
            opened.set()
        ctx.on_error(lambda conn, err: events.append(("error", type(err), str(err))))
        ctx.on_writable(lambda conn: events.append(("writable",)))

    server = ServerThread(setup, max_buffered=256 << 10)
    try:
        async def slow_reader() -> int:
            async with ws_connect(server.url(), max_size=None, max_queue=1, compression=None) as ws:
                await asyncio.get_running_loop().run_in_executor(None, release.wait, 30)
                count = 0
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 2)
                        count += 1
                except asyncio.TimeoutError:
                    return count
        result: List[int] = []
        t = threading.Thread(target=lambda: result.append(asyncio.run(slow_reader())))
        t.start()
        assert opened.wait(10)
        for _ in range(64):  # 16 MiB against a peer that does not read: the socket fills up
            conns[0].send_threadsafe(b"x" * (256 << 10))
        deadline = time.monotonic() + 20
        while not any(e[0] == "error" for e in events):
            assert time.monotonic() < deadline, events
            time.sleep(0.05)
        release.set()
        t.join(60)
    finally:
        server.stop()
    errors = [e for e in events if e[0] == "error"]
    assert errors and all(e[1] is wskit.WouldBlock for e in errors), events
    assert "dropped" in errors[0][2] and "bytes" in errors[0][2]
    assert ("writable",) in events[events.index(errors[0]):]
    assert 0 < result[0] < 64  # some were sent, the refused ones were not
