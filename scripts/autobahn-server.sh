#!/usr/bin/env bash
# Runs the Autobahn TestSuite fuzzing client against the wskit echo server (examples/echo_server.rs).
#   scripts/autobahn-server.sh [CASES] [EXCLUDE]     default: @core,@perf,@deflate-smoke (1.*-10.* and 12/13.N.1-4); @all for all 517 (make autobahn-full)
# Installs the suite on first use (root, ~1 min). Ends with "autobahn: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
# Strict: no NON-STRICT, no UNIMPLEMENTED, every close OK (AUTOBAHN_STRICT= to relax).
export AUTOBAHN_STRICT=${AUTOBAHN_STRICT-1}
cases=${1:-@core,@perf,@deflate-smoke}
exclude=${2:-}
port=${AUTOBAHN_SERVER_PORT:-$(bash scripts/free-port.sh)}
report=${REPORT_DIR:-target/autobahn/server}

bash scripts/autobahn/setup.sh >/dev/null
cargo build --release --quiet --example echo_server
./target/release/examples/echo_server "127.0.0.1:$port" >target/autobahn-echo-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
# Test only our own server: wait until it says it listens, and stop if it could not.
for _ in $(seq 100); do
  grep -q listening target/autobahn-echo-server.log && break
  if ! kill -0 $server 2>/dev/null; then
    echo "autobahn-server: the wskit echo server did not start:" >&2
    cat target/autobahn-echo-server.log >&2
    exit 2
  fi
  sleep 0.1
done
rc=0
REPORT_DIR=$report AGENT=wskit bash scripts/autobahn/test-server.sh 127.0.0.1 "$port" "$cases" "$exclude" || rc=$?
if ! kill -0 $server 2>/dev/null; then
  echo "autobahn-server: the wskit echo server died during the run; its log:" >&2
  cat target/autobahn-echo-server.log >&2
  rc=1
fi
exit $rc
