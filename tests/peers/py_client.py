#!/usr/bin/env python3
"""WebSocket peer client built on the Python `websockets` library (asyncio API).

Usage: py_client.py <url> <scenario> [args...]
Scenarios: echo-sizes | fragmented | ping <payload> | server-ping <payload> |
  client-close <code> [reason...] | server-close <code> [reason...] |
  subprotocol <p1,p2,...> | headers | rejected | concurrent <n> <messages>
Prints one JSON line on success (exit 0); a message on stderr and exit 1 otherwise.
The whole run is limited to $WSKIT_PEER_TIMEOUT seconds (default 60). See README.md.
"""

import asyncio
import ssl
import json
import os
import sys

import _venv

_venv.ensure_websockets()

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402
from websockets.frames import Opcode  # noqa: E402

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1048576, 16777216]
TEXT_UNIT = "aé€😀"  # 1+2+3+4 = 10 UTF-8 bytes


class Fail(Exception):
    pass


class RecordingConnection(ClientConnection):
    """ClientConnection that remembers the payloads of the pings it receives."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pings_received: list[bytes] = []

    def process_event(self, event):
        if getattr(event, "opcode", None) is Opcode.PING:  # events are frames, or the handshake response
            self.pings_received.append(bytes(event.data))
        super().process_event(event)


def text_of(size: int) -> str:
    """A str whose UTF-8 encoding is exactly `size` bytes, with 1- to 4-byte characters."""
    return TEXT_UNIT * (size // 10) + "a" * (size % 10)


def binary_of(size: int) -> bytes:
    """`size` bytes, byte i being i % 251."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def dial(url: str, **kwargs):
    kwargs.setdefault("max_size", None)  # no message size limit
    kwargs.setdefault("ping_interval", None)  # no keepalive pings
    kwargs.setdefault("open_timeout", 30)
    kwargs.setdefault("close_timeout", 10)
    kwargs.setdefault("create_connection", RecordingConnection)
    ca = os.environ.get("WSKIT_PEER_CA")
    if url.startswith("wss://") and ca:
        # wss:// against a test CA: verify the server against that bundle only.
        kwargs.setdefault("ssl", ssl.create_default_context(cafile=ca))
    return connect(url, **kwargs)


def describe(x) -> str:
    kind = "text" if isinstance(x, str) else "binary"
    n = len(x.encode()) if isinstance(x, str) else len(x)
    return f"{kind} message of {n} bytes"


async def expect_msg(ws, expected, what: str):
    got = await ws.recv()
    if type(got) is not type(expected) or got != expected:
        raise Fail(f"{what}: expected {describe(expected)}, got {describe(got)}"
                   + ("" if type(got) is not type(expected) else " with different content"))


def close_frame(ws) -> dict:
    rcvd = ws.protocol.close_rcvd
    if rcvd is None:
        raise Fail("the server sent no close frame")
    return {"code": int(rcvd.code), "reason": rcvd.reason}


async def echo_sizes(url, args):
    checked = 0
    async with dial(url) as ws:
        for size in SIZES:
            for msg in (text_of(size), binary_of(size)):
                await ws.send(msg)
                await expect_msg(ws, msg, f"echo of {describe(msg)}")
                checked += 1
        await ws.close(1000)
    return {"checked": checked}


async def fragmented(url, args):
    text = "héllo wörld, €uro 😀 fragmented"
    tb = text.encode()
    cut1 = tb.index("é".encode()) + 1  # inside the 2-byte é
    cut2 = tb.index("😀".encode()) + 2  # inside the 4-byte emoji
    binary = bytes(range(40))
    async with dial(url) as ws:
        # Frames are written through the protocol object so that the message is
        # exactly 3 (text) and 4 (binary) frames: the public send(iterable) API adds
        # a fourth, empty FIN frame. A ping goes out between the first two fragments.
        async with ws.send_context():
            ws.protocol.send_text(tb[:cut1], fin=False)
        pong = await ws.ping("between-fragments")
        async with ws.send_context():
            ws.protocol.send_continuation(tb[cut1:cut2], fin=False)
            ws.protocol.send_continuation(tb[cut2:], fin=True)
            ws.protocol.send_binary(binary[:10], fin=False)
            ws.protocol.send_continuation(binary[10:20], fin=False)
            ws.protocol.send_continuation(binary[20:30], fin=False)
            ws.protocol.send_continuation(binary[30:], fin=True)
        await expect_msg(ws, text, "echo of the fragmented text message")
        await expect_msg(ws, binary, "echo of the fragmented binary message")
        await pong
        await ws.close(1000)
    return {"checked": 2}


