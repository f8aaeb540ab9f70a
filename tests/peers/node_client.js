#!/usr/bin/env node
'use strict';
// WebSocket peer client built on Node's `ws` library.
// Usage: node_client.js <url> <scenario> [args...]
// Scenarios: echo-sizes | fragmented | ping <payload> | server-ping <payload> |
//   client-close <code> [reason...] | server-close <code> [reason...] |
//   subprotocol <p1,p2,...> | headers | rejected | concurrent <n> <messages>
// Prints one JSON line on success (exit 0); a message on stderr and exit 1 otherwise.
// The whole run is limited to $WSKIT_PEER_TIMEOUT seconds (default 60). See README.md.
const { WebSocket, MAX_PAYLOAD } = require('./_ws');

const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1048576, 16777216];
const TEXT_UNIT = 'aé€😀'; // 1+2+3+4 = 10 UTF-8 bytes

class Fail extends Error {}

// A string whose UTF-8 encoding is exactly `size` bytes, with 1- to 4-byte characters.
function textOf(size) {
  return TEXT_UNIT.repeat(Math.floor(size / 10)) + 'a'.repeat(size % 10);
}

// `size` bytes, byte i being i % 251.
function binaryOf(size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return b;
}

function describe(isBinary, n) {
  return `${isBinary ? 'binary' : 'text'} message of ${n} bytes`;
}

// A ws client with a promise-based receive queue and close report.
class Conn {
  constructor(url, { protocols = [], headers, origin } = {}) {
    this.ws = new WebSocket(url, protocols, {
      maxPayload: MAX_PAYLOAD,
      handshakeTimeout: 30000,
      headers,
      origin,
    });
    this.queue = [];
    this.waiters = [];
    this.pings = [];
    this.closeInfo = null;
    this.ws.on('message', (data, isBinary) => this._push({ data, isBinary }));
    this.ws.on('ping', (data) => this.pings.push(data.toString('utf8')));
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = {
          code,
          reason: reason.toString('utf8'),
          frameReceived: Boolean(this.ws._closeFrameReceived),
        };
        this._push({ closed: true });
        resolve(this.closeInfo);
      });
    });
    this.error = null;
    this.ws.on('error', (e) => {
      this.error = e;
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('close', () => reject(this.error || new Fail('connection closed during the handshake')));
    });
  }

  _push(item) {
    const w = this.waiters.shift();
    if (w) w(item);
    else this.queue.push(item);
  }

  async recv() {
    const item = this.queue.length ? this.queue.shift() : await new Promise((r) => this.waiters.push(r));
    if (item.closed) {
      this.queue.unshift(item); // stay closed for later calls
      const c = this.closeInfo;
      throw new Fail(`connection closed (code ${c.code}, reason ${JSON.stringify(c.reason)})` +
        (this.error ? `: ${this.error.message}` : ''));
    }
    return item;
  }

  async expect(expected, isBinary, what) {
    const got = await this.recv();
    const exp = Buffer.isBuffer(expected) ? expected : Buffer.from(expected, 'utf8');
    if (got.isBinary !== isBinary || !got.data.equals(exp)) {
      throw new Fail(`${what}: expected ${describe(isBinary, exp.length)}, got ` +
        `${describe(got.isBinary, got.data.length)}` + (got.isBinary === isBinary ? ' with different content' : ''));
    }
  }

  async close(code, reason) {
    this.ws.close(code, reason);
    return this.closed;
  }

  closeFrame() {
    const c = this.closeInfo;
    if (!c || !c.frameReceived) throw new Fail(`the server sent no close frame (ws reports code ${c && c.code})`);
    return { code: c.code, reason: c.reason };
  }
}

async function dial(url, opts) {
  const c = new Conn(url, opts);
  await c.opened;
  return c;
}

