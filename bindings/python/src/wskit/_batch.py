"""The batched fast path of a queue-mode :class:`~wskit.Context`: :meth:`Context.drain` takes a
whole poll's events with one call into C (``wskit_ctx_next_events``), and
:meth:`Connection.send_batched` gathers messages that the next ``drain()`` (or ``flush()``) hands to
C with one call (``wskit_ctx_send_batch``).

Why: every ctypes call costs ~0.3-0.5 us and a C-to-Python callback several, far more than wskit's
own work per 16-byte message (~0.4 us including the system calls). With one crossing per batch
instead of two or three per message, what is left per message is the Python that makes the event
and runs the caller's code.
"""

from __future__ import annotations

import ctypes
import struct
from ctypes import byref, c_size_t
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Union, cast

from . import _native
from ._events import ErrorEvent, Event, MessageEvent
from ._native import EventKind, lib

if TYPE_CHECKING:
    from ._loop import Context

_EVENT_SIZE = ctypes.sizeof(_native.wskit_event)
_SEND_SIZE = ctypes.sizeof(_native.wskit_send)


def _layout(struct_type: Any, names: Tuple[str, ...], codes: str, size: int = 0) -> struct.Struct:
    """A ``struct.Struct`` for ``names`` (each of the given one-letter code, native sizes) at
    their ctypes offsets in ``struct_type``, padded with ``x`` (to ``size`` bytes when given):
    events are read straight from the memory the C side wrote and sends packed straight into
    the array it reads, without a ctypes object per item."""
    fmt, at = "=", 0
    for name, code in zip(names, codes):
        offset = getattr(struct_type, name).offset
        fmt += "x" * (offset - at) + code
        at = offset + struct.calcsize("=" + code)
    return struct.Struct(fmt + "x" * max(size - at, 0))


# kind, conn, is_text, data, len of a wskit_event.
_EVENT_HEAD = _layout(_native.wskit_event, ("kind", "conn", "is_text", "data", "len"), "IQ?QQ")
# A whole wskit_send: conn, data, len, is_text.
_SEND = _layout(_native.wskit_send, ("conn", "data", "len", "is_text"), "QQQ?", _SEND_SIZE)
assert _SEND.size == _SEND_SIZE and _EVENT_HEAD.size <= _EVENT_SIZE

_MESSAGE = int(EventKind.MESSAGE)
_string_at = ctypes.string_at
_c_char = ctypes.c_char
_new = object.__new__
_set = object.__setattr__
#: Payloads from this size on are sent from where they are instead of being joined (a copy each).
_DIRECT = 16 << 10


def _address(data: Any) -> int:
    """The address of the bytes of ``bytes`` or a writable, C-contiguous buffer (memoryview)."""
    if type(data) is bytes:
        return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
    return ctypes.addressof(ctypes.c_char.from_buffer(data)) if len(data) else 0


