"""Building a ``wskit_config`` from keyword options (listeners and client connections)."""

from __future__ import annotations

import os
from ctypes import byref
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

from . import _native
from ._deflate import DeflateOptions, apply_deflate
from ._native import lib
from ._proxy import ProxyArg, apply_proxy


def seconds_to_ms(seconds: Optional[float]) -> int:
    """A timeout in seconds as milliseconds for the C API (None -> -1: no timeout)."""
    if seconds is None:
        return -1
    if seconds < 0:
        raise ValueError("timeout must be >= 0 or None")
    return min(int(seconds * 1000 + 0.999), 2**31 - 1)


def _s(text: str) -> Tuple[bytes, int]:
    """A string argument as the C API takes it: UTF-8 bytes and their length."""
    raw = text.encode()
    return raw, len(raw)


def make_config(*, tls: Optional[Tuple[str, str]] = None, tls_pem: Optional[Tuple[bytes, bytes]] = None,
                subprotocols: Sequence[str] = (), allowed_origins: Sequence[str] = (),
                headers: Optional[Union[Mapping[str, str], Sequence[Tuple[str, str]]]] = None,
                origin: Optional[str] = None, ca_file: Optional[str] = None, ca_pem: Optional[bytes] = None,
                insecure_skip_verify: bool = False, max_message_size: Optional[int] = None,
                max_frame_size: Optional[int] = None, max_buffered: Optional[int] = None,
                low_water_mark: Optional[int] = None, read_pause_high_water: Optional[int] = None,
                handshake_timeout: Optional[float] = None,
                close_timeout: Optional[float] = None, ping_interval: Optional[float] = None,
                pong_timeout: Optional[float] = None, idle_timeout: Optional[float] = None,
                max_fragments: Optional[int] = None, streaming: Optional[bool] = None,
                auto_pong: Optional[bool] = None, backlog: Optional[int] = None,
                reuse_port: Optional[bool] = None, max_connections: Optional[int] = None,
                max_request_header_bytes: Optional[int] = None,
                max_request_headers: Optional[int] = None, keep_request: bool = False,
                keep_headers: Sequence[str] = (), compression: Optional[str] = "deflate",
                deflate: Optional[DeflateOptions] = None,
                static_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
                max_http_body: Optional[int] = None, http_keep_alive: Optional[float] = None,
                proxy: ProxyArg = True, proxy_credentials: Optional[Tuple[str, str]] = None,
                proxy_timeout: Optional[float] = None, proxy_ca_file: Optional[str] = None) -> Any:
    """Builds a ``wskit_config`` (the caller frees it with ``wskit_config_free``). Times are in
    seconds; None keeps the library's default. ``keep_request`` and ``keep_headers`` (names, or
    ``["*"]`` for all) make a listener keep the path and query, and those request headers, for
    :attr:`Connection.path` / :attr:`Connection.headers` after the handshake.
    ``compression`` is ``"deflate"`` (permessage-deflate on, the default, as in ``websockets``) or
    None; ``deflate`` tunes it (:class:`DeflateOptions`; None: the role's defaults).
    ``static_dir`` serves that directory to plain HTTP GET/HEAD requests; ``max_http_body``
    (bytes, 413 beyond) and ``http_keep_alive`` (seconds) bound HTTP requests. Clients:
    ``proxy`` (True: from the environment, the default; a URL; None: direct),
    ``proxy_credentials``, ``proxy_timeout`` (seconds), ``proxy_ca_file`` (see ``wskit._proxy``)."""
    config = _native.ConfigP()
    lib.wskit_config_new(byref(config))
    try:
        def ms(v: float) -> int:
            return max(0, int(v * 1000))
        for setter, value in (
            (lib.wskit_config_set_max_message_size, max_message_size),
            (lib.wskit_config_set_max_frame_size, max_frame_size),
            (lib.wskit_config_set_max_buffered, max_buffered),
            (lib.wskit_config_set_low_water_mark, low_water_mark),
            (lib.wskit_config_set_read_pause_high_water, read_pause_high_water),
            (lib.wskit_config_set_handshake_timeout_ms, None if handshake_timeout is None else ms(handshake_timeout)),
            (lib.wskit_config_set_close_timeout_ms, None if close_timeout is None else ms(close_timeout)),
            (lib.wskit_config_set_ping_interval_ms, None if ping_interval is None else ms(ping_interval)),
            (lib.wskit_config_set_pong_timeout_ms, None if pong_timeout is None else ms(pong_timeout)),
            (lib.wskit_config_set_idle_timeout_ms, None if idle_timeout is None else ms(idle_timeout)),
            (lib.wskit_config_set_max_fragments, max_fragments),
            (lib.wskit_config_set_streaming, streaming),
            (lib.wskit_config_set_auto_pong, auto_pong),
            (lib.wskit_config_set_backlog, backlog),
            (lib.wskit_config_set_reuse_port, reuse_port),
            (lib.wskit_config_set_max_connections, max_connections),
            (lib.wskit_config_set_max_request_header_bytes, max_request_header_bytes),
            (lib.wskit_config_set_max_request_headers, max_request_headers),
            (lib.wskit_config_set_max_http_body, max_http_body),
            (lib.wskit_config_set_http_keep_alive_ms, None if http_keep_alive is None else ms(http_keep_alive)),
        ):
            if value is not None:
                setter(config, value)
        for sub in subprotocols:
            lib.wskit_config_add_subprotocol(config, *_s(sub))
        for allowed in allowed_origins:
            lib.wskit_config_add_allowed_origin(config, *_s(allowed))
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        for header_name, header_value in pairs:
            lib.wskit_config_add_header(config, *_s(header_name), *_s(header_value))
        if origin is not None:
            lib.wskit_config_set_origin(config, *_s(origin))
        if tls is not None:
            lib.wskit_config_set_tls_cert_files(config, *_s(str(tls[0])), *_s(str(tls[1])))
        if tls_pem is not None:
            cert, key = tls_pem
            lib.wskit_config_set_tls_cert_pem(config, cert, len(cert), key, len(key))
        if ca_file is not None:
            lib.wskit_config_set_tls_ca_file(config, *_s(str(ca_file)))
        if ca_pem is not None:
            lib.wskit_config_set_tls_ca_pem(config, ca_pem, len(ca_pem))
        if static_dir is not None:
            lib.wskit_config_set_static_dir(config, *_s(os.fspath(static_dir)))
        if keep_request:
            lib.wskit_config_keep_request(config, True)
        for kept in keep_headers:
            lib.wskit_config_keep_header(config, *_s(kept))
        apply_deflate(config, compression, deflate)
        apply_proxy(config, proxy, proxy_credentials, proxy_timeout, proxy_ca_file)
        if insecure_skip_verify:
            lib.wskit_config_dangerous_skip_tls_verification(config, True)
    except BaseException:
        lib.wskit_config_free(config)
        raise
    return config
