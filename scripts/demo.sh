#!/usr/bin/env bash
# `make demo`: builds wskit and shows a server and clients talking over real sockets.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building (cargo build --release: the library, libwskit.so/.a, and the examples)"
# --lib as well: --examples alone does not build the cdylib the C and Python parts load.
cargo build --release --locked --quiet --lib --examples

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
./target/c/client "$url/" "hello from C" "wskit_conn_send_text ✓" "bye"

say "a game loop in C: polls once per frame at 60 Hz, a worker thread sends through wskit_remote"
./target/c/game_loop "$url/" 2

say "the Python binding (bindings/python, ctypes): a chat server and two chat clients"
chat_log=$(mktemp)
python3 examples/python/chat.py server 127.0.0.1:0 >"$chat_log" 2>&1 &
chat=$!
trap 'kill $server $chat 2>/dev/null || true; rm -f "$log" "$chat_log"' EXIT
for _ in $(seq 50); do grep -q listening "$chat_log" && break; sleep 0.1; done
head -1 "$chat_log"
chat_url=$(grep -o 'ws://[0-9.:]*' "$chat_log")/
{ sleep 0.3; echo "hi, I am a Python client"; sleep 1; echo "see you"; } |
  python3 examples/python/chat.py client "$chat_url" alice | sed 's/^/  [alice sees] /' &
alice=$!
{ sleep 0.6; echo "hello alice, Python here too"; sleep 0.3; } |
  python3 examples/python/chat.py client "$chat_url" bob | sed 's/^/  [bob sees]   /'
if [ -x target/c/client ]; then
  # The C client (examples/c/client.c, scripts/build-c.sh): its first line is its chat name.
  target/c/client "$chat_url" c-client "hello from C" | sed 's/^/  [C sees]     /'
else
  echo "  (run scripts/build-c.sh to have the C client join too)"
fi
wait $alice
kill $chat 2>/dev/null || true
wait $chat 2>/dev/null || true
echo "  server log:"
sed -n '2,$p' "$chat_log" | sed 's/^/  [server]     /'

say "done"
