"""A simple blocking client for scripts: ``with wskit.connect(url) as ws: ws.send("hi"); ws.recv()``."""

from __future__ import annotations

import collections
import time
from typing import Any, Callable, Deque, Iterator, Optional, Union

from . import _native
from ._connection import Connection, Data
from ._events import Trace
from ._limits import DEFAULT_MAX_QUEUE, QueueLimit, queue_marks
from ._loop import Context
from ._native import Status
from ._tls import PathLike, SslArg, client_tls
from .errors import Close, ConnectionClosed, ConnectionClosedOK, Error, InvalidState, NotFound, WouldBlock, closed_error

Message = Union[str, bytes]


class ClientConnection:
    """A client connection with its own :class:`Context`, driven by the calls made on it
    (``recv`` polls until a message arrives). Not thread-safe: use it from one thread.

    Messages received and not yet taken by :meth:`recv` wait in a queue bounded by
    ``max_queue`` (16 messages, as websockets; ``(high, low)``; None: unbounded): when it is
    full, reading the connection pauses (TCP pushes back on the server) until :meth:`recv`
    drained it to ``low``. Nothing is dropped."""

    def __init__(self, url: str, *, open_timeout: Optional[float] = 10.0,
                 tracer: Optional[Callable[[Trace], None]] = None, max_queue: QueueLimit = DEFAULT_MAX_QUEUE,
                 ssl: SslArg = None, cafile: Optional[PathLike] = None, **options: Any) -> None:
        self._marks = queue_marks(max_queue)
        self._paused = False
        self._sent_close: Optional[Close] = None
        #: Most messages that ever waited in the queue.
        self.peak_queued = 0
        for key, value in client_tls(ssl, cafile).items():
            options.setdefault(key, value)
        self._messages: Deque[Message] = collections.deque()
        self._pongs: Deque[bytes] = collections.deque()
        self._writable = False
        self._ctx = Context(on_message=self._on_message, on_pong=self._on_pong, on_writable=self._on_writable)
        try:
            if tracer is not None:
                self._ctx.set_tracer(tracer)
            if open_timeout is not None:
                options.setdefault("handshake_timeout", open_timeout)
            unix_path = options.pop("unix_path", None)  # wskit.sync.unix_connect
            if unix_path is not None:
                self._conn: Connection = self._ctx.connect_unix(unix_path, url, **options)
            else:
                self._conn = self._ctx.connect(url, **options)
            deadline = None if open_timeout is None else time.monotonic() + open_timeout + 1.0
            while not self._conn.was_opened and not self._conn.closed:
                self._ctx.poll(self._remaining(deadline, "opening handshake"))
            if not self._conn.was_opened:
                raise self._conn.error or ConnectionClosed(self._conn.close_code or 1006, self._conn.close_reason)
        except BaseException:
            self._ctx.close()
            raise

    # handlers (run inside poll)
    def _on_message(self, conn: Connection, data: Message) -> None:
        if self._sent_close is not None and self._marks is not None and len(self._messages) >= self._marks[0]:
            return  # closing with a full queue (closing resumed reading): not queued past max_queue
        self._messages.append(data)
        queued = len(self._messages)
        self.peak_queued = max(self.peak_queued, queued)
        if self._marks is not None and not self._paused and queued >= self._marks[0]:
            self._paused = True
            conn.pause_reading()  # the rest of this read stays inside wskit

    def _on_pong(self, conn: Connection, payload: bytes) -> None:
        self._pongs.append(payload)

    def _on_writable(self, conn: Connection) -> None:
        self._writable = True

    @staticmethod
    def _remaining(deadline: Optional[float], what: str) -> Optional[float]:
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise _native.error(Status.ERR_TIMEOUT, f"timed out waiting for {what}")
        return left

    # ----- public API ------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """The underlying :class:`Connection` (id, subprotocol, path, remote_address, ...)."""
        return self._conn

    @property
    def subprotocol(self) -> Optional[str]:
        return self._conn.subprotocol

    @property
    def closed(self) -> bool:
        return self._conn.closed

    def _check_open(self) -> None:
        if self._conn.closed or self._ctx.closed:
            c = self._conn
            raise closed_error(c.close_code or 1006, c.close_reason, c.close_clean, self._sent_close)

    def send(self, data: Data, timeout: Optional[float] = None) -> None:
        """Sends ``str`` as text or bytes as binary. When the send buffer is full, polls until
        it drains (up to ``timeout`` seconds)."""
        self._check_open()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                self._conn.send(data)
                return
            except WouldBlock:
                self._writable = False
                while not self._writable:
                    self._check_open()
                    self._ctx.poll(self._remaining(deadline, "the send buffer to drain"))

    def recv(self, timeout: Optional[float] = None) -> Message:
        """The next message (``str`` or ``bytes``). Raises :class:`ConnectionClosed` (with
        ``code``/``reason``) once the connection is closed and every message was read, and
        :class:`WskitTimeout` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._messages:
            self._check_open()
            self._ctx.poll(self._remaining(deadline, "a message"))
        message = self._messages.popleft()
        if self._paused and self._marks is not None and len(self._messages) <= self._marks[1]:
            self._paused = False
            try:
                self._conn.resume_reading()
            except (NotFound, InvalidState):
                pass  # closed meanwhile
        return message

    def ping(self, payload: Data = b"", timeout: Optional[float] = 10.0) -> None:
        """Sends a ping and waits for its pong."""
        payload_bytes = payload.encode() if isinstance(payload, str) else bytes(payload)
        self._conn.ping(payload_bytes)
        deadline = None if timeout is None else time.monotonic() + timeout
        while payload_bytes not in self._pongs:
            self._check_open()
            self._ctx.poll(self._remaining(deadline, "the pong"))
        self._pongs.remove(payload_bytes)

    def close(self, code: int = 1000, reason: str = "", timeout: float = 5.0) -> None:
        """Closing handshake (waits up to ``timeout`` seconds), then frees the context."""
        if self._ctx.closed:
            return
        try:
            if not self._conn.closed:
                if self._conn.close(code, reason) and self._sent_close is None:
                    self._sent_close = Close(code, reason)
                deadline = time.monotonic() + timeout
                while not self._conn.closed and time.monotonic() < deadline:
                    self._ctx.poll(max(0.0, deadline - time.monotonic()))
        finally:
            self._ctx.close()

    def __iter__(self) -> Iterator[Message]:
        """Yields messages until the connection closes: ends on a normal close
        (:class:`ConnectionClosedOK`), raises :class:`ConnectionClosedError` otherwise (as
        websockets)."""
        while True:
            try:
                yield self.recv()
            except ConnectionClosedOK:
                return

    def __enter__(self) -> "ClientConnection":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.close()
        except Error:
            if exc_type is None:
                raise


def connect(url: str, **options: Any) -> ClientConnection:
    """Opens a blocking client connection (returns once the handshake completed; raises
    :class:`HandshakeRejected` (alias :class:`InvalidStatus`), :class:`InvalidURI`,
    :class:`NetworkError`, :class:`TLSError`, ...). Options as for :meth:`Context.connect` plus
    ``open_timeout`` (seconds, default 10), ``max_queue`` (see :class:`ClientConnection`),
    ``ssl`` / ``cafile`` (see :func:`wskit.aio.connect`) and ``tracer`` (see
    :meth:`Context.set_tracer`: sees the handshake and every frame header)."""
    return ClientConnection(url, **options)
