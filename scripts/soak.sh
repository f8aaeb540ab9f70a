#!/usr/bin/env bash
# The long soak: examples/soak.rs in release mode, 10,000 connections (RLIMIT_NOFILE is raised by
# the tool) on loopback for several minutes of random sends, pings, closes, aborts and resets, then
# the checks (nothing lost or duplicated on clean closes, one close per connection and side,
# Context::stats back to baseline, RSS within 16 MiB of baseline). Exits as the tool does.
#
#   scripts/soak.sh [--connections N] [--seconds S] [--total T] [--seed X]
#   (defaults: 10000 connections, 180 s, 100000 in all: the run ends at whichever comes first)
set -euo pipefail
cd "$(dirname "$0")/.."
connections=10000 seconds=180 total="" seed=1
while [ $# -gt 0 ]; do
    case "$1" in
        --connections) connections="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --total) total="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "soak: unknown option $1" >&2; exit 2 ;;
    esac
done
total="${total:-$((connections * 10))}"
cargo build --release --quiet --locked --example soak
exec target/release/examples/soak --connections "$connections" --seconds "$seconds" --total "$total" --seed "$seed"
