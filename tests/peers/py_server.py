#!/usr/bin/env python3
"""WebSocket peer server built on the Python `websockets` library (asyncio API).

Usage: py_server.py [--port P] [--host 127.0.0.1] [--cmd]
Prints `READY <port>` once listening. Behaviour per request path: see README.md.
"""

import argparse
import ssl
import asyncio
import http
import json
import signal
import socket
import struct
import sys
from urllib.parse import parse_qs, urlsplit

import _venv

_venv.ensure_websockets()

import websockets  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402
from websockets.datastructures import Headers  # noqa: E402
from websockets.exceptions import ConcurrencyError, ConnectionClosed  # noqa: E402
from websockets.http11 import Response  # noqa: E402

PATHS = {"/", "/echo", "/headers", "/close", "/reject", "/ping", "/fragmented", "/drop", "/send"}
CMD_MODE = False


def query(ws: ServerConnection) -> dict:
    qs = parse_qs(urlsplit(ws.request.path).query, keep_blank_values=True)
    return {k: v[0] for k, v in qs.items()}


def plain_response(status: int, body: str) -> Response:
    data = body.encode()
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    headers = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(data))),
            ("Connection", "close"),
        ]
    )
    return Response(status, phrase, headers, data)


def process_request(ws: ServerConnection, request):
    path = urlsplit(request.path).path
    if path not in PATHS:
        return plain_response(404, "unknown path")
    if path == "/reject":
        q = parse_qs(urlsplit(request.path).query)
        status = int(q.get("status", ["403"])[0])
        return plain_response(status, "rejected by peer")
    return None  # go on with the WebSocket handshake


def select_subprotocol(ws: ServerConnection, subprotocols):
    # Accept whatever the client offers first; no subprotocol if none offered.
    return subprotocols[0] if subprotocols else None


def request_headers_json(ws: ServerConnection, extra: dict) -> str:
    headers: dict = {}
    for name, value in ws.request.headers.raw_items():
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    headers.update(extra)
    return json.dumps(headers)


async def handle_cmd(ws: ServerConnection, msg: str) -> bool:
    """Handle a `cmd:` message (--cmd mode). Returns False when the connection is done."""
    if msg == "cmd:headers":
        await ws.send(request_headers_json(ws, {"_subprotocol": ws.subprotocol}))
    elif msg == "cmd:ping" or msg.startswith("cmd:ping "):
        try:
            await ws.ping(msg[len("cmd:ping "):])
        except ConcurrencyError:
            pass  # a ping with this payload is still waiting for its pong
    elif msg.startswith("cmd:close"):
        code, _, reason = msg[len("cmd:close "):].partition(" ")
        await ws.close(int(code) if code else 1000, reason)
        return False
    else:
        await ws.send(msg)  # unknown command: echo it like any message
    return True


async def echo(ws: ServerConnection) -> None:
    async for msg in ws:
        if CMD_MODE and isinstance(msg, str) and msg.startswith("cmd:"):
            if not await handle_cmd(ws, msg):
                return
        else:
            await ws.send(msg)


async def handler(ws: ServerConnection) -> None:
    path = urlsplit(ws.request.path).path
    q = query(ws)
    try:
        if path in ("/", "/echo"):
            await echo(ws)
        elif path == "/headers":
            await ws.send(request_headers_json(ws, {"_path": ws.request.path}))
            await echo(ws)
        elif path == "/close":
            await ws.close(int(q.get("code", "1000")), q.get("reason", ""))
        elif path == "/ping":
            payload = q.get("payload", "")
            pong_waiter = await ws.ping(payload)
            await pong_waiter  # resolves only on a pong carrying the same payload
            await ws.send(f"pong:{payload}")
            await echo(ws)
        elif path == "/fragmented":
            # Exact frames: the public send(iterable) API always ends a fragmented
            # message with an extra empty FIN frame, so the frames are written
            # through the protocol object; ?empty_fin=1 uses the public API instead.
            if q.get("empty_fin") == "1":
                await ws.send(["frag", "men", "ted"])
                await ws.send([b"\x01\x02", b"\x03"])
            else:
                async with ws.send_context():
                    ws.protocol.send_text(b"frag", fin=False)
                    ws.protocol.send_continuation(b"men", fin=False)
                    ws.protocol.send_continuation(b"ted", fin=True)
                    ws.protocol.send_binary(b"\x01\x02", fin=False)
                    ws.protocol.send_continuation(b"\x03", fin=True)
            await echo(ws)
        elif path == "/drop":
            await ws.recv()
            if q.get("rst") == "1":
                sock = ws.transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()
        elif path == "/send":
            size = int(q.get("size", "0"))
            count = int(q.get("count", "1"))
            if q.get("type", "binary") == "text":
                msg = ("abcdefghijklmnopqrstuvwxyz" * (size // 26 + 1))[:size]
            else:
                msg = bytes(i % 256 for i in range(size))
            for _ in range(count):
                await ws.send(msg)
            await echo(ws)
    except ConnectionClosed:
        pass


def tls_context(files):
    """An SSL context serving the given certificate chain and key, or None for ws://."""
    if not files:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files[0], files[1])
    return context


async def main() -> None:
    global CMD_MODE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cmd", action="store_true", help="make / and /echo understand cmd:close, cmd:headers, cmd:ping")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve wss:// with this PEM certificate chain and key")
    args = ap.parse_args()
    CMD_MODE = args.cmd

    async with serve(
        handler,
        args.host,
        args.port,
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        compression=None,  # never negotiate permessage-deflate
        max_size=None,  # no message (or fragment) size limit
        ping_interval=None,  # no keepalive pings: only the pings the tests ask for
        close_timeout=5,
        ssl=tls_context(args.tls),
    ) as server:
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write(f"READY {port}\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        await stop
        server.close()  # closes open connections with 1001
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
