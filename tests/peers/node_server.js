#!/usr/bin/env node
'use strict';
// WebSocket peer server built on Node's `ws` library (WebSocketServer, noServer mode).
// Usage: node_server.js [--port P] [--host 127.0.0.1] [--cmd]
// Prints `READY <port>` once listening. Behaviour per request path: see README.md.
const http = require('http');
const { WebSocket, MAX_PAYLOAD } = require('./_ws');

const PATHS = new Set(['/', '/echo', '/headers', '/close', '/reject', '/ping', '/fragmented', '/drop', '/send']);

function parseArgs(argv) {
  const args = { port: 0, host: '127.0.0.1', cmd: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') args.port = Number(argv[++i]);
    else if (a.startsWith('--port=')) args.port = Number(a.slice(7));
    else if (a === '--host') args.host = argv[++i];
    else if (a.startsWith('--host=')) args.host = a.slice(7);
    else if (a === '--cmd') args.cmd = true;
    else {
      process.stderr.write(`usage: node_server.js [--port P] [--host H] [--cmd]\nunknown argument: ${a}\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    process.stderr.write('invalid --port\n');
    process.exit(2);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));

function rejectUpgrade(socket, status, body) {
  const data = Buffer.from(body);
  const phrase = http.STATUS_CODES[status] || 'Unknown';
  socket.end(
    `HTTP/1.1 ${status} ${phrase}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${data.length}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function headersJson(req, extra) {
  const headers = {};
  const raw = req.rawHeaders; // [name, value, name, value, ...] as received
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${raw[i + 1]}` : raw[i + 1];
  }
  return JSON.stringify(Object.assign(headers, extra));
}

function textOf(size) {
  const abc = 'abcdefghijklmnopqrstuvwxyz';
  return abc.repeat(Math.floor(size / 26) + 1).slice(0, size);
}

function binaryOf(size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = i % 256;
  return b;
}

// Echo every message with its type; in --cmd mode on / and /echo, handle cmd: messages.
function startEcho(ws, req, cmdMode) {
  ws.on('message', (data, isBinary) => {
    if (cmdMode && !isBinary) {
      const msg = data.toString('utf8');
      if (msg.startsWith('cmd:')) {
        if (msg === 'cmd:headers') {
          ws.send(headersJson(req, { _subprotocol: ws.protocol || null }));
        } else if (msg === 'cmd:ping' || msg.startsWith('cmd:ping ')) {
          ws.ping(msg.slice('cmd:ping '.length));
        } else if (msg.startsWith('cmd:close')) {
          const rest = msg.slice('cmd:close '.length);
          const sp = rest.indexOf(' ');
          const code = sp < 0 ? rest : rest.slice(0, sp);
          const reason = sp < 0 ? '' : rest.slice(sp + 1);
          ws.close(code ? Number(code) : 1000, reason);
        } else {
          ws.send(data, { binary: false });
        }
        return;
      }
    }
    ws.send(data, { binary: isBinary });
  });
}

const wss = new WebSocket.Server({
  noServer: true,
  maxPayload: MAX_PAYLOAD,
  perMessageDeflate: false, // never negotiate permessage-deflate
  clientTracking: true,
  // Accept the first subprotocol the client offers (ws passes a Set in offer order).
  handleProtocols: (protocols) => {
    for (const p of protocols) return p;
    return false;
  },
});

function onConnection(ws, req) {
  ws.on('error', () => {}); // errors end in 'close'; never crash the server
  const url = new URL(req.url, 'http://peer');
  const q = url.searchParams;
  switch (url.pathname) {
    case '/':
    case '/echo':
      startEcho(ws, req, args.cmd);
      break;
    case '/headers':
      ws.send(headersJson(req, { _path: req.url }));
      startEcho(ws, req, false);
      break;
    case '/close':
      ws.close(Number(q.get('code') || 1000), q.get('reason') || '');
      break;
    case '/ping': {
      const payload = q.get('payload') || '';
      // Hold messages until the pong arrives, then answer and echo.
      const held = [];
      const hold = (data, isBinary) => held.push([data, isBinary]);
      ws.on('message', hold);
      const onPong = (data) => {
        if (data.toString('utf8') !== payload) return;
        ws.off('pong', onPong);
        ws.off('message', hold);
        ws.send(`pong:${payload}`);
        for (const [data, isBinary] of held) ws.send(data, { binary: isBinary });
        startEcho(ws, req, false);
      };
      ws.on('pong', onPong);
      ws.ping(payload);
      break;
    }
    case '/fragmented': {
      // One text message in frames frag|men|ted, one binary message in frames [1,2]|[3];
      // ?empty_fin=1 ends each with an extra empty FIN frame instead.
      const emptyFin = q.get('empty_fin') === '1';
      ws.send('frag', { fin: false });
      ws.send('men', { fin: false });
      ws.send('ted', { fin: !emptyFin });
      if (emptyFin) ws.send('', { fin: true });
      ws.send(Buffer.from([1, 2]), { fin: false });
      ws.send(Buffer.from([3]), { fin: !emptyFin });
      if (emptyFin) ws.send(Buffer.alloc(0), { fin: true });
      startEcho(ws, req, false);
      break;
    }
    case '/drop':
      ws.once('message', () => {
        if (q.get('rst') === '1') ws._socket.resetAndDestroy();
        else ws._socket.destroy();
      });
      break;
    case '/send': {
      const size = Number(q.get('size') || 0);
      const count = Number(q.get('count') || 1);
      const isText = (q.get('type') || 'binary') === 'text';
      const msg = isText ? textOf(size) : binaryOf(size);
      for (let i = 0; i < count; i++) ws.send(msg, { binary: !isText });
      startEcho(ws, req, false);
      break;
    }
  }
}

const server = http.createServer((req, res) => {
  // Plain HTTP (no upgrade): like websockets, answer 426.
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
  res.end('Upgrade Required');
});

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => {});
  const url = new URL(req.url, 'http://peer');
  if (!PATHS.has(url.pathname)) return rejectUpgrade(socket, 404, 'unknown path');
  if (url.pathname === '/reject') {
    return rejectUpgrade(socket, Number(url.searchParams.get('status') || 403), 'rejected by peer');
  }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
});

server.listen(args.port, args.host, () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});

let stopping = false;
function shutdown() {
  if (stopping) process.exit(0);
  stopping = true;
  for (const ws of wss.clients) ws.close(1001, '');
  server.close();
  // Give close frames a moment to go out, then exit whatever the peers do.
  setTimeout(() => process.exit(0), 300);
  const done = () => wss.clients.size === 0 && process.exit(0);
  for (const ws of wss.clients) ws.on('close', done);
  done();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
