#!/usr/bin/env bash
# Runs the Autobahn TestSuite fuzzing client against the wskit echo server (examples/echo_server.rs).
#   scripts/autobahn-server.sh [CASES] [EXCLUDE]     default: every case but 12.*,13.* (compression)
# Installs the suite on first use (root, ~1 min). Ends with "autobahn: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-*}
exclude=${2:-12.*,13.*}
port=${AUTOBAHN_SERVER_PORT:-9301}
report=${REPORT_DIR:-target/autobahn/server}

bash scripts/autobahn/setup.sh >/dev/null
cargo build --release --quiet --example echo_server
./target/release/examples/echo_server "127.0.0.1:$port" >target/autobahn-echo-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
rc=0
REPORT_DIR=$report AGENT=wskit bash scripts/autobahn/test-server.sh 127.0.0.1 "$port" "$cases" "$exclude" || rc=$?
if ! kill -0 $server 2>/dev/null; then
  echo "autobahn-server: the wskit echo server died during the run; its log:" >&2
  cat target/autobahn-echo-server.log >&2
  rc=1
fi
exit $rc
