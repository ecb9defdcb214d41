#!/usr/bin/env bash
# The hardening probes of issue 16 (loopback only, bounded): builds the release binaries, then
# prints peak and settled RSS and time per request shape (CLI and proxy), SQLite write latency
# with the store pre-filled to 0/100/470 MB, 200 clients connecting at once, and runs the 30 MB
# time-budget test on the release build. The README's Limits section quotes its output.
# Needs ~3 GB of free memory and ~1 GB of disk under target/stress.
# Usage: bash scripts/stress.sh [--only cli,proxy,budget,sqlite,accept]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p headroom-cli --bin headroom --example fake_upstream
mkdir -p target/stress
cp target/release/examples/fake_upstream target/release/fake_upstream
python3 scripts/stress.py --json target/stress/results.json "$@"
if [ $# -eq 0 ] || [[ "$*" == *budget* ]]; then
  cargo test --release -q -p headroom --test hardening_time -- --ignored --nocapture 2>&1 \
    | grep -E 'MB in|test result|panicked'
fi
