#!/usr/bin/env bash
# Runs the Autobahn TestSuite fuzzing server against the wskit client driver
# (examples/autobahn_client.rs).
#   scripts/autobahn-client.sh [CASES] [EXCLUDE]     default: 1.*-10.* and the small compression cases (12/13.N.1-4)
# Installs the suite on first use (root, ~1 min). Ends with "autobahn: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-@core,@perf,@deflate-smoke}
exclude=${2:-}
port=${AUTOBAHN_CLIENT_PORT:-$(bash scripts/free-port.sh)}
report=${REPORT_DIR:-target/autobahn/client}

bash scripts/autobahn/setup.sh >/dev/null
cargo build --release --quiet --example autobahn_client
REPORT_DIR=$report AGENT=wskit bash scripts/autobahn/test-client.sh "$port" "$cases" "$exclude" -- \
  ./target/release/examples/autobahn_client "ws://127.0.0.1:$port" wskit
