#!/usr/bin/env bash
# Installs everything the build and tests need on a fresh Debian machine (idempotent; root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "install-deps: cargo is required (rustup: https://rustup.rs)" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# C toolchain and tools the C ABI tests use (gcc/g++ -std=c99/c++17, ASan, valgrind, nm, openssl);
# curl for the HTTP tests (tests/net_http.rs); iproute2 (ip netns, ip link, tc) for tests/tbf_link.rs.
missing=()
for tool in gcc:gcc g++:g++ valgrind:valgrind nm:binutils openssl:openssl pkg-config:pkg-config cmake:cmake python3:python3 bc:bc curl:curl ip:iproute2 tc:iproute2; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "install-deps: apt-get install ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# Real proxies for the proxy traversal tests (tinyproxy, squid, stunnel4, dante-server).
bash scripts/proxies.sh install
cargo fetch --locked >/dev/null
# Real peers the tests talk to: Python websockets and Node ws (pinned, into .peers/).
bash scripts/setup-peers.sh
bash scripts/setup-browsers.sh
echo "install-deps: done"
