"""permessage-deflate (RFC 7692) options and the parameters a connection negotiated."""

from __future__ import annotations

from ctypes import byref
from dataclasses import dataclass
from typing import Any, Optional

from . import _native
from ._native import lib
from .errors import NotFound


@dataclass(frozen=True)
class DeflateOptions:
    """Tuning for ``compression="deflate"``: pass as ``deflate=`` to :meth:`Context.listen` or
    :meth:`Context.connect`. Start from :meth:`server` or :meth:`client` (the library's defaults
    for that role) and change fields with :func:`dataclasses.replace`.

    ``server_*`` fields apply to what the server sends, ``client_*`` to what the client sends,
    as in RFC 7692. Without context takeover a direction keeps no compression state between
    messages: its codecs are borrowed from one pool per context, so an idle compressed
    connection costs what an uncompressed one costs. With context takeover, ``compact_idle``
    hands the codecs back to that pool between messages too and keeps only the last window's
    worth of text (at most 2^window_bits bytes each way), so an idle connection holds a few KiB
    instead of ~160 KiB of zlib state, for a few microseconds more per message. ``min_size``:
    messages shorter than this many bytes go uncompressed."""

    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    level: int = 6
    mem_level: int = 8
    min_size: int = 64
    compact_idle: bool = True

    @classmethod
    def server(cls) -> "DeflateOptions":
        """A listener's defaults: no context takeover asked for both ways, 15-bit windows,
        level 6, memory level 8 (their cost is the pool's, not each connection's)."""
        return cls(server_no_context_takeover=True, client_no_context_takeover=True)

    @classmethod
    def client(cls) -> "DeflateOptions":
        """A client's defaults: context takeover offered both ways with 12-bit windows and
        memory level 5 (Python ``websockets``' memory-saving settings)."""
        return cls(server_no_context_takeover=False, client_no_context_takeover=False,
                   server_max_window_bits=12, client_max_window_bits=12, mem_level=5,
                   compact_idle=False)


@dataclass(frozen=True)
class DeflateParams:
    """What a connection's handshake agreed on (:attr:`Connection.deflate`)."""

    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int
    client_max_window_bits: int


def apply_deflate(config: Any, compression: Optional[str], deflate: Optional[DeflateOptions]) -> None:
    """Sets a ``wskit_config``'s permessage-deflate policy: ``compression`` is ``"deflate"`` (the
    default: on, with the role's defaults or ``deflate``) or None (off)."""
    if compression is None:
        if deflate is not None:
            raise ValueError("deflate= options need compression='deflate'")
        lib.wskit_config_set_deflate(config, False)
        return
    if compression != "deflate":
        raise ValueError(f"unsupported compression {compression!r} (use 'deflate' or None)")
    lib.wskit_config_set_deflate(config, True)
    if deflate is None:
        return
    lib.wskit_config_set_deflate_no_context_takeover(
        config, deflate.server_no_context_takeover, deflate.client_no_context_takeover)
    lib.wskit_config_set_deflate_window_bits(
        config, deflate.server_max_window_bits, deflate.client_max_window_bits)
    lib.wskit_config_set_deflate_level(config, deflate.level, deflate.mem_level)
    lib.wskit_config_set_deflate_min_size(config, deflate.min_size)
    lib.wskit_config_set_deflate_compact_idle(config, deflate.compact_idle)


def negotiated(ctx_ptr: Any, conn_id: int) -> Optional[DeflateParams]:
    """The parameters ``conn_id`` negotiated, or None when compression is off for it. (In queue
    mode an open event can be taken after its connection closed; wskit no longer knows the
    connection then, and this is None too.)"""
    out = _native.wskit_deflate_params()
    try:
        lib.wskit_conn_deflate_params(ctx_ptr, conn_id, byref(out))
    except NotFound:
        return None
    if not out.negotiated:
        return None
    return DeflateParams(out.server_no_context_takeover, out.client_no_context_takeover,
                         out.server_max_window_bits, out.client_max_window_bits)
