#!/usr/bin/env python3
"""permessage-deflate peer on Python `websockets` with compression on (its defaults:
compression="deflate", 12-bit windows, memLevel 5, context takeover allowed).

Usage: py_deflate.py server [--port P]   prints `READY <port>`; echoes every message; the text
                                         `extensions?` is answered with the
                                         Sec-WebSocket-Extensions header it sent.
       py_deflate.py client <url>        sends the messages of `shapes()`, checks each echo and
                                         prints one JSON line: {"extensions": <response header>,
                                         "negotiated": <websockets' extension objects>,
                                         "echoed": <count>}.
Exit 1 with a message on stderr on any mismatch. See README.md.
"""

import asyncio
import json
import sys

import _venv

_venv.ensure_websockets()

from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import serve  # noqa: E402


def json_like(size: int) -> str:
    parts, i = [], 0
    while sum(map(len, parts)) < size:
        parts.append('{"id":%d,"user":"user%d","score":%d,"tags":["a","b%d"]},' % (i, i % 97, i * 31 % 1000, i % 7))
        i += 1
    return "".join(parts)[:size]


def shapes():
    """(message, fragmented): text and binary of 200 B and 64 KiB, whole and fragmented."""
    out = []
    for size in (200, 64 * 1024):
        text = json_like(size)
        out.append((text, False))
        out.append((text.encode(), False))
        out.append((text, True))
        out.append((bytes(range(256)) * (size // 256), True))
    return out


def pieces(message):
    third = max(1, len(message) // 3)
    return [message[:third], message[third : 2 * third], message[2 * third :]]


async def client(url: str) -> None:
    async with connect(url, max_size=None, ping_interval=None) as ws:
        header = ws.response.headers.get("Sec-WebSocket-Extensions")
        negotiated = [repr(e) for e in ws.protocol.extensions]
        for i, (message, fragmented) in enumerate(shapes()):
            await ws.send(pieces(message) if fragmented else message)
            echo = await ws.recv()
            if echo != message:
                sys.exit(f"message {i} ({len(message)} bytes, fragmented={fragmented}) came back different")
        print(json.dumps({"extensions": header, "negotiated": negotiated, "echoed": len(shapes())}), flush=True)


async def server(port: int) -> None:
    async def echo(ws):
        sent = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        async for message in ws:
            await ws.send(sent if message == "extensions?" else message)

    async with serve(echo, "127.0.0.1", port, max_size=None, ping_interval=None) as srv:
        print(f"READY {srv.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.Future()


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["client"] and len(args) == 2:
        asyncio.run(asyncio.wait_for(client(args[1]), 60))
    elif args[:1] == ["server"]:
        port = int(args[2]) if args[1:2] == ["--port"] else 0
        asyncio.run(server(port))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
