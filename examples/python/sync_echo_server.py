#!/usr/bin/env python3
"""Echo server with wskit's threaded API, written as for websockets.sync (``def handler(ws)``
runs on its own thread per connection)::

    python3 examples/python/sync_echo_server.py [HOST:PORT]

Prints ``sync_echo_server listening on ws://HOST:PORT`` and runs until SIGINT/SIGTERM, then
closes connections with 1001 and waits for the handlers. A text message ``slow`` makes the
handler sleep 0.5 s: the other connections keep being served (each has its own thread), and
this one's messages wait in its bounded queue (16 messages; then reading pauses).

Run from a checkout without installing: PYTHONPATH=bindings/python/src.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "src"))
import wskit  # noqa: E402
import wskit.sync  # noqa: E402


def echo(ws: wskit.sync.ServerConnection) -> None:
    for message in ws:
        if message == "slow":
            time.sleep(0.5)
        ws.send(message)


def main(argv: list) -> int:
    addr = argv[0] if argv else "127.0.0.1:9001"
    host, _, port = addr.rpartition(":")
    with wskit.sync.serve(echo, host, int(port)) as server:
        def stop(*_: Any) -> None:
            threading.Thread(target=server.shutdown).start()  # not on the loop thread
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        print(f"sync_echo_server listening on ws://{host}:{server.port}", flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
