"""One WebSocket connection (:class:`Connection`) and its fragmented-message stream."""

from __future__ import annotations

from ctypes import byref, c_bool, c_size_t, c_void_p
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Union, cast

from . import _native
from ._accept import Headers
from ._deflate import DeflateParams
from ._native import Status, lib, text_of
from .errors import Error, InvalidState, NotFound, Unavailable

if TYPE_CHECKING:
    from ._loop import Context
    from ._reconnect import ReconnectOptions, ReconnectState

Data = Union[str, bytes, bytearray, memoryview]


class Connection:
    """One WebSocket connection (server or client side). One object per connection id, owned by
    its :class:`Context`; all methods except :meth:`send_threadsafe` are loop thread only.

    Sends made outside ``poll()`` are flushed to the socket at once; inside a handler they are
    written before ``poll()`` returns.

    Request information (:attr:`path`, :attr:`query`, :attr:`peer`, :attr:`headers`) is read from
    wskit (``wskit_conn_*``): for a server connection the request, kept only when the listener
    asks (``listen(keep_request=True, keep_headers=[...])``, else :class:`Unavailable`; all of it
    during the open handler); for a client connection its URL and the server's response
    headers. Once read it stays readable after the close."""

    def __init__(self, ctx: "Context", conn_id: int, *, is_client: bool, listener: int = 0,
                 url: Optional[str] = None) -> None:
        self._ctx = ctx
        self.id = conn_id
        self.is_client = is_client
        self.url = url
        self.listener = listener
        #: Negotiated subprotocol, or None.
        self.subprotocol: Optional[str] = None
        #: Any Python object (kept on the Python side).
        self.user_data: Any = None
        #: True while open (after the open event, before the close event).
        self.open = False
        #: True once the open event came (stays True after the close).
        self.was_opened = False
        self.closed = False
        self.close_code: Optional[int] = None
        self.close_reason = ""
        self.close_clean = False
        #: The last error reported for this connection (e.g. why a connect failed; a
        #: :class:`HandshakeRejected` with the server's status, headers and body).
        self.error: Optional[Error] = None
        self._streaming_kind: Optional[str] = None
        self._info: Dict[str, Any] = {}
        # The open event's request information, while the open handler runs.
        self._event_info: Optional[Dict[str, Any]] = None
        # (HTTP status, headers, body) of a REJECTED event, for the ERROR event that follows.
        self._rejection: Optional[Tuple[int, Headers, bytes]] = None
        #: Reconnect (``connect(..., reconnect=True)``): True between connections (after a
        #: reconnect event, until the next open); ``reconnects`` counts the opens after the first.
        self.reconnecting = False
        self.reconnects = 0
        self._reconnect: Optional["ReconnectOptions"] = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open" if self.open else "connecting"
        return f"<wskit.Connection id={self.id:#x} {state}>"

    # ----- request / response information --------------------------------------------------

    def _read_info(self, key: str, read: Callable[[Any], Any]) -> Any:
        """``key`` from the open event while it runs, else from wskit (``read(ctx_ptr)``),
        remembered once read so that it stays readable after the close."""
        if self._event_info is not None and key in self._event_info:
            return self._event_info[key]
        if key not in self._info:
            if self.closed or self._ctx.closed:
                raise _native.error(Status.ERR_NOT_FOUND, f"connection {self.id:#x} is closed (its {key} was "
                                    "not read while it was open)")
            self._info[key] = read(self._ptr())
        return self._info[key]

    def _string(self, fn: Any, what: str, keep: str) -> Callable[[Any], Optional[str]]:
        def read(ptr: Any) -> Optional[str]:
            out, n = c_void_p(), c_size_t()
            try:
                fn(ptr, self.id, byref(out), byref(n))
            except Unavailable as exc:
                raise _native.error(Status.ERR_UNAVAILABLE, f"{exc.message}; the {what} of a server connection "
                                    f"is kept with listen({keep})") from None
            return None if not out.value else text_of(out.value, n.value)
        return read

    @property
    def path(self) -> str:
        """The request path without the query (server: as requested, kept with
        ``listen(keep_request=True)``; client: the URL's). Raises :class:`Unavailable` when not
        kept (it is always readable during the open handler)."""
        return self._read_info("path", self._string(lib.wskit_conn_path, "path", "keep_request=True"))  # type: ignore

    @property
    def query(self) -> Optional[str]:
        """The query string without ``?`` (None when there was none); kept as :attr:`path`."""
        return self._read_info("query", self._string(lib.wskit_conn_query, "query",  # type: ignore[no-any-return]
                                                     "keep_request=True"))

    @property
    def deflate(self) -> Optional[DeflateParams]:
        """The permessage-deflate parameters the handshake agreed on, or None (not negotiated,
        or not open yet). Read at the open event, so it stays readable after the close."""
        return self._info.get("deflate")

    @property
    def peer(self) -> str:
        """The peer's address, ``"ip:port"`` (always kept; ``""`` for a Unix socket connection)."""
        return self._read_info("peer", self._string(lib.wskit_conn_peer, "peer", "")) or ""

    @property
    def remote_address(self) -> str:
        """Same as :attr:`peer` (the 0.1 name)."""
        return self.peer

    @property
    def headers(self) -> Headers:
        """Server: the request headers the listener keeps (``listen(keep_headers=[names])``,
        ``["*"]`` for all; :class:`Unavailable` when it keeps none; all of them during the open
        handler). Client: the server's response headers (e.g. ``Set-Cookie``), always kept."""
        def read(ptr: Any) -> Headers:
            count = c_size_t()
            try:
                lib.wskit_conn_header_count(ptr, self.id, byref(count))
            except Unavailable as exc:
                raise _native.error(Status.ERR_UNAVAILABLE, f"{exc.message}; request headers are kept with "
                                    "listen(keep_headers=[names]) or ['*']") from None
            pairs = []
            name, name_len, value, value_len = c_void_p(), c_size_t(), c_void_p(), c_size_t()
            for i in range(count.value):
                lib.wskit_conn_header_at(ptr, self.id, i, byref(name), byref(name_len), byref(value),
                                         byref(value_len))
                pairs.append((text_of(name.value, name_len.value), text_of(value.value, value_len.value)))
            return Headers(pairs)
        return self._read_info("headers", read)  # type: ignore[no-any-return]

    def header(self, name: str) -> Optional[str]:
        """The first header called ``name`` (case-insensitive), None if absent, without copying
        the others. Raises :class:`Unavailable` when the listener does not keep it."""
        if self._event_info is not None:
            return self._event_info["headers"].get(name)  # type: ignore[no-any-return]
        if (self.closed or self._ctx.closed) and "headers" in self._info:
            return self._info["headers"].get(name)  # type: ignore[no-any-return]
        raw = name.encode()
        out, n = c_void_p(), c_size_t()
        try:
            lib.wskit_conn_header(self._ptr(), self.id, raw, len(raw), byref(out), byref(n))
        except NotFound:
            if self.closed:
                raise
            return None  # kept, but the request did not carry it
        return text_of(out.value, n.value)

    def _ptr(self) -> Any:
        return self._ctx._checked_ptr()

    def _after_send(self) -> None:
        ctx = self._ctx
        if not ctx._in_poll:
            # Outside poll wskit only queued the bytes: write them now, or once for every send of
            # this turn of the host's event loop when a driver asked for that (one write() per
            # connection per turn instead of one per message).
            if ctx._flush_hook is None:
                lib.wskit_ctx_flush(self._ptr())
            else:
                ctx._flush_hook()

    def send(self, data: Data) -> None:
        """Sends a message: ``str`` as text, bytes-like as binary. Raises :class:`WouldBlock`
        when the send buffer is full (wait for the writable event), :class:`NotFound` when the
        connection is closed, :class:`InvalidState` before it opened or once closing."""
        ptr = self._ptr()
        if isinstance(data, str):
            raw = data.encode("utf-8")
            lib.wskit_conn_send_text(ptr, self.id, raw, len(raw))
        else:
            raw = _native.as_bytes(data)
            lib.wskit_conn_send_binary(ptr, self.id, raw, len(raw))
        self._after_send()

    def send_batched(self, data: Data) -> None:
        """Queue mode, the fast path: like :meth:`send`, but the message waits in Python with
        the others sent this way until the context's next :meth:`Context.drain` (or
        :meth:`Context.flush`), which hands them all to wskit in one call. Errors come later:
        as an :class:`ErrorEvent` in that ``drain()``'s list (``error.unsent`` holds the payload),
        or raised by ``flush()``. Messages still waiting when the context is closed are dropped
        with it. A ``memoryview`` is not copied: it is read when the batch is handed over (keep
        it unchanged until then; the views of ``drain(zero_copy=True)`` last exactly that long),
        other bytes-likes are."""
        batch = self._ctx._batch
        if batch is None:
            if not self._ctx.queue_mode:
                raise _native.error(Status.ERR_INVALID_STATE, "send_batched() needs a queue-mode Context (drain())")
            batch = self._ctx._batch_for()
        # Batch.add, inlined: this runs once per message.
        if type(data) is str:
            batch.pending.append((self.id, data.encode("utf-8"), True))
        elif type(data) is bytes or type(data) is memoryview:
            batch.pending.append((self.id, data, False))
        else:
            batch.pending.append((self.id, bytes(cast(bytearray, data)), False))  # may change: copied

    def send_threadsafe(self, data: Data) -> None:
        """Like :meth:`send`, from any thread (through the context's ``wskit_remote``): the
        loop sends it during its next poll, in the order each thread issued its calls.
        Failures the loop detects later go to the error handler: the connection closed meanwhile,
        or a send that would pass ``max_buffered`` (dropped; a :class:`WouldBlock` error says how
        many bytes, and the writable event follows when the buffer drains)."""
        remote = self._ctx._remote_ptr()
        if isinstance(data, str):
            raw = data.encode("utf-8")
            lib.wskit_remote_send_text(remote, self.id, raw, len(raw))
        else:
            raw = _native.as_bytes(data)
            lib.wskit_remote_send_binary(remote, self.id, raw, len(raw))

    # reconnect (client connections made with reconnect=True; see docs/reconnect.md)

    def stop_reconnect(self) -> None:
        """Stops reconnecting: open, the connection stays open and its next drop ends it;
        between connections it closes now (the close event, 1006, at the next poll; queued
        messages reported undelivered). Never blocks. From another thread use
        :meth:`close_threadsafe`."""
        lib.wskit_conn_stop_reconnect(self._ptr(), self.id)

    def reconnect_delay(self, seconds: float) -> None:
        """Changes the delay of the pending retry to ``seconds`` from now (raises
        :class:`InvalidState` when no retry is pending)."""
        from ._reconnect import answer
        answer(self, float(seconds))

    def reconnect_state(self) -> "ReconnectState":
        """The reconnect state (:class:`wskit.ReconnectState`: attempt, waiting, offline queue)."""
        from ._reconnect import state_of
        return state_of(self)

    def close_threadsafe(self, code: int = 1000, reason: str = "") -> None:
        """Like :meth:`close`, from any thread."""
        raw = reason.encode()
        lib.wskit_remote_close(self._ctx._remote_ptr(), self.id, code, raw, len(raw))

    # flow control

    def pause_reading(self) -> None:
        """Stops reading this connection and delivering its events until :meth:`resume_reading`
        (e.g. while a worker is busy with its messages). Events of data already read are held
        and come first on resuming; TCP then pushes back on the peer. Pings and the peer's close
        wait behind that data; :meth:`close` resumes reading so the closing handshake completes.
        Raises :class:`NotFound` when the connection is closed."""
        lib.wskit_conn_pause_reading(self._ptr(), self.id)

    def resume_reading(self) -> None:
        """Undoes :meth:`pause_reading`: reading resumes at the next poll, unless the automatic
        pause (``read_pause_high_water``) still holds it until the send buffer drains."""
        lib.wskit_conn_resume_reading(self._ptr(), self.id)
        if not self._ctx._in_poll:
            lib.wskit_ctx_flush(self._ptr())

    @property
    def reading_paused(self) -> bool:
        """True while reading is paused, by :meth:`pause_reading` or automatically (more than
        ``read_pause_high_water`` bytes wait to be sent)."""
        out = c_bool()
        lib.wskit_conn_is_reading_paused(self._ptr(), self.id, byref(out))
        return out.value

    def pause_reading_threadsafe(self) -> None:
        """Like :meth:`pause_reading`, from any thread (performed at the loop's next poll)."""
        lib.wskit_remote_pause_reading(self._ctx._remote_ptr(), self.id)

    def resume_reading_threadsafe(self) -> None:
        """Like :meth:`resume_reading`, from any thread (wakes the loop)."""
        lib.wskit_remote_resume_reading(self._ctx._remote_ptr(), self.id)

    # fragmented messages

    def begin(self, kind: str = "binary", data: Data = b"") -> "Connection":
        """Begins a fragmented message of unknown length (``kind`` ``"text"`` or ``"binary"``),
        sending ``data`` as its first frame. Continue with :meth:`write`, end with :meth:`end`.
        Pings and a close may be sent in between, other messages may not."""
        if kind not in ("text", "binary"):
            raise ValueError("kind must be 'text' or 'binary'")
        raw = data.encode() if isinstance(data, str) else _native.as_bytes(data)
        lib.wskit_conn_begin_message(self._ptr(), self.id, kind == "text", raw, len(raw))
        self._streaming_kind = kind
        self._after_send()
        return self

    def write(self, data: Data) -> None:
        """Sends the next piece of the message begun with :meth:`begin` (``str`` is UTF-8
        encoded; bytes may end inside a UTF-8 character of a text message)."""
        raw = data.encode() if isinstance(data, str) else _native.as_bytes(data)
        lib.wskit_conn_continue_message(self._ptr(), self.id, raw, len(raw))
        self._after_send()

    def end(self, data: Data = b"") -> None:
        """Sends the last piece (may be empty) of the message begun with :meth:`begin`."""
        raw = data.encode() if isinstance(data, str) else _native.as_bytes(data)
        lib.wskit_conn_finish_message(self._ptr(), self.id, raw, len(raw))
        self._streaming_kind = None
        self._after_send()

    def stream(self, kind: str = "binary") -> "_MessageStream":
        """``with conn.stream("text") as m: m.write("a"); m.write("b")`` sends one message in
        frames; the last (empty) frame is sent when the block ends."""
        return _MessageStream(self, kind)

    # control

    def ping(self, payload: Data = b"") -> None:
        """Sends a ping (payload at most 125 bytes); the pong arrives as the pong event."""
        raw = payload.encode() if isinstance(payload, str) else _native.as_bytes(payload)
        lib.wskit_conn_ping(self._ptr(), self.id, raw, len(raw))
        self._after_send()

    def pong(self, payload: Data = b"") -> None:
        """Sends an unsolicited pong."""
        raw = payload.encode() if isinstance(payload, str) else _native.as_bytes(payload)
        lib.wskit_conn_pong(self._ptr(), self.id, raw, len(raw))
        self._after_send()

    def close(self, code: int = 1000, reason: str = "") -> bool:
        """Starts the closing handshake; the close event follows. Does nothing if the
        connection is already closed or closing. True when this call started it (its close
        frame is the one sent)."""
        if self.closed or self._ctx._closed:
            return False
        try:
            raw = reason.encode()
            lib.wskit_conn_close(self._ptr(), self.id, code, raw, len(raw))
        except (NotFound, InvalidState):
            return False
        self._after_send()
        return True

    def abort(self) -> None:
        """Drops the connection without a closing handshake (close event 1006 follows)."""
        if self.closed or self._ctx._closed:
            return
        try:
            lib.wskit_conn_abort(self._ptr(), self.id)
        except NotFound:
            pass

    @property
    def buffered_amount(self) -> int:
        """Bytes queued for sending and not yet taken by the socket (0 once closed)."""
        if self.closed or self._ctx._closed:
            return 0
        out = c_size_t()
        try:
            lib.wskit_conn_buffered_amount(self._ptr(), self.id, byref(out))
        except NotFound:
            return 0
        return out.value

    @property
    def context(self) -> "Context":
        """The context this connection belongs to."""
        return self._ctx


class _MessageStream:
    def __init__(self, conn: Connection, kind: str) -> None:
        self._conn, self._kind = conn, kind

    def __enter__(self) -> "_MessageStream":
        self._conn.begin(self._kind)
        return self

    def write(self, data: Data) -> None:
        self._conn.write(data)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self._conn.end()