async def ping(url, args):
    payload = " ".join(args)
    async with dial(url) as ws:
        waiter = await ws.ping(payload)
        await waiter  # resolved by the pong that carries the same payload
        await ws.close(1000)
    return {"pong": payload}


async def server_ping(url, args):
    payload = " ".join(args)
    async with dial(url) as ws:
        await ws.send(f"cmd:ping {payload}")
        # The server's ping precedes this echo on the wire; websockets answers it
        # with a pong as soon as it reads it. The echo proves the connection lives on.
        await ws.send("after-server-ping")
        await expect_msg(ws, "after-server-ping", "echo after the server's ping")
        if payload.encode() not in ws.pings_received:
            raise Fail(f"no ping with payload {payload!r} arrived (got {ws.pings_received!r})")
        await ws.close(1000)
    return {"ok": True}


async def client_close(url, args):
    code = int(args[0]) if args else 1000
    reason = " ".join(args[1:])
    async with dial(url) as ws:
        await ws.close(code, reason)
        return close_frame(ws)


async def server_close(url, args):
    code = args[0] if args else "1000"
    reason = " ".join(args[1:])
    async with dial(url) as ws:
        await ws.send(f"cmd:close {code} {reason}")
        try:
            while True:
                await ws.recv()  # messages before the close are ignored
        except Exception:
            pass
        await ws.wait_closed()
        return close_frame(ws)


async def subprotocol(url, args):
    offered = [p for p in (args[0] if args else "").split(",") if p]
    async with dial(url, subprotocols=offered or None) as ws:
        selected = ws.subprotocol
        await ws.close(1000)
    return {"subprotocol": selected}


async def headers(url, args):
    async with dial(
        url,
        additional_headers=[("X-Wskit-Test", "peer"), ("Authorization", "Bearer token123")],
        origin="http://example.test",
    ) as ws:
        await ws.send("cmd:headers")
        reply = await ws.recv()
        if not isinstance(reply, str):
            raise Fail("cmd:headers: expected a text reply, got binary")
        try:
            obj = json.loads(reply)
        except ValueError as e:
            raise Fail(f"cmd:headers: reply is not JSON: {e}: {reply[:200]!r}")
        if not isinstance(obj, dict):
            raise Fail(f"cmd:headers: reply is not a JSON object: {reply[:200]!r}")
        await ws.close(1000)
    return {"headers": obj}


async def rejected(url, args):
    try:
        async with dial(url) as ws:
            await ws.close(1000)
    except InvalidStatus as e:
        return {"status": e.response.status_code}
    raise Fail("the handshake succeeded; expected a rejection")


async def concurrent(url, args):
    n = int(args[0]) if args else 10
    m = int(args[1]) if len(args) > 1 else 10

    async def one(i):
        async with dial(url) as ws:
            async def sender():
                for j in range(m):
                    await ws.send(f"c{i}-m{j}")

            task = asyncio.create_task(sender())
            try:
                for j in range(m):
                    await expect_msg(ws, f"c{i}-m{j}", f"connection {i}, message {j}")
                await task
            finally:
                task.cancel()
            await ws.close(1000)

    await asyncio.gather(*(one(i) for i in range(n)))
    return {"connections": n, "messages": n * m}


SCENARIOS = {
    "echo-sizes": echo_sizes,
    "fragmented": fragmented,
    "ping": ping,
    "server-ping": server_ping,
    "client-close": client_close,
    "server-close": server_close,
    "subprotocol": subprotocol,
    "headers": headers,
    "rejected": rejected,
    "concurrent": concurrent,
}


async def main(argv) -> int:
    if len(argv) < 2 or argv[1] not in SCENARIOS:
        sys.stderr.write(__doc__)
        return 2
    url, scenario, args = argv[0], argv[1], argv[2:]
    limit = float(os.environ.get("WSKIT_PEER_TIMEOUT", "60"))
    try:
        async with asyncio.timeout(limit):
            result = await SCENARIOS[scenario](url, args)
    except TimeoutError:
        sys.stderr.write(f"py_client {scenario}: FAIL: timed out after {limit:g} s\n")
        return 1
    except Fail as e:
        sys.stderr.write(f"py_client {scenario}: FAIL: {e}\n")
        return 1
    except Exception as e:
        sys.stderr.write(f"py_client {scenario}: FAIL: {type(e).__name__}: {e}\n")
        return 1
    sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
