#!/usr/bin/env bash
# HTTP throughput of wskit's static file serving, side by side with nginx serving the same files,
# measured with wrk in one run: requests/s, transfer/s and latency (avg, p50, p99) for a small file
# and a 1 MiB file, keep-alive connections.
#
#   bench/http.sh [--seconds N] [--connections N] [--threads N] [--no-setup]
#
# Both servers run one worker (wskit's loop is one thread; nginx gets `worker_processes 1`) pinned
# to CPU 0 when taskset exists, wrk to the other CPUs. nginx is started by this script on a free
# port with its own config in a temp directory (no system service, no root needed to run it).
# Installs wrk and nginx-light with apt when missing (root, Debian). Stops what it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10 connections=50 threads=2 setup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --no-setup) setup=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench/http.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [ "$setup" = 1 ]; then
  missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  [ -x "$nginx_bin" ] || missing+=(nginx-light)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench/http.sh: apt-get install ${missing[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  cargo build --release --locked --quiet --example web_server
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/www" "$work/nginx"
# nginx workers run as an unprivileged user when started by root: let them read the files.
chmod a+rx "$work" "$work/www"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 >"$work/www/small.txt"
head -c $((1 << 20)) /dev/urandom >"$work/www/1mib.bin"

server_cpu=() client_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi

wait_port() {
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$1/small.txt" && return 0
    sleep 0.05
  done
  echo "bench/http.sh: nothing answers on port $1" >&2
  return 1
}

wskit_port=$(bash scripts/free-port.sh)
"${server_cpu[@]}" target/release/examples/web_server "127.0.0.1:$wskit_port" "$work/www" >"$work/wskit.log" 2>&1 &
pids+=($!)

nginx_port=$(bash scripts/free-port.sh)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { text/plain txt; application/octet-stream bin; }
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
  }
}
CONF
"${server_cpu[@]}" "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" >"$work/nginx.log" 2>&1 &
pids+=($!)

wait_port "$wskit_port"
wait_port "$nginx_port"
# Both serve the same bytes.
curl -s -o "$work/got-wskit" "http://127.0.0.1:$wskit_port/1mib.bin"; cmp "$work/got-wskit" "$work/www/1mib.bin" || { head -c 300 "$work/got-wskit"; cat "$work/wskit.log"; exit 1; }
curl -s -o "$work/got-nginx" "http://127.0.0.1:$nginx_port/1mib.bin"; cmp "$work/got-nginx" "$work/www/1mib.bin" || { head -c 600 "$work/got-nginx"; cat "$work/nginx/error.log" "$work/nginx.log"; exit 1; }

# One wrk run -> "req/s transfer/s avg p50 p99".
measure() {
  local out
  out=$("${client_cpu[@]}" wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$1")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "bench/http.sh: non-2xx answers from $1" >&2
    echo "$out" >&2
    exit 1
  fi
  local rps tps avg p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  tps=$(awk '/^Transfer\/sec:/ {print $2}' <<<"$out")
  avg=$(awk '$1 == "Latency" {print $2; exit}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $tps $avg $p50 $p99"
}

echo "wrk: $threads threads, $connections keep-alive connections, ${seconds}s per run; one server worker each"
printf '| file | server | requests/s | transfer/s | latency avg | p50 | p99 |\n'
printf '|---|---|---:|---:|---:|---:|---:|\n'
for file in small.txt 1mib.bin; do
  label=$([ "$file" = small.txt ] && echo "1 KiB" || echo "1 MiB")
  for server in wskit nginx; do
    port=$([ "$server" = wskit ] && echo "$wskit_port" || echo "$nginx_port")
    read -r rps tps avg p50 p99 < <(measure "http://127.0.0.1:$port/$file")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$server" "$rps" "$tps" "$avg" "$p50" "$p99"
  done
done
