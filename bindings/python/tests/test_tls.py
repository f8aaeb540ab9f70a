"""wss:// with a certificate made at test time by the openssl CLI, against `websockets` + ssl."""

from __future__ import annotations

import asyncio
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
