"""wskit: WebSocket (RFC 6455) for Python, over the wskit C library (ctypes, no compiled code).

Server::

    import wskit
    with wskit.Context() as ctx:
        @ctx.on_message
        def echo(conn, data):
            conn.send(data)
        port = ctx.listen("127.0.0.1", 9001)
        ctx.run()

Client::

    with wskit.connect("ws://127.0.0.1:9001/") as ws:
        ws.send("hello")
        print(ws.recv(timeout=5))

Queue mode (no handlers; typed events pulled by the caller, bounded in bytes)::

    with wskit.Context(queue=1 << 20) as ctx:
        ctx.listen("127.0.0.1", 9001)
        for event in ctx.events():
            if isinstance(event, wskit.MessageEvent):
                event.conn.send(event.data)

websockets-style servers (``async def handler(ws)`` per connection, or ``def handler(ws)`` on a
thread each): :func:`wskit.aio.serve`, :func:`wskit.sync.serve`; clients: :func:`wskit.aio.connect`,
:func:`wskit.connect`. Inbound queues are bounded (``max_queue``, 16 messages): a full queue pauses
reading the connection, nothing is lost.

``ctx.set_tracer(print)`` shows every handshake and frame header.

The library is found as a copy bundled in the package (a wheel's), through ``$WSKIT_LIBRARY``,
in the checkout's ``target/release``, then the system (see ``wskit._native``).
"""

from . import aio, sync
from ._accept import AcceptRequest, Headers, Reject
from ._config import make_config
from ._connection import Connection
from ._deflate import DeflateOptions, DeflateParams
from ._events import (
    AcceptEvent,
    CloseEvent,
    ErrorEvent,
    Event,
    FragmentEvent,
    HttpRequestEvent,
    ListenEvent,
    MessageEvent,
    OpenEvent,
    PingEvent,
    PongEvent,
    QueueStats,
    ReconnectEvent,
    UndeliveredEvent,
    Stats,
    Trace,
    WritableEvent,
)
from ._http import HttpRequest
from ._loop import Context
from ._native import EventKind, Status, library_path
from ._reconnect import ReconnectState
from ._tls import TlsOptions, tls_context
from ._native import version_string as library_version
from .client import ClientConnection, connect
from .errors import (
    Close,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    Error,
    HandshakeError,
    HandshakeRejected,
    InternalError,
    InvalidArgument,
    InvalidHandshake,
    InvalidState,
    InvalidStatus,
    InvalidURI,
    NetworkError,
    NotConnected,
    NotFound,
    Unavailable,
    ProtocolError,
    ProxyAuthError,
    ProxyError,
    ProxyRefused,
    ProxyTimeout,
    ReentrantCall,
    SocksError,
    ResourceError,
    TLSError,
    WouldBlock,
    WskitTimeout,
)

__version__ = "0.2.0"

__all__ = [
    "AcceptEvent", "CloseEvent", "ErrorEvent", "Event", "FragmentEvent", "ListenEvent", "MessageEvent", "OpenEvent",
    "PingEvent", "PongEvent", "QueueStats", "Stats", "Trace", "WritableEvent", "HttpRequestEvent", "HttpRequest",
    "AcceptRequest", "ClientConnection", "Connection", "ConnectionClosed", "Context", "DeflateOptions", "DeflateParams", "Error", "EventKind",
    "HandshakeError", "HandshakeRejected", "Headers", "InternalError", "InvalidArgument", "InvalidState",
    "NetworkError", "NotFound", "ProtocolError", "ReentrantCall", "Reject", "ResourceError", "Status",
    "TLSError", "Unavailable", "WouldBlock", "WskitTimeout", "aio", "connect", "library_path", "library_version",
    "make_config", "__version__",
    # websockets-style API (wskit.aio.serve / connect, wskit.sync.serve / connect)
    "Close", "ConnectionClosedError", "ConnectionClosedOK", "InvalidHandshake", "InvalidStatus", "InvalidURI",
    "TlsOptions", "sync", "tls_context",
    # proxy traversal (docs/proxy.md)
    "ProxyAuthError", "ProxyError", "ProxyRefused", "ProxyTimeout", "SocksError",
    # reconnect (docs/reconnect.md)
    "NotConnected", "ReconnectEvent", "ReconnectState", "UndeliveredEvent",
]
