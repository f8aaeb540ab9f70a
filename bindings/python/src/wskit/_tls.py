"""TLS options for the websockets-style API: :class:`TlsOptions`, :func:`tls_context`, and the
translation of ``ssl=`` / ``certfile=`` / ``keyfile=`` / ``cafile=`` into wskit config options.

wskit does TLS itself (rustls), not with Python's :mod:`ssl`: it needs file paths or PEM bytes,
and a server's certificate and key cannot be read back out of an :class:`ssl.SSLContext`. So a
server takes an ``ssl.SSLContext`` only when :func:`tls_context` made it (it remembers the
paths); a client also takes any other ``ssl.SSLContext`` and uses the CA certificates loaded
into it (``get_ca_certs``) and whether it verifies (``verify_mode``). ``get_ca_certs`` lists CA
certificates only, so a context that trusts a self-signed leaf certificate (not a CA) raises
TypeError: pass ``cafile=`` for those. Other settings of a foreign context (ciphers, TLS
versions, client certificates, ``check_hostname=False`` with verification on) are not carried
over: wskit uses rustls' defaults.
"""

from __future__ import annotations

import os
import ssl as _ssl
from dataclasses import dataclass
from typing import Any, Dict, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class TlsOptions:
    """TLS settings for :func:`wskit.aio.serve`, :func:`wskit.sync.serve` and the clients.

    Server: ``certfile`` (PEM certificate chain) and ``keyfile`` (PEM private key; may be the
    same file). Client: ``cafile`` (PEM CA certificates to trust instead of the system store)
    and ``verify`` (False accepts any certificate: local tests only)."""

    certfile: Optional[PathLike] = None
    keyfile: Optional[PathLike] = None
    cafile: Optional[PathLike] = None
    verify: bool = True


_ATTR = "_wskit_tls_options"


def tls_context(*, certfile: Optional[PathLike] = None, keyfile: Optional[PathLike] = None,
                cafile: Optional[PathLike] = None, verify: bool = True, server: Optional[bool] = None
                ) -> _ssl.SSLContext:
    """An :class:`ssl.SSLContext` that wskit can use (``ssl=`` of serve and connect), loaded
    with the same files so that it also works with :mod:`ssl` and other libraries. ``server``
    defaults to True when ``certfile`` is given. Loading errors surface here (``ssl.SSLError``,
    ``FileNotFoundError``)."""
    is_server = certfile is not None if server is None else server
    ctx = _ssl.SSLContext(_ssl.PROTOCOL_TLS_SERVER if is_server else _ssl.PROTOCOL_TLS_CLIENT)
    if certfile is not None:
        ctx.load_cert_chain(os.fspath(certfile), None if keyfile is None else os.fspath(keyfile))
    if cafile is not None:
        ctx.load_verify_locations(os.fspath(cafile))
    elif not is_server and verify:
        ctx.load_default_certs()
    if not is_server and not verify:
        ctx.check_hostname = False
        ctx.verify_mode = _ssl.CERT_NONE
    setattr(ctx, _ATTR, TlsOptions(certfile, keyfile, cafile, verify))
    return ctx


SslArg = Union[None, bool, TlsOptions, _ssl.SSLContext]


def _options_of(ssl: SslArg, certfile: Optional[PathLike], keyfile: Optional[PathLike],
                cafile: Optional[PathLike]) -> Optional[TlsOptions]:
    if isinstance(ssl, _ssl.SSLContext):
        made: Optional[TlsOptions] = getattr(ssl, _ATTR, None)
        if made is None:
            return None
        base = made
    elif isinstance(ssl, TlsOptions):
        base = ssl
    elif ssl is None or isinstance(ssl, bool):
        if ssl is False and (certfile or keyfile or cafile):
            raise ValueError("ssl=False contradicts certfile=/keyfile=/cafile=")
        base = TlsOptions()
    else:
        raise TypeError(f"ssl= takes a wskit.TlsOptions, an ssl.SSLContext, True or None, not {type(ssl).__name__}")
    return TlsOptions(certfile if certfile is not None else base.certfile,
                      keyfile if keyfile is not None else base.keyfile,
                      cafile if cafile is not None else base.cafile, base.verify)


def server_tls(ssl: SslArg, certfile: Optional[PathLike], keyfile: Optional[PathLike],
               cafile: Optional[PathLike]) -> Dict[str, Any]:
    """``listen()`` options for a server's ``ssl=`` and file shortcuts ({} for plain ws://)."""
    opts = _options_of(ssl, certfile, keyfile, cafile)
    if opts is None:
        raise TypeError("wskit cannot read the certificate and key back out of an ssl.SSLContext: pass "
                        "ssl=wskit.tls_context(certfile=..., keyfile=...), ssl=wskit.TlsOptions(...) or "
                        "certfile=/keyfile=")
    if opts.cafile is not None:
        raise ValueError("wskit servers do not verify client certificates (cafile= is for clients)")
    if opts.certfile is None:
        if opts.keyfile is not None or ssl not in (None, False):
            raise ValueError("a TLS server needs certfile= (and keyfile=, unless the key is in certfile)")
        return {}
    keyfile_ = opts.keyfile if opts.keyfile is not None else opts.certfile
    return {"tls": (os.fspath(opts.certfile), os.fspath(keyfile_))}


def client_tls(ssl: SslArg, cafile: Optional[PathLike]) -> Dict[str, Any]:
    """``connect()`` options for a client's ``ssl=`` and ``cafile=`` ({}: the defaults, i.e. the
    system trust store for wss://)."""
    if isinstance(ssl, _ssl.SSLContext) and getattr(ssl, _ATTR, None) is None:
        # Any SSLContext: its verify mode and the CA certificates loaded into it (cafile/cadata;
        # certificates of a capath directory are not listed by get_ca_certs, see ssl docs).
        if ssl.verify_mode == _ssl.CERT_NONE:
            return {"insecure_skip_verify": True}
        if cafile is not None:
            return {"ca_file": os.fspath(cafile)}
        stats = ssl.cert_store_stats()
        if stats["x509"] > stats["x509_ca"]:
            # get_ca_certs lists CA certificates only: a trusted self-signed leaf cannot be read back.
            raise TypeError("this ssl.SSLContext trusts certificates that are not CA certificates, which wskit "
                            "cannot read back out of it: pass cafile=..., ssl=wskit.TlsOptions(cafile=...) or "
                            "ssl=wskit.tls_context(cafile=...)")
        ders = ssl.get_ca_certs(binary_form=True)
        if ders:
            return {"ca_pem": "".join(_ssl.DER_cert_to_PEM_cert(d) for d in ders).encode()}
        return {}
    opts = _options_of(ssl, None, None, cafile)
    assert opts is not None
    out: Dict[str, Any] = {}
    if opts.cafile is not None:
        out["ca_file"] = os.fspath(opts.cafile)
    if not opts.verify:
        out["insecure_skip_verify"] = True
    return out