class Batch:
    """A context's arrays for :meth:`Context.drain` and its messages waiting for one
    ``wskit_ctx_send_batch``."""

    def __init__(self, ctx: "Context", max_events: int) -> None:
        self.ctx = ctx
        self.resize(max_events)
        self.count = c_size_t()
        self.failed = c_size_t()
        self._send_room(64)
        #: (connection id, payload bytes, is_text) waiting for the next drain() or flush()
        #: (appended by Connection.send_batched).
        self.pending: List[Tuple[int, Union[bytes, memoryview], bool]] = []

    def resize(self, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self.cap = max_events
        self.memory = bytearray(max_events * _EVENT_SIZE)
        self.events = (_native.wskit_event * max_events).from_buffer(self.memory)
        self.view = memoryview(self.memory)
        # The last take filled the array: more events may be queued (poll without waiting).
        self.more = False

    # ----- sending ----------------------------------------------------------------------------

    def _send_room(self, n: int) -> None:
        """The wskit_send and status arrays, reused from batch to batch, for at least ``n``."""
        self.send_cap = n
        self.sends_memory = bytearray(n * _SEND_SIZE)
        self.sends = (_native.wskit_send * n).from_buffer(self.sends_memory)
        self.statuses = (_native.STATUS * n)()

    def send_pending(self, ptr: Any, out: Optional[List[Event]]) -> None:
        """Hands every pending message to wskit in one call. Refused ones become
        :class:`ErrorEvent`\\ s appended to ``out`` (their error's ``unsent`` holds the payload, to
        send again after the writable event); with ``out`` None they are raised (the first).

        Small ``bytes`` payloads are joined into one buffer (one copy each, far cheaper than a
        ctypes call each); large ones and memoryviews are pointed to where they are (no copy)."""
        pending, self.pending = self.pending, []
        n = len(pending)
        blob = b"".join([p[1] for p in pending if type(p[1]) is bytes and len(p[1]) < _DIRECT])
        base = _address(blob)
        keep: List[Any] = []  # what the pointers point into, alive until the call returns
        if n > self.send_cap:
            self._send_room(max(n, 2 * self.send_cap))
        sends = self.sends_memory
        pack = _SEND.pack_into
        at = off = 0
        for conn_id, data, is_text in pending:
            if type(data) is bytes:
                size = len(data)
                if size < _DIRECT:
                    pack(sends, at, conn_id, base + off, size, is_text)
                    off += size
                else:
                    pack(sends, at, conn_id, _address(data), size, is_text)
            else:
                view = cast(memoryview, data)  # add() queues only bytes and memoryviews
                if view.readonly:
                    view = memoryview(bytes(view))
                keep.append(view)
                pack(sends, at, conn_id, _address(view), view.nbytes, is_text)
            at += _SEND_SIZE
        statuses = self.statuses
        lib.wskit_ctx_send_batch(ptr, self.sends, n, statuses, byref(self.failed))
        del keep
        if not self.failed.value:
            return
        conns = self.ctx._conns
        for (conn_id, data, is_text), status in zip(pending, statuses[:n]):
            if status:
                err = _native.make_error(status)
                raw = data if type(data) is bytes else bytes(data)  # a view would not outlive this
                err.unsent = raw.decode("utf-8") if is_text else raw  # type: ignore[attr-defined]
                if out is None:
                    raise err
                conn = conns.get(conn_id)
                if conn is not None:
                    conn.error = err
                out.append(ErrorEvent(conn, err))

    # ----- taking events ----------------------------------------------------------------------

    def drain(self, timeout: Optional[float], zero_copy: bool = False) -> List[Event]:
        ctx = self.ctx
        ptr = ctx._checked_ptr()
        out: List[Event] = []
        if self.pending:
            self.send_pending(ptr, out)
        # One poll per drain: it writes what was just sent, reads, and queues. While the last take
        # left events queued it does not wait.
        ctx.poll(0 if (self.more or out) else timeout)
        count = self.count
        lib.wskit_ctx_next_events(ptr, self.events, self.cap, byref(count))
        n = count.value
        self.more = n == self.cap
        view, unpack, size = self.view, _EVENT_HEAD.unpack_from, _EVENT_SIZE
        conns = ctx._conns
        append = out.append
        for i in range(n):
            kind, conn_id, is_text, data, length = unpack(view, i * size)
            if kind == _MESSAGE:
                # The common case, decoded here without a ctypes object (see _loop._decode).
                conn = conns.get(conn_id)
                if conn is not None:
                    if zero_copy and not is_text and length >= _DIRECT:
                        # wskit's own copy, valid until the next take (see Context.drain).
                        payload: Any = memoryview((_c_char * length).from_address(data)).cast("B")
                    else:
                        raw = _string_at(data, length) if length else b""
                        payload = raw.decode("utf-8") if is_text else raw
                    # MessageEvent(conn, payload) without the frozen dataclass's generated
                    # __init__ (the same object; half the cost, which counts once per message).
                    event = _new(MessageEvent)
                    _set(event, "conn", conn)
                    _set(event, "data", payload)
                    append(event)
                continue
            other = ctx._decode(self.events[i])
            if other is not None:
                append(other)
        return out
