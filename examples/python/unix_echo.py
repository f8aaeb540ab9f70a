#!/usr/bin/env python3
"""Echo over a Unix domain socket with wskit's asyncio API (websockets' ``unix_serve`` /
``unix_connect`` shape)::

    python3 examples/python/unix_echo.py /tmp/echo.sock hello world
        -> a server on the socket and a client that sends each word; prints the echoes
    python3 examples/python/unix_echo.py --serve /tmp/echo.sock
        -> only the server, until SIGINT/SIGTERM

The socket file gets mode 0660 (owner and group may connect), a stale socket left by a crashed
run is replaced (``remove_stale=True``), and the file is removed when the server closes. A path
starting with ``@`` is a Linux abstract socket (no file). The client could as well be
``wskit.aio.connect("ws+unix:///tmp/echo.sock:/echo")`` (Node ``ws``'s URL form).

Run from a checkout without installing: PYTHONPATH=bindings/python/src.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import List

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402
import wskit.aio  # noqa: E402


async def echo(ws: wskit.aio.ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def main(path: str, words: List[str], serve_only: bool) -> None:
    async with wskit.aio.unix_serve(echo, path, mode=0o660, remove_stale=True) as server:
        print(f"listening on unix:{server.path}", flush=True)
        if serve_only:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, server.close)
            await server.wait_closed()
            return
        async with wskit.aio.unix_connect(path, "ws://localhost/echo") as ws:
            for word in words:
                await ws.send(word)
                print(await ws.recv())


if __name__ == "__main__":
    args = sys.argv[1:]
    serve_only = bool(args) and args[0] == "--serve"
    if serve_only:
        args = args[1:]
    if not args:
        sys.exit("usage: unix_echo.py SOCKET_PATH [WORD...] | unix_echo.py --serve SOCKET_PATH")
    asyncio.run(main(args[0], args[1:], serve_only))
