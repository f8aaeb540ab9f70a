#!/usr/bin/env python3
"""Broadcast chat with the wskit Python binding.

    python3 examples/python/chat.py server [ADDR] [--trace]        # default 127.0.0.1:9002
    python3 examples/python/chat.py client URL NAME [--trace]      # e.g. ws://127.0.0.1:9002/ alice

The server sends every text a client sends to all clients, as `NAME: text`, and announces joins
and leaves; a client's first message is its name. The client sends each stdin line and prints
everything that arrives; at the end of stdin it waits a moment for the last messages, then closes.
`--trace` prints every handshake and frame header, both directions, to stderr.

Run from a checkout without installing: the script adds bindings/python/src to sys.path.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from typing import Dict, Union

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402


def print_trace(trace: wskit.Trace) -> None:
    print(trace, file=sys.stderr, flush=True)


def server(addr: str, trace: bool) -> int:
    names: Dict[int, str] = {}
    ctx = wskit.Context()
    if trace:
        ctx.set_tracer(print_trace)

    def broadcast(text: str) -> None:
        print(text, flush=True)
        for conn in ctx.connections:
            if conn.id in names:
                try:
                    conn.send(text)
                except wskit.Error:
                    pass  # closing, or its buffer is full: a chat can drop a line

    @ctx.on_message
    def message(conn: wskit.Connection, data: Union[str, bytes]) -> None:
        if not isinstance(data, str):
            return
        if conn.id not in names:
            names[conn.id] = data.strip() or f"guest{len(names) + 1}"
            broadcast(f"* {names[conn.id]} joined")
        else:
            broadcast(f"{names[conn.id]}: {data}")

    @ctx.on_close
    def close(conn: wskit.Connection, code: int, reason: str, clean: bool) -> None:
        name = names.pop(conn.id, None)
        if name:
            broadcast(f"* {name} left")

    port = ctx.listen(addr, None)
    print(f"chat server listening on ws://{addr.rsplit(':', 1)[0]}:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: ctx.stop())
    signal.signal(signal.SIGINT, lambda *_: ctx.stop())
    ctx.run()
    ctx.shutdown(2)
    ctx.close()
    return 0


def client(url: str, name: str, trace: bool) -> int:
    try:
        ws = wskit.connect(url, tracer=print_trace if trace else None)
    except wskit.Error as err:
        sys.stderr.write(f"chat: {err}\n")
        return 1

    def drain(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            try:
                print(ws.recv(timeout=max(0.0, deadline - time.monotonic())), flush=True)
            except wskit.WskitTimeout:
                return True
            except wskit.ConnectionClosed:
                return False

    with ws:
        ws.send(name)
        fd = sys.stdin.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                line = sys.stdin.readline()
                if not line:
                    break
                ws.send(line.rstrip("\n"))
            if not drain(0.0 if ready else 0.05):
                return 0
        drain(0.5)
    return 0


def main() -> int:
    args = sys.argv[1:]
    trace = "--trace" in args
    args = [a for a in args if a != "--trace"]
    if len(args) in (1, 2) and args[0] == "server":
        return server(args[1] if len(args) > 1 else "127.0.0.1:9002", trace)
    if len(args) == 3 and args[0] == "client":
        return client(args[1], args[2], trace)
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main())
