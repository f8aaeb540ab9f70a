#!/usr/bin/env node
// Node `ws` echo server for bench/compare.sh: every text and binary message is sent back as it came.
//
//   NODE_PATH=.peers/node/node_modules node bench/peers/node_ws_echo.js 127.0.0.1:9103
//
// Uses ws with the bufferutil native addon (masking); both come from scripts/setup-peers.sh.
// No permessage-deflate (off by default on the server), 64 MiB max payload, backlog 4096. With a
// second argument `deflate`: perMessageDeflate on, threshold 0 (every message compressed; ws'
// default threshold of 1 KiB would send the 200 B scenario uncompressed), other settings ws'
// defaults (15-bit windows, zlib level and memLevel defaults; context takeover as negotiated).
'use strict';

const path = require('path');
const peers = process.env.WSKIT_PEERS_DIR || path.join(__dirname, '..', '..', '.peers');
const req = (name) => require(require.resolve(name, { paths: [path.join(peers, 'node')] }));
const WebSocket = req('ws');
// Fail loudly if the addon is missing: without it ws falls back to JS masking and the figure lies.
req('bufferutil');

const [host, port] = (process.argv[2] || '127.0.0.1:9103').split(':');
const wss = new WebSocket.WebSocketServer({
  host,
  port: Number(port),
  backlog: 4096,
  perMessageDeflate: process.argv[3] === 'deflate' ? { threshold: 0 } : false,
  maxPayload: 64 * 1024 * 1024,
  clientTracking: false,
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`node_ws_echo listening on ws://${host}:${port}`));
