"""Typed events: what the queue mode yields (``Context(queue=...)``, :meth:`Context.events`), and
what the tracer is given (:class:`Trace`).

Each event is one ``wskit_event`` of the C API, copied into Python objects (so it stays valid
after the next poll). Callbacks and the queue decode the same C event the same way; a handler
gets the event's fields as arguments, the queue the event object itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Dict, Optional, Union

from ._native import EventKind

if TYPE_CHECKING:
    from ._accept import AcceptRequest, Headers
    from ._connection import Connection
    from ._http import HttpRequest
    from .errors import Error


@dataclass(frozen=True)
class Event:
    """Base of every event. ``kind`` is the C event kind."""

    kind: ClassVar[EventKind]


@dataclass(frozen=True)
class ListenEvent(Event):
    """A listener is bound: ``listener`` id, ``address`` (``"127.0.0.1:9001"``), ``port``."""

    kind: ClassVar[EventKind] = EventKind.LISTEN
    listener: int
    address: str
    port: int


@dataclass(frozen=True)
class AcceptEvent(Event):
    """An upgrade request waits for a decision (queue made with ``accept_events=True``): call
    ``request.accept(...)`` or ``request.reject(...)``, now or on a later turn of the loop (the
    handshake timeout still applies)."""

    kind: ClassVar[EventKind] = EventKind.ACCEPT
    request: "AcceptRequest"


@dataclass(frozen=True)
class OpenEvent(Event):
    """The handshake completed: ``conn`` is open. The event carries the request's ``path``,
    ``query``, ``peer`` and ``headers`` (a client's: the URL's and the response headers) whether
    or not the listener keeps them for :attr:`Connection.path` / ``.headers`` later."""

    kind: ClassVar[EventKind] = EventKind.OPEN
    conn: "Connection"
    path: str = "/"
    query: Optional[str] = None
    peer: str = ""
    headers: "Headers" = field(default=None, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class MessageEvent(Event):
    """A whole message: ``data`` is ``str`` (text) or ``bytes`` (binary)."""

    kind: ClassVar[EventKind] = EventKind.MESSAGE
    conn: "Connection"
    data: Union[str, bytes]


@dataclass(frozen=True)
class FragmentEvent(Event):
    """A piece of a message (streaming mode). Text pieces are bytes: they may end inside a
    UTF-8 character."""

    kind: ClassVar[EventKind] = EventKind.FRAGMENT
    conn: "Connection"
    data: bytes
    is_text: bool
    first: bool
    last: bool


@dataclass(frozen=True)
class PingEvent(Event):
    """A ping arrived (the pong is sent automatically unless ``auto_pong=False``)."""

    kind: ClassVar[EventKind] = EventKind.PING
    conn: "Connection"
    payload: bytes


@dataclass(frozen=True)
class PongEvent(Event):
    """A pong arrived."""

    kind: ClassVar[EventKind] = EventKind.PONG
    conn: "Connection"
    payload: bytes


@dataclass(frozen=True)
class WritableEvent(Event):
    """The send buffer drained below the low-water mark after a :class:`WouldBlock`."""

    kind: ClassVar[EventKind] = EventKind.WRITABLE
    conn: "Connection"


@dataclass(frozen=True)
class CloseEvent(Event):
    """The connection is closed (every path: clean, reset, timeout, abort, shutdown)."""

    kind: ClassVar[EventKind] = EventKind.CLOSE
    conn: "Connection"
    code: int
    reason: str
    clean: bool


@dataclass(frozen=True)
class ErrorEvent(Event):
    """Something failed: ``conn`` is the connection concerned (None for the context itself), and
    ``error`` the exception (a :class:`HandshakeRejected` with status, headers and body when a
    server refused a client's handshake)."""

    kind: ClassVar[EventKind] = EventKind.ERROR
    conn: Optional["Connection"]
    error: "Error"


@dataclass(frozen=True)
class HttpRequestEvent(Event):
    """Queue mode with ``queue_http=True``: a plain HTTP request; answer it with
    ``event.request.respond(...)`` (or ``serve_static()``, ...)."""

    kind: ClassVar[EventKind] = EventKind.HTTP_REQUEST
    request: "HttpRequest"


@dataclass(frozen=True)
class ReconnectEvent(Event):
    """A reconnecting client (``connect(..., reconnect=True)``) dropped, or an attempt failed,
    and attempt ``attempt`` (1-based, counted since the last stable connection) is scheduled in
    ``delay`` seconds; ``error`` says why the last connection or attempt ended. ``conn`` stays
    the same object; an :class:`OpenEvent` follows when an attempt succeeds. Reshape or stop with
    ``conn.reconnect_delay(seconds)`` / ``conn.stop_reconnect()``."""

    kind: ClassVar[EventKind] = EventKind.RECONNECT
    conn: "Connection"
    attempt: int
    delay: float
    error: str


@dataclass(frozen=True)
class UndeliveredEvent(Event):
    """A message queued while a reconnecting client was not open (``offline_queue``) was
    dropped: ``data`` (``str`` or ``bytes``), ``reason`` ``"queue_full"``, ``"exhausted"`` or
    ``"stopped"``. For the last two the :class:`CloseEvent` follows."""

    kind: ClassVar[EventKind] = EventKind.UNDELIVERED
    conn: "Connection"
    data: Union[str, bytes]
    reason: str


@dataclass(frozen=True)
class QueueStats:
    """``wskit_ctx_queue_stats``: ``events`` and ``bytes`` queued now, ``peak_bytes`` (the most
    ever queued), ``overflows`` (how many times the byte bound was hit)."""

    events: int
    bytes: int
    peak_bytes: int
    overflows: int


@dataclass(frozen=True)
class Stats:
    """``wskit_ctx_stats``: what a context holds. ``connections`` (slots in any state),
    ``listeners``, ``timer_entries``, ``pooled_buffers`` / ``pooled_bytes`` (send buffers kept for
    reuse), ``held_inputs`` / ``held_bytes`` (the rest of a read held by a pause),
    ``pending_events``, ``accept_backoffs`` (listeners waiting out a lack of file descriptors).
    With no connection left, timers, pooled and held are 0."""

    connections: int
    listeners: int
    timer_entries: int
    pooled_buffers: int
    pooled_bytes: int
    held_inputs: int
    held_bytes: int
    pending_events: int
    accept_backoffs: int


@dataclass(frozen=True)
class Trace:
    """What the tracer sees (:meth:`Context.set_tracer`): the handshake's bytes, or one frame
    header. ``kind`` is ``"handshake"`` or ``"frame"``, ``direction`` ``"in"`` (from the peer) or
    ``"out"``; for frames ``opcode``, ``fin``, ``rsv`` (the three bits as a number) and
    ``payload_len``; ``data`` the handshake bytes (``b""`` for frames)."""

    conn: int
    kind: str
    direction: str
    opcode: int = 0
    fin: bool = False
    rsv: int = 0
    payload_len: int = 0
    data: bytes = field(default=b"", repr=False)

    OPCODES: ClassVar[Dict[int, str]] = {0: "CONT", 1: "TEXT", 2: "BINARY", 8: "CLOSE", 9: "PING", 10: "PONG"}

    def __str__(self) -> str:
        arrow = "<<" if self.direction == "in" else ">>"
        if self.kind == "handshake":
            text = self.data.decode("latin-1").rstrip("\r\n").replace("\r\n", "\n    ")
            return f"conn {self.conn:#x} {arrow} handshake\n    {text}"
        name = self.OPCODES.get(self.opcode, f"op{self.opcode}")
        return (f"conn {self.conn:#x} {arrow} {name} fin={int(self.fin)} rsv={self.rsv} "
                f"len={self.payload_len}")
