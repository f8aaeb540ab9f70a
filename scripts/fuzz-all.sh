#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/fuzz_targets/ for a bounded time and summarises.
#
#   scripts/fuzz-all.sh [--seconds N] [TARGET...]     (default: 30 s per target, every target)
#
# Each target starts from fuzz/corpora/<target>/ (committed, minimized) and fuzz/seeds/<target>/
# copied into fuzz/corpus/<target>/ (git-ignored; what the fuzzer finds accumulates there between
# runs). Crashes, leaks, timeouts and out-of-memory inputs
# land in fuzz/artifacts/<target>/. Exits 1 if any target found one, 2 on a usage or build error.
#
# Environment: FUZZ_TOOLCHAIN (default nightly). Logs: fuzz/artifacts/<target>.log.
set -euo pipefail

seconds=30
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
        --seconds=*) seconds="${1#--seconds=}"; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) echo "fuzz-all: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz-all: --seconds wants a whole number" >&2; exit 2 ;; esac

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"

if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    echo "fuzz-all: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi

# Debug assertions on: integer overflow and debug_assert! failures are findings too.
fuzz_flags=(--debug-assertions)
mkdir -p fuzz/artifacts
if ! cargo "+$toolchain" fuzz build "${fuzz_flags[@]}" >fuzz/artifacts/build.log 2>&1; then
    tail -40 fuzz/artifacts/build.log >&2
    echo "fuzz-all: build failed" >&2
    exit 2
fi

# -malloc_limit_mb: any single allocation above it is reported as a crash (inputs are at most 64 KiB
# and the connection target's limits are 32/64 KiB, so nothing legitimate comes near it).
libfuzzer_flags=(
    -max_total_time="$seconds"
    -max_len=65536
    -rss_limit_mb=1024
    -malloc_limit_mb=64
    -timeout=10
    -print_final_stats=1
)

status=0
summary=()
for target in "${targets[@]}"; do
    corpus="fuzz/corpus/$target"
    artifacts="fuzz/artifacts/$target"
    log="fuzz/artifacts/$target.log"
    mkdir -p "$corpus" "$artifacts"
    # The committed corpus (fuzz/corpora/<target>/, minimized with `cargo fuzz cmin` after the
    # 10-minute runs) first, so every run starts where the last long one got to.
    if [ -d "fuzz/corpora/$target" ]; then
        cp -n "fuzz/corpora/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    if [ -d "fuzz/seeds/$target" ]; then
        cp -n "fuzz/seeds/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    before="$(ls "$artifacts" | wc -l)"
    echo "fuzz-all: $target for ${seconds}s (log: $log)" >&2
    start=$(date +%s)
    set +e
    cargo "+$toolchain" fuzz run "${fuzz_flags[@]}" "$target" "$corpus" -- \
        "${libfuzzer_flags[@]}" -artifact_prefix="$artifacts/" >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$(( $(date +%s) - start ))
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
    [ -n "$execs" ] || execs="$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*' || true)"
    execs="${execs:-?}"
    after="$(ls "$artifacts" | wc -l)"
    if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
        result="ok"
    else
        status=1
        newest="$(ls -t "$artifacts" | head -1)"
        result="FOUND (exit $rc) ${newest:+$artifacts/$newest}"
        grep -m1 -E "panicked at|ERROR: libFuzzer|==ERROR" -A2 "$log" >&2 || tail -20 "$log" >&2
        if [ -n "$newest" ]; then
            echo "fuzz-all: input (hex): $(head -c 512 "$artifacts/$newest" | od -An -v -tx1 | tr -d ' \n')" >&2
        fi
    fi
    summary+=("$(printf '%-16s execs=%-10s time=%4ss corpus=%-5s result=%s' \
        "$target" "$execs" "$elapsed" "$(ls "$corpus" | wc -l)" "$result")")
done

echo "== fuzz summary (${seconds}s per target) =="
printf '%s\n' "${summary[@]}"
exit "$status"
