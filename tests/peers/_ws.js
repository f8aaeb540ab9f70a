'use strict';
// Shared bootstrap for the Node peers: load `ws` from the peers dir
// ($WSKIT_PEERS_DIR/node, default <repo>/.peers/node) installed by scripts/setup-peers.sh.
const path = require('path');
const { createRequire } = require('module');

const repoRoot = path.resolve(__dirname, '..', '..');
const peersDir = path.resolve(repoRoot, process.env.WSKIT_PEERS_DIR || '.peers');

function loadWs() {
  const req = createRequire(path.join(peersDir, 'node', 'package.json'));
  try {
    return req('ws');
  } catch (e) {
    try {
      return require('ws');
    } catch (_) {
      process.stderr.write(`node \`ws\` is not installed in ${peersDir}/node: run scripts/setup-peers.sh\n`);
      process.exit(1);
    }
  }
}

// Large enough for any test message; ws' default is 100 MiB.
const MAX_PAYLOAD = 1024 * 1024 * 1024;

module.exports = { WebSocket: loadWs(), MAX_PAYLOAD };
