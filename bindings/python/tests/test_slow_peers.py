"""Limits against slow and fragmenting peers from Python: ``idle_timeout`` (close 1001 when no whole
message arrived for that long) and ``max_fragments`` (1009 past it). The peer is a raw socket that
speaks just enough RFC 6455 to misbehave."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from typing import Any, List, Tuple

import wskit


def masked(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    key = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def raw_peer(ctx: wskit.Context, port: int) -> Tuple[socket.socket, bytearray]:
    """A raw client through the opening handshake (the context polled meanwhile)."""
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    sock.setblocking(False)
    buf = bytearray()
    end = time.monotonic() + 5
    while b"\r\n\r\n" not in buf:
        assert time.monotonic() < end, "no 101"
        ctx.poll(0.005)
        try:
            buf += sock.recv(4096)
        except BlockingIOError:
            pass
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock, bytearray(rest)


def close_code_from(ctx: wskit.Context, sock: socket.socket, buf: bytearray, seconds: float,
                    tick: Any = None, every: float = 1.0) -> Tuple[float, int, List[int]]:
    """Polls until the server's close frame arrives: (seconds taken, its code, opcodes before)."""
    start = time.monotonic()
    next_tick = start
    others: List[int] = []
    n = 0
    while time.monotonic() - start < seconds:
        if tick is not None and time.monotonic() >= next_tick:
            tick(n)
            n += 1
            next_tick += every
        ctx.poll(0.005)
        try:
            buf += sock.recv(65536)
        except BlockingIOError:
            pass
        while len(buf) >= 2 and len(buf) >= 2 + (buf[1] & 0x7F):
            opcode, length = buf[0] & 0x0F, buf[1] & 0x7F
            payload = bytes(buf[2:2 + length])
            del buf[:2 + length]
            if opcode == 0x8:
                return time.monotonic() - start, struct.unpack(">H", payload[:2])[0], others
            others.append(opcode)
    raise AssertionError(f"no close frame within {seconds} s")


def test_a_peer_that_only_pings_is_closed_with_1001_after_idle_timeout() -> None:
    closes: List[Tuple[int, bool]] = []
    errors: List[Any] = []
    with wskit.Context() as ctx:
        ctx.on_close(lambda conn, code, reason, clean: closes.append((code, clean)))
        ctx.on_error(lambda conn, err: errors.append(err))
        port = ctx.listen("127.0.0.1", 0, idle_timeout=0.4)
        sock, buf = raw_peer(ctx, port)
        took, code, others = close_code_from(ctx, sock, buf, 3.0,
                                             lambda n: sock.sendall(masked(0x9, b"p")), 0.05)
        assert code == 1001
        assert 0.38 <= took < 1.0, took
        assert len(others) >= 4 and set(others) == {0xA}, others  # every ping answered until then
        sock.sendall(masked(0x8, struct.pack(">H", 1001)))
        end = time.monotonic() + 3
        while not closes:
            assert time.monotonic() < end
            ctx.poll(0.005)
        assert closes == [(1001, True)]
        assert errors, "the timeout is reported as an error first"
        sock.close()


def test_idle_timeout_is_off_by_default_and_whole_messages_count() -> None:
    with wskit.Context() as ctx:
        port = ctx.listen("127.0.0.1", 0)
        sock, buf = raw_peer(ctx, port)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            ctx.poll(0.01)
        sock.sendall(masked(0x1, b"still here"))
        port2 = ctx.listen("127.0.0.1", 0, idle_timeout=0.3)
        sock2, buf2 = raw_peer(ctx, port2)
        # A message every 100 ms keeps it open for 1 s, then silence closes it.
        sent = 0
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            sock2.sendall(masked(0x1, b"m"))
            sent += 1
            deadline = time.monotonic() + 0.1
            while time.monotonic() < deadline:
                ctx.poll(0.005)
        try:
            data = sock2.recv(65536)
        except BlockingIOError:
            data = b""
        assert data == b"", "nothing from the server while messages arrive"
        took, code, _ = close_code_from(ctx, sock2, bytearray(), 2.0)
        assert code == 1001 and took < 0.8, (code, took)
        # The first listener's peer was never closed.
        try:
            assert sock.recv(1) != b""
        except BlockingIOError:
            pass
        sock.close()
        sock2.close()


def test_a_message_in_more_frames_than_max_fragments_fails_with_1009() -> None:
    got: List[Any] = []
    with wskit.Context() as ctx:
        ctx.on_message(lambda conn, data: got.append(data))
        port = ctx.listen("127.0.0.1", 0, max_fragments=3)
        sock, buf = raw_peer(ctx, port)
        # Three frames: fine. Four: 1009 when the fourth starts.
        sock.sendall(masked(0x1, b"a", fin=False) + masked(0x0, b"b", fin=False) + masked(0x0, b"c"))
        sock.sendall(masked(0x2, b"a", fin=False) + masked(0x9, b"") + masked(0x0, b"b", fin=False)
                     + masked(0x0, b"c", fin=False) + masked(0x0, b"d"))
        _, code, others = close_code_from(ctx, sock, buf, 3.0)
        assert code == 1009
        assert got == ["abc"]
        assert others == [0xA]
        sock.close()
