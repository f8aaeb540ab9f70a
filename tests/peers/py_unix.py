#!/usr/bin/env python3
"""Unix socket peers built on Python `websockets` (asyncio API): `unix_connect` and `unix_serve`.

Usage:
  py_unix.py connect <socket-path> <request-path>
      Connects with unix_connect, sends text and binary messages of several sizes, checks each
      echo, closes with 1000; prints {"checked": N, "subprotocol": ...} (exit 0).
  py_unix.py serve <socket-path>
      Serves with unix_serve: the first message to each client is {"path": ..., "host": ...}
      (the request's), then every message is echoed. Prints "ready" once listening; exits when
      stdin closes.
A message on stderr and exit 1 on failure. Limited to $WSKIT_PEER_TIMEOUT seconds (default 60).
"""

import asyncio
import json
import os
import sys

import _venv

_venv.ensure_websockets()

from websockets.asyncio.client import unix_connect  # noqa: E402
from websockets.asyncio.server import ServerConnection, unix_serve  # noqa: E402

SIZES = [0, 1, 125, 126, 65535, 65536, 1048576]


async def connect(socket_path: str, request_path: str) -> None:
    checked = 0
    async with unix_connect(socket_path, f"ws://localhost{request_path}", max_size=None) as ws:
        for size in SIZES:
            text = "é" * (size // 2) + "a" * (size % 2)
            await ws.send(text)
            if await ws.recv() != text:
                raise SystemExit(f"text echo of {size} bytes differs")
            data = bytes(i % 251 for i in range(size))
            await ws.send(data)
            if await ws.recv() != data:
                raise SystemExit(f"binary echo of {size} bytes differs")
            checked += 2
        await ws.close(1000, "done")
    print(json.dumps({"checked": checked, "close": ws.close_code}))


async def serve(socket_path: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        await ws.send(json.dumps({"path": request.path, "host": request.headers.get("Host")}))
        async for message in ws:
            await ws.send(message)

    async with unix_serve(handler, socket_path, max_size=None):
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


def main() -> None:
    timeout = float(os.environ.get("WSKIT_PEER_TIMEOUT", "60"))
    if len(sys.argv) == 4 and sys.argv[1] == "connect":
        run = connect(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        run = serve(sys.argv[2])
    else:
        raise SystemExit(__doc__)

    async def limited() -> None:
        await asyncio.wait_for(run, timeout)

    asyncio.run(limited())


if __name__ == "__main__":
    main()
