"""The server side of the opening handshake: request headers, the upgrade request given to the
accept handler, and :class:`Reject`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from . import _native
from ._native import lib

if TYPE_CHECKING:
    from ._loop import Context


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
    """An upgrade request (an ACCEPT event, copied into Python objects so it stays readable after
    the handler returns).

    Attributes: ``conn_id`` (the id the connection will have), ``listener``, ``path``, ``query``
    (None if absent), ``origin`` (None if absent), ``peer`` (``"127.0.0.1:53012"``), ``headers``
    (:class:`Headers`), ``subprotocols`` (offered, in the client's order), ``default_subprotocol``
    (the first offered one the listener lists, or None). Call :meth:`add_header` to add a
    response header (101 or rejection).

    Deciding: the accept handler calls :meth:`accept` or :meth:`reject`, or its return value
    decides (see :class:`Context`), or it calls :meth:`defer` and the request waits for
    :meth:`accept` / :meth:`reject` from a later turn of the loop. In queue mode with
    ``queue_accept=True`` every request waits for them."""

    def __init__(self, ctx: "Context", conn_id: int, listener: int, path: str, query: Optional[str],
                 peer: str, headers: Headers, default_subprotocol: Optional[str]) -> None:
        self._ctx = ctx
        self.conn_id = conn_id
        self.listener = listener
        self.path = path
        self.query = query
        self.peer = peer
        self.headers = headers
        self.origin: Optional[str] = headers.get("origin")
        self.subprotocols: List[str] = [
            p.strip() for name, value in headers.raw if name.lower() == "sec-websocket-protocol"
            for p in value.split(",") if p.strip()
        ]
        self.default_subprotocol = default_subprotocol
        self.response_headers: List[Tuple[str, str]] = []
        #: "pending", "deferred", "accepted" or "rejected".
        self.state = "pending"

    def add_header(self, name: str, value: str) -> None:
        """Adds a header to the response (e.g. ``Set-Cookie``), sent with :meth:`accept` or
        :meth:`reject`."""
        self.response_headers.append((name, value))

    def defer(self) -> None:
        """From the accept handler: leaves the request pending when the handler returns, for
        :meth:`accept` / :meth:`reject` from a later turn of the loop (loop thread: e.g. from
        another handler, or between polls after a worker checked a token and called
        :meth:`Context.wake`). Nothing is read from the connection meanwhile; the handshake
        timeout still applies (the request then disappears from
        :attr:`Context.pending_requests`)."""
        lib.wskit_conn_defer_accept(self._ctx._checked_ptr(), self.conn_id)
        self.state = "deferred"

    def accept(self, subprotocol: Optional[str] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        """Accepts: completes the handshake with ``subprotocol`` (default: the listener's default
        choice; "" for none) and the headers added so far plus
        ``headers``. Raises :class:`InvalidArgument` for an unoffered subprotocol or a reserved
        or malformed header (the request then stays pending)."""
        chosen = self.default_subprotocol if subprotocol is None else (subprotocol or None)
        raw = chosen.encode() if isinstance(chosen, str) else None
        pairs = self.response_headers + list((headers or {}).items())
        arr, count, keep = _native.header_array(pairs)
        lib.wskit_conn_accept(self._ctx._checked_ptr(), self.conn_id, raw, len(raw) if raw else 0, arr, count)
        del keep
        self.state = "accepted"
        self._ctx._request_decided(self)

    def reject(self, status: int = 403, body: str = "", headers: Optional[Mapping[str, str]] = None) -> None:
        """Refuses with HTTP ``status`` (200-599, not 101), a plain-text ``body`` and the headers
        added so far plus ``headers``."""
        pairs = self.response_headers + list((headers or {}).items())
        arr, count, keep = _native.header_array(pairs)
        raw = body.encode()
        lib.wskit_conn_reject(self._ctx._checked_ptr(), self.conn_id, status, arr, count, raw, len(raw))
        del keep
        self.state = "rejected"
        self._ctx._request_decided(self)

    def __repr__(self) -> str:
        return f"<AcceptRequest {self.path!r} from {self.peer} subprotocols={self.subprotocols} {self.state}>"

    @classmethod
    def _from_event(cls, ctx: "Context", e: Any) -> "AcceptRequest":
        return cls(ctx, e.conn, e.listener, _native.text_of(e.path, e.path_len) or "/",
                   _native.text_of(e.query, e.query_len) if e.query else None,
                   _native.text_of(e.peer, e.peer_len),
                   Headers(_native.header_pairs(e.headers, e.header_count)),
                   _native.text_of(e.subprotocol, e.subprotocol_len) if e.subprotocol else None)
