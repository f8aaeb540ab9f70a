"""asyncio: a server and a client with the shape of Python websockets' asyncio API, and the
driver that polls a :class:`~wskit.Context` from an asyncio loop.

Server::

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async with wskit.aio.serve(echo, "127.0.0.1", 8765) as server:
        await server.serve_forever()

Client::

    async with wskit.aio.connect("ws://127.0.0.1:8765/") as ws:
        await ws.send("hi")
        print(await ws.recv())

The context's fd is registered with ``loop.add_reader``; when it is readable (and when
``next_timeout()`` says a timer is due) ``poll(0)`` runs the handlers. Everything runs on the
loop's thread.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Generator, List, Mapping, Optional, Sequence, Tuple, Union

from ._aio_connection import ClientConnection, Connection, Handler, Hub, Message, Request, Response, ServerConnection
from ._aio_server import Server, serve, unix_serve
from ._events import Trace
from ._limits import DEFAULT_MAX_QUEUE, DEFAULT_MAX_SIZE, DEFAULT_WRITE_LIMIT, QueueLimit, WriteLimit, check_uri
from ._limits import config_options, queue_marks, write_marks
from ._loop import Context
from ._tls import PathLike, SslArg, client_tls

__all__ = ["AsyncClientConnection", "AsyncioDriver", "ClientConnection", "Connection", "Handler", "Message",
           "Request", "Response", "Server", "ServerConnection", "attach", "connect", "serve", "unix_connect",
           "unix_serve"]

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
        self._flush_scheduled = False
        self.error: Optional[BaseException] = None
        #: Called after each poll (e.g. to wake senders whose buffer drained).
        self.after_poll: List[Callable[[], None]] = []
        self.loop.add_reader(self._fd, self._pump)
        ctx._flush_hook = self._flush_soon
        self.kick()

    def kick(self) -> None:
        """Schedules a ``poll(0)`` on the next loop iteration."""
        if not self._scheduled and not self.ctx.closed:
            self._scheduled = True
            self.loop.call_soon(self._pump)

    def _flush_soon(self) -> None:
        """A send outside poll queued bytes: write them (with every other send's of this loop
        iteration) from a callback of the next iteration: one write() per connection per
        iteration rather than one per message."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self.ctx.closed:
            try:
                self.ctx.flush()
            except BaseException as exc:  # surfaced by whoever awaits on the driver
                self.error = exc
            for hook in self.after_poll:  # senders waiting for the buffer to drain look again
                hook()

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
        for hook in self.after_poll:
            hook()
        if self._timer is not None:
            self._timer.cancel()
        delay = self.ctx.next_timeout()
        self._timer = self.loop.call_later(_MAX_SLEEP if delay is None else min(delay, _MAX_SLEEP), self._pump)

    def detach(self) -> None:
        """Stops polling (call before closing the context); sends write at once again."""
        if self.ctx._flush_hook == self._flush_soon:
            self.ctx._flush_hook = None
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


#: The 0.2 name of the asyncio client connection.
AsyncClientConnection = ClientConnection


class _Connect:
    """``await connect(...)`` or ``async with connect(...) as ws``."""

    def __init__(self, uri: str, open_timeout: Optional[float], max_queue: QueueLimit, write_limit: WriteLimit,
                 tracer: Optional[Callable[[Trace], None]], options: Any) -> None:
        self._uri, self._open_timeout, self._options, self._tracer = uri, open_timeout, options, tracer
        self._max_queue, self._write_limit = max_queue, write_limit
        self._client: Optional[ClientConnection] = None
        #: The Unix socket path (:func:`unix_connect`), else None.
        self._unix_path: Optional[str] = None

    async def _open(self) -> ClientConnection:
        ctx = Context(handler_errors="log")
        driver: Optional[AsyncioDriver] = None
        try:
            if self._tracer is not None:
                ctx.set_tracer(self._tracer)
            if self._unix_path is not None:
                conn = ctx.connect_unix(self._unix_path, self._uri, **self._options)
            else:
                conn = ctx.connect(self._uri, **self._options)
            driver = AsyncioDriver(ctx)
            ws = ClientConnection(Hub(ctx, driver), conn, max_queue=self._max_queue, write_limit=self._write_limit)
            # wskit's handshake_timeout (open_timeout) ends the attempt; this is a safety net.
            limit = None if self._open_timeout is None else self._open_timeout + 1.0
            await asyncio.wait_for(ws._wait_open(), limit)
        except BaseException:
            if driver is not None:
                driver.detach()
            ctx.close()
            raise
        self._client = ws
        return ws

    def __await__(self) -> Generator[Any, None, ClientConnection]:
        return self._open().__await__()

    async def __aenter__(self) -> ClientConnection:
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()


