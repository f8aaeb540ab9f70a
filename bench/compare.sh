#!/usr/bin/env bash
# Compares wskit's echo server with raw TCP and other WebSocket servers on this machine.
#
#   bench/compare.sh [--quick] [--only NAME] [--repeat N] [--no-setup]
#
# Starts each echo server alone (pinned to CPU 0), drives it with examples/bench_client.rs (pinned
# to CPU 1), stops it by its PID, and prints one markdown table (also written to
# bench/results/latest.md) with every server's figures and its ratios to wskit and to raw TCP.
# See bench/README.md for what each scenario measures.
#
#   --quick      short runs (0.5 s warm-up, 2 s measured) for a smoke check
#   --only NAME  one server: raw, wskit, wskit-min, wskit-c, wskit-c-min, node-ws, py-websockets,
#                tokio-tungstenite, lws, picows, wskit-py (the Python binding's callback echo,
#                examples/python/echo_server.py), wskit-py-fast (its batched queue-mode echo,
#                examples/python/fast_echo_server.py), wskit-py-aio (wskit.aio.serve,
#                examples/python/aio_echo_server.py) (ratio columns then show "-" unless NAME is raw or wskit-min:
#                ratios are only taken within one run); may be given more than once
#   --repeat N   measure each (server, scenario) N times and report the median (default 1)
#   --no-setup   skip installing and building (everything must already be there)
#   --deflate    the permessage-deflate scenarios instead (JSON-like text of 200 B, 2 KiB and 64 KiB,
#                compressed both ways with no context takeover, and idle connections after one
#                compressed message each) for wskit, Node ws (perMessageDeflate) and Python
#                websockets (compression="deflate"), beside wskit with compression off sending the
#                same JSON uncompressed (wskit-uncompressed: the baseline); and idle connections
#                after one message each with context takeover at websockets' parameters (12-bit
#                windows), where wskit-takeover allows takeover with idle compaction and
#                wskit-takeover-kept without it
#   --extra NAME=COMMAND  one more ws:// server to run beside the others (ADDR in COMMAND becomes
#                127.0.0.1:PORT), e.g. a build of an older commit for an A/B comparison; it is
#                measured whatever --only says; may be given more than once
#
# Environment: WARMUP, DURATION (seconds), IDLE_CONNECTIONS (default 10000), SERVER_CPU (0),
# CLIENT_CPU (1), WSKIT_PEERS_DIR (default .peers).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

QUICK=0
ONLY=""
REPEAT=1
SETUP=1
DEFLATE=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --only) ONLY="$ONLY ${2:?--only needs a server name}"; shift ;;
    --repeat) REPEAT="${2:?--repeat needs a number}"; shift ;;
    --no-setup) SETUP=0 ;;
    --deflate) DEFLATE=1 ;;
    --extra)
      spec="${2:?--extra needs NAME=COMMAND}"
      [[ "$spec" == *=* ]] || { echo "compare.sh: --extra needs NAME=COMMAND" >&2; exit 2; }
      EXTRA+=("$spec"); shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$REPEAT" in ''|*[!0-9]*|0) echo "compare.sh: --repeat needs a positive number" >&2; exit 2 ;; esac

if [ "$QUICK" = 1 ]; then
  WARMUP="${WARMUP:-0.5}"
  DURATION="${DURATION:-2}"
else
  WARMUP="${WARMUP:-2}"
  DURATION="${DURATION:-10}"
fi
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-10000}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
PEERS_DIR="${WSKIT_PEERS_DIR:-$ROOT/.peers}"
export WSKIT_PEERS_DIR="$PEERS_DIR"
RESULTS_DIR="$ROOT/bench/results"
BUILD_DIR="$ROOT/target/bench"
CLIENT="$ROOT/target/release/examples/bench_client"
mkdir -p "$RESULTS_DIR" "$BUILD_DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW_JSON="$RESULTS_DIR/run-$STAMP.jsonl"
LOG_DIR="$RESULTS_DIR/logs-$STAMP"
mkdir -p "$LOG_DIR"
: >"$RAW_JSON"

