#!/usr/bin/env python3
"""Room chat with the wskit Python binding: the server of the browser page examples/web/chat/
(protocol at the top of chat.js, the same as examples/c/chat_server.c) and a terminal client.

    python3 examples/python/chat.py server [ADDR] [--tls CERT KEY] [--page DIR] [--trace]
    python3 examples/python/chat.py client URL NAME [--room ROOM] [--insecure] [MESSAGE ...]

Server (default 127.0.0.1:9002): connections to /chat?room=ROOM&name=NAME join ROOM; every text a
member sends goes to everyone in the room, the sender included, as
{"type":"message","name":...,"text":...}. A connection's first message is a "hello" with the
request headers the server saw. "/close CODE REASON" makes the server close that connection with
CODE and REASON. It prints where it listens, the URL of the page, and a line per join, message and
leave; SIGINT/SIGTERM shut it down gracefully (every page sees close 1001).

Nothing is lost and memory stays bounded: a destination whose send buffer is full (WouldBlock at
max_buffered, 1 MiB here) gets the message queued in order and the source is paused until every
destination took it (the writable event), as in examples/relay.rs.

Client: URL is the server's ws(s)://HOST:PORT/chat; joins ROOM (default lobby) as NAME. With
MESSAGE arguments it sends each, waits until the room relays it back, and closes; without, it sends
each stdin line until the end of stdin. It prints what the room says (`name: text`, `* name
joined`). `--insecure` accepts any TLS certificate (local tests only). `--trace` prints every
handshake and frame header, both directions, to stderr.

Run from a checkout without installing: the script adds bindings/python/src to sys.path.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import select
import signal
import sys
import time
import urllib.parse
from typing import Any, Deque, Dict, List, Optional, Tuple, Union

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402

NAME_MAX_BYTES = 32
DEFAULT_PAGE = os.path.join(HERE, "..", "web", "chat")


def print_trace(trace: wskit.Trace) -> None:
    print(trace, file=sys.stderr, flush=True)


def clean_name(value: Optional[str]) -> Optional[str]:
    """At most NAME_MAX_BYTES of UTF-8, cut at a character boundary; None if empty or unprintable."""
    if not value:
        return None
    raw = value.encode()[:NAME_MAX_BYTES]
    name = raw.decode("utf-8", "ignore")
    return name if name and name.isprintable() else None


class ChatServer:
    """Rooms of connections, relaying with flow control (see the module docstring)."""

    def __init__(self, ctx: wskit.Context) -> None:
        self.ctx = ctx
        self.members: Dict[int, Tuple[str, str]] = {}  # conn id -> (room, name)
        self.queued: Dict[int, Deque[Tuple[str, int]]] = {}  # dest -> (text, source id or 0)
        self.blocked: Dict[int, int] = {}  # source -> its messages still queued at others
        self.guests = itertools.count(1)
        ctx.on_open(self.on_open)
        ctx.on_message(self.on_message)
        ctx.on_writable(self.on_writable)
        ctx.on_close(self.on_close)
        ctx.on_error(self.on_error)

    # delivery

    def deliver(self, dest: wskit.Connection, text: str, source: int) -> None:
        """Sends behind what already waits for dest; queues when its buffer is full."""
        queue = self.queued.setdefault(dest.id, collections.deque())
        if not queue:
            try:
                dest.send(text)
                return
            except wskit.WouldBlock:
                pass
            except wskit.InvalidState:
                return  # closing: its close event comes
            except wskit.Error as err:
                print(f"chat: send to {dest.id:#x}: {err}", file=sys.stderr)
                return
        queue.append((text, source))
        if source in self.members:
            self.blocked[source] = self.blocked.get(source, 0) + 1
            if self.blocked[source] == 1:
                self.ctx.connection(source).pause_reading()  # reads nothing until this is sent

    def release(self, source: int) -> None:
        if source in self.blocked:
            self.blocked[source] -= 1
            if self.blocked[source] == 0:
                del self.blocked[source]
                self.ctx.connection(source).resume_reading()

    def broadcast(self, room: str, message: Dict[str, Any], source: int = 0) -> None:
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        for conn in self.ctx.connections:
            if self.members.get(conn.id, ("",))[0] == room:
                self.deliver(conn, text, source)

    # handlers

    def on_open(self, conn: wskit.Connection) -> None:
        query = urllib.parse.parse_qs(conn.query or "")
        room = clean_name(query.get("room", [""])[0]) or "lobby"
        name = clean_name(query.get("name", [""])[0]) or f"guest-{next(self.guests)}"
        others = [n for (r, n) in self.members.values() if r == room]
        self.members[conn.id] = (room, name)
        hello = {
            "type": "hello", "server": "wskit Python chat.py", "room": room, "name": name, "peer": conn.peer,
            "path": conn.path, "query": conn.query or "", "headers": [list(h) for h in conn.headers.raw],
            "members": others,
        }
        self.deliver(conn, json.dumps(hello, ensure_ascii=False, separators=(",", ":")), 0)
        self.broadcast(room, {"type": "join", "name": name})
        print(f"[{room}] {name} joined from {conn.peer}", flush=True)

    def on_message(self, conn: wskit.Connection, data: Union[str, bytes]) -> None:
        if not isinstance(data, str) or conn.id not in self.members:
            return
        if data.startswith("/close "):
            code, _, reason = data[7:].partition(" ")
            try:
                conn.close(int(code), reason)
            except (ValueError, wskit.Error) as err:
                print(f"chat: close: {err}", file=sys.stderr)
            return
        room, name = self.members[conn.id]
        print(f"[{room}] {name}: {data}", flush=True)
        self.broadcast(room, {"type": "message", "name": name, "text": data}, conn.id)

    def on_writable(self, conn: wskit.Connection) -> None:
        queue = self.queued.get(conn.id)
        while queue:
            text, source = queue[0]
            try:
                conn.send(text)
            except wskit.WouldBlock:
                return  # still full: the next writable event goes on
            except wskit.InvalidState:
                pass  # closing: its close event comes
            except wskit.Error as err:
                print(f"chat: send to {conn.id:#x}: {err}", file=sys.stderr)
            queue.popleft()
            self.release(source)

    def on_close(self, conn: wskit.Connection, code: int, reason: str, clean: bool) -> None:
        member = self.members.pop(conn.id, None)
        self.blocked.pop(conn.id, None)
        for _, source in self.queued.pop(conn.id, ()):
            self.release(source)  # never to be sent: its sources may go on
        if member:
            room, name = member
            print(f"[{room}] {name} left ({code}{' ' + reason if reason else ''})", flush=True)
            self.broadcast(room, {"type": "leave", "name": name})

    def on_error(self, conn: Optional[wskit.Connection], error: wskit.Error) -> None:
        print(f"chat: {error}", file=sys.stderr, flush=True)


def server(addr: str, tls: Optional[Tuple[str, str]], page: str, trace: bool) -> int:
    ctx = wskit.Context()
    if trace:
        ctx.set_tracer(print_trace)
    ChatServer(ctx)
    # The page and its WebSocket on one port: plain HTTP GET/HEAD requests get the files.
    options: Dict[str, Any] = {"tls": tls, "max_buffered": 1 << 20, "static_dir": page}
    port = ctx.listen(addr, None, **options)
    host = addr.rsplit(":", 1)[0]
    host = "127.0.0.1" if host == "0.0.0.0" else host
    scheme = "wss" if tls else "ws"
    print(f"chat server listening on {scheme}://{host}:{port}/chat", flush=True)
    print(f"chat page: {'https' if tls else 'http'}://{host}:{port}/", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: ctx.stop())
    signal.signal(signal.SIGINT, lambda *_: ctx.stop())
    ctx.run()
    ctx.shutdown(2)
    ctx.close()
    return 0


def show(text: str) -> Optional[Dict[str, Any]]:
    """Prints one server message readably; returns it parsed."""
    try:
        msg = json.loads(text)
    except ValueError:
        print(text, flush=True)
        return None
    kind = msg.get("type")
    if kind == "hello":
        print(f"* joined {msg['room']} as {msg['name']} (members: {', '.join(msg['members']) or 'none'})")
    elif kind in ("join", "leave"):
        print(f"* {msg['name']} {'joined' if kind == 'join' else 'left'}")
    elif kind == "message":
        print(f"{msg['name']}: {msg['text']}")
    sys.stdout.flush()
    return msg  # type: ignore[no-any-return]


def client(url: str, name: str, room: str, messages: List[str], insecure: bool, trace: bool) -> int:
    full = f"{url}?{urllib.parse.urlencode({'room': room, 'name': name})}"
    try:
        ws = wskit.connect(full, tracer=print_trace if trace else None, insecure_skip_verify=insecure)
    except wskit.Error as err:
        sys.stderr.write(f"chat: {err}\n")
        return 1
    me = name

    def receive(timeout: float) -> Optional[Dict[str, Any]]:
        """One message (None after timeout); raises ConnectionClosed."""
        try:
            return show(ws.recv(timeout=timeout))
        except wskit.WskitTimeout:
            return None

    with ws:
        try:
            hello = receive(10)
            if hello and hello.get("type") == "hello":
                me = hello["name"]
            if messages:
                for text in messages:
                    ws.send(text)
                    deadline = time.monotonic() + 10
                    while True:
                        msg = receive(max(0.0, deadline - time.monotonic()))
                        if msg and msg.get("type") == "message" and (msg["name"], msg["text"]) == (me, text):
                            break
                        if time.monotonic() > deadline:
                            sys.stderr.write(f"chat: {text!r} did not come back within 10 s\n")
                            return 1
                return 0
            fd = sys.stdin.fileno()
            while True:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    line = sys.stdin.readline()
                    if not line:
                        break
                    ws.send(line.rstrip("\n"))
                while receive(0.0 if ready else 0.05):
                    pass
            while receive(0.5):
                pass
        except wskit.ConnectionClosed as closed:
            print(f"* the server closed the connection: {closed}", flush=True)
    return 0


def main() -> int:
    args = sys.argv[1:]

    def flag(name: str, values: int = 0) -> Union[bool, List[str], None]:
        if name not in args:
            return None if values else False
        i = args.index(name)
        taken = args[i + 1:i + 1 + values]
        del args[i:i + 1 + values]
        return taken if values else True

    trace = bool(flag("--trace"))
    if args[:1] == ["server"]:
        tls = flag("--tls", 2)
        page = flag("--page", 1)
        rest = args[1:]
        if len(rest) > 1 or (tls is not None and len(tls) != 2):  # type: ignore[arg-type]
            sys.stderr.write(__doc__ or "")
            return 2
        return server(rest[0] if rest else "127.0.0.1:9002", tuple(tls) if tls else None,  # type: ignore[arg-type]
                      page[0] if page else DEFAULT_PAGE, trace)  # type: ignore[index]
    if args[:1] == ["client"] and len(args) >= 3:
        room = flag("--room", 1)
        insecure = bool(flag("--insecure"))
        return client(args[1], args[2], room[0] if room else "lobby", args[3:], insecure, trace)  # type: ignore[index]
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main())
