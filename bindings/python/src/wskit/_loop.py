"""The event loop (:class:`Context`): handlers, polling, listeners, clients, lifetime, and the
callback trampolines that turn C events into handler calls."""

from __future__ import annotations

import ctypes
import logging
import threading
import weakref
from ctypes import byref, c_int, c_size_t, c_uint16, c_uint32, c_uint64
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from . import _native
from ._accept import AcceptRequest, Reject
from ._config import make_config, seconds_to_ms as _seconds_to_ms
from ._connection import Connection
from ._native import Status, lib, text as _text
from .errors import InvalidState, NotFound

log = logging.getLogger("wskit")

F = TypeVar("F", bound=Callable[..., Any])

_EVENTS = ("listen", "accept", "open", "message", "fragment", "ping", "pong", "writable", "close", "error")


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
    ``close(conn, code, reason, clean)``, ``error(conn_or_None, error)``.

    ``close()`` frees it (also on ``with`` exit, and as a safety net when garbage collected).
    """

    def __init__(self, *, handler_errors: str = "raise", **handlers: Optional[Callable[..., Any]]) -> None:
        if handler_errors not in ("raise", "log"):
            raise ValueError("handler_errors must be 'raise' or 'log'")
        self.handler_errors = handler_errors
        self._handlers: Dict[str, Optional[Callable[..., Any]]] = dict.fromkeys(_EVENTS)
        for key, fn in handlers.items():
            name = key[3:] if key.startswith("on_") else key
            if name not in self._handlers:
                raise TypeError(f"unknown handler {key!r}")
            self._handlers[name] = fn
        self._conns: Dict[int, Connection] = {}
        self._pending: Dict[int, AcceptRequest] = {}
        self._listeners: Dict[int, int] = {}  # port -> listener id
        self._errors: List[BaseException] = []
        self._in_poll = False
        self._closed = False
        self._stopping = False
        self._lock = threading.Lock()

        ptr = _native.CtxP()
        lib.wskit_ctx_new(byref(ptr))
        state: Dict[str, Any] = {"ctx": ptr}
        self._state = state
        self._finalizer = weakref.finalize(self, _free_native, state)
        remote = _native.RemoteP()
        lib.wskit_ctx_remote_new(ptr, byref(remote))
        state["remote"] = remote
        self._ptr = ptr
        self._remote = remote
        # The trampolines: created once per context, kept alive in `state` until after
        # wskit_ctx_free (see _free_native). They hold only a weak reference to self.
        wself = weakref.ref(self)

        def tramp(ctype: Any, method: str) -> Any:
            def call(*args: Any) -> None:
                obj = wself()
                if obj is not None:
                    try:
                        getattr(obj, method)(*args[2:])
                    except BaseException as exc:  # never unwind into C
                        obj._handler_failed(exc)
            return ctype(call)

        trampolines = [
            (lib.wskit_ctx_on_listen, tramp(_native.on_listen_fn, "_c_listen")),
            (lib.wskit_ctx_on_accept, tramp(_native.on_accept_fn, "_c_accept")),
            (lib.wskit_ctx_on_open, tramp(_native.on_open_fn, "_c_open")),
            (lib.wskit_ctx_on_message, tramp(_native.on_message_fn, "_c_message")),
            (lib.wskit_ctx_on_fragment, tramp(_native.on_fragment_fn, "_c_fragment")),
            (lib.wskit_ctx_on_ping, tramp(_native.on_control_fn, "_c_ping")),
            (lib.wskit_ctx_on_pong, tramp(_native.on_control_fn, "_c_pong")),
            (lib.wskit_ctx_on_writable, tramp(_native.on_writable_fn, "_c_writable")),
            (lib.wskit_ctx_on_close, tramp(_native.on_close_fn, "_c_close")),
            (lib.wskit_ctx_on_error, tramp(_native.on_error_fn, "_c_error")),
        ]
        state["trampolines"] = [cb for _, cb in trampolines]
        for setter, cb in trampolines:
            setter(ptr, cb, None)

    # ----- handler registration ----------------------------------------------------------

    def _decorator(name: str) -> Any:  # type: ignore[misc]
        def register(self: "Context", fn: F) -> F:
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
    del _decorator

    # ----- lifetime ----------------------------------------------------------------------

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Frees the context: listeners and connections are dropped at once (no closing
        handshake; call :meth:`shutdown` first for a graceful end). Idempotent. Not from inside
        a handler of this context (raises :class:`ReentrantCall`)."""
        if self._closed:
            return
        if self._in_poll:
            raise _native.error(Status.ERR_REENTRANT, "Context.close() called from one of its handlers")
        self._closed = True
        self._finalizer()
        for conn in self._conns.values():
            conn.closed = True
            conn.open = False
        self._conns.clear()
        self._pending.clear()

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
        """Writes what sends outside :meth:`poll` queued, as far as the sockets take it."""
        lib.wskit_ctx_flush(self._checked_ptr())

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
        ``max_buffered``, ``low_water_mark``, ``handshake_timeout``, ``close_timeout``,
        ``ping_interval``, ``pong_timeout`` (seconds), ``streaming``, ``auto_pong``, ``backlog``,
        ``reuse_port``, ``max_connections``, ``max_request_header_bytes``, ``max_request_headers``.
        """
        if port is None:
            addr = host
        else:
            addr = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        config = make_config(tls=tls, tls_pem=tls_pem, subprotocols=subprotocols,
                             allowed_origins=allowed_origins, **options)
        listener = c_uint32()
        try:
            lib.wskit_ctx_listen(self._checked_ptr(), addr.encode(), config, byref(listener))
        finally:
            lib.wskit_config_free(config)
        bound = c_uint16()
        lib.wskit_ctx_local_port(self._ptr, listener.value, byref(bound))
        self._listeners[bound.value] = listener.value
        return bound.value

    def close_listener(self, port: int) -> None:
        """Stops accepting on the listener bound to ``port`` (its connections stay open)."""
        listener = self._listeners.pop(port, None)
        if listener is None:
            raise _native.error(Status.ERR_NOT_FOUND, f"no listener on port {port}")
        lib.wskit_ctx_close_listener(self._checked_ptr(), listener)

    def connect(self, url: str, *, subprotocols: Sequence[str] = (),
                headers: Optional[Union[Mapping[str, str], Sequence[Tuple[str, str]]]] = None,
                origin: Optional[str] = None, ca_file: Optional[str] = None, ca_pem: Optional[bytes] = None,
                insecure_skip_verify: bool = False, user_data: Any = None, **options: Any) -> Connection:
        """Opens a client connection to a ``ws://`` or ``wss://`` URL and returns its
        :class:`Connection` at once; the open event (or an error event, then a close event
        with 1006) follows during :meth:`poll`.

        ``subprotocols`` are offered in order, ``headers`` added to the request, ``origin`` sent
        as ``Origin``. wss://: the system trust store by default, or ``ca_file`` / ``ca_pem``;
        ``insecure_skip_verify=True`` accepts any certificate (local tests only). Other options
        as for :meth:`listen` (``max_message_size``, ``handshake_timeout``, ``streaming``, ...).
        """
        config = make_config(subprotocols=subprotocols, headers=headers, origin=origin, ca_file=ca_file,
                             ca_pem=ca_pem, insecure_skip_verify=insecure_skip_verify, **options)
        conn_id = c_uint64()
        try:
            lib.wskit_ctx_connect(self._checked_ptr(), url.encode(), config, byref(conn_id))
        finally:
            lib.wskit_config_free(config)
        path = "/" + url.split("://", 1)[-1].partition("/")[2].partition("?")[0]
        conn = Connection(self, conn_id.value, is_client=True, path=path, url=url)
        conn.user_data = user_data
        self._conns[conn.id] = conn
        return conn

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

    # ----- C events (called by the trampolines; args after user_data and ctx) ----------------

    def _c_listen(self, listener: int, addr: Optional[bytes], port: int) -> None:
        self._call("listen", listener, _text(addr) or "", port)

    def _c_accept(self, acc: Any) -> None:
        req = AcceptRequest._read(acc)
        if len(self._pending) > 256:
            self._purge_pending()
        fn = self._handlers["accept"]
        decision: Any = None
        if fn is not None:
            try:
                decision = fn(req)
            except Reject as rej:
                decision = rej
            except BaseException:
                lib.wskit_accept_reject(acc, 500, b"internal error")
                raise
        for name, value in req.response_headers:
            lib.wskit_accept_add_header(acc, name.encode(), value.encode())
        if decision is False:
            decision = Reject(403, "forbidden")
        if isinstance(decision, Reject):
            for name, value in decision.headers.items():
                lib.wskit_accept_add_header(acc, name.encode(), value.encode())
            lib.wskit_accept_reject(acc, decision.status, decision.body.encode() if decision.body else None)
            return
        if isinstance(decision, str):
            lib.wskit_accept_select_subprotocol(acc, decision.encode())
        elif decision not in (None, True):
            raise TypeError(f"accept handler returned {decision!r}; expected True, False, a subprotocol name, "
                            "a Reject or None")
        self._pending[req.conn_id] = req

    def _purge_pending(self) -> None:
        # Accepted requests whose connection never opened (peer went away mid-handshake) get no
        # event; drop the ones wskit no longer knows.
        out = c_size_t()
        for conn_id in list(self._pending):
            try:
                lib.wskit_buffered_amount(self._ptr, conn_id, byref(out))
            except NotFound:
                del self._pending[conn_id]

    def _c_open(self, conn_id: int, listener: int, subprotocol: Optional[bytes], path: Optional[bytes],
                peer: Optional[bytes]) -> None:
        conn = self._conns.get(conn_id)
        if conn is None:
            req = self._pending.pop(conn_id, None)
            conn = Connection(self, conn_id, is_client=False, listener=listener,
                              path=_text(path) or (req.path if req else "/"),
                              headers=req.headers if req else None)
            self._conns[conn_id] = conn
        else:
            conn.path = _text(path) or conn.path
        conn.subprotocol = _text(subprotocol)
        conn.remote_address = _text(peer) or ""
        conn.open = True
        conn.was_opened = True
        self._call("open", conn)

    def _c_message(self, conn_id: int, is_text: bool, data: Optional[int], length: int) -> None:
        raw = ctypes.string_at(data, length) if length else b""
        conn = self._conns.get(conn_id)
        if conn is not None:
            self._call("message", conn, raw.decode("utf-8") if is_text else raw)

    def _c_fragment(self, conn_id: int, is_text: bool, data: Optional[int], length: int,
                    first: bool, last: bool) -> None:
        raw = ctypes.string_at(data, length) if length else b""
        conn = self._conns.get(conn_id)
        if conn is not None:
            self._call("fragment", conn, raw, is_text, first, last)

    def _c_ping(self, conn_id: int, data: Optional[int], length: int) -> None:
        conn = self._conns.get(conn_id)
        if conn is not None:
            self._call("ping", conn, ctypes.string_at(data, length) if length else b"")

    def _c_pong(self, conn_id: int, data: Optional[int], length: int) -> None:
        conn = self._conns.get(conn_id)
        if conn is not None:
            self._call("pong", conn, ctypes.string_at(data, length) if length else b"")

    def _c_writable(self, conn_id: int) -> None:
        conn = self._conns.get(conn_id)
        if conn is not None:
            self._call("writable", conn)

    def _c_close(self, conn_id: int, code: int, reason: Optional[int], length: int, clean: bool) -> None:
        conn = self._conns.pop(conn_id, None)
        if conn is None:
            return
        conn.open = False
        conn.closed = True
        conn.close_code = code
        conn.close_reason = ctypes.string_at(reason, length).decode("utf-8", "replace") if length else ""
        conn.close_clean = clean
        self._call("close", conn, code, conn.close_reason, clean)

    def _c_error(self, conn_id: int, status: int, message: Optional[bytes]) -> None:
        err = _native.make_error(status, _text(message))
        conn = self._conns.get(conn_id) if conn_id else None
        if conn is not None:
            conn.error = err
        if self._handlers["error"] is not None:
            self._call("error", conn, err)
        elif conn is None:
            log.warning("wskit: %s", err)
