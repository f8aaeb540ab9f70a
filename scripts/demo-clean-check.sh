#!/usr/bin/env bash
# Checks that `make demo` works on a fresh clone with no build artifacts of wskit itself: the failure
# this guards against is a demo that only worked because an earlier build had left libwskit.so or an
# example binary behind.
#
#   scripts/demo-clean-check.sh        (run by `make test`; tests the committed HEAD)
#
# To stay cheap it clones HEAD into a temporary directory and gives that clone a fresh target
# directory seeded with the compiled third-party crates of this checkout's target/release (copied,
# not shared). Every unit of wskit itself, the cdylib, the staticlib and the examples, is absent there
# and must be built by `make demo`. Without a previous release build everything is built from scratch,
# which is slower but the same check.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone --quiet "$root" "$work/clone"
target="$work/clone/target"
mkdir -p "$target/release"

# Seed: third-party build outputs only. Anything named after wskit (the library, its build script,
# its examples and fingerprints) stays out, and so do the uplifted artifacts at the top of
# target/release/ and target/release/examples/.
# wskit's own units: the package and every example (binaries are named <example>-<hash>).
own=(wskit)
for ex in "$root"/examples/*.rs; do own+=("$(basename "$ex" .rs)"); done
is_own() {
  local name=${1#lib} unit
  for unit in "${own[@]}"; do
    case "$name" in "$unit" | "$unit"-* | "$unit".*) return 0 ;; esac
  done
  return 1
}

seeded=0
if [ -d "$root/target/release/deps" ]; then
  for dir in deps build .fingerprint; do
    [ -d "$root/target/release/$dir" ] || continue
    mkdir -p "$target/release/$dir"
    while IFS= read -r -d '' entry; do
      name=$(basename "$entry")
      is_own "$name" && continue
      cp -a "$entry" "$target/release/$dir/"
      seeded=$((seeded + 1))
    done < <(find "$root/target/release/$dir" -mindepth 1 -maxdepth 1 -print0)
  done
fi
echo "demo-clean-check: fresh clone of HEAD in $work/clone, $seeded third-party build entries seeded"

for artifact in libwskit.so libwskit.a examples/echo_server; do
  if [ -e "$target/release/$artifact" ]; then
    echo "demo-clean-check: FAILED: $artifact was seeded; the check would prove nothing" >&2
    exit 1
  fi
done

start=$(date +%s)
if (cd "$work/clone" && make demo) >"$work/demo.log" 2>&1; then
  echo "demo-clean-check: make demo passed on a clean clone in $(($(date +%s) - start)) s"
  echo "test result: ok. 1 passed; 0 failed"
else
  tail -40 "$work/demo.log"
  echo "demo-clean-check: make demo FAILED on a clean clone (log above)"
  echo "test result: FAILED. 0 passed; 1 failed"
  exit 1
fi
