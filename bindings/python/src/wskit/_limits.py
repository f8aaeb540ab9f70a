"""The websockets-style limits shared by the asyncio and threaded APIs: ``max_queue``,
``write_limit``, ``max_size``, and how they become wskit config options."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Union

#: ``max_queue`` as given: messages (high-water mark), ``(high, low)``, or None (unbounded).
QueueLimit = Union[int, Tuple[int, int], None]
#: ``write_limit`` as given: bytes (high-water mark) or ``(high, low)``.
WriteLimit = Union[int, Tuple[int, int]]

#: websockets' defaults for the queue (16 messages) and the write limit (32 KiB); the message
#: size limit is wskit's (16 MiB; websockets' is 1 MiB: pass ``max_size=2**20`` for that).
DEFAULT_MAX_QUEUE = 16
DEFAULT_WRITE_LIMIT = 32 * 1024
DEFAULT_MAX_SIZE = 16 << 20
#: ``max_size=None``: no limit of the binding's own (wskit needs a number).
_UNLIMITED = 1 << 62


def queue_marks(max_queue: QueueLimit) -> Optional[Tuple[int, int]]:
    """``(high, low)`` in messages: reading pauses when ``high`` messages wait, resumes at ``low``
    (default ``high // 4``, as websockets). None: unbounded."""
    if max_queue is None:
        return None
    high, low = max_queue if isinstance(max_queue, tuple) else (max_queue, max_queue // 4)
    if high < 1 or not 0 <= low <= high:
        raise ValueError(f"max_queue must be >= 1 with 0 <= low <= high, not {max_queue!r}")
    return high, low


def write_marks(write_limit: WriteLimit) -> Tuple[int, int]:
    """``(high, low)`` in bytes: ``send`` waits while more than ``high`` bytes are buffered,
    until they drain to ``low`` (default ``high // 4``)."""
    high, low = write_limit if isinstance(write_limit, tuple) else (write_limit, write_limit // 4)
    if high < 0 or not 0 <= low <= high:
        raise ValueError(f"write_limit must be >= 0 with 0 <= low <= high, not {write_limit!r}")
    return high, low


def config_options(*, max_size: Optional[int], ping_interval: Optional[float], ping_timeout: Optional[float],
                   open_timeout: Optional[float], close_timeout: Optional[float]) -> Dict[str, Any]:
    """wskit config options for websockets' names: ``max_size`` (message and frame bytes; None: no
    limit), ``ping_interval`` / ``ping_timeout`` (seconds; None: no keepalive pings),
    ``open_timeout`` (handshake), ``close_timeout``."""
    size = _UNLIMITED if max_size is None else max_size
    if size < 1:
        raise ValueError("max_size must be >= 1 or None")
    out: Dict[str, Any] = {"max_message_size": size, "max_frame_size": size}
    if ping_interval is not None and ping_interval > 0:
        out["ping_interval"] = ping_interval
        if ping_timeout is not None and ping_timeout > 0:
            out["pong_timeout"] = ping_timeout
    if open_timeout is not None:
        out["handshake_timeout"] = open_timeout
    if close_timeout is not None:
        out["close_timeout"] = close_timeout
    return out


def parse_address(peer: str) -> Tuple[str, int]:
    """``"127.0.0.1:5000"`` / ``"[::1]:5000"`` -> ``("127.0.0.1", 5000)`` (websockets'
    ``remote_address`` shape); ``("", 0)`` when unknown."""
    host, sep, port = peer.rpartition(":")
    if not sep or not port.isdigit():
        return peer, 0
    return host.strip("[]"), int(port)


def check_uri(uri: str) -> None:
    """Raises :class:`~wskit.InvalidURI` unless ``uri`` is a ``ws://`` or ``wss://`` URL with a
    host (websockets' check, before any connection attempt), or a ``ws+unix:`` URL with a socket
    path."""
    from urllib.parse import urlsplit

    from .errors import InvalidURI

    scheme, _, rest = uri.partition(":")
    if scheme.lower() == "wss+unix":
        raise InvalidURI(uri, "TLS over a Unix socket (wss+unix:) isn't supported")
    if scheme.lower() == "ws+unix":  # ws+unix:///path/to.sock:/request/path (Node ws' form)
        socket_path, _, target = rest[2:].partition(":") if rest.startswith("//") else rest.partition(":")
        if not socket_path:
            raise InvalidURI(uri, "socket path isn't provided")
        if target and not target.startswith("/"):
            raise InvalidURI(uri, "the request path after the socket path must start with /")
        return
    try:
        parts = urlsplit(uri)
        parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise InvalidURI(uri, str(exc)) from None
    if parts.scheme.lower() not in ("ws", "wss"):
        raise InvalidURI(uri, "scheme isn't ws or wss")
    if not parts.hostname:
        raise InvalidURI(uri, "hostname isn't provided")
