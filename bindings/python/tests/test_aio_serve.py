"""wskit.aio.serve (asyncio server, websockets' shape) against the Python websockets and Node ws
clients of tests/peers, and the wskit asyncio client against both peer servers: echo, the
bounded inbound queue, send backpressure, ping, close codes, graceful shutdown, TLS, HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
import uuid
from typing import Any, Dict, List

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosedOK as WsClosedOK
from websockets.exceptions import InvalidStatus as WsInvalidStatus

import wskit
from conftest import PeerServer, binary_of, openssl_cert, run_peer_client, text_of
from wskit.aio import ServerConnection


def run(coro: Any, timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo_protocol(ws: ServerConnection) -> None:
    """The echo protocol the peer clients speak (tests/peers/README.md): echo, plus
    ``cmd:close <code> <reason>``, ``cmd:headers``, ``cmd:ping <payload>``."""
    async for message in ws:
        if isinstance(message, str) and message.startswith("cmd:"):
            cmd, _, arg = message[4:].partition(" ")
            if cmd == "close":
                code, _, reason = arg.partition(" ")
                await ws.close(int(code or 1000), reason)
                return
            if cmd == "headers":
                await ws.send(json.dumps({**dict(ws.request.headers), "_subprotocol": ws.subprotocol}))
                continue
            if cmd == "ping":
                await ws.ping(arg.encode())
                continue
        await ws.send(message)


def first_offered(request: wskit.AcceptRequest) -> Any:
    """Accepts the first subprotocol the client offers, whatever its name (as the peers)."""
    return request.subprotocols[0] if request.subprotocols else None


PEERS = ["websockets", "node-ws"]


@pytest.mark.parametrize("peer", PEERS)
def test_peer_clients_against_aio_serve(peer: str) -> None:
    async def go() -> Dict[str, Any]:
        async with wskit.aio.serve(echo_protocol, "127.0.0.1", 0, max_size=None, process_request=first_offered,
                                   ping_interval=None) as server:
            url = f"ws://127.0.0.1:{server.port}/"
            return {
                "echo": await run_peer_client(peer, url, "echo-sizes"),
                "fragmented": await run_peer_client(peer, url, "fragmented"),
                "ping": await run_peer_client(peer, url, "ping", "hello"),
                "server-ping": await run_peer_client(peer, url, "server-ping", "from-server"),
                "server-close": await run_peer_client(peer, url, "server-close", "4001", "bye now"),
                "client-close": await run_peer_client(peer, url, "client-close", "4002", "leaving"),
                "subprotocol": await run_peer_client(peer, url, "subprotocol", "chat.v2,chat.v1"),
                "concurrent": await run_peer_client(peer, url, "concurrent", "20", "20"),
            }
    got = run(go(), 120)
    assert got["echo"] == {"checked": 20}
    assert got["fragmented"] == {"checked": 2}
    assert got["ping"] == {"pong": "hello"}
    assert got["server-ping"] == {"ok": True}
    assert got["server-close"] == {"code": 4001, "reason": "bye now"}
    assert got["client-close"] == {"code": 4002, "reason": ""}  # wskit echoes the code, not the reason
    assert got["subprotocol"] == {"subprotocol": "chat.v2"}
    assert got["concurrent"] == {"connections": 20, "messages": 400}


def test_connection_attributes_with_websockets_client() -> None:
    seen: Dict[str, Any] = {}

    async def handler(ws: ServerConnection) -> None:
        seen.update(path=ws.request.path, header=ws.request.headers.get("x-test"), sub=ws.subprotocol,
                    addr=ws.remote_address, id=ws.id, code_while_open=ws.close_code)
        await ws.send(await ws.recv())
        await ws.send(await ws.recv(decode=True))  # binary in, text out

    async def go() -> List[Any]:
        async with wskit.aio.serve(handler, "127.0.0.1", 0, subprotocols=["chat.v1"]) as server:
            async with ws_connect(f"ws://127.0.0.1:{server.port}/room?id=7", subprotocols=["chat.v1"],
                                  additional_headers={"X-Test": "yes"}) as client:
                await client.send("é")
                await client.send("héllo".encode())
                got = [await client.recv(), await client.recv()]
                with pytest.raises(WsClosedOK):
                    await client.recv()  # the handler returned: 1000
                assert client.close_code == 1000
                return got
    assert run(go()) == ["é", "héllo"]
    assert seen["path"] == "/room?id=7" and seen["header"] == "yes" and seen["sub"] == "chat.v1"
    assert seen["addr"][0] == "127.0.0.1" and seen["addr"][1] > 0
    assert isinstance(seen["id"], uuid.UUID) and seen["code_while_open"] is None


def test_handler_exception_closes_1011_and_is_logged(caplog: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        raise RuntimeError("boom in handler")

    async def go() -> Any:
        async with wskit.aio.serve(handler, "127.0.0.1", 0) as server:
            async with ws_connect(f"ws://127.0.0.1:{server.port}/") as client:
                await client.send("x")
                await client.wait_closed()
                return client.close_code
    with caplog.at_level(logging.ERROR, logger="wskit.server"):
        assert run(go()) == 1011
    failures = [r for r in caplog.records if r.name == "wskit.server" and "connection handler failed" in r.message]
    assert failures and "boom in handler" in str(failures[0].exc_info[1])


def test_graceful_shutdown_closes_1001_and_waits_for_handlers() -> None:
    events: List[Any] = []

    async def handler(ws: ServerConnection) -> None:
        events.append("started")
        try:
            await ws.recv()
        except wskit.ConnectionClosedOK as exc:
            assert exc.sent is not None and exc.sent.code == 1001
            events.append(("closed", ws.close_code))
            await asyncio.sleep(0.2)  # the server waits for this
            events.append("handler done")

    async def go() -> Any:
        server = wskit.aio.serve(handler, "127.0.0.1", 0)
        assert (await server) is server
        client = await ws_connect(f"ws://127.0.0.1:{server.port}/")
        while "started" not in events:
            await asyncio.sleep(0.01)
        server.close()
        await server.wait_closed()
        events.append("wait_closed returned")
        await client.wait_closed()
        assert server.context.closed
        return client.close_code
    assert run(go()) == 1001
    assert events == ["started", ("closed", 1001), "handler done", "wait_closed returned"]


def test_serve_forever_cancelled_closes() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async def go() -> Any:
        server = wskit.aio.serve(handler, "127.0.0.1", 0)
        task = asyncio.ensure_future(server.serve_forever())
        async with ws_connect(f"ws://127.0.0.1:{server.port}/") as client:
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await client.wait_closed()
            return client.close_code, server.is_serving()
    assert run(go()) == (1001, False)


def test_slow_handler_fast_sender_loses_nothing_and_stays_bounded() -> None:
    """A handler that reads slowly, a websockets client that sends 3 MiB as fast as it can: every
    message arrives in order, at most max_queue wait in Python, and wskit holds at most one read
    (reading pauses; TCP pushes back on the client)."""
    count, size = 3000, 1024
    payloads = [os.urandom(size) for _ in range(count)]  # incompressible
    peaks: Dict[str, int] = {"held": 0, "queued": 0}
    paused_seen: List[bool] = []

    async def handler(ws: ServerConnection) -> None:
        got = []
        for i in range(count):
            got.append(await ws.recv())
            peaks["queued"] = max(peaks["queued"], ws.queued)
            if i % 100 == 0:
                stats = server_box[0].context.stats()
                peaks["held"] = max(peaks["held"], stats.held_bytes)
                paused_seen.append(ws.connection.reading_paused)
                await asyncio.sleep(0.01)  # slow
        assert got == payloads
        await ws.send("all received")

    server_box: List[Any] = []

    async def go() -> Any:
        async with wskit.aio.serve(handler, "127.0.0.1", 0, max_queue=16, compression=None) as server:
            server_box.append(server)
            async with ws_connect(f"ws://127.0.0.1:{server.port}/", compression=None) as client:
                for p in payloads:
                    await client.send(p)
                reply = await client.recv()
            conns = server.connections
            return reply, conns
    reply, _ = run(go())
    assert reply == "all received"
    assert peaks["queued"] <= 16
    assert any(paused_seen), "reading never paused"
    # Inside wskit: at most the rest of one read (its read buffer is 256 KiB, src/net/config.rs),
    # not the 3 MiB sent.
    assert peaks["held"] <= 256 << 10, peaks


def test_peak_queue_never_exceeds_max_queue() -> None:
    """The high-water mark itself: a handler that waits until 200 messages were sent, then reads
    them all; 10 at most ever waited (pause at 10, resume at 2)."""
    box: Dict[str, Any] = {}

    async def handler(ws: ServerConnection) -> None:
        box["ws"] = ws
        await box["go"].wait()
        box["got"] = [await ws.recv() for _ in range(200)]
        await ws.send("done")

    async def go() -> Any:
        box["go"] = asyncio.Event()
        async with wskit.aio.serve(handler, "127.0.0.1", 0, max_queue=(10, 2)) as server:
            async with ws_connect(f"ws://127.0.0.1:{server.port}/") as client:
                for i in range(200):
                    await client.send(str(i))
                await asyncio.sleep(0.2)
                ws = box["ws"]
                before = (ws.queued, ws.connection.reading_paused)
                box["go"].set()
                assert await client.recv() == "done"
                return before, ws.peak_queued
    (queued, paused), peak = run(go())
    assert queued == 10 and paused
    assert peak == 10
    assert box["got"] == [str(i) for i in range(200)]


def test_send_waits_for_the_write_limit() -> None:
    """A client that stops reading: the handler's sends wait, so wskit's buffer stays at the
    write limit (plus the message being sent), and every message arrives once it reads."""
    count, size = 300, 64 << 10  # 18.75 MiB: more than TCP buffers hold while the client reads nothing
    buffered: List[int] = []

    async def handler(ws: ServerConnection) -> None:
        for i in range(count):
            await ws.send(i.to_bytes(4, "big") + os.urandom(size - 4))
            buffered.append(ws.connection.buffered_amount)
        await ws.wait_closed()

    async def go() -> List[int]:
        async with wskit.aio.serve(handler, "127.0.0.1", 0, compression=None, write_limit=32 << 10) as server:
            # websockets' client: max_queue=1 stops reading its socket when one message waits.
            async with ws_connect(f"ws://127.0.0.1:{server.port}/", compression=None, max_queue=1,
                                  max_size=None) as client:
                await asyncio.sleep(0.5)
                stalled = len(buffered)
                got = [int.from_bytes((await client.recv())[:4], "big") for _ in range(count)]
                return [stalled] + got
    result = run(go())
    stalled, got = result[0], result[1:]
    assert got == list(range(count))
    assert stalled < count // 2, stalled  # the handler was held back
    assert max(buffered) <= 32 << 10, max(buffered)  # after each send: at most the high mark


def test_ping_returns_a_pong_waiter() -> None:
    latencies: List[float] = []

    async def handler(ws: ServerConnection) -> None:
        waiter = await ws.ping()
        latencies.append(await asyncio.wait_for(waiter, 5))
        waiter = await ws.ping(b"payload")
        latencies.append(await asyncio.wait_for(waiter, 5))
        assert ws.latency == latencies[-1]
        await ws.send("pinged")

    async def go() -> Any:
        async with wskit.aio.serve(handler, "127.0.0.1", 0) as server:
            async with ws_connect(f"ws://127.0.0.1:{server.port}/") as client:
                return await client.recv()
    assert run(go()) == "pinged"
    assert len(latencies) == 2 and all(0 <= x < 5 for x in latencies)


def test_process_request_and_http_handler() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(ws.request.path)

    def process_request(request: wskit.AcceptRequest) -> Any:
        if request.path == "/private":
            return wskit.Reject(403, "no")
        return None

    def http(request: wskit.HttpRequest) -> Any:
        return 200, f"plain {request.path}"

    async def go() -> Any:
        import urllib.request

        async with wskit.aio.serve(handler, "127.0.0.1", 0, process_request=process_request,
                                   http_handler=http) as server:
            with pytest.raises(WsInvalidStatus) as info:
                await ws_connect(f"ws://127.0.0.1:{server.port}/private")
            async with ws_connect(f"ws://127.0.0.1:{server.port}/public") as client:
                got = await client.recv()
            loop = asyncio.get_running_loop()
            body = await loop.run_in_executor(
                None, lambda: urllib.request.urlopen(f"http://127.0.0.1:{server.port}/hi", timeout=10).read())
            return info.value.response.status_code, got, body
    assert run(go()) == (403, "/public", b"plain /hi")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: Any) -> Any:
    return openssl_cert(str(tmp_path_factory.mktemp("tls")))


@pytest.mark.parametrize("how", ["files", "options", "tls_context"])
def test_aio_serve_tls(cert: Any, how: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(await ws.recv())

    tls: Dict[str, Any] = {
        "files": {"certfile": cert[0], "keyfile": cert[1]},
        "options": {"ssl": wskit.TlsOptions(certfile=cert[0], keyfile=cert[1])},
        "tls_context": {"ssl": wskit.tls_context(certfile=cert[0], keyfile=cert[1])},
    }[how]

    async def go() -> Any:
        async with wskit.aio.serve(handler, "127.0.0.1", 0, **tls) as server:
            context = ssl.create_default_context(cafile=cert[0])
            async with ws_connect(f"wss://localhost:{server.port}/", ssl=context) as client:
                await client.send("secure")
                return await client.recv()
    assert run(go(), 30) == "secure"


def test_aio_serve_refuses_an_opaque_ssl_context(cert: Any) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert[0], cert[1])

    async def go() -> None:
        async def handler(ws: ServerConnection) -> None:
            pass
        with pytest.raises(TypeError, match="tls_context"):
            wskit.aio.serve(handler, "127.0.0.1", 0, ssl=context)
    run(go())


# ----- the wskit asyncio client against both peer servers ----------------------------------------


def test_aio_client_against_peer_servers(any_peer_server: PeerServer) -> None:
    async def go() -> Any:
        async with wskit.aio.connect(any_peer_server.url(), subprotocols=["p1"], max_size=None) as ws:
            assert ws.subprotocol == "p1"
            assert ws.response is not None and ws.response.status_code == 101
            for msg in (text_of(70000), binary_of(1 << 20), "", b""):
                await ws.send(msg)
                assert await ws.recv() == msg
            await ws.send(["frag", "mented"])
            assert await ws.recv() == "fragmented"
            latency = await asyncio.wait_for(await ws.ping(b"p"), 5)
            await ws.send("cmd:close 4003 peer says bye")
            with pytest.raises(wskit.ConnectionClosedError) as info:
                async for _ in ws:
                    pass
            exc = info.value
            return latency, exc.rcvd, exc.sent, exc.rcvd_then_sent, ws.close_code
    latency, rcvd, sent, rcvd_then_sent, code = run(go())
    assert 0 <= latency < 5
    assert rcvd == wskit.Close(4003, "peer says bye") and sent is not None and sent.code == 4003
    assert rcvd_then_sent is True and code == 4003


def test_aio_client_bounded_queue_against_peer_server(any_peer_server: PeerServer) -> None:
    """The server sends 300 messages at once; the client reads none for a while: at most
    max_queue wait, reading is paused, and all 300 arrive in order."""
    async def go() -> Any:
        async with wskit.aio.connect(any_peer_server.url("/send?size=2000&type=binary&count=300"),
                                     max_queue=8, compression=None) as ws:
            await asyncio.sleep(0.3)
            before = (ws.queued, ws.connection.reading_paused)
            got = [await ws.recv() for _ in range(300)]
            return before, ws.peak_queued, got
    (queued, paused), peak, got = run(go())
    assert queued == 8 and paused and peak == 8
    assert got == [bytes(i % 256 for i in range(2000))] * 300


def test_aio_client_ok_close_ends_iteration(any_peer_server: PeerServer) -> None:
    async def go() -> Any:
        async with wskit.aio.connect(any_peer_server.url()) as ws:
            for word in ("a", "b", "cmd:close 1000 done"):
                await ws.send(word)
            return [m async for m in ws], ws.close_code, ws.close_reason
    assert run(go()) == (["a", "b"], 1000, "done")


def test_aio_client_refused_raises_invalid_status(any_peer_server: PeerServer) -> None:
    async def go() -> Any:
        with pytest.raises(wskit.InvalidStatus) as info:
            await wskit.aio.connect(any_peer_server.url("/reject?status=503"))
        return info.value
    exc = run(go())
    assert isinstance(exc, wskit.InvalidHandshake) and isinstance(exc, wskit.HandshakeRejected)
    assert exc.response.status_code == 503 and exc.response.body == b"rejected by peer"
    assert exc.response.headers["content-type"].startswith("text/plain")


def test_keepalive_ping_timeout_drops_a_silent_peer() -> None:
    """ping_interval / ping_timeout: a wskit client with auto_pong=False never answers; the server
    pings it after 0.2 s of silence and drops it 0.3 s later (the handler sees
    ConnectionClosedError with 1006)."""
    seen: List[Any] = []

    async def handler(ws: ServerConnection) -> None:
        try:
            await ws.recv()
        except wskit.ConnectionClosedError as exc:
            seen.append((exc.code, exc.rcvd))

    async def go() -> float:
        async with wskit.aio.serve(handler, "127.0.0.1", 0, ping_interval=0.2, ping_timeout=0.3) as server:
            ctx = wskit.Context()
            driver = wskit.aio.attach(ctx)
            try:
                pings: List[bytes] = []
                ctx.on_ping(lambda conn, payload: pings.append(payload))
                conn = ctx.connect(f"ws://127.0.0.1:{server.port}/", auto_pong=False)
                t0 = asyncio.get_running_loop().time()
                while not conn.closed:
                    await asyncio.sleep(0.02)
                assert pings, "the server sent no keepalive ping"
                return asyncio.get_running_loop().time() - t0
            finally:
                driver.detach()
                ctx.close()
    elapsed = run(go(), 30)
    assert 0.4 < elapsed < 3.0, elapsed
    assert seen == [(1006, None)]


def test_tracer_sees_handshake_and_frames() -> None:
    traces: List[wskit.Trace] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send(await ws.recv())

    async def go() -> Any:
        async with wskit.aio.serve(handler, "127.0.0.1", 0, tracer=traces.append, compression=None) as server:
            client_traces: List[wskit.Trace] = []
            async with wskit.aio.connect(f"ws://127.0.0.1:{server.port}/", tracer=client_traces.append) as ws:
                await ws.send("traced")
                assert await ws.recv() == "traced"
            return client_traces
    client_traces = run(go())
    kinds = {(t.kind, t.direction) for t in traces}
    assert ("handshake", "in") in kinds and ("handshake", "out") in kinds
    assert any(t.kind == "frame" and t.direction == "in" and t.opcode == 1 and t.payload_len == 6 for t in traces)
    assert any(t.kind == "frame" and t.direction == "out" and t.opcode == 1 for t in client_traces)


def test_closing_with_a_full_queue_stays_bounded() -> None:
    """The handler never reads and closes while the client floods it: closing resumes reading
    (so the closing handshake completes) but the queue still never passes max_queue."""
    box: Dict[str, Any] = {}

    async def handler(ws: ServerConnection) -> None:
        box["ws"] = ws
        await asyncio.sleep(0.3)  # the client fills the queue; reading pauses
        box["paused"] = ws.connection.reading_paused
        await ws.close(1000, "enough")

    async def go() -> Any:
        async with wskit.aio.serve(handler, "127.0.0.1", 0, compression=None) as server:
            async with ws_connect(f"ws://127.0.0.1:{server.port}/", compression=None) as client:
                sent = 0
                try:
                    while True:
                        await client.send(os.urandom(4096))
                        sent += 1
                except Exception:
                    pass
                return sent, client.close_code
    sent, code = run(go())
    ws = box["ws"]
    assert box["paused"] and code == 1000
    assert ws.peak_queued == 16 and ws.queued <= 16
    assert sent > 16
