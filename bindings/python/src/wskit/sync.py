"""A threaded WebSocket server with the shape of websockets' ``websockets.sync.server``:
``def handler(ws)`` runs on a thread of its own per connection::

    def echo(ws):
        for message in ws:
            ws.send(message)

    with wskit.sync.serve(echo, "127.0.0.1", 8765) as server:
        server.serve_forever()   # until server.shutdown() from another thread (or Ctrl-C)

One wskit :class:`~wskit.Context` runs on the thread that calls :meth:`Server.serve_forever`
(the loop thread). Handler threads never touch it: they hand their calls (send, ping, close,
resume reading) to the loop through a queue and wake it (``wskit_remote_wake``), and wait for
the loop's answer; messages come to them through a bounded queue per connection (``max_queue``:
when full, the loop pauses reading that connection, nothing is lost). ``send`` returns once
wskit took the message and no more than ``write_limit`` bytes wait to be sent.

``wskit.sync.connect`` opens the blocking client (:class:`wskit.ClientConnection`, as
:func:`wskit.connect`) with websockets' option names.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import uuid
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from ._accept import AcceptRequest
from ._aio_connection import Message, Request
from ._connection import Connection as WskitConnection
from ._connection import Data
from ._events import Trace
from ._http import HttpRequest
from ._limits import (DEFAULT_MAX_QUEUE, DEFAULT_MAX_SIZE, DEFAULT_WRITE_LIMIT, QueueLimit, WriteLimit,
                      config_options, parse_address, queue_marks, write_marks)
from ._loop import Context
from ._native import Status
from ._native import error as _status_error
from ._tls import PathLike, SslArg, server_tls
from .client import ClientConnection
from .errors import Close, ConnectionClosed, ConnectionClosedOK, Error, InvalidState, NotFound, WouldBlock, closed_error

__all__ = ["ClientConnection", "Handler", "Server", "ServerConnection", "connect", "serve", "unix_connect", "unix_serve"]

log = logging.getLogger("wskit.server")

#: How long the loop blocks in one poll at most (so that Ctrl-C is handled).
_POLL_SECONDS = 0.5


class _Op:
    """One call a handler thread hands to the loop: ``run`` (loop thread) may raise
    :class:`WouldBlock` (retried after the WRITABLE event); ``drain`` makes it wait, once run,
    until the buffer is at the low mark of ``write_limit``."""

    __slots__ = ("run", "drain", "done", "error", "closing", "result", "ran")

    def __init__(self, run: Callable[[], object], drain: bool = False) -> None:
        self.run = run
        self.drain = drain
        self.done = threading.Event()
        self.error: Optional[BaseException] = None
        self.closing = False  # refused because the connection is closing or closed
        self.result: object = None
        self.ran = False


class ServerConnection:
    """A connection of :func:`serve`, given to the handler (on its own thread). Every method
    may be called from any thread.

    Attributes: ``id`` (:class:`uuid.UUID`), ``request`` (path with query, headers),
    ``subprotocol``, ``remote_address`` (``(host, port)``), ``close_code`` / ``close_reason``
    (None while open), ``peak_queued`` (most messages that ever waited)."""

    def __init__(self, server: "Server", conn: WskitConnection, request: Request) -> None:
        self._server = server
        self._conn = conn  # loop thread only
        self.id = uuid.uuid4()
        self.request = request
        self.subprotocol = conn.subprotocol
        self.remote_address = parse_address(conn.peer)
        self.peak_queued = 0
        self._marks = server._queue_marks
        self._write_low = server._write_marks[1]
        self._write_high = server._write_marks[0]
        self._cond = threading.Condition()
        self._messages: Deque[Message] = collections.deque()  # guarded by _cond
        self._paused = False  # guarded by _cond
        self._close_exc: Optional[ConnectionClosed] = None
        self._closed = threading.Event()
        self._sent_close: Optional[Close] = None
        # Loop thread only:
        self._outbox: Deque[_Op] = collections.deque()
        self._await_writable = False
        self._draining = False
        self._pings: Dict[bytes, threading.Event] = {}

    def __repr__(self) -> str:
        return f"<wskit.sync.ServerConnection {self.id} {self._conn!r}>"

    # ----- loop thread -------------------------------------------------------------------------

    def _deliver(self, data: Message) -> None:
        with self._cond:
            if self._sent_close is not None and self._marks is not None and len(self._messages) >= self._marks[0]:
                return  # closing with a full queue (closing resumed reading): not queued past max_queue
            self._messages.append(data)
            queued = len(self._messages)
            self.peak_queued = max(self.peak_queued, queued)
            if self._marks is not None and not self._paused and queued >= self._marks[0]:
                self._paused = True
                self._conn.pause_reading()  # the rest of this read stays inside wskit
            self._cond.notify()

    def _pong(self, payload: bytes) -> None:
        if payload in self._pings:
            for key in list(self._pings):  # answers this ping and every earlier one
                self._pings.pop(key).set()
                if key == payload:
                    break

    def _on_close(self, code: int, reason: str, clean: bool) -> None:
        with self._cond:
            self._close_exc = closed_error(code, reason, clean, self._sent_close)
            self._cond.notify_all()
        self._closed.set()
        self._pump_out()  # refuses what waits
        for event in self._pings.values():
            event.set()  # waiters look at close_code
        self._pings.clear()

    def _pump_out(self) -> bool:
        """Runs the waiting calls in order; True while some wait (buffer full or draining)."""
        while self._outbox:
            op = self._outbox[0]
            if not op.ran:
                if self._close_exc is not None:
                    op.closing = True
                else:
                    if self._await_writable:
                        return True
                    try:
                        op.result = op.run()
                    except WouldBlock:
                        self._await_writable = True
                        return True
                    except (NotFound, InvalidState):
                        op.closing = True
                    except BaseException as exc:
                        op.error = exc
                op.ran = True
            if op.drain:
                op.drain = False
                # Over the high mark after this send: it returns once drained to the low mark.
                self._draining = (not op.closing and op.error is None and self._close_exc is None
                                  and self._conn.buffered_amount > self._write_high)
            if self._draining:
                if self._close_exc is None and self._conn.buffered_amount > self._write_low:
                    return True
                self._draining = False
            self._outbox.popleft()
            op.done.set()
        return False

    # ----- handler threads ---------------------------------------------------------------------

    def _call(self, run: Callable[[], object], drain: bool = False) -> object:
        op = _Op(run, drain)
        self._server._submit(self, op)
        op.done.wait()
        if op.closing:
            self._closed.wait(self._server._close_wait)
            raise self._close_exc or ConnectionClosed(1006)
        if op.error is not None:
            raise op.error
        return op.result

    def recv(self, timeout: Optional[float] = None, decode: Optional[bool] = None) -> Message:
        """The next message (``str`` or ``bytes``; ``decode`` as websockets). Raises
        :class:`~wskit.ConnectionClosedOK` / ``ConnectionClosedError`` once closed and drained,
        :class:`TimeoutError` (:class:`~wskit.WskitTimeout`) after ``timeout`` seconds."""
        with self._cond:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._messages:
                if self._close_exc is not None:
                    raise self._close_exc
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise _status_error(Status.ERR_TIMEOUT, "timed out waiting for a message")
                self._cond.wait(left)
            message = self._messages.popleft()
            resume = self._paused and self._marks is not None and len(self._messages) <= self._marks[1]
            if resume:
                self._paused = False
        if resume:
            self._server._post(self._resume)
        if decode is True and isinstance(message, bytes):
            return message.decode()
        if decode is False and isinstance(message, str):
            return message.encode()
        return message

    def _resume(self) -> None:
        try:
            self._conn.resume_reading()
        except (NotFound, InvalidState):
            pass

    def __iter__(self) -> Iterator[Message]:
        """``for message in ws``: ends on a normal close, raises ``ConnectionClosedError``
        otherwise."""
        while True:
            try:
                yield self.recv()
            except ConnectionClosedOK:
                return

    def send(self, message: "Data | Iterable[Data]") -> None:
        """Sends ``str`` as text, bytes-like as binary, an iterable of them as one fragmented
        message. Returns once wskit took it and at most ``write_limit`` bytes wait to be sent.
        Raises :class:`~wskit.ConnectionClosed` when closed or closing."""
        conn = self._conn
        if isinstance(message, (str, bytes, bytearray, memoryview)):
            whole = message
            self._call(lambda: conn.send(whole), drain=True)
            return
        pieces = iter(message)
        first = next(pieces, None)
        if first is None:
            return
        text = isinstance(first, str)
        self._call(lambda: conn.begin("text" if text else "binary", first), drain=True)
        for piece in pieces:
            if isinstance(piece, str) != text:
                raise TypeError("all fragments of a message must be str, or all bytes-like")
            self._call(lambda: conn.write(piece), drain=True)
        self._call(lambda: conn.end(), drain=True)

    def ping(self, data: Optional[Data] = None) -> threading.Event:
        """Sends a ping; the returned :class:`threading.Event` is set when its pong (or the
        close) arrives: ``ws.ping().wait(timeout)``."""
        payload = os.urandom(4) if data is None else data.encode() if isinstance(data, str) else bytes(data)
        event = threading.Event()

        def run() -> None:
            if payload in self._pings:
                raise RuntimeError("already waiting for a pong with the same data")
            self._conn.ping(payload)
            self._pings[payload] = event
        self._call(run)
        return event

    def pong(self, data: Data = b"") -> None:
        conn = self._conn
        self._call(lambda: conn.pong(data))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Starts the closing handshake (if nothing did yet) and waits for the close (bounded
        by wskit's ``close_timeout``)."""
        def run() -> None:
            if self._sent_close is None and self._close_exc is None and self._conn.close(code, reason):
                self._sent_close = Close(code, reason)
        if self._close_exc is None:
            try:
                self._call(run)
            except ConnectionClosed:
                return
        self._closed.wait(self._server._close_wait)

    @property
    def close_code(self) -> Optional[int]:
        exc = self._close_exc
        return None if exc is None else exc.code

    @property
    def close_reason(self) -> Optional[str]:
        exc = self._close_exc
        return None if exc is None else exc.reason

    @property
    def closed(self) -> bool:
        return self._close_exc is not None


