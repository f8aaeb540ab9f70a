"""The server side of the opening handshake: request headers, the upgrade request given to the
accept handler, and :class:`Reject`."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_char_p, c_size_t, c_uint32, c_uint64
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from . import _native
from ._native import lib, text as _text


class Headers(Mapping[str, str]):
    """Request headers, case-insensitive. A header sent several times is joined with ``", "``;
    :attr:`raw` keeps every ``(name, value)`` pair in order, as received."""

    def __init__(self, raw: Sequence[Tuple[str, str]] = ()) -> None:
        self.raw: List[Tuple[str, str]] = list(raw)
        self._map: Dict[str, str] = {}
        for name, value in self.raw:
            key = name.lower()
            self._map[key] = f"{self._map[key]}, {value}" if key in self._map else value

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"


class Reject(Exception):
    """Refuse an upgrade request: return it (or raise it) from an accept handler.

    ``status`` is the HTTP status (200-599, not 101), ``body`` a plain-text body, ``headers``
    extra response headers."""

    def __init__(self, status: int = 403, body: str = "", headers: Optional[Mapping[str, str]] = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class AcceptRequest:
    """An upgrade request, given to the accept handler (copied out of the C ``wskit_accept``,
    so it stays readable after the handler returns).

    Attributes: ``conn_id`` (the id the connection will have), ``listener``, ``path``, ``query``
    (None if absent), ``origin`` (None if absent), ``peer`` (``"127.0.0.1:53012"``), ``headers``
    (:class:`Headers`), ``subprotocols`` (offered, in the client's order). Call
    :meth:`add_header` to add a response header (101 or rejection)."""

    def __init__(self, conn_id: int, listener: int, path: str, query: Optional[str], origin: Optional[str],
                 peer: str, headers: Headers, subprotocols: List[str]) -> None:
        self.conn_id = conn_id
        self.listener = listener
        self.path = path
        self.query = query
        self.origin = origin
        self.peer = peer
        self.headers = headers
        self.subprotocols = subprotocols
        self.response_headers: List[Tuple[str, str]] = []

    def add_header(self, name: str, value: str) -> None:
        """Adds a header to the response (e.g. ``Set-Cookie``)."""
        self.response_headers.append((name, value))

    def __repr__(self) -> str:
        return f"<AcceptRequest {self.path!r} from {self.peer} subprotocols={self.subprotocols}>"

    @classmethod
    def _read(cls, acc: Any) -> "AcceptRequest":
        conn, listener, count, n = c_uint64(), c_uint32(), c_size_t(), c_size_t()
        path, query, origin, peer = c_char_p(), c_char_p(), c_char_p(), c_char_p()
        lib.wskit_accept_conn(acc, byref(conn))
        lib.wskit_accept_listener(acc, byref(listener))
        lib.wskit_accept_path(acc, byref(path))
        lib.wskit_accept_query(acc, byref(query))
        lib.wskit_accept_origin(acc, byref(origin))
        lib.wskit_accept_peer(acc, byref(peer))
        arr = ctypes.POINTER(_native.wskit_header)()
        lib.wskit_accept_headers(acc, byref(arr), byref(count))
        headers = []
        for i in range(count.value):
            h = arr[i]
            headers.append((
                ctypes.string_at(h.name, h.name_len).decode("utf-8", "replace"),
                ctypes.string_at(h.value, h.value_len).decode("utf-8", "replace"),
            ))
        lib.wskit_accept_subprotocol_count(acc, byref(n))
        subs = []
        for i in range(n.value):
            s = c_char_p()
            lib.wskit_accept_subprotocol_at(acc, i, byref(s))
            subs.append(_text(s.value) or "")
        return cls(conn.value, listener.value, _text(path.value) or "/", _text(query.value),
                   _text(origin.value), _text(peer.value) or "", Headers(headers), subs)
