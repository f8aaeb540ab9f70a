"""Exceptions: one :class:`Error` base carrying the C status, subclasses chosen from one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Type


class Error(Exception):
    """A wskit failure: ``code`` (the ``wskit_status`` number), ``name`` (``"WSKIT_ERR_..."``)
    and ``message`` (``wskit_error_last()`` or the error event's text)."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(code, name, message)
        self.code = code
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} ({self.name})"


class InvalidArgument(Error, ValueError):
    """WSKIT_ERR_NULL_ARG / WSKIT_ERR_INVALID_ARG / WSKIT_ERR_INVALID_UTF8 (on send)."""


class InvalidState(Error):
    """WSKIT_ERR_INVALID_STATE: not allowed now (not open yet, already closing, ...)."""


class ReentrantCall(InvalidState):
    """WSKIT_ERR_REENTRANT: poll/shutdown/free called from a handler of the same context."""


class NotFound(Error, LookupError):
    """WSKIT_ERR_NOT_FOUND: the connection or listener is closed (or never existed)."""


class Unavailable(Error, LookupError):
    """WSKIT_ERR_UNAVAILABLE: the information was not kept for this connection (ask for it when
    listening: ``keep_request=True``, ``keep_headers=[...]``)."""


class NotConnected(Error, ConnectionError):
    """WSKIT_ERR_NOT_CONNECTED: a reconnecting client is between connections and its offline
    queue is off (``offline_queue=0``, the default): the send was refused. Not an
    :class:`InvalidState`: the connection is alive and will be open again."""


class ProtocolError(Error):
    """WSKIT_ERR_PROTOCOL / INVALID_UTF8 / MESSAGE_TOO_BIG: the peer broke RFC 6455."""


class HandshakeError(Error):
    """WSKIT_ERR_HANDSHAKE: the opening handshake failed (malformed, bad accept key, ...)."""


