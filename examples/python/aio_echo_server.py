#!/usr/bin/env python3
"""Echo server with wskit's asyncio API, written as for Python websockets (``async def
handler(ws)`` per connection)::

    python3 examples/python/aio_echo_server.py [HOST:PORT] [--tls CERT_PEM KEY_PEM]

Prints ``aio_echo_server listening on ws://HOST:PORT`` and runs until SIGINT/SIGTERM, then shuts
down gracefully (connections are closed with 1001, handlers finish). Each connection's inbound
queue is bounded (``max_queue=16`` messages: a slow handler pauses reading, nothing is lost) and
``await ws.send`` waits while more than ``write_limit`` bytes are buffered. A text message
``stats`` is answered with the connection's request path and how many messages it echoed.

Run from a checkout without installing: PYTHONPATH=bindings/python/src.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any, Dict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402
import wskit.aio  # noqa: E402


async def echo(ws: wskit.aio.ServerConnection) -> None:
    echoed = 0
    async for message in ws:  # ends when the client closes normally
        if message == "stats":
            await ws.send(json.dumps({"path": ws.request.path, "echoed": echoed,
                                      "remote": list(ws.remote_address)}))
            continue
        await ws.send(message)
        echoed += 1


async def main(argv: list) -> int:
    addr = argv[0] if argv and not argv[0].startswith("--") else "127.0.0.1:9001"
    host, _, port = addr.rpartition(":")
    options: Dict[str, Any] = {}
    if "--tls" in argv:
        i = argv.index("--tls")
        options.update(certfile=argv[i + 1], keyfile=argv[i + 2])
    scheme = "wss" if options else "ws"
    async with wskit.aio.serve(echo, host, int(port), **options) as server:
        print(f"aio_echo_server listening on {scheme}://{host}:{server.port}", flush=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.close)
        await server.wait_closed()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
