#!/usr/bin/env bash
# Runs every test suite of the project and ends with one summary line: "tests: N passed, M failed".
# Used by `make test` and .ci/run. Each step's own output stays visible above the summary.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failed_steps=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# step NAME COMMAND...: runs the command, adds the test counts it printed to the totals.
step() {
  local name=$1
  shift
  echo "==> $name: $*"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # cargo test: "test result: ok. 45 passed; 0 failed; ..."; pytest: "== 12 passed, 1 failed in ..."
  local p f
  p=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$rc" -ne 0 ]; then
    failed_steps+=("$name")
    [ "$f" -eq 0 ] && failed=$((failed + 1)) # a step that failed without counting (build, lint) counts once
  fi
}

# `make test` is the whole setup on a fresh machine: install what the tests need first (idempotent;
# fast when everything is there).
step install-deps bash scripts/install-deps.sh
step format cargo fmt --check
step header-check bash scripts/header-check.sh
step clippy cargo clippy --all-targets --locked -- -D warnings
step cargo-test cargo test --locked --all-targets --no-fail-fast
step doc-test cargo test --locked --doc
step python bash scripts/test-python.sh
# The wheel: built offline and with build isolation, installed into a fresh venv, run with env -i.
step python-wheel bash scripts/test-python-wheel.sh
# Conformance: Autobahn TestSuite, strictly, in both roles: 1.*-10.* and the 48 small compression cases
# (12/13.N.1-4); all 517 (the whole of 12.* and 13.*, ~40 min per role here) run with `make autobahn-full`.
step autobahn-server bash scripts/autobahn-server.sh
step autobahn-client bash scripts/autobahn-client.sh
# `make demo` on a clean clone of HEAD with no wskit artifacts (third-party crates reused).
step demo-clean-clone bash scripts/demo-clean-check.sh

if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failing steps: ${failed_steps[*]}"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_steps[@]} -eq 0 ]