log() { echo "compare: $*" >&2; }

# ----- cleanup ------------------------------------------------------------------------------------
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

# ----- limits and pinning ----------------------------------------------------------------------------
NEED_FDS=$((IDLE_CONNECTIONS + 256))
HARD_FDS="$(ulimit -Hn)"
if [ "$HARD_FDS" != unlimited ] && [ "$HARD_FDS" -lt "$NEED_FDS" ]; then
  if ! ulimit -Hn "$NEED_FDS" 2>/dev/null; then
    log "WARNING: the hard limit on open files is $HARD_FDS, below the $NEED_FDS the idle scenario needs;"
    log "         raise it (ulimit -Hn $NEED_FDS as root, or nofile in /etc/security/limits.conf),"
    log "         or set IDLE_CONNECTIONS lower. The idle scenario may fail."
  fi
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER=(taskset -c "$SERVER_CPU")
  PIN_CLIENT=(taskset -c "$CLIENT_CPU")
  PINNING="server on CPU $SERVER_CPU, load generator on CPU $CLIENT_CPU (taskset)"
else
  PIN_SERVER=()
  PIN_CLIENT=()
  PINNING="none (fewer than 2 CPUs or no taskset): figures are not comparable to pinned runs"
  log "WARNING: not pinning: $PINNING"
fi

# ----- setup -------------------------------------------------------------------------------------------
apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing $*: install them (needs root)"
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ "$SETUP" = 1 ]; then
  missing=()
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  command -v cc >/dev/null || missing+=(gcc)
  command -v taskset >/dev/null || missing+=(util-linux)
  pkg-config --exists libwebsockets 2>/dev/null || missing+=(libwebsockets-dev)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}" || true; fi
  log "node and python peers (scripts/setup-peers.sh)"
  bash scripts/setup-peers.sh >&2
  log "cargo build --release (echo_server, raw_echo_server, bench_client)"
  cargo build --release --example echo_server --example raw_echo_server --example bench_client >&2
  log "cargo build --release (bench/peers/wskit-min-echo)"
  (cd bench/peers/wskit-min-echo && cargo build --release) >&2
  log "cargo build --release (bench/peers/tungstenite-echo)"
  (cd bench/peers/tungstenite-echo && cargo build --release) >&2
  if pkg-config --exists libwebsockets 2>/dev/null; then
    log "cc bench/peers/lws_echo.c"
    # shellcheck disable=SC2046
    cc -O2 -o "$BUILD_DIR/lws_echo" bench/peers/lws_echo.c $(pkg-config --cflags --libs libwebsockets) >&2
  fi
  log "cargo build --release (libwskit.a for the C servers)"
  cargo build --release --lib >&2
  # Static: no run-time lookup of libwskit.so.0 (target/release holds only the unversioned name).
  for c_server in examples/c/echo_server.c:wskit_c_echo bench/peers/wskit_c_min_echo.c:wskit_c_min_echo; do
    log "cc ${c_server%%:*} (wskit C API)"
    cc -O2 -I include -o "$BUILD_DIR/${c_server#*:}" "${c_server%%:*}" \
      target/release/libwskit.a -lpthread -ldl -lm >&2 \
      || { log "${c_server%%:*} did not build; it will be skipped"; rm -f "$BUILD_DIR/${c_server#*:}"; }
  done
fi
[ -x "$CLIENT" ] || { log "no $CLIENT: run without --no-setup"; exit 1; }

