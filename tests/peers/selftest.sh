#!/usr/bin/env bash
# Validates the real-peer fixtures against each other: every client scenario of
# py_client.py and node_client.js against both peer servers (run with --cmd), every
# server path of both servers (selftest_paths.py), client timeouts, SIGTERM exits.
# Prints PASS/FAIL per check and ends with "peers selftest: N passed, M failed".
# Needs scripts/setup-peers.sh to have run. Everything is bounded by timeouts.
set -uo pipefail
cd "$(dirname "$0")/../.."

PEERS_DIR="${WSKIT_PEERS_DIR:-.peers}"
case "$PEERS_DIR" in /*) ;; *) PEERS_DIR="$PWD/$PEERS_DIR" ;; esac
PY="$PEERS_DIR/venv/bin/python"
if [ ! -x "$PY" ] || [ ! -d "$PEERS_DIR/node/node_modules/ws" ]; then
  echo "peers selftest: peers not installed; run scripts/setup-peers.sh" >&2
  exit 1
fi
command -v jq >/dev/null || { echo "peers selftest: jq is required" >&2; exit 1; }
D=tests/peers
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

declare -A PORT SPID
# start_server NAME CMD...: starts a server, waits for its READY line.
start_server() {
  local name="$1"; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  SPID[$name]=$pid
  local i
  for i in $(seq 100); do
    if grep -q '^READY [0-9][0-9]*$' "$TMP/$name.out" 2>/dev/null; then
      PORT[$name]="$(awk '{print $2}' "$TMP/$name.out")"
      pass "server $name starts and prints READY <port> (${PORT[$name]})"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "server $name starts" "no READY line; stderr: $(head -c 500 "$TMP/$name.err")"
  return 1
}

# client_check LABEL JQ_FILTER CLIENT URL SCENARIO [ARGS...]: the client must exit 0,
# print exactly one line of JSON, and the filter must hold on it.
client_check() {
  local label="$1" filter="$2"; shift 2
  local out="$TMP/client.out" err="$TMP/client.err" rc
  timeout 90 "$@" >"$out" 2>"$err"
  rc=$?
  if [ "$rc" != 0 ]; then
    fail "$label" "exit $rc: $(head -c 300 "$err")"
  elif [ "$(wc -l <"$out")" != 1 ]; then
    fail "$label" "expected one stdout line, got: $(head -c 300 "$out")"
  elif ! jq -e "$filter" "$out" >/dev/null 2>&1; then
    fail "$label" "unexpected result $(head -c 300 "$out") (want $filter)"
  else
    pass "$label -> $(head -c 120 "$out")"
  fi
}

# client_fails LABEL MAX_SECONDS CLIENT URL SCENARIO [ARGS...]: the client must exit 1
# within MAX_SECONDS, with nothing on stdout and a message on stderr.
client_fails() {
  local label="$1" max="$2"; shift 2
  local out="$TMP/client.out" err="$TMP/client.err" rc start=$SECONDS
  timeout 90 "$@" >"$out" 2>"$err"
  rc=$?
  if [ "$rc" != 1 ]; then
    fail "$label" "exit $rc, want 1"
  elif [ -s "$out" ]; then
    fail "$label" "stdout not empty: $(head -c 200 "$out")"
  elif [ ! -s "$err" ]; then
    fail "$label" "no message on stderr"
  elif [ $((SECONDS - start)) -gt "$max" ]; then
    fail "$label" "took $((SECONDS - start)) s, want <= $max"
  else
    pass "$label -> $(head -c 120 "$err")"
  fi
}

start_server py-cmd "$PY" $D/py_server.py --port 0 --host 127.0.0.1 --cmd
start_server node-cmd node $D/node_server.js --port 0 --host 127.0.0.1 --cmd
start_server py "$PY" $D/py_server.py
start_server node node $D/node_server.js

declare -A CLIENT=([py]="$PY $D/py_client.py" [node]="node $D/node_client.js")

for srv in py node; do
  port="${PORT[$srv-cmd]:-}"
  [ -n "$port" ] || continue
  url="ws://127.0.0.1:$port"
  for cli in py node; do
    # shellcheck disable=SC2086 # CLIENT holds a command and its script
    c=(${CLIENT[$cli]})
    tag="$cli client vs $srv server:"
    client_check "$tag echo-sizes" '.checked == 20' "${c[@]}" "$url/" echo-sizes
    client_check "$tag fragmented" '.checked == 2' "${c[@]}" "$url/" fragmented
    client_check "$tag ping" '.pong == "hello world"' "${c[@]}" "$url/" ping "hello world"
    client_check "$tag ping (empty)" '.pong == ""' "${c[@]}" "$url/" ping
    client_check "$tag server-ping" '.ok == true' "${c[@]}" "$url/" server-ping "srv-ping"
    client_check "$tag client-close" '.code == 4001 and .reason == "client bye"' \
      "${c[@]}" "$url/" client-close 4001 client bye
    client_check "$tag client-close 1000" '.code == 1000 and .reason == ""' "${c[@]}" "$url/" client-close 1000
    client_check "$tag server-close" '.code == 4002 and .reason == "server bye now"' \
      "${c[@]}" "$url/" server-close 4002 server bye now
    client_check "$tag server-close 1000" '.code == 1000 and .reason == ""' "${c[@]}" "$url/" server-close 1000
    client_check "$tag subprotocol" '.subprotocol == "chat"' "${c[@]}" "$url/" subprotocol chat,superchat
    client_check "$tag subprotocol (none)" '.subprotocol == null' "${c[@]}" "$url/" subprotocol ""
    client_check "$tag headers" '.headers["x-wskit-test"] == "peer" and .headers.authorization == "Bearer token123"
      and .headers.origin == "http://example.test" and .headers._subprotocol == null
      and (.headers.host | startswith("127.0.0.1:"))' "${c[@]}" "$url/" headers
    client_check "$tag rejected" '.status == 403' "${c[@]}" "$url/reject?status=403" rejected
    client_check "$tag rejected 401" '.status == 401' "${c[@]}" "$url/reject?status=401" rejected
    client_fails "$tag rejected but connected -> exit 1" 30 "${c[@]}" "$url/" rejected
    client_check "$tag concurrent" '.connections == 8 and .messages == 400' "${c[@]}" "$url/" concurrent 8 50
  done
done

# Every server path, with websockets as the client.
for srv in py node py-cmd node-cmd; do
  port="${PORT[$srv]:-}"
  [ -n "$port" ] || continue
  flag=""
  case "$srv" in *-cmd) flag=--cmd ;; esac
  timeout 300 "$PY" $D/selftest_paths.py "$srv server" "ws://127.0.0.1:$port" $flag >"$TMP/paths.out" 2>"$TMP/paths.err"
  rc=$?
  cat "$TMP/paths.out"
  passed=$((passed + $(grep -c '^PASS ' "$TMP/paths.out")))
  failed=$((failed + $(grep -c '^FAIL ' "$TMP/paths.out")))
  if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$TMP/paths.out"; then
    fail "$srv server paths" "selftest_paths.py exit $rc: $(tail -c 300 "$TMP/paths.err")"
  fi
done

# A hung server (accepts TCP, never answers) must fail a client within its timeout.
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
conns = []
end = time.time() + 60
s.settimeout(1)
while time.time() < end:
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
' >"$TMP/hung.out" &
hung=$!
PIDS+=("$hung")
for i in $(seq 50); do [ -s "$TMP/hung.out" ] && break; sleep 0.1; done
hung_port="$(cat "$TMP/hung.out")"
for cli in py node; do
  # shellcheck disable=SC2086
  c=(${CLIENT[$cli]})
  WSKIT_PEER_TIMEOUT=3 client_fails "$cli client vs hung server: times out" 10 "${c[@]}" "ws://127.0.0.1:$hung_port/" echo-sizes
done
kill "$hung" 2>/dev/null
wait "$hung" 2>/dev/null

# Servers exit 0 on SIGTERM, even with a connection open, and print nothing but READY.
for srv in py node py-cmd node-cmd; do
  pid="${SPID[$srv]:-}"
  [ -n "$pid" ] || continue
  port="${PORT[$srv]}"
  "$PY" -c '
import asyncio, sys
from websockets.asyncio.client import connect
async def main():
    async with connect(sys.argv[1], ping_interval=None) as ws:
        try:
            await asyncio.wait_for(ws.recv(), 20)
        except Exception:
            pass
asyncio.run(main())
' "ws://127.0.0.1:$port/" >/dev/null 2>&1 &
  holder=$!
  PIDS+=("$holder")
  sleep 0.5
  kill -TERM "$pid"
  rc=timeout
  for i in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; break; fi
    sleep 0.1
  done
  if [ "$rc" = 0 ]; then
    pass "server $srv exits 0 on SIGTERM with a connection open"
  else
    fail "server $srv exits 0 on SIGTERM with a connection open" "exit status: $rc"
  fi
  if [ "$(cat "$TMP/$srv.out")" = "READY $port" ]; then
    pass "server $srv printed exactly one stdout line"
  else
    fail "server $srv printed exactly one stdout line" "stdout: $(head -c 300 "$TMP/$srv.out")"
  fi
  wait "$holder" 2>/dev/null
done

echo "peers selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
