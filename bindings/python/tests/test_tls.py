"""wss:// with a certificate made at test time by the openssl CLI, against `websockets` + ssl."""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect

import wskit
from conftest import PeerServer, ServerThread, echo_setup, openssl_cert


@pytest.fixture(scope="module")
def cert(tmp_path_factory: Any) -> Any:
    return openssl_cert(str(tmp_path_factory.mktemp("tls")))


def test_wskit_wss_server_with_websockets_client(cert: Any) -> None:
    server = ServerThread(echo_setup, tls=cert)
    try:
        async def go() -> Any:
            context = ssl.create_default_context(cafile=cert[0])
            async with ws_connect(server.url("/", "wss").replace("127.0.0.1", "localhost"), ssl=context,
                                  compression=None) as ws:
                await ws.send("secure hello")
                return await ws.recv()
        assert asyncio.run(asyncio.wait_for(go(), 20)) == "secure hello"
    finally:
        server.stop()


def test_wskit_wss_client_with_websockets_server(cert: Any) -> None:
    server = PeerServer("--tls", *cert)
    try:
        with wskit.connect(server.url("/", "wss", "localhost"), ca_file=cert[0]) as ws:
            ws.send(b"\x00secure")
            assert ws.recv(timeout=5) == b"\x00secure"
        # Without the CA: the system store does not know the certificate.
        with pytest.raises(wskit.TLSError) as info:
            wskit.connect(server.url("/", "wss", "localhost"))
        assert "issuer" in str(info.value).lower() or "certificate" in str(info.value).lower()
        # Loudly named escape hatch for local tests.
        with wskit.connect(server.url("/", "wss", "localhost"), insecure_skip_verify=True) as ws:
            ws.send("ok")
            assert ws.recv(timeout=5) == "ok"
    finally:
        server.stop()


def test_bad_tls_files_raise(tmp_path: Any) -> None:
    with wskit.Context() as ctx:
        with pytest.raises(wskit.TLSError):
            ctx.listen("127.0.0.1", 0, tls=(str(tmp_path / "missing.pem"), str(tmp_path / "missing-key.pem")))


# ----- ssl= / TlsOptions / tls_context of the websockets-style API --------------------------------


def ca_signed_cert(tmp: str) -> Any:
    """A CA certificate and a localhost certificate it signed (openssl CLI): (ca, cert, key)."""
    import subprocess

    ca, ca_key = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "ca-key.pem")
    cert, key, csr = os.path.join(tmp, "leaf.pem"), os.path.join(tmp, "leaf-key.pem"), os.path.join(tmp, "leaf.csr")
    ext = os.path.join(tmp, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for cmd in (["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=wskit test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                ["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
                ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
                 "-days", "2", "-extfile", ext]):
        subprocess.run(cmd, check=True, capture_output=True)
    return ca, cert, key


@pytest.fixture(scope="module")
def ca_chain(tmp_path_factory: Any) -> Any:
    openssl_cert(str(tmp_path_factory.mktemp("probe")))  # skips without the openssl CLI
    return ca_signed_cert(str(tmp_path_factory.mktemp("ca")))


def test_aio_client_with_a_foreign_ssl_context(ca_chain: Any, cert: Any) -> None:
    """Any ssl.SSLContext: the CA certificates loaded into it are trusted; one that trusts a
    self-signed leaf (not a CA) cannot be read back and is refused with a clear TypeError."""
    ca, leaf, key = ca_chain
    server = PeerServer("--tls", leaf, key)
    try:
        async def go() -> Any:
            async with wskit.aio.connect(server.url("/", "wss", "localhost"),
                                         ssl=ssl.create_default_context(cafile=ca)) as ws:
                await ws.send("via SSLContext")
                return await ws.recv()
        assert asyncio.run(asyncio.wait_for(go(), 20)) == "via SSLContext"
    finally:
        server.stop()
    with pytest.raises(TypeError, match="cafile"):
        wskit.aio.connect("wss://localhost:1/", ssl=ssl.create_default_context(cafile=cert[0]))


@pytest.mark.parametrize("how", ["tls-options", "cafile", "tls_context"])
def test_aio_client_ssl_options(cert: Any, how: str) -> None:
    server = PeerServer("--tls", *cert)
    options: Any = {
        "tls-options": {"ssl": wskit.TlsOptions(cafile=cert[0])},
        "cafile": {"cafile": cert[0]},
        "tls_context": {"ssl": wskit.tls_context(cafile=cert[0])},
    }[how]
    try:
        async def go() -> Any:
            async with wskit.aio.connect(server.url("/", "wss", "localhost"), **options) as ws:
                await ws.send("tls " + how)
                return await ws.recv()
        assert asyncio.run(asyncio.wait_for(go(), 20)) == "tls " + how
    finally:
        server.stop()


def test_client_ssl_verification(cert: Any) -> None:
    server = PeerServer("--tls", *cert)
    try:
        # The system store does not know the certificate: refused, whatever asks.
        with pytest.raises(wskit.TLSError):
            wskit.connect(server.url("/", "wss", "localhost"), ssl=ssl.create_default_context())
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE  # -> insecure_skip_verify
        for option in (unverified, wskit.TlsOptions(verify=False)):
            with wskit.connect(server.url("/", "wss", "localhost"), ssl=option) as ws:
                ws.send("unverified")
                assert ws.recv(timeout=5) == "unverified"
    finally:
        server.stop()


def test_sync_serve_tls(cert: Any) -> None:
    import threading

    from websockets.sync.client import connect as sync_connect

    def handler(ws: Any) -> None:
        ws.send(ws.recv())

    with wskit.sync.serve(handler, "127.0.0.1", 0, ssl=wskit.tls_context(certfile=cert[0], keyfile=cert[1])) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        context = ssl.create_default_context(cafile=cert[0])
        with sync_connect(f"wss://localhost:{srv.port}/", ssl=context) as client:
            client.send("sync secure")
            assert client.recv(timeout=5) == "sync secure"
        srv.shutdown()
        thread.join(10)


def test_tls_option_errors(cert: Any) -> None:
    async def go() -> None:
        async def handler(ws: Any) -> None:
            pass
        with pytest.raises(ValueError, match="client certificates"):
            wskit.aio.serve(handler, "127.0.0.1", 0, certfile=cert[0], keyfile=cert[1], cafile=cert[0])
        with pytest.raises(ValueError, match="certfile"):
            wskit.aio.serve(handler, "127.0.0.1", 0, ssl=wskit.TlsOptions(keyfile=cert[1]))
        with pytest.raises(wskit.TLSError):
            wskit.aio.serve(handler, "127.0.0.1", 0, certfile=cert[1] + ".missing")
    asyncio.run(go())