# ----- servers -------------------------------------------------------------------------------------------
# name|port|transport|command (ADDR is replaced by 127.0.0.1:PORT)
SERVERS=(
  "raw|9200|tcp|$ROOT/target/release/examples/raw_echo_server ADDR"
  "wskit|9201|ws|$ROOT/target/release/examples/echo_server ADDR"
  "wskit-min|9207|ws|$ROOT/bench/peers/wskit-min-echo/target/release/wskit-min-echo ADDR"
  "wskit-c|9202|ws|$BUILD_DIR/wskit_c_echo ADDR"
  "wskit-c-min|9208|ws|$BUILD_DIR/wskit_c_min_echo ADDR"
  "node-ws|9203|ws|node $ROOT/bench/peers/node_ws_echo.js ADDR"
  "py-websockets|9204|ws|$PEERS_DIR/venv/bin/python $ROOT/bench/peers/py_websockets_echo.py ADDR"
  "tokio-tungstenite|9205|ws|$ROOT/bench/peers/tungstenite-echo/target/release/tungstenite-echo ADDR current"
  "lws|9206|ws|$BUILD_DIR/lws_echo ADDR"
  "picows|9210|ws|$PEERS_DIR/venv/bin/python $ROOT/bench/peers/picows_echo.py ADDR"
  "wskit-py|9211|ws|$PEERS_DIR/venv/bin/python $ROOT/examples/python/echo_server.py ADDR"
  "wskit-py-fast|9212|ws|$PEERS_DIR/venv/bin/python $ROOT/examples/python/fast_echo_server.py ADDR"
  "wskit-py-aio|9213|ws|$PEERS_DIR/venv/bin/python $ROOT/examples/python/aio_echo_server.py ADDR"
)
if [ "$DEFLATE" = 1 ]; then
  # The same parameters for all (the load generator offers no context takeover both ways); each
  # server's other settings are its library's defaults (see bench/peers/*).
  SERVERS=(
    "wskit|9201|ws|$ROOT/target/release/examples/echo_server ADDR"
    "wskit-uncompressed|9209|ws|$ROOT/target/release/examples/echo_server ADDR --no-deflate"
    "node-ws|9203|ws|node $ROOT/bench/peers/node_ws_echo.js ADDR deflate"
    "py-websockets|9204|ws|$PEERS_DIR/venv/bin/python $ROOT/bench/peers/py_websockets_echo.py ADDR deflate"
    # For the context-takeover idle scenario only (zdt): wskit's listener default asks for no
    # context takeover, so these allow it (12-bit windows, memory level 5, as websockets), with
    # idle compaction (the listener default) and without it.
    "wskit-takeover|9210|ws|$ROOT/target/release/examples/echo_server ADDR --deflate-takeover"
    "wskit-takeover-kept|9211|ws|$ROOT/target/release/examples/echo_server ADDR --deflate-takeover --no-compact"
  )
fi
extra_port=9300
for spec in ${EXTRA[@]+"${EXTRA[@]}"}; do
  SERVERS+=("${spec%%=*}|$extra_port|ws|${spec#*=}")
  [ -z "$ONLY" ] || ONLY="$ONLY ${spec%%=*}"
  extra_port=$((extra_port + 1))
done

# Why a server does not take part in a scenario ("" when it does): the context-takeover idle
# scenario compares servers that agree to takeover at the same parameters.
inapplicable() {
  case "$1:$2" in
    zdt:wskit|zdt:wskit-uncompressed) echo "asks for no context takeover" ;;
    zdt:*) ;;
    *:wskit-takeover|*:wskit-takeover-kept) echo "for zdt only" ;;
  esac
}

# Whether this checkout has wskit.aio.serve and its echo example (wskit-py-aio).
aio_serve_ready() {
  [ -f examples/python/aio_echo_server.py ] && "$PEERS_DIR/venv/bin/python" -c '
import sys
sys.path.insert(0, "bindings/python/src")
import wskit.aio
sys.exit(0 if hasattr(wskit.aio, "serve") else 1)' 2>/dev/null
}

