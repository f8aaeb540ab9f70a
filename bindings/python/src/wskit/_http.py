"""Plain HTTP on a listener: the request given to the ``http`` handler (or queued as an
:class:`~wskit.HttpRequestEvent`), and the ways to answer it (whole, streamed, later, from another
thread, or the default: the listener's ``static_dir``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence, Tuple, Union

from . import _native
from ._accept import Headers
from ._native import lib

if TYPE_CHECKING:
    from ._loop import Context

HeaderArg = Optional[Union[Mapping[str, str], Sequence[Tuple[str, str]]]]


def _pairs(headers: HeaderArg) -> Sequence[Tuple[str, str]]:
    if headers is None:
        return ()
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def _body(body: Union[bytes, str, None]) -> bytes:
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else bytes(body)


class HttpRequest:
    """A plain HTTP request (one that does not ask to upgrade), copied into Python objects.

    Attributes: ``conn_id``, ``listener``, ``method``, ``path`` (as sent, not percent-decoded),
    ``query`` (None if absent), ``version`` (``"1.1"`` or ``"1.0"``), ``headers``
    (:class:`Headers`), ``body`` (bytes, up to ``max_http_body``), ``peer``.

    Answer with :meth:`respond` (or :meth:`begin` / :meth:`write` / :meth:`end`), or
    :meth:`serve_static` for the default. Answers from other threads: :meth:`respond_threadsafe`
    and friends. Nothing more is read from the connection until the answer ends; keep-alive and
    pipelined requests are answered in order.
    """

    def __init__(self, ctx: "Context", e: Any) -> None:
        self._ctx = ctx
        self.conn_id: int = e.conn
        self.listener: int = e.listener
        self.method: str = _native.text_of(e.subprotocol, e.subprotocol_len)
        self.path: str = _native.text_of(e.path, e.path_len) or "/"
        self.query: Optional[str] = _native.text_of(e.query, e.query_len) if e.query else None
        self.version: str = f"1.{e.code - 10}"
        self.headers = Headers(_native.header_pairs(e.headers, e.header_count))
        self.body: bytes = _native.bytes_of(e.data, e.len)
        self.peer: str = _native.text_of(e.peer, e.peer_len)
        #: "pending" (no answer yet), "deferred" (:meth:`defer` was called), "begun", "done".
        self.state = "pending"

    def __repr__(self) -> str:
        return f"HttpRequest({self.method} {self.path!r}, conn={self.conn_id:#x})"

    def _after(self, state: str) -> None:
        self.state = state
        self._ctx._http_answered(self)

    def respond(self, status: int = 200, body: Union[bytes, str, None] = b"", headers: HeaderArg = None) -> None:
        """Answers with ``status``, ``headers`` and ``body`` (``str`` is sent as UTF-8).
        ``Content-Length`` and ``Connection`` are set by wskit (giving them raises
        :class:`InvalidArgument`); a HEAD request gets the head only. Loop thread only."""
        arr, count, _keep = _native.header_array(_pairs(headers))
        raw = _body(body)
        lib.wskit_http_respond(self._ctx._checked_ptr(), self.conn_id, status, arr, count, raw, len(raw))
        self._after("done")

    def begin(self, status: int = 200, headers: HeaderArg = None, length: Optional[int] = None) -> None:
        """Starts a streamed answer: with ``length`` exactly that many bytes must follow
        (``Content-Length``), without it the body is chunked. Then :meth:`write` and :meth:`end`."""
        arr, count, _keep = _native.header_array(_pairs(headers))
        n = _native.HTTP_UNKNOWN_LENGTH if length is None else length
        lib.wskit_http_begin(self._ctx._checked_ptr(), self.conn_id, status, arr, count, n)
        self._after("begun")

    def write(self, data: Union[bytes, str]) -> None:
        """Appends a piece of the body. Raises :class:`WouldBlock` when the connection's queue
        is over ``max_buffered`` (nothing was queued; wait for the writable handler)."""
        raw = _body(data)
        lib.wskit_http_write(self._ctx._checked_ptr(), self.conn_id, raw, len(raw))

    def end(self) -> None:
        """Ends the streamed body; the next request of the connection is read then."""
        lib.wskit_http_end(self._ctx._checked_ptr(), self.conn_id)
        self._after("done")

    def serve_static(self) -> None:
        """The default answer: the file from the listener's ``static_dir`` (streamed from disk;
        ``Range``, ``If-Modified-Since``, 404, 405), or without one the 4xx an invalid upgrade
        request gets."""
        lib.wskit_http_serve_static(self._ctx._checked_ptr(), self.conn_id)
        self._after("done")

    def defer(self) -> None:
        """From the ``http`` handler: answer later (e.g. from a worker thread with
        :meth:`respond_threadsafe`) instead of the default answer when the handler returns
        without one. A request never answered holds its connection."""
        if self.state == "pending":
            self.state = "deferred"

    # ----- from any thread ------------------------------------------------------------------

    def respond_threadsafe(self, status: int = 200, body: Union[bytes, str, None] = b"",
                           headers: HeaderArg = None) -> None:
        """:meth:`respond` from any thread: queued for the loop, which it wakes. Errors only the
        loop can see go to the error handler of the context."""
        arr, count, _keep = _native.header_array(_pairs(headers))
        raw = _body(body)
        lib.wskit_remote_http_respond(self._ctx._remote_ptr(), self.conn_id, status, arr, count, raw, len(raw))
        self.state = "done"

    def begin_threadsafe(self, status: int = 200, headers: HeaderArg = None, length: Optional[int] = None) -> None:
        """:meth:`begin` from any thread."""
        arr, count, _keep = _native.header_array(_pairs(headers))
        n = _native.HTTP_UNKNOWN_LENGTH if length is None else length
        lib.wskit_remote_http_begin(self._ctx._remote_ptr(), self.conn_id, status, arr, count, n)
        self.state = "begun"

    def write_threadsafe(self, data: Union[bytes, str]) -> None:
        """:meth:`write` from any thread (a piece over ``max_buffered`` is dropped on the loop and
        reported to the error handler as :class:`WouldBlock`)."""
        raw = _body(data)
        lib.wskit_remote_http_write(self._ctx._remote_ptr(), self.conn_id, raw, len(raw))

    def end_threadsafe(self) -> None:
        """:meth:`end` from any thread."""
        lib.wskit_remote_http_end(self._ctx._remote_ptr(), self.conn_id)
        self.state = "done"


def answer_from(request: HttpRequest, result: Any) -> None:
    """Applies what an ``http`` handler returned: ``None`` (the default answer, unless the
    handler answered or deferred), ``bytes``/``str`` (200 with that body), ``(status, body)`` or
    ``(status, body, headers)``."""
    if request.state != "pending":
        if result is not None:
            raise TypeError("the http handler both answered the request and returned a response")
        return
    if result is None:
        request.serve_static()
    elif isinstance(result, (bytes, bytearray, str)):
        request.respond(200, bytes(result) if isinstance(result, bytearray) else result)
    elif isinstance(result, tuple) and len(result) in (2, 3) and isinstance(result[0], int):
        request.respond(*result)
    else:
        raise TypeError(f"http handler returned {result!r}; expected None, bytes, str, (status, body) "
                        "or (status, body, headers)")
