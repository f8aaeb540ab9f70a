#!/usr/bin/env python3
"""Reconnecting asyncio client: sends COUNT messages to an echo server that may not be up yet, or
may go away and come back, and exits once every message was echoed::

    python3 examples/python/reconnect_client.py ws://127.0.0.1:9001/ [COUNT]
    python3 examples/python/echo_server.py 127.0.0.1:9001   # now, or kill and restart it meanwhile

``reconnect=True`` (0.1 s .. 2 s with full jitter, at most 40 attempts in a row) keeps the same
``ws`` across drops: ``async for`` goes on over the next connection. With ``offline_queue``
sends made between two connections are queued and written in order after the next open
(without it they raise ``wskit.NotConnected``). ``on_reconnect`` prints each attempt and sends
again what was in flight when the connection dropped, so every message gets its echo.
``await wskit.aio.connect(...)`` returns once the first connection is open (the attempts before
it count as reconnects).

Run from a checkout without installing: PYTHONPATH=bindings/python/src.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Set

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402
import wskit.aio  # noqa: E402


async def main(url: str, count: int) -> int:
    echoed: Set[str] = set()
    messages = [f"message {i + 1}" for i in range(count)]

    def on_reconnect(conn: wskit.Connection, attempt: int, delay: float, error: str) -> Any:
        print(f"reconnect: attempt {attempt} in {delay * 1000:.0f} ms ({error})", flush=True)
        if attempt == 1 and conn.was_opened and conn.reconnect_state().queued_messages == 0:
            for message in messages:  # in flight when it dropped: queue them again
                if message not in echoed:
                    conn.send(message)
        return None  # go on after the delay (a number: another delay; False: stop)

    def on_undelivered(conn: wskit.Connection, data: Any, reason: str) -> None:
        print(f"undelivered ({reason}): {data!r}", flush=True)

    async with wskit.aio.connect(url, reconnect=True, reconnect_min_delay=0.1, reconnect_max_delay=2.0,
                                 reconnect_max_attempts=40, offline_queue=64 << 10, open_timeout=30,
                                 on_reconnect=on_reconnect, on_undelivered=on_undelivered) as ws:
        print("open", flush=True)
        for message in messages:
            await ws.send(message)
        async for reply in ws:
            print(f"echo: {reply}", flush=True)
            echoed.add(str(reply))
            if len(echoed) == count:
                break
    return 0 if len(echoed) == count else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write("usage: reconnect_client.py URL [COUNT]\n")
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)))