def connect(uri: str, *, additional_headers: Optional[Union[Mapping[str, str], Sequence[Tuple[str, str]]]] = None,
            subprotocols: Optional[Sequence[str]] = None, origin: Optional[str] = None,
            compression: Optional[str] = "deflate", open_timeout: Optional[float] = 10.0,
            ping_interval: Optional[float] = 20.0, ping_timeout: Optional[float] = 20.0,
            close_timeout: Optional[float] = 10.0, max_size: Optional[int] = DEFAULT_MAX_SIZE,
            max_queue: QueueLimit = DEFAULT_MAX_QUEUE, write_limit: WriteLimit = DEFAULT_WRITE_LIMIT,
            ssl: SslArg = None, cafile: Optional[PathLike] = None, tracer: Optional[Callable[[Trace], None]] = None,
            **options: Any) -> _Connect:
    """Opens an asyncio client connection (a :class:`ClientConnection`): ``ws = await
    connect(uri)`` or ``async with connect(uri) as ws``. Options as websockets':
    ``additional_headers``, ``subprotocols``, ``origin``, ``compression``, ``open_timeout``,
    ``ping_interval`` / ``ping_timeout`` (None: no keepalive pings), ``close_timeout``,
    ``max_size``, ``max_queue``, ``write_limit``, ``ssl`` (an ``ssl.SSLContext``: its CA
    certificates and verify mode are used; or a :class:`wskit.TlsOptions`) / ``cafile``,
    ``tracer`` (every handshake and frame header, see :meth:`wskit.Context.set_tracer`). Other
    keyword options go to :meth:`wskit.Context.connect` (``headers``, ``max_buffered``,
    ``deflate``, ...). Raises :class:`~wskit.InvalidURI`, :class:`~wskit.InvalidStatus` (the
    server refused: ``.response``), :class:`~wskit.NetworkError`, :class:`~wskit.TLSError`."""
    check_uri(uri)
    queue_marks(max_queue)
    write_marks(write_limit)
    merged = config_options(max_size=max_size, ping_interval=ping_interval, ping_timeout=ping_timeout,
                            open_timeout=open_timeout, close_timeout=close_timeout)
    merged.update(client_tls(ssl, cafile))
    if additional_headers is not None:
        merged["headers"] = additional_headers
    if subprotocols:
        merged["subprotocols"] = list(subprotocols)
    if origin is not None:
        merged["origin"] = origin
    merged["compression"] = compression
    merged.update(options)
    return _Connect(uri, open_timeout, max_queue, write_limit, tracer, merged)


def unix_connect(path: Optional[str] = None, uri: Optional[str] = None, **kwargs: Any) -> _Connect:
    """Like :func:`connect`, over the Unix domain socket ``path`` (websockets' ``unix_connect``;
    ``@name``: a Linux abstract socket). ``uri`` (default ``"ws://localhost/"``) gives the
    ``Host`` header and the request path. Options as for :func:`connect` (no TLS)."""
    if path is None:
        raise TypeError("unix_connect needs the socket path")
    if uri is None:
        uri = "ws://localhost/"
    if kwargs.get("ssl") is not None or uri.lower().startswith("wss:"):
        raise ValueError("TLS over a Unix socket is not supported")
    connecting = connect(uri, **kwargs)
    connecting._unix_path = path
    return connecting
