#!/usr/bin/env bash
# The long-session benchmark: a 40-turn agent session of the repository's real fixtures, turn by
# turn through the library and through a release `headroom proxy` (/v1/compress with a session
# id). Writes target/bench/session.md (per turn and totals) and session.json.
# Usage: bash scripts/session_bench.sh [--turns N] [--max-bytes N] [--model M]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -s target/fixtures/cargo-metadata.json ] || bash scripts/fixtures.sh
cargo build --release -q -p headroom-cli -p headroom-bench
TARGET=${CARGO_TARGET_DIR:-target}
"$TARGET/release/headroom-bench" session --headroom "$TARGET/release/headroom" "$@"
