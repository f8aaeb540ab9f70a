"""Unix domain sockets: :meth:`wskit.Context.listen_unix` and :meth:`wskit.Context.connect_unix`
(``wskit_ctx_listen_unix`` / ``wskit_ctx_connect_unix``). ``Context.connect`` also takes
``ws+unix:///path/to.sock:/request/path`` URLs, as Node ``ws`` writes them."""

from __future__ import annotations

import os
from ctypes import byref, c_uint32, c_uint64
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union

from ._config import make_config
from ._connection import Connection
from ._limits import check_uri
from ._native import lib
from .errors import InvalidURI

if TYPE_CHECKING:
    from ._loop import Context

#: ``flags`` of ``wskit_ctx_listen_unix``.
REMOVE_STALE = 1

PathArg = Union[str, "os.PathLike[str]"]


def listen_unix(ctx: "Context", path: PathArg, *, mode: Optional[int], remove_stale: bool,
                subprotocols: Sequence[str], allowed_origins: Sequence[str], **options: Any) -> str:
    if mode is not None and not 0 < mode <= 0o7777:
        raise ValueError("mode must be permission bits such as 0o660")
    text = os.fspath(path)
    raw = os.fsencode(text)
    config = make_config(subprotocols=subprotocols, allowed_origins=allowed_origins, **options)
    listener = c_uint32()
    try:
        lib.wskit_ctx_listen_unix(ctx._checked_ptr(), raw, len(raw), mode or 0, REMOVE_STALE if remove_stale else 0,
                                  config, byref(listener))
    finally:
        lib.wskit_config_free(config)
    ctx._listeners[text] = listener.value
    return text


def connect_unix(ctx: "Context", path: PathArg, url: str, *, user_data: Any = None, **options: Any) -> Connection:
    check_uri(url)
    if url.split(":", 1)[0].lower() != "ws":
        raise InvalidURI(url, "connect_unix takes a ws:// URL (its host and path go in the request)")
    raw = os.fsencode(os.fspath(path))
    config = make_config(**options)
    conn_id = c_uint64()
    try:
        encoded = url.encode()
        lib.wskit_ctx_connect_unix(ctx._checked_ptr(), raw, len(raw), encoded, len(encoded), config, byref(conn_id))
    finally:
        lib.wskit_config_free(config)
    conn = Connection(ctx, conn_id.value, is_client=True, url=url)
    conn.user_data = user_data
    ctx._conns[conn.id] = conn
    return conn
