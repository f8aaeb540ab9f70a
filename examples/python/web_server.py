#!/usr/bin/env python3
"""Web server in Python: a directory, a tiny dynamic endpoint and a WebSocket echo on one port.

    python3 examples/python/web_server.py [ADDR] [DIR]      (default 127.0.0.1:8080 and .)

``GET /api/hello?name=you`` answers ``{"hello": "you"}`` from the ``http`` handler;
``GET /api/slow`` is answered 100 ms later from a worker thread; WebSocket upgrades on any path
echo every message; everything else is served from DIR (the handler returns None: the default).
Same CLI and endpoints as examples/web_server.rs and examples/c/web_server.c.

Run from a checkout without installing: PYTHONPATH=bindings/python/src.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402


def main() -> int:
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080"
    directory = sys.argv[2] if len(sys.argv) > 2 else "."
    with wskit.Context() as ctx:

        @ctx.on_http
        def http(request: wskit.HttpRequest) -> Any:
            if request.path == "/api/hello":
                name = parse_qs(request.query or "").get("name", ["world"])[0]
                return 200, json.dumps({"hello": name}) + "\n", {"Content-Type": "application/json"}
            if request.path == "/api/slow":
                request.defer()

                def later() -> None:
                    time.sleep(0.1)
                    request.respond_threadsafe(200, "slow answer\n")

                threading.Thread(target=later, daemon=True).start()
                return None
            return None  # the listener's static_dir

        ctx.on_message(lambda conn, data: conn.send(data))
        port = ctx.listen(addr, None, static_dir=directory)
        print(f"web_server: listening on port {port} (http:// and ws://)", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: ctx.stop())
        try:
            ctx.run()
        except KeyboardInterrupt:
            pass
        ctx.shutdown(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
