"""The asyncio connection of the websockets-style API (:class:`Connection`, with
:class:`ServerConnection` and :class:`ClientConnection`), and :class:`Hub`, which routes one
:class:`~wskit.Context`'s events to them on the asyncio loop's thread.

Inbound messages wait in a deque bounded by ``max_queue``: when ``high`` messages wait, the
connection's reading is paused in wskit (``wskit_conn_pause_reading``; the rest of the read is
held inside wskit and TCP pushes back on the peer), and resumed once the handler drained the
deque to ``low``. Nothing is dropped. Outbound, ``send`` waits on wskit's WRITABLE event when the
send buffer is full (``max_buffered``), and for the buffer to drain to the low mark of
``write_limit`` when more than its high mark is buffered after a send.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import (TYPE_CHECKING, AsyncIterable, AsyncIterator, Awaitable, Callable, Deque, Dict, Iterable,
                    List, Optional, Set, Tuple, Union)

from ._accept import Headers
from ._connection import Connection as WskitConnection
from ._connection import Data
from ._limits import QueueLimit, WriteLimit, parse_address, queue_marks, write_marks
from .errors import Close, ConnectionClosed, ConnectionClosedOK, Error, InvalidState, NotFound, WouldBlock, closed_error

if TYPE_CHECKING:
    from ._loop import Context
    from .aio import AsyncioDriver

Message = Union[str, bytes]

log = logging.getLogger("wskit")


@dataclass(frozen=True)
class Request:
    """The opening handshake request (websockets' ``Request``): ``path`` with the query
    string (``"/chat?room=1"``), ``headers`` (case-insensitive :class:`~wskit.Headers`)."""

    path: str
    headers: Headers


@dataclass(frozen=True)
class Response:
    """The handshake response a client got: ``status_code`` (101) and ``headers``."""

    status_code: int
    headers: Headers


def _wake(waiters: List["asyncio.Future[None]"]) -> None:
    for fut in waiters:
        if not fut.done():
            fut.set_result(None)
    waiters.clear()


class Hub:
    """Installs handlers on ``ctx`` (callback mode) and routes its events to the asyncio
    connections registered in :attr:`conns`; ``on_open`` is called for server connections that
    open (clients register before). After each poll of ``driver`` it wakes the senders whose
    buffer drained."""

    def __init__(self, ctx: "Context", driver: "AsyncioDriver",
                 on_open: Optional[Callable[[WskitConnection], None]] = None) -> None:
        self.ctx = ctx
        self.driver = driver
        self.loop = driver.loop
        self.conns: Dict[int, Connection] = {}
        self.draining: Set[Connection] = set()
        self._on_open = on_open
        ctx.on_open(self._opened)
        ctx.on_message(self._message)
        ctx.on_pong(self._pong)
        ctx.on_writable(self._writable)
        ctx.on_close(self._closed)
        ctx.on_error(self._error)
        driver.after_poll.append(self._check_drains)

    def kick(self) -> None:
        self.driver.kick()

    def _opened(self, conn: WskitConnection) -> None:
        ws = self.conns.get(conn.id)
        if ws is not None:
            ws._opened()
        elif self._on_open is not None:
            self._on_open(conn)

    def _message(self, conn: WskitConnection, data: Message) -> None:
        ws = self.conns.get(conn.id)
        if ws is not None:
            ws._on_message(data)

    def _pong(self, conn: WskitConnection, payload: bytes) -> None:
        ws = self.conns.get(conn.id)
        if ws is not None:
            ws._on_pong(payload)

    def _writable(self, conn: WskitConnection) -> None:
        ws = self.conns.get(conn.id)
        if ws is not None:
            _wake(ws._writable_waiters)

    def _closed(self, conn: WskitConnection, code: int, reason: str, clean: bool) -> None:
        ws = self.conns.pop(conn.id, None)
        if ws is not None:
            self.draining.discard(ws)
            ws._on_close(code, reason, clean)

    def _error(self, conn: Optional[WskitConnection], err: Error) -> None:
        # The close event follows errors that end a connection; this only tells why.
        if conn is None:
            log.warning("wskit: %s", err)
        else:
            log.debug("wskit: connection %#x: %s", conn.id, err)
            ws = self.conns.get(conn.id)
            if ws is not None:
                _wake(ws._writable_waiters)  # e.g. a dropped remote send: let senders look again

    def _check_drains(self) -> None:
        for ws in list(self.draining):
            if ws._close_exc is not None or ws._conn.buffered_amount <= ws._write_low:
                self.draining.discard(ws)
                _wake(ws._drain_waiters)


class Connection:
    """An asyncio WebSocket connection, as websockets' ``Connection``: ``await recv()``,
    ``await send()``, ``async for message in ws``, ``await ping()``, ``await close()``.

    Attributes: ``id`` (a :class:`uuid.UUID`, as websockets; the wskit id is
    ``connection.id``), ``subprotocol``, ``remote_address`` (``(host, port)``), ``close_code``
    and ``close_reason`` (None while open), ``latency`` (seconds, of the last ping answered),
    ``connection`` (the underlying :class:`wskit.Connection`), ``peak_queued`` (most messages
    that ever waited in the inbound queue), ``dropped_after_close`` (messages that came with
    the queue full after this end started closing: closing resumes reading so that the closing
    handshake completes, and those are dropped rather than queued past ``max_queue``)."""

    def __init__(self, hub: Hub, conn: WskitConnection, *, max_queue: QueueLimit, write_limit: WriteLimit) -> None:
        self._hub = hub
        self._conn = conn
        self._loop = hub.loop
        self._marks = queue_marks(max_queue)
        self._write_high, self._write_low = write_marks(write_limit)
        self._messages: Deque[Message] = collections.deque()
        self._paused = False
        self._recv_waiters: List["asyncio.Future[None]"] = []
        self._writable_waiters: List["asyncio.Future[None]"] = []
        self._drain_waiters: List["asyncio.Future[None]"] = []
        self._pings: Dict[bytes, Tuple["asyncio.Future[float]", float]] = {}
        self._sent_close: Optional[Close] = None
        self._send_lock = asyncio.Lock()
        self._closed: "asyncio.Future[None]" = self._loop.create_future()
        self._close_exc: Optional[ConnectionClosed] = None
        self.id = uuid.uuid4()
        self.latency = 0.0
        self.peak_queued = 0
        #: Messages dropped because they came after this end started closing with a full queue.
        self.dropped_after_close = 0
        hub.conns[conn.id] = self

    def __repr__(self) -> str:
        return f"<wskit.aio.{type(self).__name__} {self.id} {self._conn!r}>"

    # ----- events (loop thread, inside poll) ------------------------------------------------

    def _opened(self) -> None:
        """A client's open event (servers are created open)."""

    def _on_message(self, data: Message) -> None:
        if self._sent_close is not None and self._marks is not None and len(self._messages) >= self._marks[0]:
            # This end is closing (wskit resumed reading to finish the handshake): what the peer
            # sent meanwhile would pass max_queue; it is dropped, as the handler stopped reading.
            self.dropped_after_close += 1
            return
        self._messages.append(data)
        queued = len(self._messages)
        if queued > self.peak_queued:
            self.peak_queued = queued
        if self._marks is not None and not self._paused and queued >= self._marks[0]:
            # Full: stop reading; the rest of this read stays inside wskit, TCP pushes back.
            self._paused = True
            self._conn.pause_reading()
        _wake(self._recv_waiters)

    def _on_pong(self, payload: bytes) -> None:
        if payload not in self._pings:
            return
        now = time.monotonic()
        # A pong answers its ping and every earlier one (as websockets).
        for key in list(self._pings):
            fut, sent_at = self._pings.pop(key)
            if not fut.done():
                fut.set_result(now - sent_at)
            if key == payload:
                self.latency = now - sent_at
                break

    def _on_close(self, code: int, reason: str, clean: bool) -> None:
        exc = closed_error(code, reason, clean, self._sent_close)
        self._close_exc = exc
        if not self._closed.done():
            self._closed.set_result(None)
        for waiters in (self._recv_waiters, self._writable_waiters, self._drain_waiters):
            _wake(waiters)
        for fut, _ in self._pings.values():
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # retrieved: no "never retrieved" warning for unawaited pings
        self._pings.clear()

    # ----- waiting ---------------------------------------------------------------------------

    async def _wait(self, waiters: List["asyncio.Future[None]"]) -> None:
        fut: "asyncio.Future[None]" = self._loop.create_future()
        waiters.append(fut)
        try:
            await fut
        finally:
            if fut in waiters:
                waiters.remove(fut)

    # ----- receiving ---------------------------------------------------------------------------

    async def recv(self, decode: Optional[bool] = None) -> Message:
        """The next message: ``str`` (text) or ``bytes`` (binary); ``decode=True`` gives
        ``str`` for both, ``False`` ``bytes``. Raises :class:`~wskit.ConnectionClosedOK` /
        :class:`~wskit.ConnectionClosedError` once the connection is closed and every message
        was read."""
        while not self._messages:
            if self._close_exc is not None:
                raise self._close_exc
            await self._wait(self._recv_waiters)
        message = self._messages.popleft()
        if self._paused and self._marks is not None and len(self._messages) <= self._marks[1]:
            self._paused = False
            try:
                self._conn.resume_reading()
            except (NotFound, InvalidState):
                pass  # closed meanwhile
            self._hub.kick()  # held events come at the next poll
        if decode is True and isinstance(message, bytes):
            return message.decode()
        if decode is False and isinstance(message, str):
            return message.encode()
        return message

    def __aiter__(self) -> AsyncIterator[Message]:
        """``async for message in ws``: ends when the connection closes normally
        (:class:`~wskit.ConnectionClosedOK`), raises :class:`~wskit.ConnectionClosedError`
        otherwise (as websockets)."""
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            try:
                message = await self.recv()
            except ConnectionClosedOK:
                return
            yield message

    # ----- sending -----------------------------------------------------------------------------

    async def _closing(self) -> "ConnectionClosed":
        """The exception for a send refused because the connection is closing: after the
        close event (bounded by wskit's close timeout)."""
        await asyncio.shield(self._closed)
        assert self._close_exc is not None
        return self._close_exc

    async def _retry(self, send: Callable[[], object]) -> None:
        """Runs one send call, waiting for the WRITABLE event while wskit's buffer is full."""
        while True:
            if self._close_exc is not None:
                raise self._close_exc
            if self._sent_close is not None:
                raise await self._closing()
            try:
                send()
                return
            except WouldBlock:
                await self._wait(self._writable_waiters)
            except (NotFound, InvalidState):
                # Open connections refuse sends only once closing (fragmented sends are
                # serialized by _send_lock, so no send lands inside another's message).
                raise await self._closing() from None

    async def _drain(self) -> None:
        """Waits while more than the high mark of ``write_limit`` is buffered."""
        if self._close_exc is None and self._conn.buffered_amount > self._write_high:
            self._hub.draining.add(self)
            await self._wait(self._drain_waiters)

    async def send(self, message: Union[Data, Iterable[Data], AsyncIterable[Data]]) -> None:
        """Sends a message: ``str`` as text, bytes-like as binary; an iterable or async
        iterable of them as one fragmented message (each item one frame, all of one type).
        Waits while the send buffer is full or over ``write_limit``. Raises
        :class:`~wskit.ConnectionClosed` when the connection is closed or closing."""
        conn = self._conn
        if isinstance(message, (str, bytes, bytearray, memoryview)):
            whole = message
            if self._send_lock.locked():  # a fragmented message is being sent: after it
                async with self._send_lock:
                    await self._retry(lambda: conn.send(whole))
            else:
                await self._retry(lambda: conn.send(whole))
        elif isinstance(message, AsyncIterable):
            async with self._send_lock:
                await self._send_fragments(message.__aiter__())
        elif isinstance(message, Iterable):
            async with self._send_lock:
                await self._send_fragments(_as_async(message))
        else:
            raise TypeError(f"send() takes str, bytes or an iterable of them, not {type(message).__name__}")
        await self._drain()

    async def _send_fragments(self, pieces: AsyncIterator[Data]) -> None:
        conn = self._conn
        try:
            first = await pieces.__anext__()
        except StopAsyncIteration:
            return  # nothing to send (as websockets)
        text = isinstance(first, str)
        await self._retry(lambda: conn.begin("text" if text else "binary", first))
        async for piece in pieces:
            if isinstance(piece, str) != text:
                raise TypeError("all fragments of a message must be str, or all bytes-like")
            await self._retry(lambda: conn.write(piece))
            await self._drain()
        await self._retry(lambda: conn.end())

    async def ping(self, data: Optional[Data] = None) -> "asyncio.Future[float]":
        """Sends a ping and returns a future for its pong (its result: the latency in
        seconds), as websockets: ``waiter = await ws.ping(); latency = await waiter``.
        ``data`` defaults to 4 random bytes; a payload still waiting for its pong raises
        RuntimeError."""
        payload = os.urandom(4) if data is None else data.encode() if isinstance(data, str) else bytes(data)
        if payload in self._pings:
            raise RuntimeError("already waiting for a pong with the same data")
        conn = self._conn
        await self._retry(lambda: conn.ping(payload))
        fut: "asyncio.Future[float]" = self._loop.create_future()
        self._pings[payload] = (fut, time.monotonic())
        return fut

    async def pong(self, data: Data = b"") -> None:
        """Sends an unsolicited pong."""
        conn = self._conn
        await self._retry(lambda: conn.pong(data))

    # ----- closing -----------------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Starts the closing handshake (if nothing did yet) and waits for the connection to
        close (wskit's ``close_timeout`` bounds the wait)."""
        if self._close_exc is None and self._sent_close is None:
            if self._conn.close(code, reason):  # False: the peer's close is being answered
                self._sent_close = Close(code, reason)
            self._hub.kick()
        await asyncio.shield(self._closed)

    async def wait_closed(self) -> None:
        """Waits until the connection is closed."""
        await asyncio.shield(self._closed)

    # ----- information -------------------------------------------------------------------------

    @property
    def connection(self) -> WskitConnection:
        """The underlying :class:`wskit.Connection`."""
        return self._conn

    @property
    def subprotocol(self) -> Optional[str]:
        return self._conn.subprotocol

    @property
    def remote_address(self) -> Tuple[str, int]:
        """``(host, port)`` of the peer."""
        try:
            return parse_address(self._conn.peer)
        except Error:
            return ("", 0)

    @property
    def close_code(self) -> Optional[int]:
        """The close code (1006 when the connection dropped); None while open."""
        return self._conn.close_code if self._close_exc is not None else None

    @property
    def close_reason(self) -> Optional[str]:
        return self._conn.close_reason if self._close_exc is not None else None

    @property
    def closed(self) -> bool:
        return self._close_exc is not None

    @property
    def queued(self) -> int:
        """Messages received and not yet taken by :meth:`recv`."""
        return len(self._messages)


async def _as_async(items: Iterable[Data]) -> AsyncIterator[Data]:
    for item in items:
        yield item


class ServerConnection(Connection):
    """A connection accepted by :func:`wskit.aio.serve`, given to the handler. ``request``: the
    handshake request (path with query, headers)."""

    def __init__(self, hub: Hub, conn: WskitConnection, request: Request, *, max_queue: QueueLimit,
                 write_limit: WriteLimit) -> None:
        super().__init__(hub, conn, max_queue=max_queue, write_limit=write_limit)
        self.request = request


class ClientConnection(Connection):
    """A client connection from :func:`wskit.aio.connect` (it owns its context). ``response``:
    the handshake response (status 101 and headers).

    With ``reconnect=True`` (see :meth:`wskit.Context.connect`) the object outlives drops of the
    connection: ``recv()`` and ``async for`` keep waiting across reconnects (messages of the
    next connection follow), ``send()`` raises :class:`~wskit.NotConnected` between connections
    unless ``offline_queue`` queues it, ``response`` is the latest handshake's, and ``close()``
    ends it at once, retry pending or not (``async for`` then ends normally)."""

    def __init__(self, hub: Hub, conn: WskitConnection, *, max_queue: QueueLimit, write_limit: WriteLimit) -> None:
        super().__init__(hub, conn, max_queue=max_queue, write_limit=write_limit)
        self._open_waiters: List["asyncio.Future[None]"] = []
        self.response: Optional[Response] = None

    def _opened(self) -> None:
        self.response = Response(101, self._conn.headers)
        _wake(self._open_waiters)

    def _on_close(self, code: int, reason: str, clean: bool) -> None:
        if self._sent_close is not None and self._conn.reconnecting and not clean:
            # close() between two connections of a reconnecting client (reconnect=True): it ends
            # at once, with nothing to hand shake with; `async for` ends as after a normal close.
            code, reason, clean = self._sent_close.code, self._sent_close.reason, True
        super()._on_close(code, reason, clean)
        _wake(self._open_waiters)

    async def _wait_open(self) -> None:
        while not self._conn.was_opened and self._close_exc is None:
            await self._wait(self._open_waiters)
        if not self._conn.was_opened:
            raise self._conn.error or self._close_exc or ConnectionClosed(1006)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closing handshake, then frees the client's context."""
        try:
            if not self._hub.ctx.closed:
                await super().close(code, reason)
        finally:
            self._hub.driver.detach()
            self._hub.ctx.close()

    async def __aenter__(self) -> "ClientConnection":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


#: The handler of :func:`wskit.aio.serve`.
Handler = Callable[[ServerConnection], Awaitable[None]]
