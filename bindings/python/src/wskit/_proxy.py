"""Client proxy traversal (docs/proxy.md): the config options and the detail of a proxy failure.

Options of :meth:`wskit.Context.connect` (and so of :func:`wskit.connect`,
:func:`wskit.aio.connect`, :func:`wskit.sync.connect`), as in ``websockets``:

- ``proxy``: ``True`` (the default) takes the proxy from the environment (``http_proxy`` for
  ws://, ``https_proxy`` for wss://, then ``all_proxy``, lower case before upper case, unless
  ``no_proxy`` lists the target, with curl's rules); a URL (``http://``, ``https://``,
  ``socks5://``, ``socks5h://``, with optional ``user:password@``) uses that proxy; ``None`` (or
  ``False``) connects directly.
- ``proxy_credentials=(user, password)`` replaces the URL's userinfo (HTTP Basic or SOCKS5).
- ``proxy_timeout`` (seconds, default 10): until the tunnel is up.
- ``proxy_ca_file``: CA certificates for an ``https://`` proxy's own certificate.

Failures raise (or come in the error event as) :class:`wskit.ProxyError` and its subclasses.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

from ._native import lib
from .errors import Error, ProxyAuthError, ProxyError, ProxyRefused, SocksError

ProxyArg = Union[str, bool, None]


def _s(text: str) -> Tuple[bytes, int]:
    raw = text.encode()
    return raw, len(raw)


def apply_proxy(config: Any, proxy: ProxyArg, credentials: Optional[Tuple[str, str]],
                timeout: Optional[float], ca_file: Optional[str]) -> None:
    """Applies the proxy options to a ``wskit_config``."""
    if proxy is None or proxy is False:
        lib.wskit_config_set_proxy_from_env(config, False)
    elif isinstance(proxy, str):
        lib.wskit_config_set_proxy(config, *_s(proxy))
    elif proxy is not True:
        raise TypeError("proxy must be a URL, True (environment) or None")
    if credentials is not None:
        user, password = credentials
        lib.wskit_config_set_proxy_credentials(config, *_s(user), *_s(password))
    if timeout is not None:
        if timeout <= 0:
            raise ValueError("proxy_timeout must be > 0")
        lib.wskit_config_set_proxy_timeout_ms(config, min(int(timeout * 1000 + 0.999), 2**31 - 1))
    if ca_file is not None:
        lib.wskit_config_set_proxy_ca_file(config, *_s(str(ca_file)))


def fill_proxy_detail(err: Error, headers: Sequence[Tuple[str, str]]) -> None:
    """Copies the detail of a proxy ERROR event (its ``:status`` / ``:socks-reply``
    pseudo-header, then the proxy's answer headers) into the exception."""
    if not isinstance(err, ProxyError):
        return
    from ._accept import Headers

    pseudo = {name: value for name, value in headers if name.startswith(":")}
    err.headers = Headers([(n, v) for n, v in headers if not n.startswith(":")])
    if ":status" in pseudo and pseudo[":status"].isdigit():
        err.status = int(pseudo[":status"])
    if isinstance(err, ProxyAuthError):
        err.proxy_authenticate = err.headers.get("Proxy-Authenticate") or err.headers.get("WWW-Authenticate")
    if isinstance(err, SocksError) and pseudo.get(":socks-reply", "").isdigit():
        err.reply_code = int(pseudo[":socks-reply"])
    if isinstance(err, ProxyRefused) and err.status is None:
        err.status = 0
