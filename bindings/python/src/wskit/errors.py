"""Exceptions: one :class:`Error` base carrying the C status, subclasses chosen from one table."""

from __future__ import annotations

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


class NetworkError(Error, OSError):
    """WSKIT_ERR_IO / RESOLVE / CONNECT: a socket operation, name resolution or connect failed."""


class WskitTimeout(Error, TimeoutError):
    """WSKIT_ERR_TIMEOUT, and timeouts of the blocking client (``recv(timeout=...)``)."""


class TLSError(NetworkError):
    """WSKIT_ERR_TLS: certificate/key files or a refused TLS handshake (the message says why)."""


class ResourceError(Error):
    """WSKIT_ERR_NO_MEMORY (and the base of WouldBlock)."""


class WouldBlock(ResourceError):
    """WSKIT_ERR_WOULD_BLOCK: the send buffer is full; wait for the writable event and retry."""


class InternalError(Error):
    """WSKIT_ERR_INTERNAL / PANIC: a bug in wskit."""


class ConnectionClosed(Error):
    """The connection is closed: ``code`` and ``reason`` of the close, ``clean`` if the closing
    handshake completed. ``code`` is the WebSocket close code here, not a status."""

    def __init__(self, close_code: int, reason: str = "", clean: bool = False) -> None:
        super().__init__(close_code, "CONNECTION_CLOSED", f"connection closed: {close_code} {reason}".rstrip())
        self.reason = reason
        self.clean = clean


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
    "WSKIT_ERR_NO_MEMORY": ResourceError,
    "WSKIT_ERR_WOULD_BLOCK": WouldBlock,
    "WSKIT_ERR_INTERNAL": InternalError,
    "WSKIT_ERR_PANIC": InternalError,
}


def error_for(code: int, name: str, message: str) -> Error:
    """The exception for a status: ``code`` its number, ``name`` its header name."""
    return STATUS_NAME_TO_EXCEPTION.get(name, Error)(code, name, message)
