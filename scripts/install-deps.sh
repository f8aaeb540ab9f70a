#!/usr/bin/env bash
# Installs everything the build and tests need on a fresh Debian machine (idempotent; root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "install-deps: cargo is required (rustup: https://rustup.rs)" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fetch --locked >/dev/null
# Real peers the tests talk to: Python websockets and Node ws (pinned, into .peers/).
bash scripts/setup-peers.sh
bash scripts/setup-browsers.sh
echo "install-deps: done"
