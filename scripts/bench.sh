#!/usr/bin/env bash
# Regenerates the benchmark: installs the Python reference, collects the real artifacts, builds the
# corpus, runs every method in one run, and rewrites the README's Benchmarks table.
# Needs the package registries (crates.io, npm, PyPI) the first time; artifacts go to target/bench.
# Not part of the test command. Usage: bash scripts/bench.sh [--repeats N]
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/bench
REPEATS=5
if [ "${1:-}" = "--repeats" ]; then REPEATS=$2; fi
mkdir -p "$B"

# The Python reference, pinned, in its own virtualenv.
HEADROOM_AI=${HEADROOM_AI_VERSION:-0.42.0}
if ! "$B/venv/bin/python" -c "import headroom, sys; sys.exit(headroom.__version__ != '$HEADROOM_AI')" 2>/dev/null; then
  python3 -m venv "$B/venv"
  "$B/venv/bin/pip" install -q --disable-pip-version-check "headroom-ai==$HEADROOM_AI"
fi

# Python tiktoken reads its vocabulary from a cache named by the SHA-1 of the download URL; the
# tiktoken-rs crate ships the same files, so the reference counts offline with the same tokenizer.
ASSETS=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tiktoken-rs-*/assets | head -n 1)
mkdir -p "$B/tiktoken"
for enc in o200k_base cl100k_base; do
  key=$(printf '%s' "https://openaipublic.blob.core.windows.net/encodings/$enc.tiktoken" | sha1sum | cut -d' ' -f1)
  cp "$ASSETS/$enc.tiktoken" "$B/tiktoken/$key"
done
export TIKTOKEN_CACHE_DIR=$PWD/$B/tiktoken HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

bash bench/corpus/collect.sh
cargo build --release -q -p headroom-bench
BIN=target/release/headroom-bench
"$BIN" corpus "$B/raw" "$B/corpus"
"$B/venv/bin/python" bench/python/run_reference.py "$B/corpus" "$B/reference.jsonl" --repeats "$REPEATS"
"$BIN" run "$B/corpus" --reference "$B/reference.jsonl" --out "$B" --repeats "$REPEATS" 2> "$B/run.log"
"$BIN" readme "$B/table.md" README.md
echo "bench: table in $B/table.md, per-case results in $B/results.json, README updated" >&2
