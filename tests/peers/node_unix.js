#!/usr/bin/env node
'use strict';
// Node `ws` client over a Unix socket, with a `ws+unix:` URL as Node writes it.
// Usage: node_unix.js <ws+unix:///path/to.sock:/request/path>
// Sends text and binary messages, checks each echo, closes with 1000; prints
// {"checked": N, "close": 1000} (exit 0), or a message on stderr and exit 1.
const { WebSocket } = require('./_ws');

const SIZES = [0, 1, 125, 126, 65535, 65536, 1048576];
const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: node_unix.js <ws+unix:///path:/request>\n');
  process.exit(2);
}
const timeout = Number(process.env.WSKIT_PEER_TIMEOUT || 60) * 1000;
setTimeout(() => {
  process.stderr.write('timed out\n');
  process.exit(1);
}, timeout).unref();

const ws = new WebSocket(url);
const expected = [];
for (const size of SIZES) {
  expected.push('é'.repeat(Math.floor(size / 2)) + 'a'.repeat(size % 2));
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  expected.push(b);
}
let checked = 0;
ws.on('open', () => ws.send(expected[0]));
ws.on('message', (data, isBinary) => {
  const want = expected[checked];
  const ok = typeof want === 'string' ? !isBinary && data.toString() === want : isBinary && data.equals(want);
  if (!ok) {
    process.stderr.write(`echo ${checked} differs\n`);
    process.exit(1);
  }
  checked += 1;
  if (checked < expected.length) ws.send(expected[checked]);
  else ws.close(1000, 'done');
});
ws.on('close', (code) => {
  process.stdout.write(JSON.stringify({ checked, close: code }) + '\n');
  process.exit(code === 1000 && checked === expected.length ? 0 : 1);
});
ws.on('error', (err) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
});
