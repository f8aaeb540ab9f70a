"""The event loop (:class:`Context`): handlers, polling, listeners, clients, lifetime, and the
callback trampolines that turn C events into handler calls."""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from ctypes import byref, c_int, c_size_t, c_uint16, c_uint32, c_uint64
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from . import _native
from ._accept import AcceptRequest, Headers, Reject
from ._config import make_config, seconds_to_ms as _seconds_to_ms
from ._connection import Connection
from ._deflate import negotiated
from ._batch import Batch
from ._limits import check_uri
from ._reconnect import REASONS, ReconnectOptions, answer as _reconnect_answer
from ._http import HttpRequest, answer_from
from ._events import (
    AcceptEvent,
    CloseEvent,
    ErrorEvent,
    Event,
    FragmentEvent,
    HttpRequestEvent,
    ListenEvent,
    ReconnectEvent,
    UndeliveredEvent,
    MessageEvent,
    OpenEvent,
    PingEvent,
    PongEvent,
    QueueStats,
    Stats,
    Trace,
    WritableEvent,
)
from ._native import EventKind, QueueFlag, Status, TraceDirection, TraceKind, UndeliveredReason, bytes_of, lib, text_of
from ._proxy import fill_proxy_detail
from .errors import Error, HandshakeRejected, InvalidState, ProxyError

log = logging.getLogger("wskit")

F = TypeVar("F", bound=Callable[..., Any])

_EVENTS = ("listen", "accept", "open", "message", "fragment", "ping", "pong", "writable", "close", "error", "http",
           "reconnect", "undelivered")

#: Handler name -> the C setter of its event kind. REJECTED has no handler of its own: its data
#: ends up in the HandshakeRejected given to the error handler (the ERROR event follows it).
_SETTERS = {name: f"wskit_ctx_on_{name}" for name in _EVENTS + ("rejected",) if name != "http"}
_SETTERS["http"] = "wskit_ctx_on_http_request"

_QUEUE_POLICIES = {"pause": QueueFlag.PAUSE, "close": QueueFlag.CLOSE}


def _free_native(state: Dict[str, Any]) -> None:
    """Finalizer: frees the C context, then its remote, then lets the trampolines go (the C side
    cannot call them any more once the context is freed). Must not reference the Context."""
    ptr = state.pop("ctx", None)
    if ptr:
        lib.wskit_ctx_free(ptr)
    remote = state.pop("remote", None)
    if remote:
        lib.wskit_remote_free(remote)
    state.pop("trampolines", None)


