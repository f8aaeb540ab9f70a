#!/usr/bin/env bash
# ws:// versus wss:// on the wskit echo server with the smallest handler (bench/peers/wskit-min-echo):
# throughput for 16 B and 64 KiB messages, and idle memory per connection, so the difference is
# TLS's alone. Server pinned to CPU 0, load to CPU 1; compare the ratio, not absolutes.
#   bench/tls.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=5
idle=5000
[ "${1:-}" = "--quick" ] && { seconds=2; idle=1000; }
cargo build --release --quiet --example bench_tls
(cd bench/peers/wskit-min-echo && cargo build --release --quiet)
server_bin=bench/peers/wskit-min-echo/target/release/wskit-min-echo
dir=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
ulimit -n 65536 2>/dev/null || true

start() { # start ws|wss
  local port
  port=$(bash scripts/free-port.sh)
  if [ "$1" = wss ]; then
    taskset -c 0 "$server_bin" "127.0.0.1:$port" --tls "$dir/cert.pem" "$dir/key.pem" >/dev/null &
  else
    taskset -c 0 "$server_bin" "127.0.0.1:$port" >/dev/null &
  fi
  server=$!
  sleep 0.3
  url="$1://localhost:$port/"
}
stop() { kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; server=; }

declare -A result
for scheme in ws wss; do
  for scenario in "64 16 16" "4 4 65536"; do
    read -r conns depth size <<<"$scenario"
    start $scheme
    line=$(taskset -c 1 ./target/release/examples/bench_tls --url "$url" --ca "$dir/cert.pem" \
      --connections "$conns" --depth "$depth" --size "$size" --seconds "$seconds" | tail -1)
    stop
    echo "$line"
    result["$scheme-$size"]=$(sed -E 's/.*"msgs_per_s":([0-9.]+).*/\1/' <<<"$line")
  done
  start $scheme
  line=$(./target/release/examples/bench_tls --url "$url" --ca "$dir/cert.pem" --idle "$idle" --pid "$server" | tail -1)
  stop
  echo "$line"
  result["$scheme-idle"]=$(sed -E 's/.*"bytes_per_conn":([0-9.]+).*/\1/' <<<"$line")
done
echo
echo "| scenario | ws | wss | wss / ws |"
echo "|---|---|---|---|"
for size in 16 65536; do
  printf '| %s msgs/s | %s | %s | %.2f |\n' "$size B" "${result[ws-$size]}" "${result[wss-$size]}" \
    "$(echo "${result[wss-$size]} / ${result[ws-$size]}" | bc -l)"
done
printf '| idle bytes/conn (%s conns) | %s | %s | +%s bytes for TLS |\n' "$idle" "${result[ws-idle]}" \
  "${result[wss-idle]}" "$(echo "${result[wss-idle]} - ${result[ws-idle]}" | bc)"
