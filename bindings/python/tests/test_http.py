"""Plain HTTP beside WebSocket on one wskit port, from Python: the ``http`` handler (returned
answers, streamed answers, answers from a worker thread, the static default), the listener's
``static_dir`` against ``http.client`` and ``urllib`` (Range, If-Modified-Since, traversal), limits
(413), queue mode with ``queue_http=True``, and a ``websockets`` client upgrading on the same
port."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import threading
import urllib.error
import urllib.request
from typing import Any, Iterator, List

import pytest

import wskit
from conftest import ServerThread


@pytest.fixture
def site(tmp_path: Any) -> str:
    root = tmp_path / "root"
    root.mkdir()
    (root / "index.html").write_text("<h1>py</h1>")
    (root / "data.txt").write_text("0123456789")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "out")
    return str(root)


def app_setup(ctx: wskit.Context) -> None:
    workers: List[threading.Thread] = []

    @ctx.on_http
    def http(request: wskit.HttpRequest) -> Any:
        if request.path == "/hello":
            return 200, f"{request.method} {request.query} {request.body.decode()}", {"Content-Type": "text/plain"}
        if request.path == "/bytes":
            return b"raw"
        if request.path == "/stream":
            request.begin(200)
            for piece in ("a", "b", "c"):
                request.write(piece)
            request.end()
            return None
        if request.path == "/later":
            request.defer()
            worker = threading.Thread(target=lambda: request.respond_threadsafe(202, "from a thread"))
            workers.append(worker)
            worker.start()
            return None
        if request.path == "/boom":
            raise RuntimeError("handler failed")
        return None  # the default: static_dir

    ctx.on_message(lambda conn, data: conn.send(data))


@pytest.fixture
def server(site: str) -> Iterator[ServerThread]:
    srv = ServerThread(app_setup, static_dir=site, max_http_body=1000)
    srv.ctx.handler_errors = "log"  # type: ignore[union-attr]
    yield srv
    srv.stop()


def get(srv: ServerThread, path: str, method: str = "GET", body: Any = None, headers: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


def test_handler_answers_returned_streamed_and_from_a_thread(server: ServerThread) -> None:
    assert get(server, "/hello?x=1", "POST", b"body")[0::2] == (200, b"POST x=1 body")
    assert get(server, "/bytes")[2] == b"raw"
    status, headers, body = get(server, "/stream")
    assert (status, headers.get("Transfer-Encoding"), body) == (200, "chunked", b"abc")
    assert get(server, "/later")[0::2] == (202, b"from a thread")
    assert get(server, "/boom")[0] == 500


def test_static_files_with_range_conditions_and_traversal(server: ServerThread) -> None:
    status, headers, body = get(server, "/")
    assert (status, headers["Content-Type"], body) == (200, "text/html; charset=utf-8", b"<h1>py</h1>")
    status, headers, body = get(server, "/data.txt", headers={"Range": "bytes=2-4"})
    assert (status, headers["Content-Range"], body) == (206, "bytes 2-4/10", b"234")
    modified = get(server, "/data.txt")[1]["Last-Modified"]
    assert get(server, "/data.txt", headers={"If-Modified-Since": modified})[0] == 304
    for probe in ("/../secret.txt", "/%2e%2e/secret.txt", "/out", "/%252e%252e/secret.txt"):
        status, _, body = get(server, probe)
        assert status == 404 and b"secret" not in body, probe
    assert get(server, "/data.txt%00")[0] == 400
    assert get(server, "/data.txt", "DELETE")[0] == 405
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/missing", timeout=10)
    assert err.value.code == 404


def test_keep_alive_and_limits(server: ServerThread) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for i in range(3):
        conn.request("GET", f"/hello?{i}")
        assert conn.getresponse().read() == f"GET {i} ".encode()
    first_sock = conn.sock
    conn.request("GET", "/data.txt")
    assert conn.getresponse().read() == b"0123456789" and conn.sock is first_sock
    conn.close()
    assert get(server, "/hello", "POST", b"x" * 1001)[0] == 413
    # Raw pipelining: answered in order.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.index(b"from a thread") < data.index(b"raw")


def test_websocket_upgrades_on_the_same_port(server: ServerThread) -> None:
    websockets = pytest.importorskip("websockets")

    async def talk() -> str:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/chat") as ws:
            await ws.send("hi")
            return await ws.recv()

    assert asyncio.run(talk()) == "hi"
    assert get(server, "/data.txt")[2] == b"0123456789"


def test_queue_mode_delivers_http_requests(site: str) -> None:
    with wskit.Context(queue=1 << 20, queue_http=True) as ctx:
        port = ctx.listen("127.0.0.1", 0, static_dir=site)
        result: List[Any] = []

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for path in ("/q", "/data.txt"):
                conn.request("GET", path)
                r = conn.getresponse()
                result.append((r.status, r.read()))

        thread = threading.Thread(target=client)
        thread.start()
        answered = 0
        while answered < 2:
            event = ctx.next_event(10)
            assert event is not None
            if isinstance(event, wskit.HttpRequestEvent):
                if event.request.path == "/q":
                    event.request.respond(201, "queued")
                else:
                    event.request.serve_static()
                answered += 1
        while thread.is_alive():
            ctx.poll(0.05)
        thread.join()
    assert result == [(201, b"queued"), (200, b"0123456789")]


def test_without_static_dir_and_handler_plain_requests_get_400() -> None:
    srv = ServerThread(lambda ctx: None)
    try:
        assert get(srv, "/")[0] == 400
        assert get(srv, "/", "POST")[0] == 405
    finally:
        srv.stop()