#: The handler of :func:`serve`: runs on its own thread per connection.
Handler = Callable[[ServerConnection], None]


class Server:
    """A threaded server (from :func:`serve`). :meth:`serve_forever` runs the loop on the calling
    thread until :meth:`shutdown`; ``with serve(...) as server`` shuts down on exit.
    ``port``: the bound port."""

    def __init__(self, handler: Handler, host: Optional[str], port: int, *, max_queue: QueueLimit,
                 write_limit: WriteLimit, close_timeout: float, process_request: Optional[Callable[[AcceptRequest], Any]],
                 http_handler: Optional[Callable[[HttpRequest], Any]], tracer: Optional[Callable[[Trace], None]],
                 listen_options: Any, unix_path: Optional[str] = None) -> None:
        self._handler = handler
        self._queue_marks = queue_marks(max_queue)
        self._write_marks = write_marks(write_limit)
        self._close_wait = close_timeout + 1.0
        self._calls: Deque[Tuple[Optional[ServerConnection], Any]] = collections.deque()
        self._wake_lock = threading.Lock()
        self._loop_done = False
        self._running = False
        self._shutdown = False
        self._finished = threading.Event()
        self._threads: Set[threading.Thread] = set()
        self._conns: Dict[int, ServerConnection] = {}
        self._stalled: Set[ServerConnection] = set()
        ctx = self._ctx = Context(handler_errors="log", on_open=self._opened, on_message=self._message,
                                  on_pong=self._pong, on_writable=self._writable, on_close=self._closed,
                                  on_error=self._error)
        try:
            if tracer is not None:
                ctx.set_tracer(tracer)  # runs on the loop thread
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
        except BaseException:
            ctx.close()
            raise

    def __repr__(self) -> str:
        where = f"path={self.path!r}" if self.path is not None else f"port={self.port}"
        return f"<wskit.sync.Server {where}>"

    # ----- handler threads -> loop -------------------------------------------------------------

    def _submit(self, ws: ServerConnection, op: _Op) -> None:
        with self._wake_lock:
            if not self._loop_done:
                self._calls.append((ws, op))
                self._ctx.wake()
                return
        op.closing = True
        op.done.set()

    def _post(self, fn: Callable[[], None]) -> None:
        """Runs ``fn`` on the loop thread soon (no answer)."""
        with self._wake_lock:
            if not self._loop_done:
                self._calls.append((None, fn))
                self._ctx.wake()

    def _run_calls(self) -> None:
        while self._calls:
            ws, item = self._calls.popleft()
            if ws is None:
                item()
            else:
                ws._outbox.append(item)
                self._stalled.add(ws)
        for stalled in list(self._stalled):
            if not stalled._pump_out():
                self._stalled.discard(stalled)

    # ----- loop thread: events -----------------------------------------------------------------

    def _opened(self, conn: WskitConnection) -> None:
        query = conn.query
        ws = ServerConnection(self, conn, Request(conn.path + (f"?{query}" if query is not None else ""),
                                                  conn.headers))
        self._conns[conn.id] = ws
        if self._shutdown and conn.close(1001):
            ws._sent_close = Close(1001, "")
        thread = threading.Thread(target=self._run_handler, args=(ws,), name=f"wskit-handler-{conn.id:#x}",
                                  daemon=True)
        self._threads.add(thread)
        thread.start()

    def _message(self, conn: WskitConnection, data: Message) -> None:
        ws = self._conns.get(conn.id)
        if ws is not None:
            ws._deliver(data)

    def _pong(self, conn: WskitConnection, payload: bytes) -> None:
        ws = self._conns.get(conn.id)
        if ws is not None:
            ws._pong(payload)

    def _writable(self, conn: WskitConnection) -> None:
        ws = self._conns.get(conn.id)
        if ws is not None:
            ws._await_writable = False

    def _closed(self, conn: WskitConnection, code: int, reason: str, clean: bool) -> None:
        ws = self._conns.pop(conn.id, None)
        if ws is not None:
            ws._on_close(code, reason, clean)
            self._stalled.discard(ws)

    def _error(self, conn: Optional[WskitConnection], err: Error) -> None:
        if conn is None:
            log.warning("wskit: %s", err)
        else:
            log.debug("wskit: connection %#x: %s", conn.id, err)

    def _run_handler(self, ws: ServerConnection) -> None:
        try:
            self._handler(ws)
        except Exception:
            log.error("connection handler failed", exc_info=True)
            ws.close(1011)
        else:
            ws.close(1000)
        finally:
            self._threads.discard(threading.current_thread())
            self._post(lambda: None)  # wake the loop: it may be waiting for handlers to end

    # ----- running -----------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Runs the loop on this thread until :meth:`shutdown`; then closes every connection
        with 1001, waits for the handlers (up to ``close_timeout``) and frees the context."""
        if self._running or self._loop_done:
            raise _status_error(Status.ERR_INVALID_STATE, "serve_forever() is already running or done")
        self._running = True
        ctx = self._ctx
        try:
            while not self._shutdown:
                ctx.poll(_POLL_SECONDS if not self._stalled else 0.01)
                self._run_calls()
            for ws in list(self._conns.values()):
                if ws._sent_close is None and ws._close_exc is None and ws._conn.close(1001):
                    ws._sent_close = Close(1001, "")
            ctx.begin_shutdown()  # listeners, and handshakes in progress
            deadline = time.monotonic() + self._close_wait
            while (ctx.connection_count > 0 or self._threads) and time.monotonic() < deadline:
                ctx.poll(0.01)
                self._run_calls()
        finally:
            with self._wake_lock:
                self._loop_done = True
            for owner, item in list(self._calls):
                if owner is not None:
                    item.closing = True
                    item.done.set()
            self._calls.clear()
            try:
                ctx.close()  # close events (1006) for connections still there
            finally:
                for ws in list(self._conns.values()):
                    ws._on_close(1006, "", False)
                self._conns.clear()
                self._finished.set()

    def shutdown(self) -> None:
        """Stops :meth:`serve_forever` (any thread) and, from a thread other than the loop's
        and the handlers', waits until it returned."""
        self._shutdown = True
        with self._wake_lock:
            if not self._loop_done:
                self._ctx.wake()
        if not self._running:
            if not self._loop_done:
                with self._wake_lock:
                    self._loop_done = True
                self._ctx.close()
                self._finished.set()
            return
        current = threading.current_thread()
        if current not in self._threads and not current.name.startswith("wskit-handler-"):
            self._finished.wait(self._close_wait + 5.0)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def connections(self) -> List[ServerConnection]:
        """The open connections (a snapshot)."""
        return list(self._conns.values())


