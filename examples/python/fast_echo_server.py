#!/usr/bin/env python3
"""The fastest echo server the Python binding makes: queue mode, events taken a whole poll at a
time (``ctx.drain()``: one call into C for all of them) and echoes sent a batch at a time
(``conn.send_batched()``: one call into C per batch). Sends every text and binary message back as
it came.

    python3 examples/python/fast_echo_server.py 127.0.0.1:9001

Prints one line when listening and runs until killed (SIGINT/SIGTERM: graceful shutdown). Limits
are raised as in echo_server.py (64 MiB messages). Why batching: every ctypes call costs ~0.3 us
and every C-to-Python callback several, more than wskit's own work per small message; here the
crossings are per batch, not per message (bench/README.md has the figures).

It never drops a message: the queue is bounded (8 MiB; reading stops while it is full), wskit
stops reading a connection whose echoes pile up unread (``read_pause_high_water``), and an echo
refused for a full send buffer comes back from ``drain()`` as an ErrorEvent with the payload in
``error.unsent``: it is kept, the connection's reading paused, and it is sent again at the
writable event before reading resumes.

Run from a checkout without installing: PYTHONPATH=bindings/python/src (the library is found in
target/release; see bindings/python/src/wskit/_native.py).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Dict, List, Union

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402


def main() -> int:
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9001"
    ctx = wskit.Context(queue=8 << 20)
    try:
        port = ctx.listen(addr, None, max_message_size=64 << 20, max_frame_size=64 << 20, max_buffered=128 << 20)
    except wskit.Error as err:
        sys.stderr.write(f"fast_echo_server: cannot listen on {addr}: {err}\n")
        return 1
    print(f"fast_echo_server listening on ws://{addr.rsplit(':', 1)[0]}:{port}", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # Per connection id: echoes refused for a full send buffer, in order (wskit refuses the rest
    # of a batch to a connection after refusing one, so order is kept); resent when writable.
    waiting: Dict[int, List[Union[str, bytes]]] = {}
    message_event, error_event = wskit.MessageEvent, wskit.ErrorEvent
    while not stopping:
        # zero_copy: large binary messages come as views of wskit's copy, valid until the next
        # drain(); send_batched() hands them back before that, without copying them.
        for event in ctx.drain(timeout=0.5, zero_copy=True):
            if type(event) is message_event:  # the hot path: nothing else per message
                if not waiting or event.conn.id not in waiting:
                    event.conn.send_batched(event.data)
                else:  # kept past this drain(): a view must be copied
                    data = event.data
                    waiting[event.conn.id].append(bytes(data) if isinstance(data, memoryview) else data)
            elif type(event) is error_event:
                unsent = getattr(event.error, "unsent", None)
                if isinstance(event.error, wskit.WouldBlock) and unsent is not None and event.conn is not None:
                    if event.conn.id not in waiting:
                        waiting[event.conn.id] = []
                        event.conn.pause_reading()
                    waiting[event.conn.id].append(unsent)
                elif event.conn is not None or unsent is None:  # not a send to a connection gone
                    sys.stderr.write(f"fast_echo_server: {event.error}\n")
            elif isinstance(event, wskit.WritableEvent):
                queue = waiting.get(event.conn.id)
                while queue:
                    try:
                        event.conn.send(queue[0])
                    except wskit.WouldBlock:
                        break  # the next writable event goes on
                    queue.pop(0)
                if queue == []:
                    del waiting[event.conn.id]
                    event.conn.resume_reading()
            elif isinstance(event, wskit.CloseEvent):
                waiting.pop(event.conn.id, None)
    ctx.flush()
    ctx.shutdown(2)
    left = ctx.connection_count
    ctx.close()
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
