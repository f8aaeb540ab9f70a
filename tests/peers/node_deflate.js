#!/usr/bin/env node
'use strict';
// permessage-deflate peer on Node `ws` with perMessageDeflate on (threshold 0, so every message
// is compressed; other settings ws' defaults: context takeover allowed, 15-bit windows).
// Usage: node_deflate.js server [--port P]   prints `READY <port>`; echoes every message (as it
//                                            came, text or binary); the text `extensions?` is
//                                            answered with the negotiated extension
//                                            (`ws.extensions`).
//        node_deflate.js client <url>        sends the messages of shapes(), checks each echo and
//                                            prints one JSON line: {"extensions": <response
//                                            header>, "negotiated": <ws.extensions>, "echoed": n}.
// Exit 1 with a message on stderr on any mismatch. See README.md.
const { WebSocket, MAX_PAYLOAD } = require('./_ws');

const DEFLATE = { threshold: 0 };

function jsonLike(size) {
  let s = '';
  for (let i = 0; s.length < size; i++) {
    s += `{"id":${i},"user":"user${i % 97}","score":${(i * 31) % 1000},"tags":["a","b${i % 7}"]},`;
  }
  return s.slice(0, size);
}

// [message, binary, fragmented]: text and binary of 200 B and 64 KiB, whole and fragmented.
function shapes() {
  const out = [];
  for (const size of [200, 64 * 1024]) {
    const text = jsonLike(size);
    const bin = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bin[i] = i % 256;
    out.push([text, false, false], [Buffer.from(text), true, false], [text, false, true], [bin, true, true]);
  }
  return out;
}

function fail(why) {
  process.stderr.write(`node_deflate: ${why}\n`);
  process.exit(1);
}

function client(url) {
  const ws = new WebSocket(url, { perMessageDeflate: DEFLATE, maxPayload: MAX_PAYLOAD });
  let header = null;
  const all = shapes();
  let i = 0;
  ws.on('upgrade', (res) => {
    header = res.headers['sec-websocket-extensions'] || null;
  });
  const sendNext = () => {
    const [message, binary, fragmented] = all[i];
    if (fragmented) {
      const third = Math.max(1, Math.floor(message.length / 3));
      ws.send(message.slice(0, third), { binary, fin: false });
      ws.send(message.slice(third, 2 * third), { binary, fin: false });
      ws.send(message.slice(2 * third), { binary, fin: true });
    } else {
      ws.send(message, { binary });
    }
  };
  ws.on('open', sendNext);
  ws.on('message', (data, isBinary) => {
    const [message, binary] = all[i];
    const same = isBinary === binary && Buffer.compare(Buffer.from(data), Buffer.from(message)) === 0;
    if (!same) fail(`message ${i} (${message.length} bytes) came back different`);
    i += 1;
    if (i < all.length) return sendNext();
    process.stdout.write(JSON.stringify({ extensions: header, negotiated: ws.extensions, echoed: all.length }) + '\n');
    ws.close(1000);
  });
  ws.on('error', (err) => fail(String(err)));
  ws.on('close', () => {
    if (i < all.length) fail(`closed after ${i} echoes`);
  });
  setTimeout(() => fail('timed out'), 60000).unref();
}

function server(port) {
  const wss = new WebSocket.Server({ host: '127.0.0.1', port, perMessageDeflate: DEFLATE, maxPayload: MAX_PAYLOAD });
  wss.on('listening', () => process.stdout.write(`READY ${wss.address().port}\n`));
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'extensions?') ws.send(ws.extensions);
      else ws.send(data, { binary: isBinary });
    });
  });
}

const args = process.argv.slice(2);
if (args[0] === 'client' && args.length === 2) client(args[1]);
else if (args[0] === 'server') server(args[1] === '--port' ? Number(args[2]) : 0);
else fail('usage: node_deflate.js server [--port P] | client <url>');
