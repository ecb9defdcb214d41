#!/usr/bin/env bash
# The test command: installs what the tests need (when missing), makes the large fixtures, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/fixtures.sh
cargo test --workspace --all-features "$@"