# Why a server cannot run ("" when it can).
unavailable() {
  case "$1" in
    wskit-c) [ -x "$BUILD_DIR/wskit_c_echo" ] || echo "skipped (examples/c/echo_server.c did not build)" ;;
    wskit-c-min) [ -x "$BUILD_DIR/wskit_c_min_echo" ] || echo "skipped (bench/peers/wskit_c_min_echo.c did not build)" ;;
    lws) [ -x "$BUILD_DIR/lws_echo" ] || echo "skipped (libwebsockets-dev missing)" ;;
    node-ws) [ -d "$PEERS_DIR/node/node_modules/ws" ] || echo "skipped (no .peers/node: scripts/setup-peers.sh)" ;;
    py-websockets) [ -x "$PEERS_DIR/venv/bin/python" ] || echo "skipped (no .peers/venv: scripts/setup-peers.sh)" ;;
    wskit-min)
      [ -x bench/peers/wskit-min-echo/target/release/wskit-min-echo ] || echo "skipped (not built)"
      ;;
    tokio-tungstenite)
      [ -x bench/peers/tungstenite-echo/target/release/tungstenite-echo ] || echo "skipped (not built)"
      ;;
    picows)
      "$PEERS_DIR/venv/bin/python" -c 'import picows' 2>/dev/null || echo "skipped (no picows in .peers/venv: scripts/setup-peers.sh)"
      ;;
    wskit-py|wskit-py-fast|wskit-py-aio)
      if [ ! -x "$PEERS_DIR/venv/bin/python" ]; then
        echo "skipped (no .peers/venv: scripts/setup-peers.sh)"
      elif [ ! -f target/release/libwskit.so ]; then
        echo "skipped (no target/release/libwskit.so)"
      elif [ "$1" = wskit-py-aio ] && ! aio_serve_ready; then
        echo "skipped (no wskit.aio.serve or examples/python/aio_echo_server.py in this checkout yet)"
      fi
      ;;
  esac
}

wanted() {
  [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]
}

for only in $ONLY; do
  found=0
  for entry in "${SERVERS[@]}"; do [ "${entry%%|*}" = "$only" ] && found=1; done
  [ "$found" = 1 ] || { log "unknown server $only"; exit 2; }
done