def serve(handler: Handler, host: Optional[str] = "127.0.0.1", port: int = 0, *,
          subprotocols: Optional[Sequence[str]] = None, compression: Optional[str] = "deflate",
          process_request: Optional[Callable[[AcceptRequest], Any]] = None,
          http_handler: Optional[Callable[[HttpRequest], Any]] = None, open_timeout: Optional[float] = 10.0,
          ping_interval: Optional[float] = 20.0, ping_timeout: Optional[float] = 20.0,
          close_timeout: float = 10.0, max_size: Optional[int] = DEFAULT_MAX_SIZE,
          max_queue: QueueLimit = DEFAULT_MAX_QUEUE, write_limit: WriteLimit = DEFAULT_WRITE_LIMIT,
          ssl: SslArg = None, certfile: Optional[PathLike] = None, keyfile: Optional[PathLike] = None,
          cafile: Optional[PathLike] = None, tracer: Optional[Callable[[Trace], None]] = None,
          **options: Any) -> Server:
    """Listens on ``host:port`` (port 0: a free one, ``server.port``) and runs ``handler(ws)``
    on a thread per connection once :meth:`Server.serve_forever` runs. Options as
    :func:`wskit.aio.serve`."""
    listen_options = config_options(max_size=max_size, ping_interval=ping_interval, ping_timeout=ping_timeout,
                                    open_timeout=open_timeout, close_timeout=close_timeout)
    listen_options.update(server_tls(ssl, certfile, keyfile, cafile))
    listen_options["subprotocols"] = list(subprotocols or ())
    listen_options["compression"] = compression
    unix = options.pop("_unix", None)  # from unix_serve: (path, mode, remove_stale)
    listen_options.update(options)
    unix_path = None
    if unix is not None:
        unix_path, listen_options["mode"], listen_options["remove_stale"] = unix
    return Server(handler, host, port, max_queue=max_queue, write_limit=write_limit, close_timeout=close_timeout,
                  process_request=process_request, http_handler=http_handler, tracer=tracer,
                  listen_options=listen_options, unix_path=unix_path)


