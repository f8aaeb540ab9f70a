#!/usr/bin/env python3
"""Client through a proxy with wskit::

    python3 examples/python/proxy_client.py URL PROXY MESSAGE [--cafile CA_PEM]

PROXY is ``http://[user:pass@]host:port`` (HTTP CONNECT), ``https://...`` (TLS to the proxy),
``socks5://...`` or ``socks5h://...`` (SOCKS5; the proxy resolves the name with socks5h), or
``env`` to take it from ``http_proxy`` / ``https_proxy`` / ``all_proxy`` / ``no_proxy``.
Connects, sends MESSAGE, prints the answer, closes with 1000. A proxy failure is printed with its
detail (exit status 1): the exception, the proxy's HTTP status and Proxy-Authenticate challenge,
or the SOCKS5 reply code.

Run from a checkout without installing: PYTHONPATH=bindings/python/src.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402


def main(argv: list) -> int:
    if len(argv) < 3:
        sys.stderr.write("usage: proxy_client.py URL PROXY|env MESSAGE [--cafile CA_PEM]\n")
        return 2
    url, proxy, message = argv[:3]
    options: Dict[str, Any] = {"proxy": True if proxy == "env" else proxy, "proxy_timeout": 10}
    if len(argv) > 4 and argv[3] == "--cafile":
        options["ca_file"] = argv[4]
    try:
        with wskit.connect(url, **options) as ws:
            ws.send(message)
            print(ws.recv(timeout=10))
    except wskit.ProxyAuthError as err:
        sys.stderr.write(f"proxy_client: {type(err).__name__}: {err}\n  status: {err.status}\n"
                         f"  Proxy-Authenticate: {err.proxy_authenticate}\n")
        return 1
    except wskit.SocksError as err:
        sys.stderr.write(f"proxy_client: {type(err).__name__}: {err}\n  reply code: {err.reply_code}\n")
        return 1
    except wskit.ProxyError as err:
        sys.stderr.write(f"proxy_client: {type(err).__name__}: {err}\n  status: {err.status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
