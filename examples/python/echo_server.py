#!/usr/bin/env python3
"""Echo server in Python (wskit binding): sends every text and binary message back as it came.
Same CLI and behaviour as examples/echo_server.rs and examples/c/echo_server.c.

    python3 examples/python/echo_server.py 127.0.0.1:9001 [--tls CERT_PEM KEY_PEM] [--trace]

Prints one line when listening and runs until killed (SIGINT/SIGTERM: graceful shutdown).
Limits are raised to what conformance suites send (64 MiB messages); the library defaults stay
safe. Text commands for tests: `cmd:close <code> <reason>` closes, `cmd:headers` answers with the
request headers (names lowercased) and `_subprotocol` as JSON, `cmd:ping <payload>` sends a ping.
Accepts the first subprotocol the client offers. `--trace` prints every handshake and frame
header, both directions, to stderr (as a browser's developer tools show them).

It never drops a message: the library stops reading a connection whose echoes pile up unread
(``read_pause_high_water``, 1 MiB by default), and an echo that still does not fit (WouldBlock: one
message bigger than the room under ``max_buffered``) is kept, reading is paused
(``conn.pause_reading()``) and the echo is sent from the writable event before reading resumes.

Run from a checkout without installing: PYTHONPATH=bindings/python/src (the library is found in
target/release; see bindings/python/src/wskit/_native.py).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any, Dict, Union

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402


def usage() -> None:
    sys.stderr.write("usage: echo_server.py [ADDR] [--tls CERT_PEM KEY_PEM] [--trace]   (default ADDR 127.0.0.1:9001)\n")
    sys.exit(2)


def main() -> int:
    addr, tls, trace = "127.0.0.1:9001", None, False
    args = sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg == "--tls":
            if len(args) < 2:
                usage()
            tls = (args.pop(0), args.pop(0))
        elif arg == "--trace":
            trace = True
        elif arg.startswith("-"):
            usage()
        else:
            addr = arg

    ctx = wskit.Context()
    if trace:
        ctx.set_tracer(lambda t: print(t, file=sys.stderr, flush=True))

    @ctx.on_accept
    def accept(req: wskit.AcceptRequest) -> Union[str, bool]:
        return req.subprotocols[0] if req.subprotocols else True

    waiting: Dict[int, Union[str, bytes]] = {}  # per connection id: the echo that did not fit

    @ctx.on_message
    def message(conn: wskit.Connection, data: Union[str, bytes]) -> None:
        if isinstance(data, str) and data.startswith("cmd:"):
            command, _, rest = data[4:].partition(" ")
            if command == "close":
                code, _, reason = rest.partition(" ")
                conn.close(int(code) if code.isdigit() else 1000, reason)
                return
            if command == "headers":
                fields: Any = {}
                for name, value in conn.headers.raw:
                    fields[name.lower()] = value
                fields["_subprotocol"] = conn.subprotocol
                conn.send(json.dumps(fields))
                return
            if command == "ping":
                conn.ping(rest.encode())
                return
        try:
            conn.send(data)
        except wskit.WouldBlock:
            # Keep it and stop the input until it is sent (writable): nothing is lost.
            waiting[conn.id] = data
            conn.pause_reading()
        except wskit.Error as err:
            sys.stderr.write(f"echo to {conn.id}: {err}\n")

    @ctx.on_writable
    def writable(conn: wskit.Connection) -> None:
        data = waiting.pop(conn.id, None)
        if data is None:
            return
        try:
            conn.send(data)
        except wskit.WouldBlock:
            waiting[conn.id] = data  # still no room: wait for the next writable event
            return
        except wskit.Error as err:
            sys.stderr.write(f"echo to {conn.id}: {err}\n")
        conn.resume_reading()

    @ctx.on_close
    def closed(conn: wskit.Connection, *_: Any) -> None:
        waiting.pop(conn.id, None)

    try:
        # keep_headers: `cmd:headers` answers with the request headers after the handshake.
        port = ctx.listen(addr, None, tls=tls, max_message_size=64 << 20, max_frame_size=64 << 20,
                          max_buffered=128 << 20, keep_headers=["*"])
    except wskit.Error as err:
        sys.stderr.write(f"echo_server: cannot listen on {addr}: {err}\n")
        return 1
    host = addr.rsplit(":", 1)[0]
    print(f"echo_server listening on {'wss' if tls else 'ws'}://{host}:{port}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: ctx.stop())
    signal.signal(signal.SIGINT, lambda *_: ctx.stop())
    ctx.run()
    ctx.shutdown(2)
    left = ctx.connection_count
    ctx.close()
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
