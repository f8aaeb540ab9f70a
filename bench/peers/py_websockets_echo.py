#!/usr/bin/env python3
"""Python `websockets` (asyncio) echo server for bench/compare.sh.

    .peers/venv/bin/python bench/peers/py_websockets_echo.py 127.0.0.1:9104

Every text and binary message is sent back as it came. No compression, no keepalive pings,
64 MiB max message size (the default 1 MiB is too small for the 16 MiB messages servers must take).
With a second argument `deflate`: compression="deflate", websockets' defaults (12-bit windows,
memLevel 5, context takeover as negotiated).
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    try:
        async for message in ws:
            await ws.send(message)
    except Exception:  # the load generator exits without a closing handshake
        pass


async def main(addr):
    host, port = addr.rsplit(":", 1)
    async with serve(
        echo,
        host,
        int(port),
        compression="deflate" if DEFLATE else None,
        ping_interval=None,
        max_size=64 << 20,
        backlog=4096,
    ):
        print(f"py_websockets_echo listening on ws://{host}:{port}", flush=True)
        await asyncio.get_running_loop().create_future()


DEFLATE = len(sys.argv) > 2 and sys.argv[2] == "deflate"

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9104"))
