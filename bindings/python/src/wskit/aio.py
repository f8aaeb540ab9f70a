"""A small asyncio adapter: drive a :class:`~wskit.Context` from an asyncio loop, and an async
client (``async with wskit.aio.connect(url) as ws: await ws.send("hi"); await ws.recv()``).

The context's fd is registered with ``loop.add_reader``; when it is readable (and when
``next_timeout()`` says a timer is due) ``poll(0)`` runs the handlers. Everything runs on the
loop's thread.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Deque, Optional, Union

from ._connection import Connection, Data
from ._loop import Context
from .errors import ConnectionClosed, WouldBlock

Message = Union[str, bytes]

#: Longest sleep between polls even when no timer is set: a safety net, cheap (one poll(0)).
_MAX_SLEEP = 1.0


class AsyncioDriver:
    """Polls ``ctx`` from ``loop`` (the running loop by default). :meth:`kick` after calls made
    outside poll (sends) so that the events they cause are delivered soon; :meth:`detach` stops."""

    def __init__(self, ctx: Context, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.ctx = ctx
        self.loop = loop or asyncio.get_running_loop()
        self._fd = ctx.fileno()
        self._timer: Optional[asyncio.TimerHandle] = None
        self._scheduled = False
        self.error: Optional[BaseException] = None
        self.loop.add_reader(self._fd, self._pump)
        self.kick()

    def kick(self) -> None:
        """Schedules a ``poll(0)`` on the next loop iteration."""
        if not self._scheduled and not self.ctx.closed:
            self._scheduled = True
            self.loop.call_soon(self._pump)

    def _pump(self) -> None:
        self._scheduled = False
        if self.ctx.closed:
            return
        try:
            self.ctx.poll(0)
        except BaseException as exc:  # surfaced by whoever awaits on the driver
            self.error = exc
        if self.ctx.closed:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = self.ctx.next_timeout()
        self._timer = self.loop.call_later(_MAX_SLEEP if delay is None else min(delay, _MAX_SLEEP), self._pump)

    def detach(self) -> None:
        """Stops polling (call before closing the context)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            self.loop.remove_reader(self._fd)
        except (ValueError, OSError):
            pass


def attach(ctx: Context, loop: Optional[asyncio.AbstractEventLoop] = None) -> AsyncioDriver:
    """Drives ``ctx`` from the asyncio loop (its handlers run on the loop thread)."""
    return AsyncioDriver(ctx, loop)


class AsyncClientConnection:
    """An asyncio client connection with its own context (see :func:`connect`)."""

    def __init__(self, url: str, options: Any) -> None:
        self._url, self._options = url, options
        self._messages: Deque[Message] = collections.deque()
        self._ctx: Optional[Context] = None
        self._driver: Optional[AsyncioDriver] = None
        self._changed: Optional[asyncio.Event] = None
        self._conn: Optional[Connection] = None

    def _notify(self, *args: Any) -> None:
        assert self._changed is not None
        self._changed.set()

    def _on_message(self, conn: Connection, data: Message) -> None:
        self._messages.append(data)
        self._notify()

    async def _wait(self) -> None:
        assert self._changed is not None and self._driver is not None
        self._changed.clear()
        await self._changed.wait()
        if self._driver.error is not None:
            err, self._driver.error = self._driver.error, None
            raise err

    async def _open(self, open_timeout: Optional[float]) -> "AsyncClientConnection":
        self._changed = asyncio.Event()
        self._ctx = Context(on_open=self._notify, on_message=self._on_message, on_close=self._notify,
                            on_writable=self._notify, on_error=self._notify)
        try:
            self._conn = self._ctx.connect(self._url, **self._options)
            self._driver = AsyncioDriver(self._ctx)
            async def opened() -> None:
                assert self._conn is not None
                while not self._conn.was_opened and not self._conn.closed:
                    await self._wait()
            await asyncio.wait_for(opened(), open_timeout)
            if not self._conn.was_opened:
                raise self._conn.error or ConnectionClosed(self._conn.close_code or 1006, self._conn.close_reason)
        except BaseException:
            self._cleanup()
            raise
        return self

    def _cleanup(self) -> None:
        if self._driver is not None:
            self._driver.detach()
        if self._ctx is not None:
            self._ctx.close()

    @property
    def connection(self) -> Connection:
        assert self._conn is not None
        return self._conn

    @property
    def subprotocol(self) -> Optional[str]:
        return self.connection.subprotocol

    def _check_open(self) -> None:
        c = self.connection
        if c.closed or (self._ctx is not None and self._ctx.closed):
            raise ConnectionClosed(c.close_code or 1006, c.close_reason, c.close_clean)

    async def send(self, data: Data) -> None:
        """Sends ``str`` as text or bytes as binary (waits while the send buffer is full)."""
        assert self._driver is not None
        while True:
            self._check_open()
            try:
                self.connection.send(data)
                self._driver.kick()
                return
            except WouldBlock:
                await self._wait()

    async def recv(self) -> Message:
        """The next message; raises :class:`ConnectionClosed` once closed and drained."""
        while not self._messages:
            self._check_open()
            await self._wait()
        return self._messages.popleft()

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 5.0) -> None:
        """Closing handshake (up to ``timeout`` seconds), then frees the context."""
        try:
            if self._conn is not None and not self._conn.closed and self._ctx is not None and not self._ctx.closed:
                self._conn.close(code, reason)
                assert self._driver is not None
                self._driver.kick()
                async def closed() -> None:
                    assert self._conn is not None
                    while not self._conn.closed:
                        await self._wait()
                try:
                    await asyncio.wait_for(closed(), timeout)
                except asyncio.TimeoutError:
                    pass
        finally:
            self._cleanup()

    def __aiter__(self) -> "AsyncClientConnection":
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> "AsyncClientConnection":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class _Connect:
    """``await connect(...)`` or ``async with connect(...) as ws``."""

    def __init__(self, url: str, open_timeout: Optional[float], options: Any) -> None:
        self._client = AsyncClientConnection(url, options)
        self._open_timeout = open_timeout

    def __await__(self) -> Any:
        return self._client._open(self._open_timeout).__await__()

    async def __aenter__(self) -> AsyncClientConnection:
        return await self._client._open(self._open_timeout)

    async def __aexit__(self, *exc: Any) -> None:
        await self._client.close()


def connect(url: str, *, open_timeout: Optional[float] = 10.0, **options: Any) -> _Connect:
    """Opens an asyncio client connection; options as for :meth:`wskit.Context.connect`."""
    return _Connect(url, open_timeout, options)
