"""``wskit.aio.serve``: an asyncio WebSocket server with websockets' shape. One wskit
:class:`~wskit.Context` per server, polled from the asyncio loop; one handler task per
connection."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Generator, List, Optional, Sequence, Set

from ._accept import AcceptRequest
from ._aio_connection import Handler, Hub, Request, ServerConnection
from ._connection import Connection as WskitConnection
from ._events import Trace
from ._http import HttpRequest
from ._limits import (DEFAULT_MAX_QUEUE, DEFAULT_MAX_SIZE, DEFAULT_WRITE_LIMIT, QueueLimit, WriteLimit,
                      config_options, queue_marks, write_marks)
from ._loop import Context
from ._tls import PathLike, SslArg, server_tls
from .errors import Close

log = logging.getLogger("wskit.server")

#: ``process_request``: decides an upgrade request, as an accept handler (see
#: :class:`wskit.Context`): None/True accept, False rejects with 403, a subprotocol name, a
#: :class:`wskit.Reject`.
ProcessRequest = Callable[[AcceptRequest], Any]
#: ``http_handler``: answers a plain HTTP request (see :class:`wskit.HttpRequest`).
HttpHandler = Callable[[HttpRequest], Any]


class Server:
    """A listening server (from :func:`serve`). ``async with serve(...) as server`` closes it
    gracefully on exit; or :meth:`close` then ``await`` :meth:`wait_closed`;
    ``await server.serve_forever()`` runs until cancelled or closed.

    ``port`` is the bound port, ``connections`` the open connections."""

    def __init__(self, handler: Handler, host: Optional[str], port: int, *, max_queue: QueueLimit,
                 write_limit: WriteLimit, process_request: Optional[ProcessRequest],
                 http_handler: Optional[HttpHandler], tracer: Optional[Callable[[Trace], None]],
                 listen_options: Any, unix_path: Optional[str] = None) -> None:
        from .aio import AsyncioDriver  # aio imports this module

        queue_marks(max_queue)  # ValueError now, not at the first connection
        write_marks(write_limit)
        self._handler = handler
        self._max_queue = max_queue
        self._write_limit = write_limit
        self.loop = asyncio.get_running_loop()
        self._tasks: Set["asyncio.Task[None]"] = set()
        self._closing = False
        self._closed: "asyncio.Future[None]" = self.loop.create_future()
        self._finisher: Optional["asyncio.Task[None]"] = None
        ctx = self._ctx = Context(handler_errors="log")
        try:
            if tracer is not None:
                ctx.set_tracer(tracer)
            if process_request is not None:
                ctx.on_accept(process_request)
            if http_handler is not None:
                ctx.on_http(http_handler)
            #: The Unix socket path (:func:`unix_serve`), else None.
            self.path = unix_path
            if unix_path is not None:
                ctx.listen_unix(unix_path, **listen_options)
                self.port = 0
            else:
                self.port = ctx.listen(host or "0.0.0.0", port, **listen_options)
            self._driver = AsyncioDriver(ctx, self.loop)
        except BaseException:
            ctx.close()
            raise
        self._hub = Hub(ctx, self._driver, self._on_open)

    def __repr__(self) -> str:
        where = f"path={self.path!r}" if self.path is not None else f"port={self.port}"
        return f"<wskit.aio.Server {where}{' closing' if self._closing else ''}>"

    @property
    def context(self) -> Context:
        """The wskit context (loop thread only; e.g. ``server.context.stats()``)."""
        return self._ctx

    @property
    def connections(self) -> List[ServerConnection]:
        return [ws for ws in self._hub.conns.values() if isinstance(ws, ServerConnection)]

    def _on_open(self, conn: WskitConnection) -> None:
        query = conn.query
        request = Request(conn.path + (f"?{query}" if query is not None else ""), conn.headers)
        ws = ServerConnection(self._hub, conn, request, max_queue=self._max_queue, write_limit=self._write_limit)
        task = self.loop.create_task(self._run(ws))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, ws: ServerConnection) -> None:
        """One handler: returning closes with 1000, raising logs and closes with 1011."""
        try:
            await self._handler(ws)
        except Exception:
            log.error("connection handler failed", exc_info=True)
            await ws.close(1011)
        else:
            await ws.close(1000)

    def close(self, close_connections: bool = True, code: int = 1001, reason: str = "") -> None:
        """Stops listening; with ``close_connections`` (default) closes every connection with
        ``code`` (1001, going away) and drops those still in their handshake. The handlers see
        :class:`~wskit.ConnectionClosedOK`. :meth:`wait_closed` waits for the rest."""
        if self._closing:
            return
        self._closing = True
        if close_connections:
            for ws in self.connections:
                if ws._sent_close is None and ws._close_exc is None and ws.connection.close(code, reason):
                    ws._sent_close = Close(code, reason)
            self._ctx.begin_shutdown()  # listeners, and handshakes in progress
        else:
            self._ctx.close_listener(self.port)
        self._driver.kick()
        self._finisher = self.loop.create_task(self._finish())

    async def _finish(self) -> None:
        try:
            while self._tasks:
                await asyncio.wait(set(self._tasks))
            while not self._ctx.closed and self._ctx.connection_count > 0:
                await asyncio.sleep(0.01)  # handshakes being dropped; their close events
        finally:
            self._driver.detach()
            self._ctx.close()
            if not self._closed.done():
                self._closed.set_result(None)

    async def wait_closed(self) -> None:
        """Waits until :meth:`close` finished: handlers returned, connections closed, the
        context freed."""
        await asyncio.shield(self._closed)

    async def serve_forever(self) -> None:
        """Runs until the server is closed; cancelling it closes the server (gracefully)."""
        try:
            await asyncio.shield(self._closed)
        except asyncio.CancelledError:
            self.close()
            await self.wait_closed()
            raise

    def is_serving(self) -> bool:
        return not self._closing

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()

    def __await__(self) -> Generator[Any, None, "Server"]:
        """``server = await serve(...)`` (the server listens from the call of :func:`serve`)."""
        if False:  # pragma: no cover - makes this a generator
            yield
        return self


def serve(handler: Handler, host: Optional[str] = "127.0.0.1", port: int = 0, *,
          subprotocols: Optional[Sequence[str]] = None, compression: Optional[str] = "deflate",
          process_request: Optional[ProcessRequest] = None, http_handler: Optional[HttpHandler] = None,
          open_timeout: Optional[float] = 10.0, ping_interval: Optional[float] = 20.0,
          ping_timeout: Optional[float] = 20.0, close_timeout: Optional[float] = 10.0,
          max_size: Optional[int] = DEFAULT_MAX_SIZE, max_queue: QueueLimit = DEFAULT_MAX_QUEUE,
          write_limit: WriteLimit = DEFAULT_WRITE_LIMIT, ssl: SslArg = None,
          certfile: Optional[PathLike] = None, keyfile: Optional[PathLike] = None,
          cafile: Optional[PathLike] = None, tracer: Optional[Callable[[Trace], None]] = None,
          **options: Any) -> Server:
    """Starts an asyncio WebSocket server on ``host:port`` (port 0: a free one, see
    ``server.port``; host None: every IPv4 interface) running ``await handler(ws)`` for each
    connection (a :class:`~wskit.aio.ServerConnection`). Call it with an asyncio loop running;
    ``async with serve(...) as server`` or ``server = await serve(...)``.

    Options as websockets': ``subprotocols``, ``compression`` (``"deflate"`` or None),
    ``process_request`` (decides upgrade requests, given a :class:`wskit.AcceptRequest`: as an
    accept handler of :class:`wskit.Context`), ``http_handler`` (plain HTTP requests, a
    :class:`wskit.HttpRequest`), ``open_timeout``, ``ping_interval`` / ``ping_timeout``
    (seconds, None: no keepalive pings), ``close_timeout``, ``max_size`` (bytes per message,
    None: no limit), ``max_queue`` (messages; ``(high, low)``; None: unbounded), ``write_limit``
    (bytes; ``(high, low)``), ``ssl`` (a :class:`wskit.TlsOptions` or an ``ssl.SSLContext``
    made by :func:`wskit.tls_context`) or ``certfile`` / ``keyfile``, ``tracer`` (called with
    every handshake and frame header, a :class:`wskit.Trace`; see
    :meth:`wskit.Context.set_tracer`). Other keyword options go
    to :meth:`wskit.Context.listen` (``static_dir``, ``allowed_origins``, ``max_buffered``,
    ``max_connections``, ...)."""
    listen_options = config_options(max_size=max_size, ping_interval=ping_interval, ping_timeout=ping_timeout,
                                    open_timeout=open_timeout, close_timeout=close_timeout)
    listen_options.update(server_tls(ssl, certfile, keyfile, cafile))
    listen_options["subprotocols"] = list(subprotocols or ())
    listen_options["compression"] = compression
    unix = options.pop("_unix", None)
    listen_options.update(options)
    unix_path = None
    if unix is not None:
        unix_path, listen_options["mode"], listen_options["remove_stale"] = unix
    return Server(handler, host, port, max_queue=max_queue, write_limit=write_limit, process_request=process_request,
                  http_handler=http_handler, tracer=tracer, listen_options=listen_options, unix_path=unix_path)


def unix_serve(handler: Handler, path: Optional[str] = None, *, mode: Optional[int] = None,
               remove_stale: bool = False, **kwargs: Any) -> Server:
    """Like :func:`serve`, on the Unix domain socket ``path`` (websockets' ``unix_serve``;
    ``@name``: a Linux abstract socket). ``mode`` sets the socket file's permission bits (e.g.
    ``0o660``; default: the umask's), ``remove_stale=True`` replaces a socket file nobody
    listens on; the file is removed when the server closes. ``server.path`` is the path,
    ``server.port`` 0. Other options as for :func:`serve` (no TLS)."""
    if path is None:
        raise TypeError("unix_serve needs the socket path")
    if kwargs.get("ssl") is not None or kwargs.get("certfile") is not None:
        raise ValueError("TLS over a Unix socket is not supported")
    server = serve(handler, None, 0, _unix=(path, mode, remove_stale), **kwargs)
    return server