class Context:
    """An event loop with its listeners, connections, timers and handlers (``wskit_ctx``).

    Use it from one thread (the loop thread); other threads may call :meth:`stop`,
    :meth:`wake` and :meth:`Connection.send_threadsafe`. Handlers are given as keyword arguments
    (``Context(on_message=f)``) or with decorators (``@ctx.on_message``); they run inside
    :meth:`poll`. An exception raised by a handler never unwinds into C: it is caught and, with
    ``handler_errors="raise"`` (default), re-raised by the :meth:`poll` / :meth:`run` call that ran
    the handler; with ``"log"`` it is logged to the ``wskit`` logger.

    Handler signatures: ``listen(listener_id, addr, port)``, ``accept(request) -> True | False |
    "subprotocol" | Reject | None`` (None accepts, False rejects with 403), ``open(conn)``,
    ``message(conn, data)`` (``str`` or ``bytes``), ``fragment(conn, data, is_text, first, last)``
    (streaming mode), ``ping(conn, payload)``, ``pong(conn, payload)``, ``writable(conn)``,
    ``close(conn, code, reason, clean)``, ``error(conn_or_None, error)``, ``http(request)`` (a
    plain HTTP request on a listener, :class:`~wskit.HttpRequest`: answer with
    ``request.respond(...)`` or return ``bytes``/``str``/``(status, body[, headers])``; returning
    None without answering gives the default answer, the listener's ``static_dir``, unless the
    handler called ``request.defer()`` to answer later, e.g. from a thread with
    ``request.respond_threadsafe(...)``), ``reconnect(conn, attempt, delay, error) -> None |
    seconds | False`` and ``undelivered(conn, data, reason)`` (clients connected with
    ``reconnect=True``: see :meth:`connect`).

    Queue mode (``Context(queue=max_bytes)``): no handlers; :meth:`poll` queues events, bounded
    by ``max_bytes`` bytes of their data, and :meth:`next_event` / :meth:`events` take them as
    typed objects (:class:`~wskit.MessageEvent`, ...). ``queue_overflow="pause"`` (default) stops
    reading sockets while the queue is full, nothing is lost; ``"close"`` closes a connection
    whose data would overflow it with 1013. :meth:`queue_stats` tells the counts. With
    ``queue_accept=True`` every upgrade request comes as an :class:`~wskit.AcceptEvent` and waits
    for ``event.request.accept()`` / ``.reject()`` (else requests are accepted with the
    listener's default subprotocol). With ``queue_http=True`` plain HTTP requests come as
    :class:`~wskit.HttpRequestEvent` and wait for ``event.request.respond(...)`` (else they get
    the default answer).

    ``close()`` frees it (also on ``with`` exit, and as a safety net when garbage collected).
    """

    def __init__(self, *, handler_errors: str = "raise", queue: Optional[int] = None, queue_overflow: str = "pause",
                 queue_accept: bool = False, queue_http: bool = False, **handlers: Optional[Callable[..., Any]]) -> None:
        if handler_errors not in ("raise", "log"):
            raise ValueError("handler_errors must be 'raise' or 'log'")
        if queue_overflow not in _QUEUE_POLICIES:
            raise ValueError("queue_overflow must be 'pause' or 'close'")
        if queue is not None and handlers:
            raise TypeError("a queue-mode Context takes no handlers (read ctx.events() instead)")
        self.queue_mode = queue is not None
        self.handler_errors = handler_errors
        self._handlers: Dict[str, Optional[Callable[..., Any]]] = dict.fromkeys(_EVENTS)
        for key, fn in handlers.items():
            name = key[3:] if key.startswith("on_") else key
            if name not in self._handlers:
                raise TypeError(f"unknown handler {key!r}")
            self._handlers[name] = fn
        self._conns: Dict[int, Connection] = {}
        self._pending: Dict[int, AcceptRequest] = {}
        self._listeners: Dict[Union[int, str], int] = {}  # port (or Unix socket path) -> listener id
        self._errors: List[BaseException] = []
        self._in_poll = False
        self._closed = False
        self._stopping = False
        self._lock = threading.Lock()
        self._tracer: Optional[Callable[[Trace], None]] = None
        self._batch: Optional[Batch] = None  # drain() and send_batched(), made at first use
        #: Called instead of writing at once after a send made outside poll (set by an event-loop
        #: driver such as wskit.aio's, which writes once per loop iteration for all of them).
        self._flush_hook: Optional[Callable[[], None]] = None

        ptr = _native.CtxP()
        lib.wskit_ctx_new(byref(ptr))
        state: Dict[str, Any] = {"ctx": ptr}
        self._state = state
        self._finalizer = weakref.finalize(self, _free_native, state)
        remote = _native.RemoteP()
        lib.wskit_remote_new(ptr, byref(remote))
        state["remote"] = remote
        self._ptr = ptr
        self._remote = remote
        # The trampolines: created once per context, kept alive in `state` until after
        # wskit_ctx_free (see _free_native). They hold only a weak reference to self.
        wself = weakref.ref(self)

        def on_event(user_data: Any, ctx: Any, event: Any) -> None:
            obj = wself()
            if obj is not None:
                try:
                    obj._callback(event.contents)
                except BaseException as exc:  # never unwind into C
                    obj._handler_failed(exc)

        def on_trace(user_data: Any, trace: Any) -> None:
            obj = wself()
            if obj is not None and obj._tracer is not None:
                try:
                    obj._tracer(_trace_of(trace.contents))
                except BaseException as exc:  # never unwind into C
                    obj._handler_failed(exc)

        event_fn = _native.wskit_event_fn(on_event)
        state["trampolines"] = [event_fn, _native.wskit_trace_fn(on_trace)]
        if queue is not None:
            flags = (_QUEUE_POLICIES[queue_overflow] | (QueueFlag.ACCEPT_EVENTS if queue_accept else 0)
                     | (QueueFlag.HTTP_EVENTS if queue_http else 0))
            lib.wskit_ctx_use_event_queue(ptr, queue, flags)
        else:
            for setter in _SETTERS.values():
                getattr(lib, setter)(ptr, event_fn, None)

    # ----- handler registration ----------------------------------------------------------

    def _decorator(name: str) -> Any:  # type: ignore[misc]
        def register(self: "Context", fn: F) -> F:
            if self.queue_mode:
                raise _native.error(Status.ERR_INVALID_STATE, "a queue-mode Context takes no handlers")
            self._handlers[name] = fn
            return fn
        register.__name__ = f"on_{name}"
        register.__doc__ = f"Decorator (or plain call) setting the {name} handler; returns the function."
        return register

    on_listen = _decorator("listen")
    on_accept = _decorator("accept")
    on_open = _decorator("open")
    on_message = _decorator("message")
    on_fragment = _decorator("fragment")
    on_ping = _decorator("ping")
    on_pong = _decorator("pong")
    on_writable = _decorator("writable")
    on_close = _decorator("close")
    on_error = _decorator("error")
    on_http = _decorator("http")
    on_reconnect = _decorator("reconnect")
    on_undelivered = _decorator("undelivered")
    del _decorator

    # ----- lifetime ----------------------------------------------------------------------

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Frees the context: listeners and connections are dropped at once (no closing
        handshake; call :meth:`shutdown` first for a graceful end). Idempotent. Not from inside
        a handler of this context (raises :class:`ReentrantCall`). In callback mode the close
        handler runs for each connection still there (code 1006, not clean), as wskit delivers
        their CLOSE events while freeing; calls on the context from it raise
        :class:`InvalidState`, and its exceptions are re-raised here."""
        if self._closed:
            return
        if self._in_poll:
            raise _native.error(Status.ERR_REENTRANT, "Context.close() called from one of its handlers")
        self._closed = True
        self._in_poll = True  # the CLOSE events of wskit_ctx_free run handlers
        try:
            self._finalizer()
        finally:
            self._in_poll = False
        for conn in self._conns.values():
            conn.closed = True
            conn.open = False
        self._conns.clear()
        self._pending.clear()
        self._raise_handler_error()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` freed the context."""
        return self._closed

    def _checked_ptr(self) -> Any:
        if self._closed:
            raise _native.error(Status.ERR_INVALID_STATE, "the context is closed")
        return self._ptr

    def _remote_ptr(self) -> Any:
        if self._closed:
            raise _native.error(Status.ERR_INVALID_STATE, "the context is closed")
        return self._remote

    # ----- driving the loop -------------------------------------------------------------

    def poll(self, timeout: Optional[float] = None) -> int:
        """Performs ready I/O, fires timers and runs handlers, waiting up to ``timeout`` seconds
        for something to happen (None blocks until something happens, 0 never blocks).
        Returns the number of events delivered. Re-raises the first exception a handler raised
        (``handler_errors="raise"``)."""
        ptr = self._checked_ptr()
        if self._in_poll:
            raise _native.error(Status.ERR_REENTRANT, "poll() called from one of this context's handlers")
        count = c_int()
        self._in_poll = True
        try:
            lib.wskit_ctx_poll(ptr, _seconds_to_ms(timeout), byref(count))
        finally:
            self._in_poll = False
        self._raise_handler_error()
        return count.value

    def run(self) -> None:
        """Polls until :meth:`stop` is called (from a handler or any thread) or the context is
        closed. Wakes at least every 0.5 s so that Ctrl-C is handled."""
        self._stopping = False
        while not self._stopping and not self._closed:
            self.poll(0.5)

    def stop(self) -> None:
        """Makes :meth:`run` return. Any thread (wakes a blocked poll through the remote)."""
        self._stopping = True
        self.wake()

    def wake(self) -> None:
        """Makes a blocked :meth:`poll` return. Any thread."""
        if not self._closed:
            try:
                lib.wskit_remote_wake(self._remote)
            except InvalidState:
                pass

    def fileno(self) -> int:
        """The context's epoll fd: readable when :meth:`poll` has work (for select/asyncio)."""
        fd = c_int()
        lib.wskit_ctx_fd(self._checked_ptr(), byref(fd))
        return fd.value

    def next_timeout(self) -> Optional[float]:
        """Seconds the host may sleep before timers need :meth:`poll` (None: no timer set)."""
        ms = c_int()
        lib.wskit_ctx_next_timeout_ms(self._checked_ptr(), byref(ms))
        return None if ms.value < 0 else ms.value / 1000.0

    def flush(self) -> None:
        """Writes what sends outside :meth:`poll` queued, as far as the sockets take it, after
        handing wskit the messages of :meth:`Connection.send_batched` (a refused one raises its
        error here, with the payload in its ``unsent``)."""
        ptr = self._checked_ptr()
        if self._batch is not None and self._batch.pending:
            self._batch.send_pending(ptr, None)
        lib.wskit_ctx_flush(ptr)

    def shutdown(self, timeout: float = 2.0) -> None:
        """Graceful shutdown, blocking up to ``timeout`` seconds: stops listeners, closes every
        connection with 1001 and polls (running handlers) until all are closed; the rest is
        dropped. The context stays usable. Not from inside a handler (use
        :meth:`begin_shutdown`)."""
        ptr = self._checked_ptr()
        if self._in_poll:
            raise _native.error(Status.ERR_REENTRANT, "shutdown() called from a handler; use begin_shutdown()")
        self._in_poll = True
        try:
            lib.wskit_ctx_shutdown(ptr, _seconds_to_ms(timeout) if timeout is not None else 2**32 - 1)
        finally:
            self._in_poll = False
        self._listeners.clear()
        self._raise_handler_error()

    def begin_shutdown(self) -> None:
        """Starts a graceful shutdown without blocking (keep polling until
        :attr:`connection_count` is 0). May be called from a handler."""
        lib.wskit_ctx_begin_shutdown(self._checked_ptr())
        self._listeners.clear()

    @property
    def connection_count(self) -> int:
        """Connections in any state (handshaking, open, closing)."""
        out = c_size_t()
        lib.wskit_ctx_connection_count(self._checked_ptr(), byref(out))
        return out.value

    def broadcast(self, conns: Sequence[Connection], data: Union[str, bytes, bytearray, memoryview]
                  ) -> List[Tuple[Connection, Error]]:
        """Sends one message (``str``: text, bytes-like: binary) to every connection of
        ``conns``, encoding it once: server connections that compress without context takeover
        (the listener default) share one compression of it. Returns the connections that did not
        take it, each with its error (e.g. :class:`WouldBlock` for a full send buffer: nothing is
        dropped silently, the caller decides); the others have it queued."""
        ptr = self._checked_ptr()
        count = len(conns)
        ids = (c_uint64 * max(count, 1))(*[c.id for c in conns])
        statuses = (_native.STATUS * max(count, 1))()
        failed = c_size_t()
        is_text = isinstance(data, str)
        raw = data.encode("utf-8") if isinstance(data, str) else _native.as_bytes(data)
        lib.wskit_ctx_broadcast(ptr, ids, count, is_text, raw, len(raw), statuses, byref(failed))
        if not self._in_poll:
            lib.wskit_ctx_flush(ptr)
        refused: List[Tuple[Connection, Error]] = []
        for conn, status in zip(conns, statuses[:count]):
            if status != 0:
                refused.append((conn, _native.make_error(status)))
        return refused

    @property
    def connections(self) -> List[Connection]:
        """The open connections (and client connections still connecting)."""
        return list(self._conns.values())

    def connection(self, conn_id: int) -> Connection:
        """The :class:`Connection` for an id (raises :class:`NotFound`)."""
        try:
            return self._conns[conn_id]
        except KeyError:
            raise _native.error(Status.ERR_NOT_FOUND, f"no connection {conn_id:#x}") from None

    # ----- listeners and clients ---------------------------------------------------------

    def listen(self, host: str = "127.0.0.1", port: Optional[int] = 0, *,
               tls: Optional[Tuple[str, str]] = None, tls_pem: Optional[Tuple[bytes, bytes]] = None,
               subprotocols: Sequence[str] = (), allowed_origins: Sequence[str] = (),
               **options: Any) -> int:
        """Starts listening and returns the bound port (``port`` 0 picks a free one; with
        ``port=None``, ``host`` is a whole address such as ``"127.0.0.1:9001"`` or ``"[::1]:0"``).

        ``tls=(cert_chain_path, key_path)`` (or ``tls_pem=(cert_bytes, key_bytes)``) serves wss://.
        ``subprotocols`` are the supported ones (by default the first the client offers that is
        listed is selected), ``allowed_origins`` an Origin allowlist (403 for others).
        Other options (see :func:`make_config`): ``max_message_size``, ``max_frame_size``,
        ``max_buffered``, ``low_water_mark``, ``read_pause_high_water`` (flow control: stop
        reading a connection while more than this many bytes wait to be sent, until they drain
        to ``low_water_mark``; 0 turns it off; default 1 MiB), ``handshake_timeout``, ``close_timeout``,
        ``ping_interval``, ``pong_timeout``, ``idle_timeout`` (seconds; close with 1001 when no
        whole message arrived for that long; default off), ``max_fragments`` (frames per message,
        1009 past it; default 131,072), ``streaming``, ``auto_pong``, ``backlog``,
        ``reuse_port``, ``max_connections``, ``max_request_header_bytes``, ``max_request_headers``,
        ``keep_request`` (keep the path and query for :attr:`Connection.path` / ``.query``) and
        ``keep_headers`` (request header names to keep for :attr:`Connection.headers`; ``["*"]``
        keeps all). What is not kept raises :class:`Unavailable` after the open event.
        ``compression="deflate"`` (default) answers permessage-deflate offers asking for no
        context takeover both ways (an idle connection then holds no compression state);
        ``compression=None`` declines them; ``deflate=DeflateOptions(...)`` tunes it.
        Plain HTTP on the same port: ``static_dir`` (a directory served to GET/HEAD requests the
        ``http`` handler leaves to the default), ``max_http_body`` (bytes; 413 beyond; default
        1 MiB), ``http_keep_alive`` (seconds an idle keep-alive connection is kept; default 15).
        """
        if port is None:
            addr = host
        else:
            addr = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        config = make_config(tls=tls, tls_pem=tls_pem, subprotocols=subprotocols,
                             allowed_origins=allowed_origins, **options)
        listener = c_uint32()
        try:
            raw = addr.encode()
            lib.wskit_ctx_listen(self._checked_ptr(), raw, len(raw), config, byref(listener))
        finally:
            lib.wskit_config_free(config)
        bound = c_uint16()
        lib.wskit_ctx_local_port(self._ptr, listener.value, byref(bound))
        self._listeners[bound.value] = listener.value
        return bound.value

    def listen_unix(self, path: Union[str, "os.PathLike[str]"], *, mode: Optional[int] = None,
                    remove_stale: bool = False, subprotocols: Sequence[str] = (),
                    allowed_origins: Sequence[str] = (), **options: Any) -> str:
        """Starts listening on the Unix domain socket ``path`` and returns it (a path starting
        with ``@`` is a Linux abstract socket: no file). ``mode`` sets the socket file's
        permission bits (e.g. ``0o660``) before any process can connect (default: what the umask
        leaves); ``remove_stale=True`` replaces a socket file nobody listens on (never anything
        else). The file is removed when the listener closes (:meth:`close_listener` with the
        path, shutdown, :meth:`close`) if it is still the one created here. Other options as for
        :meth:`listen` (no TLS over Unix sockets). Connections accepted on it have no address:
        their ``peer`` is ``""``."""
        from ._unix import listen_unix

        return listen_unix(self, path, mode=mode, remove_stale=remove_stale, subprotocols=subprotocols,
                           allowed_origins=allowed_origins, **options)

    def close_listener(self, port: Union[int, str]) -> None:
        """Stops accepting on the listener bound to ``port`` (or the Unix socket path given to
        :meth:`listen_unix`); its connections stay open."""
        listener = self._listeners.pop(port, None)
        if listener is None:
            raise _native.error(Status.ERR_NOT_FOUND, f"no listener on {port}")
        lib.wskit_ctx_close_listener(self._checked_ptr(), listener)

    def connect(self, url: str, *, subprotocols: Sequence[str] = (),
                headers: Optional[Union[Mapping[str, str], Sequence[Tuple[str, str]]]] = None,
                origin: Optional[str] = None, ca_file: Optional[str] = None, ca_pem: Optional[bytes] = None,
                insecure_skip_verify: bool = False, user_data: Any = None, **options: Any) -> Connection:
        """Opens a client connection to a ``ws://`` or ``wss://`` URL (or
        ``ws+unix:///path/to.sock:/request/path``, see :meth:`connect_unix`) and returns its
        :class:`Connection` at once; the open event (or an error event, then a close event
        with 1006) follows during :meth:`poll`.

        ``subprotocols`` are offered in order, ``headers`` added to the request, ``origin`` sent
        as ``Origin``. wss://: the system trust store by default, or ``ca_file`` / ``ca_pem``;
        ``insecure_skip_verify=True`` accepts any certificate (local tests only). Other options
        as for :meth:`listen` (``max_message_size``, ``handshake_timeout``, ``streaming``,
        ``compression``, ``deflate``, ...). A client offers permessage-deflate by default (context
        takeover, 12-bit windows); ``compression=None`` does not.

        Reconnect (off by default; docs/reconnect.md): ``reconnect=True`` reconnects when the
        connection drops or an attempt fails (the first included), keeping this
        :class:`Connection`: the delay before attempt n is random in ``[reconnect_min_delay,
        min(reconnect_max_delay, reconnect_min_delay * 2**(n-1))]`` seconds (0.5 and 30 by
        default), ``reconnect_max_attempts`` in a row (None: no limit), the count reset by a
        connection that stayed up ``reconnect_stable_after`` seconds (10). The open event comes
        again after each reconnect, the close event once, at the end. While not open, sends raise
        :class:`NotConnected` unless ``offline_queue`` (bytes) > 0: then they are queued and sent
        in order after the next open, the oldest dropped when it is full. ``on_reconnect(conn,
        attempt, delay, error)`` runs before each attempt (return None to go on, a number of
        seconds for another delay, False to stop); ``on_undelivered(conn, data, reason)`` for each
        queued message dropped (``"queue_full"``, ``"exhausted"``, ``"stopped"``). The context's
        own ``reconnect`` / ``undelivered`` handlers, when set, run instead of these.
        """
        check_uri(url)  # InvalidURI (an InvalidArgument) before anything is set up
        reconnect = ReconnectOptions.take(options)
        config = make_config(subprotocols=subprotocols, headers=headers, origin=origin, ca_file=ca_file,
                             ca_pem=ca_pem, insecure_skip_verify=insecure_skip_verify, **options)
        conn_id = c_uint64()
        try:
            if reconnect is not None:
                reconnect.apply(config)
            raw = url.encode()
            lib.wskit_ctx_connect(self._checked_ptr(), raw, len(raw), config, byref(conn_id))
        finally:
            lib.wskit_config_free(config)
        conn = Connection(self, conn_id.value, is_client=True, url=url)
        conn._reconnect = reconnect
        conn.user_data = user_data
        self._conns[conn.id] = conn
        return conn

    def connect_unix(self, path: Union[str, "os.PathLike[str]"], url: str = "ws://localhost/", **options: Any) -> Connection:
        """Opens a client connection over the Unix domain socket ``path`` (``@name``: abstract),
        sending the request of the ``ws://`` ``url`` (its host in ``Host``, its path and query in
        the request line), as websockets' ``unix_connect(path, uri)``. :meth:`connect` with a
        ``ws+unix:///path/to.sock:/request/path`` URL does the same with ``Host: localhost``.
        Options as for :meth:`connect`."""
        from ._unix import connect_unix

        return connect_unix(self, path, url, **options)

    # ----- handler errors ------------------------------------------------------------------

    def _handler_failed(self, exc: BaseException) -> None:
        if self.handler_errors == "log" and isinstance(exc, Exception):
            log.error("wskit: exception in a handler", exc_info=exc)
        else:
            self._errors.append(exc)

    def _raise_handler_error(self) -> None:
        if self._errors:
            first, rest = self._errors[0], self._errors[1:]
            self._errors = []
            for exc in rest:
                log.error("wskit: further exception in a handler", exc_info=exc)
            raise first

    def _call(self, name: str, *args: Any) -> Any:
        fn = self._handlers[name]
        return fn(*args) if fn is not None else None

    # ----- queue mode -------------------------------------------------------------------

    def next_event(self, timeout: Optional[float] = None) -> Optional[Event]:
        """Queue mode: the next event, polling (up to ``timeout`` seconds; None waits until
        something happens) when none is queued. None when nothing came in time or :meth:`stop`
        was called."""
        if not self.queue_mode:
            raise _native.error(Status.ERR_INVALID_STATE, "next_event() needs a queue-mode Context")
        deadline = None if timeout is None else time.monotonic() + timeout
        raw = _native.wskit_event()
        while True:
            ptr = self._checked_ptr()
            while lib.wskit_ctx_next_event(ptr, byref(raw)) == Status.OK:
                event = self._decode(raw)
                if event is not None:
                    return event
            # A poll may queue nothing (half a message read, a write, a timer): poll again
            # until the deadline.
            left = None if deadline is None else deadline - time.monotonic()
            if self._stopping or (left is not None and left <= 0):
                return None
            self.poll(left)

    def events(self, timeout: Optional[float] = None) -> Iterator[Event]:
        """Queue mode: yields events as they come, until :meth:`stop` is called or the context
        is closed; with ``timeout``, also once ``timeout`` seconds passed without an event."""
        self._stopping = False
        while not self._stopping and not self._closed:
            event = self.next_event(timeout)
            if event is not None:
                yield event
            elif timeout is not None:
                return

    def drain(self, timeout: Optional[float] = None, max_events: int = 1024, zero_copy: bool = False) -> List[Event]:
        """Queue mode, the fast path: every event one poll brings, as a list, with a single
        call into C to take them (``wskit_ctx_next_events``) instead of one per event.

        First hands wskit the messages of :meth:`Connection.send_batched` (one
        ``wskit_ctx_send_batch`` call); then polls once (waiting up to ``timeout`` seconds, None:
        until something happens; not at all while events are still queued), which writes them,
        reads the sockets and queues what arrived; then takes up to ``max_events`` events. An
        empty list means nothing came in time. The events are the typed ones of
        :meth:`next_event` (a message's data is ``str`` or ``bytes``, copied out: it stays valid).
        A batched message wskit refused (:class:`WouldBlock` for a full send buffer,
        :class:`NotFound` for a closed connection, ...) comes back as an :class:`ErrorEvent`,
        first in the list, whose ``error.unsent`` holds the payload: nothing is dropped
        silently. Not from a handler.

        ``zero_copy=True``: the data of a binary message of 16 KiB or more is a ``memoryview``
        of wskit's own copy instead of ``bytes`` (smaller ones stay ``bytes``, cheaper to make
        than a view; text stays ``str``): no copy into Python. A view is valid only until the next ``drain()``, :meth:`poll`, :meth:`next_event`,
        :meth:`shutdown` or :meth:`close`: copy it (``bytes(view)``) to keep it longer; reading it
        later reads freed memory. ``send_batched(view)`` sends it without a copy (the next
        ``drain()`` hands it to wskit before taking new events)."""
        if not self.queue_mode:
            raise _native.error(Status.ERR_INVALID_STATE, "drain() needs a queue-mode Context")
        batch = self._batch_for(max_events)
        return batch.drain(timeout, zero_copy)

    def _batch_for(self, max_events: Optional[int] = None) -> Batch:
        batch = self._batch
        if batch is None:
            batch = self._batch = Batch(self, 1024 if max_events is None else max_events)
        elif max_events is not None and max_events != batch.cap:
            batch.resize(max_events)
        return batch

    def queue_stats(self) -> QueueStats:
        """Queue mode: events and bytes queued now, the peak bytes, and how many times the byte
        bound was hit (``wskit_ctx_queue_stats``)."""
        out = _native.wskit_queue_stats()
        lib.wskit_ctx_queue_stats(self._checked_ptr(), byref(out))
        return QueueStats(out.events, out.bytes, out.peak_bytes, out.overflows)

    def stats(self) -> Stats:
        """What the context holds now (``wskit_ctx_stats``): connections, listeners, timer
        entries, pooled send buffers, held input, pending events, accept back-offs."""
        out = _native.wskit_stats()
        lib.wskit_ctx_stats(self._checked_ptr(), byref(out))
        return Stats(*(getattr(out, field[0]) for field in out._fields_))

    # ----- tracing -------------------------------------------------------------------------

    def set_tracer(self, tracer: Optional[Callable[[Trace], None]]) -> None:
        """Calls ``tracer(trace)`` (a :class:`~wskit.Trace`) with every handshake's bytes and every
        frame header, both directions, on every connection; None turns it off (off costs
        nothing). It runs inside whichever call moves the bytes (poll, a send, ...) and must not
        call this context (print or log). Its exceptions are handled like a handler's."""
        self._tracer = tracer
        fn = self._state["trampolines"][1] if tracer is not None else _native.wskit_trace_fn()
        lib.wskit_ctx_set_tracer(self._checked_ptr(), fn, None)

    # ----- C events: one decoder for callbacks and the queue --------------------------------

    def _callback(self, e: Any) -> None:
        if e.kind == EventKind.ACCEPT:
            self._accept(AcceptRequest._from_event(self, e))
            return
        if e.kind == EventKind.HTTP_REQUEST:
            self._http(HttpRequest(self, e))
            return
        event = self._decode(e)
        if event is not None:
            self._deliver(event)

    def _decode(self, e: Any) -> Optional[Event]:
        """The typed event for a ``wskit_event`` (copied out of it), updating the connections;
        None for events of connections the binding does not know and for REJECTED (its data
        goes into the ERROR event's HandshakeRejected, which follows)."""
        kind = e.kind
        if kind == EventKind.LISTEN:
            return ListenEvent(e.listener, text_of(e.data, e.len), e.code)
        if kind == EventKind.ACCEPT:
            req = AcceptRequest._from_event(self, e)
            self._track_pending(req)
            return AcceptEvent(req)
        if kind == EventKind.ERROR:
            return self._error_event(e)
        if kind == EventKind.HTTP_REQUEST:
            return HttpRequestEvent(HttpRequest(self, e))
        conn = self._conns.get(e.conn)
        if kind == EventKind.OPEN:
            self._pending.pop(e.conn, None)
            if conn is None:
                conn = Connection(self, e.conn, is_client=False, listener=e.listener)
                self._conns[e.conn] = conn
            conn.subprotocol = text_of(e.subprotocol, e.subprotocol_len) if e.subprotocol else None
            if conn.reconnecting:
                conn.reconnecting = False
                conn.reconnects += 1
                conn._info.clear()  # what was read of the previous connection (headers, ...)
            conn._info["deflate"] = negotiated(self._ptr, e.conn)
            conn.open = conn.was_opened = True
            return OpenEvent(conn, text_of(e.path, e.path_len) or "/",
                             text_of(e.query, e.query_len) if e.query else None, text_of(e.peer, e.peer_len),
                             Headers(_native.header_pairs(e.headers, e.header_count)))
        if kind == EventKind.CLOSE:
            self._pending.pop(e.conn, None)
            conn = self._conns.pop(e.conn, None)
            if conn is None:
                return None
            conn.open = False
            conn.closed = True
            conn.close_code = e.code
            conn.close_reason = text_of(e.data, e.len)
            conn.close_clean = e.clean
            return CloseEvent(conn, e.code, conn.close_reason, e.clean)
        if conn is None:
            return None
        if kind == EventKind.MESSAGE:
            raw = bytes_of(e.data, e.len)
            return MessageEvent(conn, raw.decode("utf-8") if e.is_text else raw)
        if kind == EventKind.FRAGMENT:
            return FragmentEvent(conn, bytes_of(e.data, e.len), e.is_text, e.first, e.last)
        if kind == EventKind.PING:
            return PingEvent(conn, bytes_of(e.data, e.len))
        if kind == EventKind.PONG:
            return PongEvent(conn, bytes_of(e.data, e.len))
        if kind == EventKind.WRITABLE:
            return WritableEvent(conn)
        if kind == EventKind.RECONNECT:
            conn.open = False
            conn.reconnecting = True
            return ReconnectEvent(conn, e.code, e.listener / 1000.0, text_of(e.data, e.len))
        if kind == EventKind.UNDELIVERED:
            raw = bytes_of(e.data, e.len)
            return UndeliveredEvent(conn, raw.decode("utf-8") if e.is_text else raw,
                                    REASONS.get(UndeliveredReason(e.code), "stopped"))
        if kind == EventKind.REJECTED:
            conn._rejection = (e.code, Headers(_native.header_pairs(e.headers, e.header_count)),
                               bytes_of(e.data, e.len))
            return None
        return None  # a kind newer than this binding

    def _error_event(self, e: Any) -> ErrorEvent:
        conn = self._conns.get(e.conn) if e.conn else None
        err: Error = _native.make_error(e.code, text_of(e.data, e.len))
        if conn is not None:
            if isinstance(err, HandshakeRejected) and conn._rejection is not None:
                err.status, err.headers, err.body = conn._rejection
            if isinstance(err, ProxyError):
                fill_proxy_detail(err, _native.header_pairs(e.headers, e.header_count))
            conn.error = err
        return ErrorEvent(conn, err)

    def _deliver(self, event: Event) -> None:
        """Calls the handler of a (callback-mode) event with its fields."""
        if isinstance(event, MessageEvent):
            self._call("message", event.conn, event.data)
        elif isinstance(event, OpenEvent):
            # During the open event everything is readable, kept or not (as in C).
            event.conn._event_info = {"path": event.path, "query": event.query, "headers": event.headers}
            try:
                self._call("open", event.conn)
            finally:
                event.conn._event_info = None
        elif isinstance(event, CloseEvent):
            self._call("close", event.conn, event.code, event.reason, event.clean)
        elif isinstance(event, FragmentEvent):
            self._call("fragment", event.conn, event.data, event.is_text, event.first, event.last)
        elif isinstance(event, PingEvent):
            self._call("ping", event.conn, event.payload)
        elif isinstance(event, PongEvent):
            self._call("pong", event.conn, event.payload)
        elif isinstance(event, WritableEvent):
            self._call("writable", event.conn)
        elif isinstance(event, ListenEvent):
            self._call("listen", event.listener, event.address, event.port)
        elif isinstance(event, ReconnectEvent):
            options = event.conn._reconnect
            fn = self._handlers["reconnect"] or (options.on_reconnect if options is not None else None)
            if fn is not None:
                _reconnect_answer(event.conn, fn(event.conn, event.attempt, event.delay, event.error))
        elif isinstance(event, UndeliveredEvent):
            options = event.conn._reconnect
            fn = self._handlers["undelivered"] or (options.on_undelivered if options is not None else None)
            if fn is not None:
                fn(event.conn, event.data, event.reason)
        elif isinstance(event, ErrorEvent):
            if self._handlers["error"] is not None:
                self._call("error", event.conn, event.error)
            elif event.conn is None:
                log.warning("wskit: %s", event.error)

    def _accept(self, req: AcceptRequest) -> None:
        """The ACCEPT callback: the handler's answer decides now."""
        fn = self._handlers["accept"]
        decision: Any = None
        if fn is not None:
            try:
                decision = fn(req)
            except Reject as rej:
                decision = rej
            except BaseException:
                req.reject(500, "internal error")
                raise
        if req.state == "deferred":
            self._track_pending(req)
            return
        if req.state != "pending":  # the handler called accept() or reject() itself
            return
        if decision is False:
            decision = Reject(403, "forbidden")
        if isinstance(decision, Reject):
            req.reject(decision.status, decision.body, decision.headers)
        elif isinstance(decision, str):
            req.accept(decision)
        elif decision in (None, True):
            if req.response_headers:
                req.accept()
            # else: returning without a decision accepts with the default subprotocol
        else:
            raise TypeError(f"accept handler returned {decision!r}; expected True, False, a subprotocol name, "
                            "a Reject or None")

    def _http(self, request: HttpRequest) -> None:
        """The HTTP_REQUEST callback: the handler answers, returns the answer, defers, or leaves
        the request to the default answer."""
        fn = self._handlers["http"]
        try:
            result = fn(request) if fn is not None else None
        except BaseException:
            if request.state == "pending":
                request.respond(500, "internal error\n")
            raise
        answer_from(request, result)

    def _http_answered(self, request: HttpRequest) -> None:
        if not self._in_poll:
            lib.wskit_ctx_flush(self._checked_ptr())

    def _track_pending(self, req: AcceptRequest) -> None:
        """A request waiting for a later decision: its connection gets user data so that wskit
        sends a CLOSE event when it ends undecided (handshake timeout, peer gone), which drops it
        from ``_pending``."""
        lib.wskit_conn_set_user_data(self._ptr, req.conn_id, _PENDING_MARK)
        self._pending[req.conn_id] = req

    @property
    def pending_requests(self) -> List[AcceptRequest]:
        """Upgrade requests waiting for :meth:`AcceptRequest.accept` / ``reject`` (deferred, or
        queued with ``queue_accept=True``)."""
        return list(self._pending.values())

    def _request_decided(self, req: AcceptRequest) -> None:
        self._pending.pop(req.conn_id, None)
        if not self._in_poll:
            lib.wskit_ctx_flush(self._checked_ptr())


#: Any non-NULL user data: set on connections whose request waits (see _track_pending).
_PENDING_MARK = 1

_TRACE_KINDS = {TraceKind.HANDSHAKE: "handshake", TraceKind.FRAME: "frame"}
_TRACE_DIRECTIONS = {TraceDirection.RECEIVED: "in", TraceDirection.SENT: "out"}


def _trace_of(t: Any) -> Trace:
    return Trace(t.conn, _TRACE_KINDS.get(t.kind, str(t.kind)), _TRACE_DIRECTIONS.get(t.direction, str(t.direction)),
                 t.opcode, t.fin, t.rsv, t.payload_len, bytes_of(t.data, t.len))
