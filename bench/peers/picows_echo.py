#!/usr/bin/env python3
"""picows echo server for bench/compare.sh: picows' own fastest way, as its documentation shows it.

    .peers/venv/bin/python bench/peers/picows_echo.py 127.0.0.1:9210

The README's echo server (a `WSListener` whose `on_ws_frame` sends the frame's payload back as a
memoryview of picows' read buffer: no copy, no asyncio future per message), on uvloop as picows'
own benchmarks run (plain asyncio when uvloop is missing), with picows' default TCP layer
(aiofastnet). No compression (picows has none), no auto ping, frames up to 64 MiB (the default
10 MiB is too small for the 16 MiB messages servers must take). picows hands frames, not messages:
the load generator sends unfragmented messages, so each frame is a whole message.
"""

import asyncio
import sys

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server


class Echo(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        else:
            transport.send(frame.msg_type, frame.get_payload_as_memoryview(), frame.fin)


async def main(addr: str) -> None:
    host, port = addr.rsplit(":", 1)

    def listener_factory(request: WSUpgradeRequest) -> Echo:
        return Echo()

    server = await ws_create_server(listener_factory, host, int(port), max_frame_size=64 << 20, backlog=4096)
    print(f"picows_echo listening on ws://{host}:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9210"
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(addr))
    else:
        uvloop.run(main(addr))