# Waits until something listens on $1 (without connecting to it: the idle scenario measures memory).
wait_listening() {
  local port="$1" pid="$2"
  for _ in $(seq 100); do
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start_server() { # name port command...
  local name="$1" port="$2"
  shift 2
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    log "port $port is already in use: stop what listens there"
    return 1
  fi
  "${PIN_SERVER[@]}" "$@" >>"$LOG_DIR/$name.log" 2>&1 &
  SERVER_PID=$!
  if ! wait_listening "$port" "$SERVER_PID"; then
    log "$name did not start listening on $port (log: $LOG_DIR/$name.log)"
    stop_server
    return 1
  fi
  sleep 0.3 # let runtimes finish starting (JIT, imports) before the baseline is read
}

# ----- scenarios ------------------------------------------------------------------------------------
# id|label|client options
SCENARIOS=(
  "a1|64 conn x 16 B text, depth 1|--connections 64 --size 16 --text --depth 1"
  "a16|64 conn x 16 B text, depth 16|--connections 64 --size 16 --text --depth 16"
  "b|4 conn x 64 KiB binary, depth 4|--connections 4 --size 64k --binary --depth 4"
  "c|1 conn x 1 MiB binary, depth 1|--connections 1 --size 1M --binary --depth 1"
  "d|$IDLE_CONNECTIONS idle conn: server RSS|--mode idle --idle $IDLE_CONNECTIONS"
)

if [ "$DEFLATE" = 1 ]; then
  SCENARIOS=(
    "z200|64 conn x 200 B JSON, deflate, depth 4|--connections 64 --size 200 --deflate --depth 4"
    "z2k|64 conn x 2 KiB JSON, deflate, depth 4|--connections 64 --size 2k --deflate --depth 4"
    "z64k|4 conn x 64 KiB JSON, deflate, depth 2|--connections 4 --size 64k --deflate --depth 2"
    "zd|$IDLE_CONNECTIONS idle conn after one 2 KiB deflate message each: server RSS|--mode idle --idle $IDLE_CONNECTIONS --deflate --size 2k"
    "zdt|$IDLE_CONNECTIONS idle conn after one 2 KiB message each, context takeover, 12-bit windows: server RSS|--mode idle --idle $IDLE_CONNECTIONS --deflate --takeover --size 2k"
  )
fi

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
log "warm-up ${WARMUP}s, measured ${DURATION}s, repeat $REPEAT, $PINNING"

# Scenario by scenario, and within one repetition every server in turn: the figures compared
# in a row were measured minutes apart at most, not a whole run apart (the machine's speed drifts).
for entry in "${SERVERS[@]}"; do
  IFS='|' read -r name _ _ _ <<<"$entry"
  wanted "$name" || continue
  why="$(unavailable "$name")"
  if [ -n "$why" ]; then
    log "$name: $why"
    printf '{"server":"%s","skipped":"%s"}\n' "$name" "$why" >>"$RAW_JSON"
  fi
done
for scenario in "${SCENARIOS[@]}"; do
  IFS='|' read -r sid _label options <<<"$scenario"
  for rep in $(seq "$REPEAT"); do
    for entry in "${SERVERS[@]}"; do
      IFS='|' read -r name port transport command <<<"$entry"
      wanted "$name" || continue
      [ -z "$(unavailable "$name")" ] || continue
      [ -z "$(inapplicable "$sid" "$name")" ] || continue
      addr="127.0.0.1:$port"
      read -r -a argv <<<"${command//ADDR/$addr}"
      # A fresh server per measurement: no state (allocator caches, buffers) carried over.
      if ! start_server "$name" "$port" "${argv[@]}"; then
        printf '{"server":"%s","scenario":"%s","rep":%d,"failed":"did not start"}\n' \
          "$name" "$sid" "$rep" >>"$RAW_JSON"
        continue
      fi
      url="$transport://$addr/"
      timing=()
      [ "$sid" != d ] && [ "$sid" != zd ] && [ "$sid" != zdt ] && timing=(--warmup "$WARMUP" --duration "$DURATION")
      # The uncompressed baseline sends the same JSON without offering compression.
      run_options="$options"
      [[ "$name" == *-uncompressed ]] && run_options="${options//--deflate/--json}"
      mode=()
      [ "$transport" = tcp ] && [ "$sid" != d ] && mode=(--mode raw)
      # shellcheck disable=SC2086
      cmd=("${PIN_CLIENT[@]}" "$CLIENT" --url "$url" "${mode[@]}" $run_options "${timing[@]}" --pid "$SERVER_PID")
      log "$name $sid #$rep: ${cmd[*]}"
      set +e
      out="$(timeout 300 "${cmd[@]}" 2>>"$LOG_DIR/client.log")"
      status=$?
      set -e
      echo "$out" | head -1 | sed "s/^/compare:   /" >&2
      json="$(echo "$out" | grep '^{' | tail -1 || true)"
      if [ $status -ne 0 ] || [ -z "$json" ]; then
        log "$name $sid: the load generator failed (exit $status; see $LOG_DIR/client.log)"
        printf '{"server":"%s","scenario":"%s","rep":%d,"failed":"exit %d"}\n' \
          "$name" "$sid" "$rep" "$status" >>"$RAW_JSON"
      else
        echo "{\"server\":\"$name\",\"scenario\":\"$sid\",\"rep\":$rep,\"result\":$json}" >>"$RAW_JSON"
      fi
      if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "$name died during $sid (log: $LOG_DIR/$name.log)"
      fi
      stop_server
    done
  done
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

# ----- the table ------------------------------------------------------------------------------------
SCENARIO_LABELS="$(printf '%s\n' "${SCENARIOS[@]}")"
python3 - "$RAW_JSON" "$RESULTS_DIR/latest.md" <<PY
import json, statistics, subprocess, sys, platform

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
labels = {}
order = []
for line in """$SCENARIO_LABELS""".splitlines():
    sid, label, _ = line.split("|", 2)
    labels[sid] = label
    order.append(sid)
servers = []
skipped = {}
data = {}  # (server, scenario) -> list of results
failed = {}
for r in rows:
    s = r["server"]
    if s not in servers:
        servers.append(s)
    if "skipped" in r:
        skipped[s] = r["skipped"]
    elif "failed" in r:
        failed.setdefault((s, r["scenario"]), r["failed"])
    else:
        data.setdefault((s, r["scenario"]), []).append(r["result"])

def med(results, key):
    vals = [x[key] for x in results if x.get(key) is not None]
    return statistics.median(vals) if vals else None

def fmt(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"

def wire(res):
    # Payload bytes per message on the wire, sent / echoed (compressed scenarios only).
    o, i = med(res, "wire_out_per_msg"), med(res, "wire_in_per_msg")
    return f"{o:,.0f} / {i:,.0f}" if o is not None and i is not None else ""

def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"

cpu = "?"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
out = []
out.append(f"wskit echo benchmark, {subprocess.run(['date', '-u', '+%Y-%m-%d %H:%M UTC'], capture_output=True, text=True).stdout.strip()}")
out.append("")
out.append(f"- machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs, Linux {platform.release()}")
out.append(f"- pinning: $PINNING")
out.append(f"- warm-up $WARMUP s, measured $DURATION s, median of $REPEAT run(s); a fresh server process per measurement")
out.append(f"- load average (1/5/15 min) at start: $LOAD_START, at end: $LOAD_END (above ~0.5 means other work shared the CPUs: compare ratios, not absolute figures)")
out.append("")
out.append("| scenario | server | msgs/s | MB/s | p50 us | p99 us | server CPU us/msg | RSS bytes/conn | wire B/msg | vs wskit-min | vs raw TCP |")
out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for sid in order:
    for s in servers:
        if s in skipped:
            if sid == order[0]:
                out.append(f"| (all) | {s} | {skipped[s]} | | | | | | | | |")
            continue
        res = data.get((s, sid))
        if not res and (s, sid) not in failed and s.startswith("wskit-takeover") != (sid == "zdt"):
            continue  # not part of this scenario (see inapplicable() in compare.sh)
        if not res:
            why = failed.get((s, sid), "not run")
            out.append(f"| {labels[sid]} | {s} | FAILED ({why}) | | | | | | | | |")
            continue
        base = data.get(("wskit-min", sid))
        raw = data.get(("raw", sid))
        if sid in ("d", "zd", "zdt"):
            b = med(res, "bytes_per_conn")
            bw = med(base, "bytes_per_conn") if base else None
            err = med(res, "errors")
            note = f" ({err:.0f} errors)" if err else ""
            out.append(f"| {labels[sid]} | {s} | | | | | | {fmt(b)}{note} | | {ratio(b, bw)} | - |")
            continue
        m = med(res, "msgs_per_s")
        cpu_ns = med(res, "server_cpu_ns_per_msg")
        mw = med(base, "msgs_per_s") if base else None
        mr = med(raw, "msgs_per_s") if raw else None
        client = med(res, "client_cpu_pct")
        mark = " (c)" if client is not None and client >= 85 else ""
        out.append(
            f"| {labels[sid]} | {s} | {fmt(m)}{mark} | {fmt(med(res, 'mb_per_s'), 1)} | {fmt(med(res, 'p50_us'), 1)} "
            f"| {fmt(med(res, 'p99_us'), 1)} | {fmt(cpu_ns / 1000 if cpu_ns is not None else None, 2)} | "
            f"| {wire(res)} | {ratio(m, mw)} | {ratio(m, mr)} |"
        )
out.append("")
out.append("Ratios: throughput (msgs/s) over wskit-min's (the library with the smallest handler) and over raw TCP's for the load scenarios; RSS per connection over wskit-min's for the idle one (no ratio to raw TCP there: its few bytes per connection make one meaningless; kernel socket buffers are in no server's RSS).")
out.append("(c): the load generator used 85% or more of its core: the server may be faster than this figure shows (compare CPU per message there).")
out.append("Wire B/msg (compressed scenarios): payload bytes of a message's frame as sent by the load generator / as echoed by the server (the uncompressed baseline sends the JSON as it is).")
out.append("Server CPU per message: the server's utime+stime (/proc/PID/stat, all threads) over the measured interval, divided by the messages echoed in it.")
text = "\n".join(out)
print(text)
open(sys.argv[2], "w").write(text + "\n")
PY
log "table written to bench/results/latest.md; raw results in ${RAW_JSON#"$ROOT"/}"
