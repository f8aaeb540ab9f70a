"""Client auto-reconnect (``reconnect=True``) against a real server in its own process (Python
`websockets`, tests/peers/py_server.py) killed with SIGKILL and restarted on the same port: the
callbacks API (Context), the blocking client and the asyncio client come back within the stated
delays, keep their connection object, flush the offline queue in order, report what they could
not deliver, and stop at once whether or not a retry is pending."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Callable, List, Tuple, Union

import pytest

import wskit
from conftest import PY_SERVER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """py_server.py on a fixed port, in its own process."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen([sys.executable, PY_SERVER, "--port", str(port)], stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert line.strip() == f"READY {port}", line

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait()


@pytest.fixture
def port() -> int:
    return free_port()


def poll_until(ctx: wskit.Context, done: Callable[[], bool], limit: float = 10.0) -> None:
    end = time.monotonic() + limit
    while not done():
        assert time.monotonic() < end, "timed out"
        ctx.poll(0.02)


Attempt = Tuple[int, float, str]


def test_context_client_comes_back_after_sigkill_and_flushes_its_queue(port: int) -> None:
    server = Server(port)
    opens: List[float] = []
    attempts: List[Attempt] = []
    messages: List[Union[str, bytes]] = []
    closes: List[int] = []
    undelivered: List[Any] = []
    with wskit.Context(on_open=lambda c: opens.append(time.monotonic()),
                       on_message=lambda c, m: messages.append(m),
                       on_close=lambda c, code, reason, clean: closes.append(code)) as ctx:
        conn = ctx.connect(f"ws://127.0.0.1:{port}/echo", reconnect=True, reconnect_min_delay=0.1,
                           reconnect_max_delay=0.4, offline_queue=1 << 20,
                           on_reconnect=lambda c, n, delay, error: attempts.append((n, delay, error)),
                           on_undelivered=lambda c, data, reason: undelivered.append((data, reason)))
        poll_until(ctx, lambda: len(opens) == 1)
        conn.send("before")
        poll_until(ctx, lambda: len(messages) == 1)

        server.kill()
        poll_until(ctx, lambda: len(attempts) >= 1)
        assert conn.reconnecting and not conn.open
        conn.send("q1")
        conn.send(b"q2")
        state = conn.reconnect_state()
        assert (state.queued_messages, state.queued_bytes) == (2, 4)
        down = time.monotonic()
        poll_until(ctx, lambda: time.monotonic() - down > 0.9)
        assert len(attempts) >= 2, attempts

        server = Server(port)
        restarted = time.monotonic()
        poll_until(ctx, lambda: len(opens) == 2)
        assert opens[1] - restarted < 0.4 + 0.7  # within max_delay, plus connect and handshake
        poll_until(ctx, lambda: len(messages) == 3)
        assert messages == ["before", "q1", b"q2"]
        assert [a[0] for a in attempts] == list(range(1, len(attempts) + 1))
        assert all(0.1 <= a[1] <= 0.4 for a in attempts), attempts
        assert any("connect" in a[2] for a in attempts[1:]), attempts
        assert conn.reconnects == 1 and conn.open and not conn.reconnecting
        assert ctx.connection(conn.id) is conn
        assert closes == [] and undelivered == []

        conn.close(1000, "done")
        poll_until(ctx, lambda: closes == [1000])
    server.kill()


def test_undelivered_messages_are_reported_when_attempts_run_out(port: int) -> None:
    attempts: List[int] = []
    undelivered: List[Tuple[Union[str, bytes], str]] = []
    closes: List[int] = []
    with wskit.Context(on_close=lambda c, code, reason, clean: closes.append(code)) as ctx:
        @ctx.on_reconnect
        def on_reconnect(conn: wskit.Connection, attempt: int, delay: float, error: str) -> None:
            attempts.append(attempt)

        @ctx.on_undelivered
        def on_undelivered(conn: wskit.Connection, data: Union[str, bytes], reason: str) -> None:
            undelivered.append((data, reason))

        conn = ctx.connect(f"ws://127.0.0.1:{port}/", reconnect=True, reconnect_min_delay=0.01,
                           reconnect_max_delay=0.02, reconnect_max_attempts=2, offline_queue=8)
        conn.send("m1")
        conn.send(b"m2")
        conn.send("does not fit in 8 bytes")
        poll_until(ctx, lambda: bool(closes))
    assert attempts == [1, 2]
    assert undelivered == [("does not fit in 8 bytes", "queue_full"), ("m1", "exhausted"), (b"m2", "exhausted")]
    assert closes == [1006]


