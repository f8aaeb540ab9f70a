#!/usr/bin/env bash
# Runs the Autobahn TestSuite fuzzing server against the wskit client driver
# (examples/autobahn_client.rs).
#   scripts/autobahn-client.sh [CASES] [EXCLUDE]     default: @core,@perf,@deflate-smoke (1.*-10.* and 12/13.N.1-4); @all for all 517 (make autobahn-full)
# Installs the suite on first use (root, ~1 min). Ends with "autobahn: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
# Strict: no NON-STRICT, no UNIMPLEMENTED, every close OK (AUTOBAHN_STRICT= to relax).
export AUTOBAHN_STRICT=${AUTOBAHN_STRICT-1}
cases=${1:-@core,@perf,@deflate-smoke}
exclude=${2:-}
port=${AUTOBAHN_CLIENT_PORT:-$(bash scripts/free-port.sh)}
report=${REPORT_DIR:-target/autobahn/client}

bash scripts/autobahn/setup.sh >/dev/null
cargo build --release --quiet --example autobahn_client
REPORT_DIR=$report AGENT=wskit bash scripts/autobahn/test-client.sh "$port" "$cases" "$exclude" -- \
  ./target/release/examples/autobahn_client "ws://127.0.0.1:$port" wskit
