#!/usr/bin/env bash
# `make demo`: builds wskit and shows a server and clients talking over real sockets.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building (cargo build --release)"
cargo build --release --quiet --examples

say "the sans-I/O core on its own: a client and a server through memory"
./target/release/examples/proto_demo

say "starting the echo server (examples/echo_server.rs)"
log=$(mktemp)
./target/release/examples/echo_server 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
cat "$log"
url=$(grep -o 'ws://[0-9.:]*' "$log")

say "the Rust client (examples/client.rs) sends three lines and closes"
for line in "hello from wskit" "héllo, wörld 😀" "bye"; do echo "$line"; sleep 0.3; done |
  ./target/release/examples/client "$url/"

say "the same over the C API: building the C examples against include/wskit.h (scripts/build-c.sh)"
bash scripts/build-c.sh --no-cargo >/dev/null
kill $server 2>/dev/null || true
wait $server 2>/dev/null || true

say "starting the C echo server (examples/c/echo_server.c)"
./target/c/echo_server 127.0.0.1:0 >"$log" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
cat "$log"
url=$(grep -o 'ws://[0-9.:]*' "$log")

say "the C client (examples/c/client.c) sends three messages"
./target/c/client "$url/" "hello from C" "wskit_send_text ✓" "bye"

say "a game loop in C: polls once per frame at 60 Hz, a worker thread sends through wskit_remote"
./target/c/game_loop "$url/" 2

say "done"
