"""Loading libwskit and declaring its C ABI (include/wskit.h) for ctypes.

Where the library is looked for, in this order (the first that loads wins):

1. A copy bundled in this package's directory (``wskit/libwskit.so*``): what a wheel ships
   (``pip install ./bindings/python`` builds or copies it in, see ``bindings/python/setup.py``;
   ``scripts/test-python.sh --bundle`` puts one in the checkout). First, so that an installed
   wheel always runs the library it was built with, whatever the environment says.
2. ``$WSKIT_LIBRARY``: an explicit path to ``libwskit.so`` (or any file name), for a checkout or
   an editable install (which bundle nothing).
3. The repository's ``target/release`` and ``target/debug`` when running from a checkout
   (editable install or ``PYTHONPATH=bindings/python/src``).
4. The system: ``ctypes.util.find_library("wskit")`` (``/usr/lib``, ``LD_LIBRARY_PATH``, ...).

When none loads, ``ImportError`` lists every place tried and why it failed.

Every C function this binding uses is declared once, in ``_FUNCTIONS`` (name, argtypes,
restype). Functions returning ``wskit_status`` get an ``errcheck`` that turns a non-zero status into
the matching :class:`wskit.Error` subclass with ``wskit_error_last()`` as the message.
``tests/test_abi.py`` parses the header and fails when this table drifts from it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_int,
    c_int32,
    c_size_t,
    c_uint16,
    c_uint32,
    c_uint64,
    c_uint8,
    c_void_p,
)
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import errors

#: The C ABI version this binding was written against: the loaded library must have the same
#: major version and at least this minor version.
EXPECTED_VERSION = (0, 2)


class EventKind(enum.IntEnum):
    """``enum wskit_event_kind`` (checked against the header by tests/test_abi.py)."""

    LISTEN = 1
    OPEN = 2
    MESSAGE = 3
    FRAGMENT = 4
    PING = 5
    PONG = 6
    WRITABLE = 7
    CLOSE = 8
    ERROR = 9
    ACCEPT = 10
    REJECTED = 11
    HTTP_REQUEST = 12
    RECONNECT = 13
    UNDELIVERED = 14


class TraceKind(enum.IntEnum):
    """``enum wskit_trace_kind``."""

    HANDSHAKE = 1
    FRAME = 2


class TraceDirection(enum.IntEnum):
    """``enum wskit_trace_direction``."""

    RECEIVED = 1
    SENT = 2


class QueueFlag(enum.IntFlag):
    """``enum wskit_queue_flag``."""

    PAUSE = 0
    CLOSE = 1
    ACCEPT_EVENTS = 2
    HTTP_EVENTS = 4


class UndeliveredReason(enum.IntEnum):
    """``enum wskit_undelivered_reason``: why a queued message was not delivered."""

    QUEUE_FULL = 1
    EXHAUSTED = 2
    STOPPED = 3


#: Enum name in the header -> (Python enum, prefix of its constants): checked by tests/test_abi.py.
ENUMS = {
    "wskit_event_kind": (EventKind, "WSKIT_EVENT_"),
    "wskit_trace_kind": (TraceKind, "WSKIT_TRACE_"),
    "wskit_trace_direction": (TraceDirection, "WSKIT_TRACE_"),
    "wskit_queue_flag": (QueueFlag, "WSKIT_QUEUE_"),
    "wskit_undelivered_reason": (UndeliveredReason, "WSKIT_UNDELIVERED_"),
}


# ----- opaque handles and plain structs ------------------------------------------------------


class wskit_ctx(Structure):
    """Opaque ``wskit_ctx`` (only used through pointers)."""


class wskit_config(Structure):
    """Opaque ``wskit_config``."""


class wskit_remote(Structure):
    """Opaque ``wskit_remote``."""


class wskit_header(Structure):
    """``wskit_header``: a header name and value, each pointer + length (both directions)."""

    _fields_ = [
        ("name", c_char_p),
        ("name_len", c_size_t),
        ("value", c_char_p),
        ("value_len", c_size_t),
    ]


# Strings wskit hands out are declared c_void_p (an int or None in Python) and read with
# ctypes.string_at and their length: they may contain NUL bytes (a close reason).
class wskit_event(Structure):
    """``wskit_event``: one event, for callbacks and the queue alike."""

    _fields_ = [
        ("kind", c_uint32),
        ("listener", c_uint32),
        ("conn", c_uint64),
        ("conn_user_data", c_void_p),
        ("code", c_uint32),
        ("is_text", c_bool),
        ("first", c_bool),
        ("last", c_bool),
        ("clean", c_bool),
        ("data", c_void_p),
        ("len", c_size_t),
        ("subprotocol", c_void_p),
        ("subprotocol_len", c_size_t),
        ("path", c_void_p),
        ("path_len", c_size_t),
        ("query", c_void_p),
        ("query_len", c_size_t),
        ("peer", c_void_p),
        ("peer_len", c_size_t),
        ("headers", POINTER(wskit_header)),
        ("header_count", c_size_t),
    ]


class wskit_queue_stats(Structure):
    """``wskit_queue_stats``."""

    _fields_ = [
        ("events", c_size_t),
        ("bytes", c_size_t),
        ("peak_bytes", c_size_t),
        ("overflows", c_uint64),
    ]


class wskit_deflate_params(Structure):
    """``wskit_deflate_params``: what a connection's permessage-deflate handshake agreed on."""

    _fields_ = [
        ("negotiated", c_bool),
        ("server_no_context_takeover", c_bool),
        ("client_no_context_takeover", c_bool),
        ("server_max_window_bits", c_uint8),
        ("client_max_window_bits", c_uint8),
    ]


