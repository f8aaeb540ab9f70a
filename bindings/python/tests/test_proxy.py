"""Proxy traversal from Python against real proxies (scripts/proxies.sh: tinyproxy, squid,
dante) and real targets (Python websockets, a wskit server over wss://): echoes through each
kind of proxy, and each failure as its exception with its detail (407 with Proxy-Authenticate,
403, 502, 503, a non-HTTP answer, a silent proxy's timeout, a SOCKS5 reply code)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from typing import Iterator

import pytest

import wskit
import wskit.aio
from conftest import REPO, PeerServer, ServerThread, echo_setup, openssl_cert
from proxy_support import Proxies


@pytest.fixture(scope="module")
def proxies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxies]:
    started = Proxies(str(tmp_path_factory.mktemp("proxies")))
    yield started
    started.stop()


def echo_through(url: str, **options: object) -> str:
    with wskit.connect(url, open_timeout=15, **options) as ws:
        ws.send("through the proxy")
        return str(ws.recv(timeout=10))


def test_http_connect_and_socks5_to_websockets(proxies: Proxies, peer_server: PeerServer) -> None:
    url = peer_server.url("/")
    ports = proxies.ports
    for proxy in (proxies.url("http", "TINYPROXY_PORT"), proxies.url("http", "SQUID_PORT"),
                  proxies.url("http", "TINYPROXY_AUTH_PORT", f"{ports['PROXY_USER']}:{ports['PROXY_PASS']}"),
                  proxies.url("socks5", "DANTE_PORT"), proxies.url("socks5h", "DANTE_PORT")):
        assert echo_through(url, proxy=proxy) == "through the proxy", proxy
    # Explicit credentials; and the name resolved by the proxy.
    assert echo_through(peer_server.url("/", host="localhost"), proxy=proxies.url("socks5h", "DANTE_AUTH_PORT"),
                        proxy_credentials=(ports["SOCKS_USER"], ports["SOCKS_PASS"])) == "through the proxy"


def test_wss_through_the_tunnel_verifies_the_target(proxies: Proxies, tmp_path: "os.PathLike[str]") -> None:
    cert, key = openssl_cert(str(tmp_path))
    server = ServerThread(echo_setup, tls=(cert, key))
    try:
        url = f"wss://localhost:{server.port}/"
        assert echo_through(url, proxy=proxies.url("http", "SQUID_PORT"), ca_file=cert) == "through the proxy"
        assert echo_through(url, proxy=proxies.url("socks5h", "DANTE_PORT"), ca_file=cert) == "through the proxy"
        # The target's certificate is the one checked: without its CA (system roots) it is refused.
        with pytest.raises(wskit.TLSError, match="server certificate rejected"):
            echo_through(url, proxy=proxies.url("http", "SQUID_PORT"))
    finally:
        server.stop()


def test_https_proxy_with_wss_inside(proxies: Proxies, tmp_path: "os.PathLike[str]") -> None:
    cert, key = openssl_cert(str(tmp_path))
    server = ServerThread(echo_setup, tls=(cert, key))
    try:
        proxy = f"https://localhost:{proxies.ports['HTTPS_PROXY_PORT']}"
        ca = proxies.ports["HTTPS_PROXY_CA"]
        url = f"wss://localhost:{server.port}/"
        assert echo_through(url, proxy=proxy, proxy_ca_file=ca, ca_file=cert) == "through the proxy"
        with pytest.raises(wskit.TLSError, match="proxy localhost"):  # the proxy's cert: system roots
            echo_through(url, proxy=proxy, ca_file=cert)
    finally:
        server.stop()


def test_aio_connect_through_a_proxy(proxies: Proxies, peer_server: PeerServer) -> None:
    async def go() -> str:
        async with wskit.aio.connect(peer_server.url("/"), proxy=proxies.url("http", "TINYPROXY_PORT")) as ws:
            await ws.send("aio via proxy")
            return str(await ws.recv())
    assert asyncio.run(asyncio.wait_for(go(), 30)) == "aio via proxy"


def test_407_raises_proxy_auth_error_with_the_challenge(proxies: Proxies, peer_server: PeerServer) -> None:
    with pytest.raises(wskit.ProxyAuthError) as caught:
        echo_through(peer_server.url("/"), proxy=proxies.url("http", "TINYPROXY_AUTH_PORT"))
    err = caught.value
    assert err.status == 407 and err.name == "WSKIT_ERR_PROXY_AUTH"
    assert err.proxy_authenticate is not None and err.proxy_authenticate.startswith("Basic")
    assert isinstance(err, wskit.ProxyError) and isinstance(err, wskit.NetworkError)


@pytest.mark.parametrize("key,status", [("TINYPROXY_DENY_PORT", 403), ("TINYPROXY_BADGW_PORT", 502)])
def test_refusals_raise_proxy_refused_with_the_status(proxies: Proxies, peer_server: PeerServer, key: str,
                                                      status: int) -> None:
    with pytest.raises(wskit.ProxyRefused) as caught:
        echo_through(peer_server.url("/"), proxy=proxies.url("http", key))
    assert caught.value.status == status
    assert caught.value.headers.get("Server", "").startswith("tinyproxy")


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_503_from_squid_when_the_target_is_down(proxies: Proxies) -> None:
    with pytest.raises(wskit.ProxyRefused) as caught:
        echo_through(f"ws://127.0.0.1:{closed_port()}/", proxy=proxies.url("http", "SQUID_PORT"))
    assert caught.value.status == 503


def test_socks_failure_raises_socks_error_with_the_reply_code(proxies: Proxies) -> None:
    with pytest.raises(wskit.SocksError) as caught:
        echo_through(f"ws://127.0.0.1:{closed_port()}/", proxy=proxies.url("socks5", "DANTE_PORT"))
    assert caught.value.reply_code == 5 and "connection refused" in str(caught.value)
    with pytest.raises(wskit.ProxyAuthError):  # dante with username/password, none given
        echo_through("ws://127.0.0.1:9/", proxy=proxies.url("socks5", "DANTE_AUTH_PORT"))


def test_a_non_http_answer_raises_proxy_error() -> None:
    banner = socket.socket()
    banner.bind(("127.0.0.1", 0))
    banner.listen(1)

    def serve() -> None:
        conn, _ = banner.accept()
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")
        conn.recv(1024)
        conn.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(wskit.ProxyError, match="not HTTP") as caught:
            echo_through("ws://127.0.0.1:9/", proxy=f"http://127.0.0.1:{banner.getsockname()[1]}")
        assert type(caught.value) is wskit.ProxyError and caught.value.status is None
    finally:
        thread.join(5)
        banner.close()


def test_a_silent_proxy_raises_proxy_timeout() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepted by the kernel, never answered
    try:
        with pytest.raises(wskit.ProxyTimeout) as caught:
            echo_through("ws://127.0.0.1:9/", proxy=f"http://127.0.0.1:{silent.getsockname()[1]}", proxy_timeout=0.3)
        assert isinstance(caught.value, TimeoutError)
    finally:
        silent.close()


def test_bad_proxy_urls_are_invalid_arguments() -> None:
    with pytest.raises(wskit.InvalidArgument):
        wskit.connect("ws://127.0.0.1:9/", proxy="ftp://x:1")


def test_the_environment_and_no_proxy(proxies: Proxies, peer_server: PeerServer) -> None:
    """In child processes, so that no other test sees the variables."""
    code = ("import sys, wskit\n"
            "try:\n"
            "    with wskit.connect(sys.argv[1], **eval(sys.argv[2])) as ws:\n"
            "        ws.send('x'); ws.recv(timeout=5); print('opened')\n"
            "except wskit.ProxyAuthError as e:\n"
            "    print('auth', e.status)\n")
    auth_proxy = proxies.url("http", "TINYPROXY_AUTH_PORT")

    def child(env: dict, options: str = "{}") -> str:
        clean = {k: v for k, v in os.environ.items() if k.lower() not in (
            "http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        clean["PYTHONPATH"] = os.path.join(REPO, "bindings", "python", "src")
        done = subprocess.run([sys.executable, "-c", code, peer_server.url("/"), options], env={**clean, **env},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()
    assert child({"http_proxy": auth_proxy}) == "auth 407"
    assert child({"ALL_PROXY": auth_proxy}) == "auth 407"
    assert child({"https_proxy": auth_proxy}) == "opened"  # wss:// only
    assert child({"http_proxy": auth_proxy, "no_proxy": "localhost,127.0.0.1"}) == "opened"
    assert child({"http_proxy": auth_proxy, "NO_PROXY": "10.0.0.0/8"}) == "auth 407"
    assert child({"http_proxy": auth_proxy}, "{'proxy': None}") == "opened"
