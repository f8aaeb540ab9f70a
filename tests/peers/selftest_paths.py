#!/usr/bin/env python3
"""Checks every request path of a peer server (py_server.py or node_server.js).

Usage: selftest_paths.py <label> <ws://127.0.0.1:PORT> [--cmd]
Prints `PASS <label> <check>` or `FAIL <label> <check>: <why>` per check; used by selftest.sh.
"""

import asyncio
import json
import sys

import _venv

_venv.ensure_websockets()

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus  # noqa: E402
from websockets.frames import Opcode  # noqa: E402


class Recorder(ClientConnection):
    """Remembers every frame it receives as (opcode name, fin, payload)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.frames = []

    def process_event(self, event):
        if hasattr(event, "opcode"):
            self.frames.append((event.opcode.name, event.fin, bytes(event.data)))
        super().process_event(event)

    def pings(self):
        return [d for (op, _, d) in self.frames if op == "PING"]

    def data_frames(self):
        return [f for f in self.frames if f[0] in ("TEXT", "BINARY", "CONT")]


def dial(url, **kw):
    return connect(url, create_connection=Recorder, max_size=None, ping_interval=None,
                   open_timeout=10, close_timeout=5, **kw)


class Fail(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Fail(why)


async def recv(ws, timeout=10):
    return await asyncio.wait_for(ws.recv(), timeout)


async def echo_both(ws):
    await ws.send("hé 😀")
    got = await recv(ws)
    expect(got == "hé 😀", f"text echo: got {got!r}")
    await ws.send(b"\x00\xff\x10")
    got = await recv(ws)
    expect(got == b"\x00\xff\x10", f"binary echo: got {got!r}")


async def check_echo(base, path):
    async with dial(base + path) as ws:
        expect(ws.subprotocol is None, f"no subprotocol offered, got {ws.subprotocol!r}")
        await echo_both(ws)
        big = "x" * (3 * 1024 * 1024)
        await ws.send(big)
        expect(await recv(ws, 30) == big, "3 MiB text echo differs")


async def check_cmd_echoed(base, cmd_mode):
    async with dial(base + "/") as ws:
        await ws.send("cmd:headers")
        got = await recv(ws)
        if cmd_mode:
            expect(isinstance(got, str) and json.loads(got).get("_subprotocol", "missing") is None,
                   f"cmd:headers reply: {got!r}")
        else:
            expect(got == "cmd:headers", f"without --cmd, cmd:headers must be echoed, got {got!r}")


async def check_subprotocol(base):
    async with dial(base + "/echo", subprotocols=["b-proto", "a-proto"]) as ws:
        expect(ws.subprotocol == "b-proto", f"selected {ws.subprotocol!r}, want first offered 'b-proto'")
        await echo_both(ws)
    async with dial(base + "/", subprotocols=["only.one"]) as ws:
        expect(ws.subprotocol == "only.one", f"selected {ws.subprotocol!r}")


async def check_headers(base):
    async with dial(base + "/headers?x=1&y=two%20words",
                    additional_headers=[("X-Dup", "1"), ("X-Wskit-Test", "peer"), ("X-Dup", "2")],
                    subprotocols=["proto1"]) as ws:
        got = json.loads(await recv(ws))
        expect(got.get("_path") == "/headers?x=1&y=two%20words", f"_path: {got.get('_path')!r}")
        expect(got.get("x-dup") == "1, 2", f"x-dup: {got.get('x-dup')!r}")
        expect(got.get("x-wskit-test") == "peer", f"x-wskit-test: {got.get('x-wskit-test')!r}")
        expect(got.get("sec-websocket-protocol") == "proto1", f"sec-websocket-protocol: {got!r}")
        expect(got.get("upgrade", "").lower() == "websocket", f"upgrade: {got!r}")
        expect(all(k == k.lower() for k in got), f"names not lowercased: {list(got)}")
        await echo_both(ws)


async def check_close(base, query, code, reason):
    async with dial(base + "/close" + query) as ws:
        try:
            msg = await recv(ws)
            raise Fail(f"expected a close, got message {msg!r}")
        except ConnectionClosed:
            pass  # websockets: ConnectionClosedOK for 1000/1001, ConnectionClosedError otherwise
        rcvd = ws.protocol.close_rcvd
        expect(rcvd is not None, "no close frame")
        expect((rcvd.code, rcvd.reason) == (code, reason), f"close frame {rcvd.code} {rcvd.reason!r}")
        expect(not ws.data_frames(), f"unexpected data frames {ws.data_frames()}")


async def check_reject(base, path, status, body):
    try:
        async with dial(base + path):
            pass
    except InvalidStatus as e:
        expect(e.response.status_code == status, f"status {e.response.status_code}, want {status}")
        expect(e.response.body == body, f"body {e.response.body!r}, want {body!r}")
        return
    raise Fail("handshake succeeded")


async def check_ping(base):
    async with dial(base + "/ping?payload=hello") as ws:
        got = await recv(ws)
        expect(got == "pong:hello", f"first message {got!r}")
        expect(ws.pings() == [b"hello"], f"pings received {ws.pings()}")
        await echo_both(ws)


async def check_fragmented(base, empty_fin):
    async with dial(base + "/fragmented" + ("?empty_fin=1" if empty_fin else "")) as ws:
        t = await recv(ws)
        b = await recv(ws)
        expect(t == "fragmented", f"text message {t!r}")
        expect(b == b"\x01\x02\x03", f"binary message {b!r}")
        want = [("TEXT", False, b"frag"), ("CONT", False, b"men"), ("CONT", not empty_fin, b"ted")]
        want += [("CONT", True, b"")] if empty_fin else []
        want += [("BINARY", False, b"\x01\x02"), ("CONT", not empty_fin, b"\x03")]
        want += [("CONT", True, b"")] if empty_fin else []
        expect(ws.data_frames() == want, f"frames {ws.data_frames()}, want {want}")
        await echo_both(ws)


async def check_drop(base, query):
    async with dial(base + "/drop" + query) as ws:
        await ws.send("trigger")
        try:
            msg = await recv(ws)
            raise Fail(f"expected the connection to drop, got {msg!r}")
        except ConnectionClosedError:
            pass
        expect(ws.protocol.close_rcvd is None, f"got a close frame {ws.protocol.close_rcvd}")


async def check_send(base, query, expected):
    async with dial(base + "/send" + query) as ws:
        for i, exp in enumerate(expected):
            got = await recv(ws, 30)
            expect(type(got) is type(exp) and got == exp,
                   f"message {i}: got {type(got).__name__} of {len(got)}, want {type(exp).__name__} of {len(exp)}")
        await echo_both(ws)


async def main(label, base, cmd_mode):
    abc = "abcdefghijklmnopqrstuvwxyz"
    checks = [
        ("echo /", check_echo(base, "/")),
        ("echo /echo", check_echo(base, "/echo")),
        ("cmd: messages" + (" handled (--cmd)" if cmd_mode else " echoed"), check_cmd_echoed(base, cmd_mode)),
        ("subprotocol first offered", check_subprotocol(base)),
        ("/headers", check_headers(base)),
        ("/close code+reason", check_close(base, "?code=4000&reason=bye", 4000, "bye")),
        ("/close encoded reason", check_close(base, "?code=1001&reason=going%20away%20%C3%A9", 1001, "going away é")),
        ("/close no params", check_close(base, "", 1000, "")),
        ("/reject 403", check_reject(base, "/reject?status=403", 403, b"rejected by peer")),
        ("/reject 503", check_reject(base, "/reject?status=503", 503, b"rejected by peer")),
        ("unknown path 404", check_reject(base, "/nope", 404, b"unknown path")),
        ("/ping", check_ping(base)),
        ("/fragmented", check_fragmented(base, False)),
        ("/fragmented?empty_fin=1", check_fragmented(base, True)),
        ("/drop", check_drop(base, "")),
        ("/drop?rst=1", check_drop(base, "?rst=1")),
        ("/send text x3", check_send(base, "?size=100000&type=text&count=3",
                                     [(abc * 4000)[:100000]] * 3)),
        ("/send binary", check_send(base, "?size=70000&type=binary", [bytes(i % 256 for i in range(70000))])),
        ("/send size 0", check_send(base, "?size=0&type=text&count=2", ["", ""])),
    ]
    failed = 0
    for name, coro in checks:
        try:
            await asyncio.wait_for(coro, 60)
            print(f"PASS {label} {name}", flush=True)
        except Exception as e:
            failed += 1
            why = str(e) if isinstance(e, Fail) else f"{type(e).__name__}: {e}"
            print(f"FAIL {label} {name}: {why}", flush=True)
    return failed


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(1 if asyncio.run(main(sys.argv[1], sys.argv[2].rstrip("/"), "--cmd" in sys.argv[3:])) else 0)