class wskit_stats(Structure):
    """``wskit_stats``."""

    _fields_ = [
        ("connections", c_size_t),
        ("listeners", c_size_t),
        ("timer_entries", c_size_t),
        ("pooled_buffers", c_size_t),
        ("pooled_bytes", c_size_t),
        ("held_inputs", c_size_t),
        ("held_bytes", c_size_t),
        ("pending_events", c_size_t),
        ("accept_backoffs", c_size_t),
    ]


class wskit_trace(Structure):
    """``wskit_trace``: one handshake or frame header seen by the tracer."""

    _fields_ = [
        ("conn", c_uint64),
        ("kind", c_uint32),
        ("direction", c_uint32),
        ("opcode", c_uint8),
        ("fin", c_bool),
        ("rsv", c_uint8),
        ("payload_len", c_uint64),
        ("data", c_void_p),
        ("len", c_size_t),
    ]


class wskit_send(Structure):
    """``wskit_send``: one message of ``wskit_ctx_send_batch``."""

    _fields_ = [
        ("conn", c_uint64),
        ("data", c_void_p),
        ("len", c_size_t),
        ("is_text", c_bool),
    ]


class wskit_reconnect_state(Structure):
    """``wskit_reconnect_state``: what ``wskit_conn_reconnect_state`` reports."""

    _fields_ = [
        ("attempt", c_uint32),
        ("waiting", c_bool),
        ("queued_messages", c_size_t),
        ("queued_bytes", c_size_t),
    ]


CtxP = POINTER(wskit_ctx)
ConfigP = POINTER(wskit_config)
RemoteP = POINTER(wskit_remote)
HeaderP = POINTER(wskit_header)
EventP = POINTER(wskit_event)

# ----- callback types ------------------------------------------------------------------------

wskit_event_fn = CFUNCTYPE(None, c_void_p, CtxP, EventP)
wskit_trace_fn = CFUNCTYPE(None, c_void_p, POINTER(wskit_trace))

#: C callback typedef name -> ctypes type (checked by tests/test_abi.py).
CALLBACK_TYPES = {
    "wskit_event_fn": wskit_event_fn,
    "wskit_trace_fn": wskit_trace_fn,
}

# ----- the ONE table -------------------------------------------------------------------------
# (name, argtypes, restype). `STATUS` marks a function returning wskit_status (uint32_t): those
# get the errcheck. Strings and byte buffers are passed as pointer + length (`bytes` pass
# without a copy as c_char_p; NUL bytes are fine since the length is explicit); strings wskit
# hands out come back as c_void_p + length.

STATUS = c_uint32
_u8 = c_char_p  # const uint8_t *
_str = c_char_p  # const char * (with a length)
_outstr = POINTER(c_void_p)  # const char **out (read with its length)