class HandshakeRejected(HandshakeError):
    """WSKIT_ERR_HANDSHAKE_REJECTED: the server answered the upgrade with an HTTP status other
    than 101. ``status`` is that status, ``headers`` the response headers (a
    :class:`wskit.Headers`), ``body`` the response body (bytes): the data of wskit's REJECTED
    event. They are None/empty only when the rejection's data did not reach the binding."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(code, name, message)
        self.status: Optional[int] = None
        self.headers: Any = None
        self.body: bytes = b""

    @property
    def response(self) -> "Response":
        """The refusal as websockets' ``InvalidStatus.response``: ``status_code``, ``headers``,
        ``body`` (status 0 when the rejection's data did not reach the binding)."""
        return Response(self.status or 0, self.headers, self.body)


class NetworkError(Error, OSError):
    """WSKIT_ERR_IO / RESOLVE / CONNECT: a socket operation, name resolution or connect failed."""


class WskitTimeout(Error, TimeoutError):
    """WSKIT_ERR_TIMEOUT, and timeouts of the blocking client (``recv(timeout=...)``)."""


class TLSError(NetworkError):
    """WSKIT_ERR_TLS: certificate/key files or a refused TLS handshake (the message says why)."""


class ProxyError(NetworkError):
    """WSKIT_ERR_PROXY and the base of the proxy failures: the proxy did not open the tunnel
    (its answer is not HTTP or not SOCKS5, it closed the connection, or the proxy URL is bad).
    ``status`` is the proxy's HTTP status when it sent one (else None), ``headers`` the headers
    of its answer (a :class:`wskit.Headers`, empty when none)."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(code, name, message)
        self.status: Optional[int] = None
        self.headers: Any = {}


class ProxyAuthError(ProxyError):
    """WSKIT_ERR_PROXY_AUTH: the proxy wants (other) credentials: HTTP 407 (``status``; 401
    from tinyproxy for wrong ones), with its challenge in ``proxy_authenticate``
    (``Proxy-Authenticate``), or a failed SOCKS5 authentication (``status`` None)."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(code, name, message)
        self.proxy_authenticate: Optional[str] = None


class ProxyRefused(ProxyError):
    """WSKIT_ERR_PROXY_REFUSED: the proxy refused the tunnel with HTTP ``status`` (403, 502,
    503, ...)."""


class ProxyTimeout(ProxyError, TimeoutError):
    """WSKIT_ERR_PROXY_TIMEOUT: the tunnel was not up within ``proxy_timeout``."""


class SocksError(ProxyError):
    """WSKIT_ERR_SOCKS: the SOCKS5 proxy answered the connect with ``reply_code`` (RFC 1928: 1
    general failure, 2 not allowed, 3 network unreachable, 4 host unreachable, 5 connection
    refused, 6 TTL expired, 7 command not supported, 8 address type not supported)."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(code, name, message)
        self.reply_code: Optional[int] = None


class ResourceError(Error):
    """WSKIT_ERR_NO_MEMORY (and the base of WouldBlock)."""


class WouldBlock(ResourceError):
    """WSKIT_ERR_WOULD_BLOCK: the send buffer is full; wait for the writable event and retry."""


class InternalError(Error):
    """WSKIT_ERR_INTERNAL / PANIC: a bug in wskit."""


#: Close codes of a normal end (as websockets' ``OK_CLOSE_CODES``): 1000, 1001 and 1005 (no code).
OK_CLOSE_CODES = frozenset((1000, 1001, 1005))


@dataclass(frozen=True)
class Close:
    """A close frame: ``code`` and ``reason`` (as websockets' ``websockets.frames.Close``)."""

    code: int
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.code} {self.reason}".rstrip() if self.reason else str(self.code)


class ConnectionClosed(Error):
    """The connection is closed. As in websockets: ``rcvd`` is the close frame received (a
    :class:`Close`, None if none came), ``sent`` the one sent (None if none),
    ``rcvd_then_sent`` which came first (None unless both). For compatibility with wskit 0.2,
    ``code`` and ``reason`` are the close code and reason of the close event (1006 and "" when
    the connection dropped; the WebSocket close code here, not a status) and ``clean`` tells
    whether the closing handshake completed.

    :func:`closed_error` picks :class:`ConnectionClosedOK` or :class:`ConnectionClosedError`."""

    def __init__(self, close_code: int = 1006, reason: str = "", clean: bool = False, *,
                 rcvd: Optional[Close] = None, sent: Optional[Close] = None,
                 rcvd_then_sent: Optional[bool] = None) -> None:
        super().__init__(close_code, "CONNECTION_CLOSED", f"connection closed: {close_code} {reason}".rstrip())
        self.reason = reason
        self.clean = clean
        self.rcvd = rcvd
        self.sent = sent
        self.rcvd_then_sent = rcvd_then_sent

    def __str__(self) -> str:
        if self.rcvd is None and self.sent is None:
            return f"no close frame received or sent (close code {self.code})"
        if self.rcvd is None:
            return f"sent {self.sent}; no close frame received"
        if self.sent is None:
            return f"received {self.rcvd}; no close frame sent"
        if self.rcvd_then_sent:
            return f"received {self.rcvd}; then sent {self.sent}"
        return f"sent {self.sent}; then received {self.rcvd}"


class ConnectionClosedOK(ConnectionClosed):
    """The connection ended normally: close frames with 1000, 1001 or no code were received
    and sent (websockets' rule)."""


class ConnectionClosedError(ConnectionClosed):
    """The connection ended with an error: another close code was received or sent, or the
    closing handshake did not complete."""


def closed_error(code: int, reason: str, clean: bool, sent: Optional[Close]) -> ConnectionClosed:
    """The exception for a close event (``code``, ``reason``, ``clean``) of a connection that
    sent ``sent`` itself (None: it did not start the closing handshake). wskit reports the
    peer's close frame when the handshake completed (``clean``); an end that did not start it
    echoed the peer's code, without a reason."""
    rcvd = Close(code, reason) if clean else None
    if sent is None and clean:
        sent = Close(code, "")  # wskit answers a close with its code, no reason
        rcvd_then_sent: Optional[bool] = True
    else:
        rcvd_then_sent = None if rcvd is None or sent is None else False
    ok = rcvd is not None and sent is not None and rcvd.code in OK_CLOSE_CODES and sent.code in OK_CLOSE_CODES
    cls = ConnectionClosedOK if ok else ConnectionClosedError
    return cls(code, reason, clean, rcvd=rcvd, sent=sent, rcvd_then_sent=rcvd_then_sent)


class InvalidURI(InvalidArgument):
    """A client was given a URL that is not a ``ws://`` or ``wss://`` URL (as websockets'
    ``InvalidURI``: ``uri`` and ``msg``). Also an :class:`InvalidArgument`."""

    def __init__(self, uri: str, msg: str) -> None:
        from ._native import Status  # the number comes from the loaded library

        super().__init__(int(Status.ERR_INVALID_ARG), Status.ERR_INVALID_ARG.c_name, f"{uri} isn't a valid URI: {msg}")
        self.uri = uri
        self.msg = msg


@dataclass(frozen=True)
class Response:
    """The HTTP response of a refused client handshake (``InvalidStatus.response``, as in
    websockets): ``status_code``, ``headers`` (a :class:`wskit.Headers`), ``body``."""

    status_code: int
    headers: Any
    body: bytes


#: websockets' names for the handshake failures: ``InvalidHandshake`` (any opening handshake
#: failure) and ``InvalidStatus`` (the server answered with another HTTP status than 101; its
#: ``response`` has ``status_code``, ``headers`` and ``body``).
InvalidHandshake = HandshakeError
InvalidStatus = HandshakeRejected


#: Status name (as in include/wskit.h) -> exception class. By name, so that no status number is
#: written in Python: the numbers come from the loaded library (see ``wskit.Status``). Every error
#: status of the header (``WSKIT_ERR_*``) is listed, and nothing else (tests/test_abi.py); a number
#: the binding does not know (a newer library) maps to :class:`Error`.
STATUS_NAME_TO_EXCEPTION: Dict[str, Type[Error]] = {
    "WSKIT_ERR_NULL_ARG": InvalidArgument,
    "WSKIT_ERR_INVALID_ARG": InvalidArgument,
    "WSKIT_ERR_INVALID_STATE": InvalidState,
    "WSKIT_ERR_REENTRANT": ReentrantCall,
    "WSKIT_ERR_NOT_FOUND": NotFound,
    "WSKIT_ERR_UNAVAILABLE": Unavailable,
    "WSKIT_ERR_NOT_CONNECTED": NotConnected,
    "WSKIT_ERR_PROTOCOL": ProtocolError,
    "WSKIT_ERR_INVALID_UTF8": ProtocolError,
    "WSKIT_ERR_MESSAGE_TOO_BIG": ProtocolError,
    "WSKIT_ERR_HANDSHAKE_REJECTED": HandshakeRejected,
    "WSKIT_ERR_HANDSHAKE": HandshakeError,
    "WSKIT_ERR_IO": NetworkError,
    "WSKIT_ERR_RESOLVE": NetworkError,
    "WSKIT_ERR_CONNECT": NetworkError,
    "WSKIT_ERR_TIMEOUT": WskitTimeout,
    "WSKIT_ERR_TLS": TLSError,
    "WSKIT_ERR_PROXY": ProxyError,
    "WSKIT_ERR_PROXY_AUTH": ProxyAuthError,
    "WSKIT_ERR_PROXY_REFUSED": ProxyRefused,
    "WSKIT_ERR_PROXY_TIMEOUT": ProxyTimeout,
    "WSKIT_ERR_SOCKS": SocksError,
    "WSKIT_ERR_NO_MEMORY": ResourceError,
    "WSKIT_ERR_WOULD_BLOCK": WouldBlock,
    "WSKIT_ERR_INTERNAL": InternalError,
    "WSKIT_ERR_PANIC": InternalError,
}


def error_for(code: int, name: str, message: str) -> Error:
    """The exception for a status: ``code`` its number, ``name`` its header name."""
    return STATUS_NAME_TO_EXCEPTION.get(name, Error)(code, name, message)
