#!/usr/bin/env bash
# Instructions the wskit server spends per echoed message, counted by valgrind --tool=callgrind:
# unlike timings, instruction counts repeat to within a percent on a busy machine, so this is the
# figure to compare before and after a change of the hot path.
#
#   bench/callgrind.sh [SCENARIO] [SECONDS]     SCENARIO: a16 (default), a1, b; SECONDS default 8
#
# Runs bench/peers/wskit-min-echo under callgrind, drives it with examples/bench_client (no
# warm-up, so every echo after the handshakes is counted), and prints the server's instructions per
# echoed message and its ten most expensive functions (self cost). The profile stays in
# target/callgrind/ for callgrind_annotate or kcachegrind.
#
# SERVER=PATH runs another build of wskit-min-echo instead (an A/B against an older commit: build
# bench/peers/wskit-min-echo in a worktree of that commit and point SERVER at its binary).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-a16}
seconds=${2:-8}
case "$scenario" in
  a16) options=(--connections 64 --size 16 --text --depth 16) ;;
  a1) options=(--connections 64 --size 16 --text --depth 1) ;;
  b) options=(--connections 4 --size 64k --binary --depth 4) ;;
  *) echo "callgrind.sh: unknown scenario $scenario (a16, a1, b)" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet --example bench_client
server_bin=${SERVER:-bench/peers/wskit-min-echo/target/release/wskit-min-echo}
[ -n "${SERVER:-}" ] || (cd bench/peers/wskit-min-echo && cargo build --release --quiet)
out=target/callgrind
mkdir -p "$out"
profile="$out/$(basename "$server_bin").$scenario${SERVER:+.other}.out"
rm -f "$profile"*
port=$(bash scripts/free-port.sh)
valgrind --tool=callgrind --callgrind-out-file="$profile" \
  "$server_bin" "127.0.0.1:$port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q listening "$out/server.log" 2>/dev/null && break
  sleep 0.1
done
json=$(./target/release/examples/bench_client --url "ws://127.0.0.1:$port/" "${options[@]}" \
  --warmup 0 --duration "$seconds" | tail -1)
messages=$(sed -E 's/.*"messages":([0-9]+).*/\1/' <<<"$json")
# Dump the counts so far (the server runs until killed), then stop it.
callgrind_control -d "$server" >/dev/null
sleep 1
kill $server 2>/dev/null || true
wait $server 2>/dev/null || true
trap - EXIT
dump=$(ls -t "$profile".* 2>/dev/null | head -1)
[ -n "$dump" ] || dump=$profile
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ && !seen {gsub(",", "", $1); print $1; seen = 1}')
echo "scenario $scenario: $messages messages echoed under callgrind, $total instructions in the server"
awk -v t="$total" -v m="$messages" 'BEGIN { printf "instructions per echoed message: %.0f\n", t / m }'
echo
echo "most expensive functions (self, all messages):"
callgrind_annotate "$dump" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,12p' | cut -c1-150
echo
echo "profile: $dump (callgrind_annotate --inclusive=yes $dump)"
