#!/usr/bin/env bash
# Runs the fuzz targets under fuzz/ (cargo-fuzz, libFuzzer), each for SECONDS, seeded from the
# repository's fixtures; prints executions and crashes per target. `.ci/run` calls it with a few
# seconds per target as a smoke test; run it long by hand:
#   bash scripts/fuzz.sh 900                # 15 minutes per target
#   bash scripts/fuzz.sh 60 table marker    # chosen targets
# Crashes land in fuzz/artifacts/TARGET/; reproduce with `cargo fuzz run TARGET FILE` in fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-600}
shift || true

command -v cargo-fuzz >/dev/null || cargo install --quiet --locked cargo-fuzz
# cargo-fuzz passes -Z flags to rustc: a stable toolchain accepts them with RUSTC_BOOTSTRAP.
rustc --version | grep -q nightly || export RUSTC_BOOTSTRAP=1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi

# Seed corpora: the fixtures, cut to the size the targets read (libFuzzer's -max_len).
MAX_LEN=${MAX_LEN:-8192}
CORPUS=target/fuzz-corpus
seed() { # target, then files
  local dir=$CORPUS/$1; shift
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return
  local i=0 f
  for f in "$@"; do
    [ -s "$f" ] || continue
    head -c "$MAX_LEN" "$f" > "$dir/seed-$i"; i=$((i + 1))
  done
}
fixtures=$(find headroom/tests/fixtures -type f ! -name '*LICENSE*' ! -name SOURCE | sort)
for t in "${targets[@]}"; do
  case $t in
    sse)
      tmp=$(mktemp)
      printf '\003data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\ndata: [DONE]\n\n' > "$tmp"
      seed sse "$tmp"; rm -f "$tmp" ;;
    table) seed table headroom/tests/fixtures/json/*.json headroom/tests/fixtures/github-issues.json ;;
    proxy_compress|compress_json)
      tmp=$(mktemp -d)
      python3 - "$tmp" $fixtures <<'PY'
import json, sys
out, files = sys.argv[1], sys.argv[2:]
for i, f in enumerate(files):
    text = open(f, encoding="utf-8", errors="replace").read()[:6000]
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "what failed?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "run", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": text}]}
    open(f"{out}/body-{i}", "w").write(json.dumps(body))
PY
      seed "$t" "$tmp"/* $fixtures; rm -rf "$tmp" ;;
    *) seed "$t" $fixtures ;;
  esac
done

# Without a sanitizer: the code is safe Rust (tree-sitter's C aside), and it runs several times faster.
(cd fuzz && cargo fuzz build --sanitizer none --release) >&2
status=0
# Inputs that once crashed or hung a target (fuzz/regressions/TARGET/) run first, once each.
for t in "${targets[@]}"; do
  shopt -s nullglob; kept=(fuzz/regressions/"$t"/*); shopt -u nullglob
  [ ${#kept[@]} -gt 0 ] || continue
  if ! (cd fuzz && cargo fuzz run --sanitizer none --release "$t" "${kept[@]#fuzz/}" -- \
        -timeout=30 -rss_limit_mb=4096 -runs=1) >"target/fuzz-regressions-$t.log" 2>&1; then
    echo "fuzz: $t fails on a kept regression input:" >&2
    grep -m 5 -E 'panicked|ERROR|SUMMARY' "target/fuzz-regressions-$t.log" >&2 || true
    status=1
  fi
done
printf '%-16s %14s %10s %8s\n' target executions exec/s crashes
for t in "${targets[@]}"; do
  log=target/fuzz-logs/$t.log
  mkdir -p target/fuzz-logs "fuzz/artifacts/$t"
  if (cd fuzz && cargo fuzz run --sanitizer none --release "$t" "../$CORPUS/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" -timeout=30 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/") >"$log" 2>&1; then
    crashed=0
  else
    crashed=1; status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  printf '%-16s %14s %10s %8s\n' "$t" "${runs:-?}" "${speed:-?}" "$crashed"
  [ $crashed = 0 ] || { grep -m 5 -E 'panicked|ERROR|SUMMARY' "$log" >&2 || tail -n 20 "$log" >&2; }
done
exit $status
