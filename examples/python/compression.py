#!/usr/bin/env python3
"""permessage-deflate (RFC 7692) in Python: a wskit server and a wskit client in one Context.

    python3 examples/python/compression.py [--no-compression] [--takeover]

The client sends a 20 KB JSON-like message, the server echoes it. Prints what each end
negotiated and, from the tracer, how many payload bytes went on the wire each way.
``--takeover`` lets the server keep its compression context between messages (the default asks
for none, so an idle connection holds no compression state); ``--no-compression`` turns it off
on the client, which then offers nothing.

Run from a checkout: PYTHONPATH=bindings/python/src (the library is found in target/release).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any, Dict, List

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402

MESSAGE = '{"id":1234,"name":"player-one","pos":[1.5,-3.25,7.0],"alive":true},' * 300


def main() -> int:
    args = sys.argv[1:]
    if any(a not in ("--no-compression", "--takeover") for a in args):
        sys.stderr.write("usage: compression.py [--no-compression] [--takeover]\n")
        return 2
    client_options: Dict[str, Any] = {"compression": None} if "--no-compression" in args else {}
    server_options: Dict[str, Any] = {}
    if "--takeover" in args:
        server_options["deflate"] = dataclasses.replace(
            wskit.DeflateOptions.server(), server_no_context_takeover=False, client_no_context_takeover=False)

    wire: Dict[str, int] = {"out": 0, "in": 0}
    echoes: List[Any] = []
    with wskit.Context() as ctx:
        def trace(t: wskit.Trace) -> None:
            if t.kind == "frame" and t.opcode in (1, 2) and t.conn == client.id:
                wire[t.direction] += t.payload_len
        ctx.set_tracer(trace)
        ctx.on_message(lambda conn, data: echoes.append(data) if conn.is_client else conn.send(data))
        port = ctx.listen("127.0.0.1", 0, **server_options)
        client = ctx.connect(f"ws://127.0.0.1:{port}/", **client_options)
        while not client.open and not client.closed:
            ctx.poll(0.05)
        server = next(c for c in ctx.connections if not c.is_client)
        print(f"server negotiated: {server.deflate}")
        print(f"client negotiated: {client.deflate}")
        client.send(MESSAGE)
        while not echoes and not client.closed:
            ctx.poll(0.05)
        assert echoes == [MESSAGE], "the echo came back intact"
        print(f"message: {len(MESSAGE)} bytes; on the wire: {wire['out']} bytes sent, "
              f"{wire['in']} bytes of echo received")
        client.close()
        ctx.shutdown(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