const scenarios = {
  async 'echo-sizes'(url) {
    const c = await dial(url);
    let checked = 0;
    for (const size of SIZES) {
      const text = textOf(size);
      c.ws.send(text);
      await c.expect(text, false, `echo of ${describe(false, size)}`);
      checked++;
      const bin = binaryOf(size);
      c.ws.send(bin);
      await c.expect(bin, true, `echo of ${describe(true, size)}`);
      checked++;
    }
    await c.close(1000);
    return { checked };
  },

  async fragmented(url) {
    const c = await dial(url);
    const tb = Buffer.from('héllo wörld, €uro 😀 fragmented', 'utf8');
    const cut1 = tb.indexOf(Buffer.from('é')) + 1; // inside the 2-byte é
    const cut2 = tb.indexOf(Buffer.from('😀')) + 2; // inside the 4-byte emoji
    const bin = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
    let pong = false;
    c.ws.on('pong', (d) => {
      if (d.toString() === 'between-fragments') pong = true;
    });
    c.ws.send(tb.subarray(0, cut1), { binary: false, fin: false });
    c.ws.ping('between-fragments'); // a control frame between two fragments
    c.ws.send(tb.subarray(cut1, cut2), { binary: false, fin: false });
    c.ws.send(tb.subarray(cut2), { binary: false, fin: true });
    c.ws.send(bin.subarray(0, 10), { binary: true, fin: false });
    c.ws.send(bin.subarray(10, 20), { binary: true, fin: false });
    c.ws.send(bin.subarray(20, 30), { binary: true, fin: false });
    c.ws.send(bin.subarray(30), { binary: true, fin: true });
    await c.expect(tb, false, 'echo of the fragmented text message');
    await c.expect(bin, true, 'echo of the fragmented binary message');
    if (!pong) throw new Fail('no pong for the ping sent between fragments');
    await c.close(1000);
    return { checked: 2 };
  },

  async ping(url, args) {
    const payload = args.join(' ');
    const c = await dial(url);
    const got = new Promise((resolve, reject) => {
      c.ws.on('pong', (d) => d.toString('utf8') === payload && resolve());
      c.ws.on('close', () => reject(new Fail('connection closed before the pong')));
    });
    c.ws.ping(payload);
    await got;
    await c.close(1000);
    return { pong: payload };
  },

  async 'server-ping'(url, args) {
    const payload = args.join(' ');
    const c = await dial(url);
    c.ws.send(`cmd:ping ${payload}`);
    // The server's ping precedes this echo on the wire; ws answers it with a pong
    // as soon as it reads it. The echo proves the connection lives on.
    c.ws.send('after-server-ping');
    await c.expect('after-server-ping', false, "echo after the server's ping");
    if (!c.pings.includes(payload)) {
      throw new Fail(`no ping with payload ${JSON.stringify(payload)} arrived (got ${JSON.stringify(c.pings)})`);
    }
    await c.close(1000);
    return { ok: true };
  },

  async 'client-close'(url, args) {
    const code = args.length ? Number(args[0]) : 1000;
    const reason = args.slice(1).join(' ');
    const c = await dial(url);
    await c.close(code, reason);
    return c.closeFrame();
  },

  async 'server-close'(url, args) {
    const code = args.length ? args[0] : '1000';
    const reason = args.slice(1).join(' ');
    const c = await dial(url);
    c.ws.send(`cmd:close ${code} ${reason}`);
    await c.closed;
    return c.closeFrame();
  },

  async subprotocol(url, args) {
    const offered = (args[0] || '').split(',').filter((p) => p);
    const c = await dial(url, { protocols: offered });
    const selected = c.ws.protocol || null;
    await c.close(1000);
    return { subprotocol: selected };
  },

  async headers(url) {
    const c = await dial(url, {
      headers: { 'X-Wskit-Test': 'peer', Authorization: 'Bearer token123' },
      origin: 'http://example.test',
    });
    c.ws.send('cmd:headers');
    const reply = await c.recv();
    if (reply.isBinary) throw new Fail('cmd:headers: expected a text reply, got binary');
    const text = reply.data.toString('utf8');
    let obj;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new Fail(`cmd:headers: reply is not JSON: ${e.message}: ${text.slice(0, 200)}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new Fail(`cmd:headers: reply is not a JSON object: ${text.slice(0, 200)}`);
    }
    await c.close(1000);
    return { headers: obj };
  },

  async rejected(url) {
    const ws = new WebSocket(url, [], { maxPayload: MAX_PAYLOAD, handshakeTimeout: 30000 });
    return new Promise((resolve, reject) => {
      ws.on('unexpected-response', (req, res) => {
        resolve({ status: res.statusCode });
        req.destroy();
      });
      ws.on('open', () => {
        ws.terminate();
        reject(new Fail('the handshake succeeded; expected a rejection'));
      });
      ws.on('error', (e) => reject(new Fail(`handshake failed without an HTTP status: ${e.message}`)));
    });
  },

  async concurrent(url, args) {
    const n = args.length ? Number(args[0]) : 10;
    const m = args.length > 1 ? Number(args[1]) : 10;
    const one = async (i) => {
      const c = await dial(url);
      for (let j = 0; j < m; j++) c.ws.send(`c${i}-m${j}`);
      for (let j = 0; j < m; j++) await c.expect(`c${i}-m${j}`, false, `connection ${i}, message ${j}`);
      await c.close(1000);
    };
    await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
    return { connections: n, messages: n * m };
  },
};

async function main() {
  const argv = process.argv.slice(2);
  if (argv.length < 2 || !Object.prototype.hasOwnProperty.call(scenarios, argv[1])) {
    process.stderr.write('usage: node_client.js <url> <scenario> [args...]\n' +
      `scenarios: ${Object.keys(scenarios).join(', ')}\n`);
    process.exit(2);
  }
  const [url, scenario, ...args] = argv;
  const limit = Number(process.env.WSKIT_PEER_TIMEOUT || 60);
  setTimeout(() => {
    process.stderr.write(`node_client ${scenario}: FAIL: timed out after ${limit} s\n`);
    process.exit(1);
  }, limit * 1000);
  try {
    const result = await scenarios[scenario](url, args);
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  } catch (e) {
    const msg = e instanceof Fail ? e.message : `${e.name}: ${e.message}`;
    process.stderr.write(`node_client ${scenario}: FAIL: ${msg}\n`);
    process.exit(1);
  }
}

main();
