#!/usr/bin/env bash
# Fails when the committed include/wskit.h is stale: regenerates it (build.rs runs cbindgen, pinned
# in Cargo.toml) and checks that git sees no difference.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
if ! git diff --exit-code -- include/wskit.h; then
  echo "header-check: include/wskit.h is stale; commit the regenerated header" >&2
  exit 1
fi
if [ -n "$(git status --porcelain -- include/wskit.h)" ]; then
  echo "header-check: include/wskit.h is not committed" >&2
  exit 1
fi
echo "header-check: include/wskit.h is fresh"