def unix_serve(handler: Handler, path: Optional[str] = None, *, mode: Optional[int] = None,
               remove_stale: bool = False, **kwargs: Any) -> Server:
    """Like :func:`serve`, on the Unix domain socket ``path`` (websockets' sync ``unix_serve``;
    ``@name``: a Linux abstract socket). ``mode``, ``remove_stale``: as
    :func:`wskit.aio.unix_serve`; the file is removed at shutdown. No TLS."""
    if path is None:
        raise TypeError("unix_serve needs the socket path")
    if kwargs.get("ssl") is not None or kwargs.get("certfile") is not None:
        raise ValueError("TLS over a Unix socket is not supported")
    return serve(handler, None, 0, _unix=(path, mode, remove_stale), **kwargs)


def connect(uri: str, *, additional_headers: Any = None, subprotocols: Optional[Sequence[str]] = None,
            origin: Optional[str] = None, compression: Optional[str] = "deflate",
            open_timeout: Optional[float] = 10.0, ping_interval: Optional[float] = 20.0,
            ping_timeout: Optional[float] = 20.0, close_timeout: Optional[float] = 10.0,
            max_size: Optional[int] = DEFAULT_MAX_SIZE, max_queue: QueueLimit = DEFAULT_MAX_QUEUE,
            ssl: SslArg = None, cafile: Optional[PathLike] = None, tracer: Optional[Callable[[Trace], None]] = None,
            **options: Any) -> ClientConnection:
    """The blocking client (:class:`wskit.ClientConnection`: ``send``, ``recv(timeout=)``,
    ``for message in ws``, ``ping()`` waiting for the pong, ``close``), with websockets'
    option names (as :func:`wskit.aio.connect`); other keyword options go to
    :meth:`wskit.Context.connect`. Returns once the handshake completed."""
    merged = config_options(max_size=max_size, ping_interval=ping_interval, ping_timeout=ping_timeout,
                            open_timeout=None, close_timeout=close_timeout)
    if additional_headers is not None:
        merged["headers"] = additional_headers
    if subprotocols:
        merged["subprotocols"] = list(subprotocols)
    if origin is not None:
        merged["origin"] = origin
    merged["compression"] = compression
    merged.update(options)
    return ClientConnection(uri, open_timeout=open_timeout, tracer=tracer, max_queue=max_queue, ssl=ssl,
                            cafile=cafile, **merged)


def unix_connect(path: Optional[str] = None, uri: Optional[str] = None, **kwargs: Any) -> ClientConnection:
    """Like :func:`connect`, over the Unix domain socket ``path`` (websockets' sync
    ``unix_connect``; ``@name``: abstract). ``uri`` (default ``"ws://localhost/"``) gives the
    ``Host`` header and the request path. No TLS."""
    if path is None:
        raise TypeError("unix_connect needs the socket path")
    if uri is None:
        uri = "ws://localhost/"
    if kwargs.get("ssl") is not None or uri.lower().startswith("wss:"):
        raise ValueError("TLS over a Unix socket is not supported")
    return connect(uri, unix_path=path, **kwargs)
