"""Loading libwskit and declaring its C ABI (include/wskit.h) for ctypes.

Where the library is looked for, in this order (the first that loads wins):

1. ``$WSKIT_LIBRARY``: an explicit path to ``libwskit.so`` (or any file name).
2. A copy bundled in this package's directory (``wskit/libwskit.so*``, put there by
   ``scripts/test-python.sh --bundle`` before building a wheel).
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
    c_void_p,
)
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import errors

#: The C ABI version this binding was written against: the loaded library must have the same
#: major version and at least this minor version.
EXPECTED_VERSION = (0, 2)


class EventKind(enum.IntEnum):
    """``enum wskit_event_kind`` (the queue mode's event kinds; checked by tests/test_abi.py)."""

    LISTEN = 1
    OPEN = 2
    MESSAGE = 3
    FRAGMENT = 4
    PING = 5
    PONG = 6
    WRITABLE = 7
    CLOSE = 8
    ERROR = 9


# ----- opaque handles and plain structs ------------------------------------------------------


class wskit_ctx(Structure):
    """Opaque ``wskit_ctx`` (only used through pointers)."""


class wskit_config(Structure):
    """Opaque ``wskit_config``."""


class wskit_remote(Structure):
    """Opaque ``wskit_remote``."""


class wskit_accept(Structure):
    """Opaque ``wskit_accept`` (borrowed, valid during the accept callback only)."""


class wskit_header(Structure):
    """``wskit_header``: a request header seen by the accept callback."""

    _fields_ = [
        ("name", c_char_p),
        ("name_len", c_size_t),
        ("value", c_char_p),
        ("value_len", c_size_t),
    ]


class wskit_event(Structure):
    """``wskit_event``: one event of the queue mode (declared for completeness)."""

    _fields_ = [
        ("kind", c_uint32),
        ("listener", c_uint32),
        ("conn", c_uint64),
        ("code", c_uint32),
        ("is_text", c_bool),
        ("first", c_bool),
        ("last", c_bool),
        ("clean", c_bool),
        ("data", c_void_p),
        ("len", c_size_t),
    ]


CtxP = POINTER(wskit_ctx)
ConfigP = POINTER(wskit_config)
RemoteP = POINTER(wskit_remote)
AcceptP = POINTER(wskit_accept)

# ----- callback types ------------------------------------------------------------------------
# Byte payloads are declared c_void_p (an int or None in Python) and read with ctypes.string_at,
# because they are not NUL-terminated (and may contain NUL bytes).

on_listen_fn = CFUNCTYPE(None, c_void_p, CtxP, c_uint32, c_char_p, c_uint16)
on_accept_fn = CFUNCTYPE(None, c_void_p, CtxP, AcceptP)
on_open_fn = CFUNCTYPE(None, c_void_p, CtxP, c_uint64, c_uint32, c_char_p, c_char_p, c_char_p)
on_message_fn = CFUNCTYPE(None, c_void_p, CtxP, c_uint64, c_bool, c_void_p, c_size_t)
on_fragment_fn = CFUNCTYPE(
    None, c_void_p, CtxP, c_uint64, c_bool, c_void_p, c_size_t, c_bool, c_bool
)
on_control_fn = CFUNCTYPE(None, c_void_p, CtxP, c_uint64, c_void_p, c_size_t)
on_writable_fn = CFUNCTYPE(None, c_void_p, CtxP, c_uint64)
on_close_fn = CFUNCTYPE(None, c_void_p, CtxP, c_uint64, c_uint16, c_void_p, c_size_t, c_bool)
on_error_fn = CFUNCTYPE(None, c_void_p, CtxP, c_uint64, c_uint32, c_char_p)

#: C callback typedef name -> ctypes type (checked by tests/test_abi.py).
CALLBACK_TYPES = {
    "wskit_on_listen_fn": on_listen_fn,
    "wskit_on_accept_fn": on_accept_fn,
    "wskit_on_open_fn": on_open_fn,
    "wskit_on_message_fn": on_message_fn,
    "wskit_on_fragment_fn": on_fragment_fn,
    "wskit_on_control_fn": on_control_fn,
    "wskit_on_writable_fn": on_writable_fn,
    "wskit_on_close_fn": on_close_fn,
    "wskit_on_error_fn": on_error_fn,
}

# ----- the ONE table -------------------------------------------------------------------------
# (name, argtypes, restype). `STATUS` marks a function returning wskit_status (uint32_t): those
# get the errcheck. Byte buffers (`const uint8_t *`) are declared c_char_p so that `bytes` pass
# without a copy; lengths are always passed explicitly, so NUL bytes are fine.

STATUS = c_uint32
_u8 = c_char_p  # const uint8_t *

_FUNCTIONS: Sequence[Tuple[str, List[Any], Any]] = (
    # status, version
    ("wskit_status_message", [c_uint32], c_char_p),
    ("wskit_status_name", [c_uint32], c_char_p),
    ("wskit_error_last", [], c_char_p),
    ("wskit_version_number", [], c_uint32),
    ("wskit_version_string", [], c_char_p),
    # config
    ("wskit_config_new", [POINTER(ConfigP)], STATUS),
    ("wskit_config_free", [ConfigP], None),
    ("wskit_config_set_max_message_size", [ConfigP, c_uint64], STATUS),
    ("wskit_config_set_max_frame_size", [ConfigP, c_uint64], STATUS),
    ("wskit_config_set_max_buffered", [ConfigP, c_size_t], STATUS),
    ("wskit_config_set_low_water_mark", [ConfigP, c_size_t], STATUS),
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
    ("wskit_config_add_allowed_origin", [ConfigP, c_char_p], STATUS),
    ("wskit_config_add_subprotocol", [ConfigP, c_char_p], STATUS),
    ("wskit_config_add_header", [ConfigP, c_char_p, c_char_p], STATUS),
    ("wskit_config_set_origin", [ConfigP, c_char_p], STATUS),
    ("wskit_config_set_tls_cert_files", [ConfigP, c_char_p, c_char_p], STATUS),
    ("wskit_config_set_tls_cert_pem", [ConfigP, _u8, c_size_t, _u8, c_size_t], STATUS),
    ("wskit_config_set_tls_ca_file", [ConfigP, c_char_p], STATUS),
    ("wskit_config_set_tls_ca_pem", [ConfigP, _u8, c_size_t], STATUS),
    ("wskit_config_dangerous_skip_tls_verification", [ConfigP, c_bool], STATUS),
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
    ("wskit_ctx_listen", [CtxP, c_char_p, ConfigP, POINTER(c_uint32)], STATUS),
    ("wskit_ctx_local_port", [CtxP, c_uint32, POINTER(c_uint16)], STATUS),
    ("wskit_ctx_close_listener", [CtxP, c_uint32], STATUS),
    ("wskit_ctx_connect", [CtxP, c_char_p, ConfigP, POINTER(c_uint64)], STATUS),
    ("wskit_ctx_on_listen", [CtxP, on_listen_fn, c_void_p], STATUS),
    ("wskit_ctx_on_accept", [CtxP, on_accept_fn, c_void_p], STATUS),
    ("wskit_ctx_on_open", [CtxP, on_open_fn, c_void_p], STATUS),
    ("wskit_ctx_on_message", [CtxP, on_message_fn, c_void_p], STATUS),
    ("wskit_ctx_on_fragment", [CtxP, on_fragment_fn, c_void_p], STATUS),
    ("wskit_ctx_on_ping", [CtxP, on_control_fn, c_void_p], STATUS),
    ("wskit_ctx_on_pong", [CtxP, on_control_fn, c_void_p], STATUS),
    ("wskit_ctx_on_writable", [CtxP, on_writable_fn, c_void_p], STATUS),
    ("wskit_ctx_on_close", [CtxP, on_close_fn, c_void_p], STATUS),
    ("wskit_ctx_on_error", [CtxP, on_error_fn, c_void_p], STATUS),
    ("wskit_ctx_use_event_queue", [CtxP, c_size_t], STATUS),
    ("wskit_ctx_next_event", [CtxP, POINTER(wskit_event)], STATUS),
    # accept (valid during the accept callback only)
    ("wskit_accept_conn", [AcceptP, POINTER(c_uint64)], STATUS),
    ("wskit_accept_listener", [AcceptP, POINTER(c_uint32)], STATUS),
    ("wskit_accept_path", [AcceptP, POINTER(c_char_p)], STATUS),
    ("wskit_accept_query", [AcceptP, POINTER(c_char_p)], STATUS),
    ("wskit_accept_origin", [AcceptP, POINTER(c_char_p)], STATUS),
    ("wskit_accept_peer", [AcceptP, POINTER(c_char_p)], STATUS),
    ("wskit_accept_headers", [AcceptP, POINTER(POINTER(wskit_header)), POINTER(c_size_t)], STATUS),
    ("wskit_accept_header", [AcceptP, c_char_p, POINTER(c_char_p)], STATUS),
    ("wskit_accept_subprotocol_count", [AcceptP, POINTER(c_size_t)], STATUS),
    ("wskit_accept_subprotocol_at", [AcceptP, c_size_t, POINTER(c_char_p)], STATUS),
    ("wskit_accept_select_subprotocol", [AcceptP, c_char_p], STATUS),
    ("wskit_accept_add_header", [AcceptP, c_char_p, c_char_p], STATUS),
    ("wskit_accept_reject", [AcceptP, c_uint16, c_char_p], STATUS),
    # connections
    ("wskit_send_text", [CtxP, c_uint64, c_char_p, c_size_t], STATUS),
    ("wskit_send_binary", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_begin_message", [CtxP, c_uint64, c_bool, _u8, c_size_t], STATUS),
    ("wskit_continue_message", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_finish_message", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_ping", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_pong", [CtxP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_close", [CtxP, c_uint64, c_uint16, c_char_p], STATUS),
    ("wskit_abort", [CtxP, c_uint64], STATUS),
    ("wskit_buffered_amount", [CtxP, c_uint64, POINTER(c_size_t)], STATUS),
    ("wskit_set_conn_user_data", [CtxP, c_uint64, c_void_p], STATUS),
    ("wskit_get_conn_user_data", [CtxP, c_uint64, POINTER(c_void_p)], STATUS),
    ("wskit_conn_subprotocol", [CtxP, c_uint64, POINTER(c_char_p)], STATUS),
    # remote (any thread)
    ("wskit_ctx_remote_new", [CtxP, POINTER(RemoteP)], STATUS),
    ("wskit_remote_free", [RemoteP], None),
    ("wskit_remote_send_text", [RemoteP, c_uint64, c_char_p, c_size_t], STATUS),
    ("wskit_remote_send_binary", [RemoteP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_remote_ping", [RemoteP, c_uint64, _u8, c_size_t], STATUS),
    ("wskit_remote_close", [RemoteP, c_uint64, c_uint16, c_char_p], STATUS),
    ("wskit_remote_wake", [RemoteP], STATUS),
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
    env = os.environ.get("WSKIT_LIBRARY")
    if env:
        found.append(("$WSKIT_LIBRARY", env))
    else:
        found.append(("$WSKIT_LIBRARY", "(not set)"))
    here = os.path.dirname(os.path.abspath(__file__))
    bundled = sorted(
        (f for f in os.listdir(here) if f.startswith("libwskit.so")), key=len
    )
    found.append(
        ("bundled in the package", os.path.join(here, bundled[0]) if bundled else os.path.join(here, "libwskit.so"))
    )
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
    return lib.wskit_status_name(code).decode()


def strerror(code: int) -> str:
    """``wskit_status_message(code)``: a static English sentence."""
    return lib.wskit_status_message(code).decode()


def make_error(code: int, message: Optional[str] = None) -> "errors.Error":
    """The :class:`wskit.Error` subclass for ``code``; ``message`` defaults to the last error."""
    if message is None or message == "":
        message = last_error() or strerror(code)
    return errors.error_for(code, status_name(code), message)


def _errcheck(result: int, func: Callable[..., Any], args: Tuple[Any, ...]) -> int:
    if result != 0:
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


def text(raw: Optional[bytes]) -> Optional[str]:
    """A C string from wskit as ``str`` (None stays None; invalid UTF-8 is replaced)."""
    return None if raw is None else raw.decode("utf-8", "replace")