def test_sends_fail_fast_without_a_queue_and_callbacks_reshape_or_stop(port: int) -> None:
    attempts: List[int] = []
    closes: List[int] = []

    def on_reconnect(conn: wskit.Connection, attempt: int, delay: float, error: str) -> Any:
        attempts.append(attempt)
        assert delay == 30.0
        return 0.02 if attempt < 3 else False  # 20 ms instead of 30 s; stop at the third

    with wskit.Context(on_close=lambda c, code, reason, clean: closes.append(code)) as ctx:
        conn = ctx.connect(f"ws://127.0.0.1:{port}/", reconnect=True, reconnect_min_delay=30,
                           reconnect_max_delay=30, on_reconnect=on_reconnect)
        with pytest.raises(wskit.NotConnected):
            conn.send("x")
        started = time.monotonic()
        poll_until(ctx, lambda: bool(closes), limit=5)
        assert time.monotonic() - started < 5
    assert attempts == [1, 2, 3] and closes == [1006]
    with pytest.raises(ValueError):
        wskit.Context().connect("ws://127.0.0.1:1/", offline_queue=10)  # needs reconnect=True
    with pytest.raises(ValueError):
        wskit.Context().connect("ws://127.0.0.1:1/", reconnect=True, reconnect_min_delay=2, reconnect_max_delay=1)


def test_stop_from_another_thread_while_a_retry_is_pending(port: int) -> None:
    closes: List[int] = []
    with wskit.Context(on_close=lambda c, code, reason, clean: closes.append(code)) as ctx:
        attempts: List[int] = []
        conn = ctx.connect(f"ws://127.0.0.1:{port}/", reconnect=True, reconnect_min_delay=30, reconnect_max_delay=30,
                           on_reconnect=lambda c, n, d, e: attempts.append(n))
        poll_until(ctx, lambda: bool(attempts))
        assert conn.reconnect_state().waiting
        started = time.monotonic()
        threading.Thread(target=conn.close_threadsafe).start()
        poll_until(ctx, lambda: bool(closes), limit=2)
        assert time.monotonic() - started < 2
        # On the loop thread: stop_reconnect with a retry pending returns at once.
        other = ctx.connect(f"ws://127.0.0.1:{port}/", reconnect=True, reconnect_min_delay=30,
                            reconnect_max_delay=30, on_reconnect=lambda c, n, d, e: attempts.append(n))
        poll_until(ctx, lambda: len(attempts) == 2)
        started = time.monotonic()
        other.stop_reconnect()
        assert time.monotonic() - started < 0.1
        poll_until(ctx, lambda: len(closes) == 2, limit=1)
        assert ctx.connection_count == 0


def test_blocking_client_keeps_going_across_a_restart(port: int) -> None:
    server = Server(port)
    attempts: List[int] = []
    ws = wskit.connect(f"ws://127.0.0.1:{port}/echo", reconnect=True, reconnect_min_delay=0.1,
                       reconnect_max_delay=0.3, offline_queue=1 << 16, compression=None,
                       on_reconnect=lambda c, n, d, e: attempts.append(n))
    try:
        ws.send("one")
        assert ws.recv(timeout=5) == "one"
        server.kill()
        end = time.monotonic() + 10
        while not attempts:  # recv drives the loop; the drop is seen meanwhile
            assert time.monotonic() < end
            with pytest.raises(wskit.WskitTimeout):
                ws.recv(timeout=0.1)
        ws.send("two")  # queued: not open
        assert ws.connection.reconnect_state().queued_messages == 1
        server = Server(port)
        assert ws.recv(timeout=5) == "two"  # the same ClientConnection, after the reconnect
        assert ws.connection.reconnects == 1
    finally:
        ws.close()
        server.kill()


def test_asyncio_client_async_for_spans_reconnects_and_close_ends_it_promptly(port: int) -> None:
    server = Server(port)

    async def main() -> None:
        nonlocal server
        attempts: List[int] = []
        slow = False

        def on_reconnect(conn: wskit.Connection, attempt: int, delay: float, error: str) -> Any:
            attempts.append(attempt)
            return 30.0 if slow else None

        ws = await wskit.aio.connect(f"ws://127.0.0.1:{port}/echo", reconnect=True, reconnect_min_delay=0.1,
                                     reconnect_max_delay=0.3, offline_queue=1 << 16, ping_interval=None,
                                     on_reconnect=on_reconnect)
        got: List[Union[str, bytes]] = []

        async def consume() -> None:
            async for message in ws:
                got.append(message)

        task = asyncio.ensure_future(consume())

        async def until(done: Callable[[], bool], limit: float = 10.0) -> None:
            end = time.monotonic() + limit
            while not done():
                assert time.monotonic() < end, "timed out"
                await asyncio.sleep(0.02)

        await ws.send("one")
        await until(lambda: got == ["one"])
        server.kill()
        await until(lambda: bool(attempts))
        await ws.send("two")  # queued
        server = Server(port)
        await until(lambda: got == ["one", "two"])
        assert not task.done()  # the iteration went on across the reconnect
        # Kill again; the next retry is 30 s away: close() ends it at once, and the iteration.
        slow = True
        seen = len(attempts)
        server.kill()
        await until(lambda: len(attempts) > seen)
        started = time.monotonic()
        await asyncio.wait_for(ws.close(), 2)
        await asyncio.wait_for(task, 2)
        assert time.monotonic() - started < 2
        assert ws.closed

    asyncio.run(asyncio.wait_for(main(), 60))
