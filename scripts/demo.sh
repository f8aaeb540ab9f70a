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

kill $server 2>/dev/null || true
wait $server 2>/dev/null || true

say "a chat in the browser: the C chat server (examples/c/chat_server.c) and its page (examples/web/chat/)"
chat_log=$(mktemp)
scenario_log=$(mktemp)
./target/c/chat_server 127.0.0.1:0 >"$chat_log" 2>&1 &
chat=$!
scenario=
trap 'kill $server $chat $scenario 2>/dev/null || true; rm -f "$log" "$chat_log" "$scenario_log"' EXIT
for _ in $(seq 50); do grep -q '^chat page:' "$chat_log" && break; sleep 0.1; done
head -2 "$chat_log"
page_url=$(sed -n 's/^chat page: //p' "$chat_log")
ws_url=$(grep -o 'ws://[0-9.:]*/chat' "$chat_log" | head -1)
echo "  open the page above in a browser while the demo runs (to keep a server: target/c/chat_server 127.0.0.1:9002)"

mkdir -p target/demo
rm -f target/demo/chat.png
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  echo "  headless Chromium: two pages, ann and bob, join room demo (tests/browser/chat_scenario.py)"
  python3 tests/browser/chat_scenario.py --browser chromium --demo --url "$page_url" --room demo \
    --expect py-client c-client --screenshot target/demo/chat.png --timeout 50 >/dev/null 2>"$scenario_log" &
  scenario=$!
  for _ in $(seq 300); do grep -q 'chatting' "$scenario_log" && break; kill -0 $scenario 2>/dev/null || break; sleep 0.1; done
else
  echo "  (Chromium is not installed: no browser pages and no screenshot; scripts/setup-browsers.sh installs it)"
fi

echo "  the Python client (examples/python/chat.py) and the C client (examples/c/chat_client.c) join room demo:"
python3 examples/python/chat.py client "$ws_url" py-client --room demo "hello from Python" |
  sed 's/^/  [py-client sees] /'
./target/c/chat_client "$ws_url" c-client --room demo "hello from C" >/dev/null && echo "  [c-client] posted hello from C"

if [ -n "$scenario" ]; then
  if wait $scenario; then
    echo "  screenshot of ann's page: $(pwd)/target/demo/chat.png"
  else
    echo "  the browser part failed:"; sed 's/^/    /' "$scenario_log"
    exit 1
  fi
  scenario=
fi
kill $chat 2>/dev/null || true
wait $chat 2>/dev/null || true
echo "  server log:"
sed -n '3,$p' "$chat_log" | sed 's/^/  [server] /'

say "done"
