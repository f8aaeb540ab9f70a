#!/usr/bin/env python3
"""Asyncio client with wskit, written as for Python websockets::

    python3 examples/python/aio_client.py URL [MESSAGE...] [--cafile CA_PEM]

Connects, sends each MESSAGE (default: ``hello``), prints each answer on its own line, pings the
server and prints the round trip (``latency: 0.1 ms``), then closes with 1000. Exit status 1 with
the reason on stderr when the server refuses the handshake (InvalidStatus: its HTTP status) or
the connection closes with an error.

Run from a checkout without installing: PYTHONPATH=bindings/python/src.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Dict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402
import wskit.aio  # noqa: E402


async def main(argv: list) -> int:
    if not argv:
        sys.stderr.write("usage: aio_client.py URL [MESSAGE...] [--cafile CA_PEM]\n")
        return 2
    options: Dict[str, Any] = {}
    if "--cafile" in argv:
        i = argv.index("--cafile")
        options["cafile"] = argv[i + 1]
        del argv[i:i + 2]
    url, messages = argv[0], argv[1:] or ["hello"]
    try:
        async with wskit.aio.connect(url, **options) as ws:
            for message in messages:
                await ws.send(message)
                print(await ws.recv(), flush=True)
            latency = await asyncio.wait_for(await ws.ping(), 10)
            print(f"latency: {latency * 1000:.1f} ms", flush=True)
    except wskit.InvalidStatus as exc:
        sys.stderr.write(f"aio_client: refused with HTTP {exc.response.status_code}\n")
        return 1
    except wskit.ConnectionClosedError as exc:
        sys.stderr.write(f"aio_client: connection closed: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
