"""websockets-style exceptions: ConnectionClosedOK / ConnectionClosedError with rcvd / sent close
frames, InvalidStatus with the refused response, InvalidURI, InvalidHandshake; the 0.2 names keep
working. Against the websockets and Node ws peer servers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import wskit
from conftest import PeerServer
from wskit.errors import closed_error


def test_names_and_hierarchy() -> None:
    assert wskit.InvalidStatus is wskit.HandshakeRejected
    assert wskit.InvalidHandshake is wskit.HandshakeError
    assert issubclass(wskit.InvalidStatus, wskit.InvalidHandshake)
    for cls in (wskit.ConnectionClosedOK, wskit.ConnectionClosedError):
        assert issubclass(cls, wskit.ConnectionClosed) and issubclass(cls, wskit.Error)
    assert issubclass(wskit.InvalidURI, wskit.InvalidArgument) and issubclass(wskit.InvalidURI, ValueError)
    # The 0.2 constructor still works.
    old = wskit.ConnectionClosed(4000, "r", True)
    assert (old.code, old.reason, old.clean, old.rcvd, old.sent) == (4000, "r", True, None, None)


@pytest.mark.parametrize("code,reason,clean,sent,cls,rcvd_then_sent", [
    (1000, "bye", True, None, wskit.ConnectionClosedOK, True),         # peer closed normally
    (1001, "", True, wskit.Close(1001, ""), wskit.ConnectionClosedOK, False),  # we closed, it answered
    (4000, "x", True, None, wskit.ConnectionClosedError, True),        # peer closed with 4000
    (1000, "", True, wskit.Close(4001, ""), wskit.ConnectionClosedError, False),
    (1006, "", False, None, wskit.ConnectionClosedError, None),        # dropped
    (1006, "", False, wskit.Close(1000, ""), wskit.ConnectionClosedError, None),  # no answer came
])
def test_closed_error_classification(code: int, reason: str, clean: bool, sent: Any, cls: Any,
                                     rcvd_then_sent: Any) -> None:
    exc = closed_error(code, reason, clean, sent)
    assert type(exc) is cls
    assert exc.rcvd == (wskit.Close(code, reason) if clean else None)
    assert exc.rcvd_then_sent is rcvd_then_sent
    assert (exc.code, exc.reason, exc.clean) == (code, reason, clean)
    assert str(exc)  # websockets-style text, e.g. "received 1000 bye; then sent 1000"


@pytest.mark.parametrize("uri", ["http://example.test/", "ws://", "ws://host:port/", "example.test"])
def test_invalid_uri(uri: str) -> None:
    with pytest.raises(wskit.InvalidURI) as info:
        wskit.connect(uri)
    assert info.value.uri == uri and info.value.msg
    with pytest.raises(wskit.InvalidURI):
        wskit.aio.connect(uri)
    with wskit.Context() as ctx:
        with pytest.raises(wskit.InvalidArgument):
            ctx.connect(uri)


def test_invalid_status_blocking_client(any_peer_server: PeerServer) -> None:
    with pytest.raises(wskit.InvalidStatus) as info:
        wskit.connect(any_peer_server.url("/reject?status=404"))
    response = info.value.response
    assert response.status_code == 404 == info.value.status
    assert response.body == b"rejected by peer"
    with pytest.raises(wskit.InvalidStatus) as unknown:
        wskit.connect(any_peer_server.url("/no-such-path"))
    assert unknown.value.response.status_code == 404 and unknown.value.response.body == b"unknown path"


def test_closed_ok_and_send_after_close_aio(any_peer_server: PeerServer) -> None:
    async def go() -> Any:
        ws = await wskit.aio.connect(any_peer_server.url("/close?code=1000&reason=fine"))
        try:
            with pytest.raises(wskit.ConnectionClosedOK) as info:
                await ws.recv()
            with pytest.raises(wskit.ConnectionClosedOK):
                await ws.send("too late")
            with pytest.raises(wskit.ConnectionClosedOK):
                await ws.ping()
            return info.value
        finally:
            await ws.close()
    exc = asyncio.run(asyncio.wait_for(go(), 30))
    assert exc.rcvd == wskit.Close(1000, "fine") and exc.sent == wskit.Close(1000, "")
    assert exc.rcvd_then_sent is True and "received 1000 fine" in str(exc)


def test_we_close_first_aio(any_peer_server: PeerServer) -> None:
    async def go() -> Any:
        ws = await wskit.aio.connect(any_peer_server.url())
        await ws.close(4005, "mine")
        with pytest.raises(wskit.ConnectionClosedError) as info:
            await ws.recv()
        return info.value, ws.close_code
    exc, code = asyncio.run(asyncio.wait_for(go(), 30))
    assert exc.sent == wskit.Close(4005, "mine") and exc.rcvd is not None and exc.rcvd.code == 4005
    assert exc.rcvd_then_sent is False and code == 4005