_FUNCTIONS: Sequence[Tuple[str, List[Any], Any]] = (
    # status, version
    ("wskit_status_message", [c_uint32], c_char_p),
    ("wskit_status_name", [c_uint32], c_char_p),
    ("wskit_error_last", [], c_char_p),
    ("wskit_version_number", [], c_uint32),
    ("wskit_version_string", [], c_char_p),
    # config
    ("wskit_config_new", [POINTER(ConfigP)], STATUS),
    ("wskit_config_free", [ConfigP], STATUS),
    ("wskit_config_set_max_message_size", [ConfigP, c_uint64], STATUS),
    ("wskit_config_set_max_fragments", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_idle_timeout_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_max_frame_size", [ConfigP, c_uint64], STATUS),
    ("wskit_config_set_max_buffered", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_low_water_mark", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_read_pause_high_water", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_handshake_timeout_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_close_timeout_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_ping_interval_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_pong_timeout_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_streaming", [ConfigP, c_bool], STATUS),
    ("wskit_config_set_auto_pong", [ConfigP, c_bool], STATUS),
    ("wskit_config_set_backlog", [ConfigP, c_int32], STATUS),
    ("wskit_config_set_reuse_port", [ConfigP, c_bool], STATUS),
    ("wskit_config_set_max_connections", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_max_request_header_bytes", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_max_request_headers", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_deflate", [ConfigP, c_bool], STATUS),
    ("wskit_config_set_deflate_no_context_takeover", [ConfigP, c_bool, c_bool], STATUS),
    ("wskit_config_set_deflate_window_bits", [ConfigP, c_uint8, c_uint8], STATUS),
    ("wskit_config_set_deflate_level", [ConfigP, c_uint8, c_uint8], STATUS),
    ("wskit_config_set_deflate_min_size", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_deflate_compact_idle", [ConfigP, c_bool], STATUS),
    ("wskit_config_add_allowed_origin", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_add_subprotocol", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_add_header", [ConfigP, _str, c_size_t, _str, c_size_t], STATUS),
    ("wskit_config_set_origin", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_set_tls_cert_files", [ConfigP, _str, c_size_t, _str, c_size_t], STATUS),
    ("wskit_config_set_tls_cert_pem", [ConfigP, _u8, c_size_t, _u8, c_size_t], STATUS),
    ("wskit_config_set_tls_ca_file", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_set_tls_ca_pem", [ConfigP, _u8, c_size_t], STATUS),
    ("wskit_config_dangerous_skip_tls_verification", [ConfigP, c_bool], STATUS),
    ("wskit_config_keep_request", [ConfigP, c_bool], STATUS),
    ("wskit_config_keep_header", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_set_static_dir", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_set_max_http_body", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_http_keep_alive_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_proxy", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_set_proxy_from_env", [ConfigP, c_bool], STATUS),
    ("wskit_config_set_proxy_credentials", [ConfigP, _str, c_size_t, _str, c_size_t], STATUS),
    ("wskit_config_set_proxy_timeout_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_proxy_ca_file", [ConfigP, _str, c_size_t], STATUS),
    ("wskit_config_set_reconnect", [ConfigP, c_uint32, c_uint32], STATUS),
    ("wskit_config_set_reconnect_max_attempts", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_reconnect_stable_after_ms", [ConfigP, c_uint32], STATUS),
    ("wskit_config_set_offline_queue_bytes", [ConfigP, c_size_t], STATUS),
    # context
    ("wskit_ctx_new", [POINTER(CtxP)], STATUS),
    ("wskit_ctx_free", [CtxP], STATUS),
    ("wskit_ctx_poll", [CtxP, c_int, POINTER(c_int)], STATUS),
    ("wskit_ctx_fd", [CtxP, POINTER(c_int)], STATUS),
    ("wskit_ctx_next_timeout_ms", [CtxP, POINTER(c_int)], STATUS),
    ("wskit_ctx_flush", [CtxP], STATUS),
    ("wskit_ctx_shutdown", [CtxP, c_uint32], STATUS),
    ("wskit_ctx_begin_shutdown", [CtxP], STATUS),
    ("wskit_ctx_connection_count", [CtxP, POINTER(c_size_t)], STATUS),
    ("wskit_ctx_listen", [CtxP, _str, c_size_t, ConfigP, POINTER(c_uint32)], STATUS),
    ("wskit_ctx_local_port", [CtxP, c_uint32, POINTER(c_uint16)], STATUS),
    ("wskit_ctx_close_listener", [CtxP, c_uint32], STATUS),
    ("wskit_ctx_connect", [CtxP, _str, c_size_t, ConfigP, POINTER(c_uint64)], STATUS),
    ("wskit_ctx_listen_unix", [CtxP, _str, c_size_t, c_uint32, c_uint32, ConfigP, POINTER(c_uint32)], STATUS),
    ("wskit_ctx_connect_unix", [CtxP, _str, c_size_t, _str, c_size_t, ConfigP, POINTER(c_uint64)], STATUS),
    ("wskit_ctx_on_listen", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_accept", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_open", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_message", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_fragment", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_ping", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_pong", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_writable", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_close", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_error", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_rejected", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_http_request", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_reconnect", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_on_undelivered", [CtxP, wskit_event_fn, c_void_p], STATUS),
    ("wskit_ctx_use_event_queue", [CtxP, c_size_t, c_uint32], STATUS),
    ("wskit_ctx_next_event", [CtxP, EventP], STATUS),
    ("wskit_ctx_next_events", [CtxP, EventP, c_size_t, POINTER(c_size_t)], STATUS),
    ("wskit_ctx_queue_stats", [CtxP, POINTER(wskit_queue_stats)], STATUS),
    ("wskit_ctx_stats", [CtxP, POINTER(wskit_stats)], STATUS),
    ("wskit_ctx_set_tracer", [CtxP, wskit_trace_fn, c_void_p], STATUS),
    # accepting (by connection id)
    ("wskit_conn_accept", [CtxP, c_uint64, _str, c_size_t, HeaderP, c_size_t], STATUS),
    ("wskit_conn_reject", [CtxP, c_uint64, c_uint16, HeaderP, c_size_t, _str, c_size_t], STATUS),
    ("wskit_conn_defer_accept", [CtxP, c_uint64], STATUS),
    # plain HTTP (by connection id)
    ("wskit_http_respond", [CtxP, c_uint64, c_uint16, HeaderP, c_size_t, _u8, c_size_t], STATUS),
    ("wskit_http_begin", [CtxP, c_uint64, c_uint16, HeaderP, c_size_t, c_uint64], STATUS),
    ("wskit_http_write", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_http_end", [CtxP, c_uint64], STATUS),
    ("wskit_http_serve_static", [CtxP, c_uint64], STATUS),
    # connections
    ("wskit_conn_send_text", [CtxP, c_uint64, _str, c_size_t], STATUS),
    ("wskit_conn_send_binary", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_ctx_broadcast", [CtxP, POINTER(c_uint64), c_size_t, c_bool, _u8, c_size_t, POINTER(STATUS),
                             POINTER(c_size_t)], STATUS),
    ("wskit_ctx_send_batch", [CtxP, POINTER(wskit_send), c_size_t, POINTER(STATUS), POINTER(c_size_t)], STATUS),
    ("wskit_conn_begin_message", [CtxP, c_uint64, c_bool, _u8, c_size_t], STATUS),
    ("wskit_conn_continue_message", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_conn_finish_message", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_conn_ping", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_conn_pong", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_conn_close", [CtxP, c_uint64, c_uint16, _str, c_size_t], STATUS),
    ("wskit_conn_abort", [CtxP, c_uint64], STATUS),
    ("wskit_conn_buffered_amount", [CtxP, c_uint64, POINTER(c_size_t)], STATUS),
    ("wskit_conn_reconnect_delay", [CtxP, c_uint64, c_uint32], STATUS),
    ("wskit_conn_stop_reconnect", [CtxP, c_uint64], STATUS),
    ("wskit_conn_reconnect_state", [CtxP, c_uint64, POINTER(wskit_reconnect_state)], STATUS),
    ("wskit_conn_pause_reading", [CtxP, c_uint64], STATUS),
    ("wskit_conn_resume_reading", [CtxP, c_uint64], STATUS),
    ("wskit_conn_is_reading_paused", [CtxP, c_uint64, POINTER(c_bool)], STATUS),
    ("wskit_conn_set_user_data", [CtxP, c_uint64, c_void_p], STATUS),
    ("wskit_conn_user_data", [CtxP, c_uint64, POINTER(c_void_p)], STATUS),
    ("wskit_conn_deflate_params", [CtxP, c_uint64, POINTER(wskit_deflate_params)], STATUS),
    ("wskit_conn_subprotocol", [CtxP, c_uint64, _outstr, POINTER(c_size_t)], STATUS),
    ("wskit_conn_peer", [CtxP, c_uint64, _outstr, POINTER(c_size_t)], STATUS),
    ("wskit_conn_path", [CtxP, c_uint64, _outstr, POINTER(c_size_t)], STATUS),
    ("wskit_conn_query", [CtxP, c_uint64, _outstr, POINTER(c_size_t)], STATUS),
    ("wskit_conn_header", [CtxP, c_uint64, _str, c_size_t, _outstr, POINTER(c_size_t)], STATUS),
    ("wskit_conn_header_count", [CtxP, c_uint64, POINTER(c_size_t)], STATUS),
    ("wskit_conn_header_at", [CtxP, c_uint64, c_size_t, _outstr, POINTER(c_size_t), _outstr, POINTER(c_size_t)],
     STATUS),
    # remote (any thread)
    ("wskit_remote_new", [CtxP, POINTER(RemoteP)], STATUS),
    ("wskit_remote_free", [RemoteP], STATUS),
    ("wskit_remote_send_text", [RemoteP, c_uint64, _str, c_size_t], STATUS),
    ("wskit_remote_send_binary", [RemoteP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_remote_ping", [RemoteP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_remote_close", [RemoteP, c_uint64, c_uint16, _str, c_size_t], STATUS),
    ("wskit_remote_pause_reading", [RemoteP, c_uint64], STATUS),
    ("wskit_remote_resume_reading", [RemoteP, c_uint64], STATUS),
    ("wskit_remote_wake", [RemoteP], STATUS),
    ("wskit_remote_http_respond", [RemoteP, c_uint64, c_uint16, HeaderP, c_size_t, _u8, c_size_t], STATUS),
    ("wskit_remote_http_begin", [RemoteP, c_uint64, c_uint16, HeaderP, c_size_t, c_uint64], STATUS),
    ("wskit_remote_http_write", [RemoteP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_remote_http_end", [RemoteP, c_uint64], STATUS),
)

FUNCTIONS = {name: (argtypes, restype) for name, argtypes, restype in _FUNCTIONS}
#: Functions whose result is a wskit_status (errcheck raises on non-zero).
STATUS_FUNCTIONS = frozenset(
    name
    for name, _, restype in _FUNCTIONS
    if restype is STATUS and name not in ("wskit_version_number",)
)

# ----- loading -------------------------------------------------------------------------------


def _candidates() -> List[Tuple[str, str]]:
    """(description, path) pairs, in lookup order."""
    found: List[Tuple[str, str]] = []
    here = os.path.dirname(os.path.abspath(__file__))
    bundled = sorted(
        (f for f in os.listdir(here) if f.startswith("libwskit.so")), key=len
    )
    found.append(
        ("bundled in the package", os.path.join(here, bundled[0]) if bundled else os.path.join(here, "libwskit.so"))
    )
    env = os.environ.get("WSKIT_LIBRARY")
    if env:
        found.append(("$WSKIT_LIBRARY", env))
    else:
        found.append(("$WSKIT_LIBRARY", "(not set)"))
    # bindings/python/src/wskit -> repository root is four levels up.
    root = os.path.abspath(os.path.join(here, "..", "..", "..", ".."))
    for profile in ("release", "debug"):
        found.append((f"checkout target/{profile}", os.path.join(root, "target", profile, "libwskit.so")))
    system = ctypes.util.find_library("wskit")
    found.append(("system (ctypes.util.find_library)", system or "(not found)"))
    return found


def _load() -> Tuple[ctypes.CDLL, str]:
    tried: List[str] = []
    for where, path in _candidates():
        if path.startswith("("):
            tried.append(f"  {where}: {path}")
            continue
        if os.sep in path and not os.path.exists(path):
            tried.append(f"  {where}: {path}: no such file")
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.wskit_version_number  # the test symbol: is this really libwskit?
        except (OSError, AttributeError) as exc:
            tried.append(f"  {where}: {path}: {exc}")
            continue
        return lib, path
    raise ImportError(
        "wskit: cannot load libwskit. Looked in, in order:\n"
        + "\n".join(tried)
        + "\nBuild it with `cargo build --release` in the wskit checkout, or set WSKIT_LIBRARY "
        "to the path of libwskit.so."
    )


lib, library_path = _load()


def _declare(cdll: ctypes.CDLL) -> None:
    for name, argtypes, restype in _FUNCTIONS:
        fn = getattr(cdll, name)
        fn.argtypes = argtypes
        fn.restype = restype
        if name in STATUS_FUNCTIONS:
            fn.errcheck = _errcheck


def last_error() -> str:
    """``wskit_error_last()`` of the calling thread, decoded."""
    return (lib.wskit_error_last() or b"").decode("utf-8", "replace")


def status_name(code: int) -> str:
    """``wskit_status_name(code)``, e.g. ``"WSKIT_ERR_NOT_FOUND"``."""
    name: bytes = lib.wskit_status_name(code)
    return name.decode()


def strerror(code: int) -> str:
    """``wskit_status_message(code)``: a static English sentence."""
    message: bytes = lib.wskit_status_message(code)
    return message.decode()


def make_error(code: int, message: Optional[str] = None) -> "errors.Error":
    """The :class:`wskit.Error` subclass for ``code``; ``message`` defaults to the last error."""
    if message is None or message == "":
        message = last_error() or strerror(code)
    return errors.error_for(code, status_name(code), message)


def _errcheck(result: int, func: Callable[..., Any], args: Tuple[Any, ...]) -> int:
    # Results that are not errors (WSKIT_QUEUE_EMPTY) are returned; errors raise.
    if result >= _FIRST_ERROR:
        raise make_error(result)
    return result


_declare(lib)

version: int = lib.wskit_version_number()
version_string: str = lib.wskit_version_string().decode()
_major, _minor = version >> 16, (version >> 8) & 0xFF
if _major != EXPECTED_VERSION[0] or _minor < EXPECTED_VERSION[1]:
    raise ImportError(
        f"wskit: {library_path} is version {version_string}, but this binding needs "
        f"{EXPECTED_VERSION[0]}.{EXPECTED_VERSION[1]} or a later {EXPECTED_VERSION[0]}.x; "
        "rebuild the library or point WSKIT_LIBRARY at a matching one"
    )



# ----- status codes: names here, numbers from the library --------------------------------------
# Every status is below this bound (groups of a hundred: 1xx usage, 2xx protocol, 3xx network,
# 4xx resources, 9xx bugs; results that are not errors are single digits). tests/test_abi.py
# checks that every value in include/wskit.h is.
_STATUS_BOUND = 1000


def _library_statuses() -> Dict[str, int]:
    """``"WSKIT_ERR_NOT_FOUND"`` -> its number, for every status the loaded library names."""
    out: Dict[str, int] = {}
    for code in range(_STATUS_BOUND):
        name = lib.wskit_status_name(code).decode()
        if name != "WSKIT_UNKNOWN":
            out[name] = code
    return out


STATUS_CODES: Dict[str, int] = _library_statuses()
#: The lowest error status: smaller results (WSKIT_OK, WSKIT_QUEUE_EMPTY) are not errors.
_FIRST_ERROR = min(code for name, code in STATUS_CODES.items() if name.startswith("WSKIT_ERR_"))


def _code(name: str) -> int:
    try:
        return STATUS_CODES[name]
    except KeyError:
        raise ImportError(
            f"wskit: {library_path} (version {version_string}) has no status {name}; rebuild the library "
            "or point WSKIT_LIBRARY at one matching this binding"
        ) from None


class Status(enum.IntEnum):
    """``enum wskit_status``. Each member is named as in the header without ``WSKIT_``; the values
    are the loaded library's (``wskit_status_name``), never written here. tests/test_abi.py checks
    the names and values against include/wskit.h."""

    OK = _code("WSKIT_OK")
    QUEUE_EMPTY = _code("WSKIT_QUEUE_EMPTY")
    ERR_NULL_ARG = _code("WSKIT_ERR_NULL_ARG")
    ERR_INVALID_ARG = _code("WSKIT_ERR_INVALID_ARG")
    ERR_INVALID_STATE = _code("WSKIT_ERR_INVALID_STATE")
    ERR_REENTRANT = _code("WSKIT_ERR_REENTRANT")
    ERR_NOT_FOUND = _code("WSKIT_ERR_NOT_FOUND")
    ERR_UNAVAILABLE = _code("WSKIT_ERR_UNAVAILABLE")
    ERR_NOT_CONNECTED = _code("WSKIT_ERR_NOT_CONNECTED")
    ERR_PROTOCOL = _code("WSKIT_ERR_PROTOCOL")
    ERR_INVALID_UTF8 = _code("WSKIT_ERR_INVALID_UTF8")
    ERR_MESSAGE_TOO_BIG = _code("WSKIT_ERR_MESSAGE_TOO_BIG")
    ERR_HANDSHAKE_REJECTED = _code("WSKIT_ERR_HANDSHAKE_REJECTED")
    ERR_HANDSHAKE = _code("WSKIT_ERR_HANDSHAKE")
    ERR_IO = _code("WSKIT_ERR_IO")
    ERR_RESOLVE = _code("WSKIT_ERR_RESOLVE")
    ERR_CONNECT = _code("WSKIT_ERR_CONNECT")
    ERR_TIMEOUT = _code("WSKIT_ERR_TIMEOUT")
    ERR_TLS = _code("WSKIT_ERR_TLS")
    ERR_PROXY = _code("WSKIT_ERR_PROXY")
    ERR_PROXY_AUTH = _code("WSKIT_ERR_PROXY_AUTH")
    ERR_PROXY_REFUSED = _code("WSKIT_ERR_PROXY_REFUSED")
    ERR_PROXY_TIMEOUT = _code("WSKIT_ERR_PROXY_TIMEOUT")
    ERR_SOCKS = _code("WSKIT_ERR_SOCKS")
    ERR_NO_MEMORY = _code("WSKIT_ERR_NO_MEMORY")
    ERR_WOULD_BLOCK = _code("WSKIT_ERR_WOULD_BLOCK")
    ERR_INTERNAL = _code("WSKIT_ERR_INTERNAL")
    ERR_PANIC = _code("WSKIT_ERR_PANIC")

    @property
    def c_name(self) -> str:
        """The header's name, e.g. ``"WSKIT_ERR_NOT_FOUND"``."""
        return "WSKIT_" + self.name


def error(status: Status, message: str) -> "errors.Error":
    """The :class:`wskit.Error` subclass for ``status`` with ``message`` (for failures the binding
    detects itself, e.g. ``error(Status.ERR_REENTRANT, "poll() called from a handler")``)."""
    return errors.error_for(int(status), status.c_name, message)


def as_bytes(data: Any) -> bytes:
    """bytes from bytes / bytearray / memoryview (copies only when it is not bytes already)."""
    return data if isinstance(data, bytes) else bytes(data)


#: ``WSKIT_HTTP_UNKNOWN_LENGTH``: the body length of a chunked response.
HTTP_UNKNOWN_LENGTH = 2**64 - 1


def text_of(ptr: Optional[int], length: int) -> str:
    """A string wskit handed out as pointer + length, decoded (``""`` for NULL)."""
    return ctypes.string_at(ptr, length).decode("utf-8", "replace") if ptr and length else ""


def bytes_of(ptr: Optional[int], length: int) -> bytes:
    """Bytes wskit handed out as pointer + length (``b""`` for NULL or 0)."""
    return ctypes.string_at(ptr, length) if ptr and length else b""


def header_pairs(headers: Any, count: int) -> List[Tuple[str, str]]:
    """``(name, value)`` pairs from a ``const wskit_header *`` array of ``count``."""
    out = []
    for i in range(count):
        h = headers[i]
        out.append((ctypes.string_at(h.name, h.name_len).decode("utf-8", "replace"),
                    ctypes.string_at(h.value, h.value_len).decode("utf-8", "replace")))
    return out


def header_array(pairs: Sequence[Tuple[str, str]]) -> Tuple[Any, int, List[bytes]]:
    """A ``wskit_header`` array for ``pairs`` (array, count, the bytes it points into: keep
    them alive for the call)."""
    keep: List[bytes] = []
    arr = (wskit_header * len(pairs))()
    for i, (name, value) in enumerate(pairs):
        n, v = name.encode(), value.encode()
        keep += (n, v)
        arr[i].name, arr[i].name_len, arr[i].value, arr[i].value_len = n, len(n), v, len(v)
    return (arr if pairs else None), len(pairs), keep
