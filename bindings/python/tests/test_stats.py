"""``Context.stats()`` (``wskit_ctx_stats``): counters follow the connections, and once the last one
is gone the context holds no timer entry and no pooled buffer."""

from __future__ import annotations

import time
from typing import Any, List

import wskit


def poll_until(ctx: wskit.Context, done: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "timed out"
        ctx.poll(0.005)


def test_stats_follow_connections_and_return_to_baseline() -> None:
    closed: List[int] = []
    with wskit.Context() as ctx:
        ctx.on_message(lambda conn, data: None if conn.is_client else conn.send(data))
        ctx.on_close(lambda conn, code, reason, clean: closed.append(code))
        port = ctx.listen("127.0.0.1", 0, ping_interval=60)
        baseline = ctx.stats()
        assert (baseline.connections, baseline.listeners, baseline.timer_entries) == (0, 1, 0)
        clients = [ctx.connect(f"ws://127.0.0.1:{port}/", ping_interval=60) for _ in range(10)]
        poll_until(ctx, lambda: all(c.open for c in clients))
        for c in clients:
            c.send(b"x" * 1000)
        poll_for = time.monotonic() + 0.2
        while time.monotonic() < poll_for:
            ctx.poll(0.005)
        busy = ctx.stats()
        assert busy.connections == 20
        assert busy.timer_entries >= 20
        for c in clients:
            c.close()
        poll_until(ctx, lambda: len(closed) == 20)
        after = ctx.stats()
        assert after == wskit.Stats(connections=0, listeners=1, timer_entries=0, pooled_buffers=0,
                                    pooled_bytes=0, held_inputs=0, held_bytes=0, pending_events=0,
                                    accept_backoffs=0), after
