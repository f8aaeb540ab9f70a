"""Receive-side flow control from Python: ``pause_reading`` / ``resume_reading`` (loop thread and
other threads), ``reading_paused``, and the automatic pause (``read_pause_high_water``)."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List

import wskit


def poll_until(ctx: wskit.Context, done: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "timed out"
        ctx.poll(0.002)


def poll_for(ctx: wskit.Context, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ctx.poll(0.002)


def test_pause_holds_messages_and_resume_delivers_them_in_order() -> None:
    got: List[str] = []
    server: Dict[str, wskit.Connection] = {}
    with wskit.Context() as ctx:
        @ctx.on_open
        def opened(conn: wskit.Connection) -> None:
            if not conn.is_client:
                server["conn"] = conn

        @ctx.on_message
        def message(conn: wskit.Connection, data: Any) -> None:
            got.append(data)
            if data == "2":
                conn.pause_reading()  # the rest of this read is held, not delivered

        port = ctx.listen("127.0.0.1", 0)
        client = ctx.connect(f"ws://127.0.0.1:{port}/")
        poll_until(ctx, lambda: "conn" in server and client.open)
        for i in range(10):
            client.send(str(i))
        poll_until(ctx, lambda: len(got) >= 3)
        poll_for(ctx, 0.1)
        conn = server["conn"]
        assert got == ["0", "1", "2"]
        assert conn.reading_paused
        # Resume from another thread (through the remote): everything, in order.
        t = threading.Thread(target=conn.resume_reading_threadsafe)
        t.start()
        t.join()
        poll_until(ctx, lambda: len(got) == 10)
        assert got == [str(i) for i in range(10)]
        assert not conn.reading_paused
        t = threading.Thread(target=conn.pause_reading_threadsafe)
        t.start()
        t.join()
        poll_until(ctx, lambda: conn.reading_paused)
        client.send("later")
        poll_for(ctx, 0.1)
        assert got[-1] == "9"
        conn.resume_reading()
        poll_until(ctx, lambda: got[-1] == "later")


def test_the_automatic_pause_stops_delivery_while_echoes_wait() -> None:
    received: List[int] = []
    server: Dict[str, wskit.Connection] = {}
    with wskit.Context() as ctx:
        @ctx.on_open
        def opened(conn: wskit.Connection) -> None:
            if not conn.is_client:
                server["conn"] = conn

        @ctx.on_message
        def message(conn: wskit.Connection, data: Any) -> None:
            if not conn.is_client:
                received.append(len(data))
                conn.send(data)  # echo to a client whose reads we stop below

        # Uncompressed: the bounds below are in frame bytes (and b"x" * n would deflate to nothing).
        port = ctx.listen("127.0.0.1", 0, read_pause_high_water=64 << 10, low_water_mark=16 << 10,
                          compression=None)
        client = ctx.connect(f"ws://127.0.0.1:{port}/")
        poll_until(ctx, lambda: "conn" in server and client.open)
        client.pause_reading()  # the client stops reading its echoes
        for _ in range(400):
            client.send(b"x" * (32 << 10))  # 12.5 MiB
            ctx.poll(0)
        poll_for(ctx, 0.3)
        conn = server["conn"]
        assert conn.reading_paused
        assert conn.buffered_amount <= (64 << 10) + (32 << 10) + 14
        assert len(received) < 400
        client.resume_reading()
        poll_until(ctx, lambda: len(received) == 400, timeout=30)
        assert not conn.reading_paused


def test_closed_connection_raises_not_found() -> None:
    with wskit.Context() as ctx:
        port = ctx.listen("127.0.0.1", 0)
        client = ctx.connect(f"ws://127.0.0.1:{port}/")
        poll_until(ctx, lambda: client.open)
        client.abort()
        poll_for(ctx, 0.05)
        try:
            client.pause_reading()
        except (wskit.NotFound, wskit.InvalidState):
            pass
        else:
            raise AssertionError("pause_reading on a closed connection must raise")
