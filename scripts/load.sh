#!/usr/bin/env bash
# Load test of `headroom proxy` with wrk against a fast local upstream (headroom-cli's
# examples/fake_upstream.rs), everything on loopback. Measures, for the same requests sent
# straight to the upstream and through the proxy:
#   1. a small chat completion (nothing to compress) at about 1,000 requests/s: p50/p99 latency;
#   2. the same at full speed: requests/s;
#   3. a 20k-token compressible chat completion (a real `cargo build -vv` log) at full speed;
#   4. the proxy's resident memory, sampled each second over a SOAK-second run of (3).
# Load tool, upstream and proxy share this machine's cores: read the numbers with that in mind.
# Usage: bash scripts/load.sh            (DURATION=15s SOAK=60 RATE_CONNECTIONS=10 to change)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
SOAK=${SOAK:-60}
RATE_CONNECTIONS=${RATE_CONNECTIONS:-10}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p headroom-cli --bin headroom --example fake_upstream

WORK=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# Starts a server in the background; sets URL to the address it announces on its first line.
start() {
  local log=$1; shift
  "$@" >"$log" 2>"$log.err" &
  PIDS+=($!)
  for _ in $(seq 100); do
    if grep -q 'listening on http://' "$log" 2>/dev/null; then
      URL=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
      return
    fi
    sleep 0.1
  done
  echo "server did not start: $*" >&2; cat "$log.err" >&2; exit 1
}

start "$WORK/upstream.log" target/release/examples/fake_upstream 0
UPSTREAM=$URL
HEADROOM_LOG=warn start "$WORK/proxy.log" target/release/headroom proxy --port 0 --upstream "$UPSTREAM" --store memory:
PROXY=$URL
PROXY_PID=${PIDS[1]}

python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
log = open("headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt", encoding="utf-8").read()
small = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]}
big = {"model": "gpt-4o", "messages": [
    {"role": "user", "content": "Why did the build fail?"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "cargo_build", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": log}]}
for name, body, delay in [("small_rate", small, True), ("small", small, False), ("big", big, False)]:
    lua = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"',
           'wrk.headers["Authorization"] = "Bearer sk-load"', "wrk.body = " + json.dumps(json.dumps(body))]
    if delay:  # each connection waits 10 ms between requests: about 100 requests/s per connection
        lua.append("function delay() return 10 end")
    open(f"{work}/{name}.lua", "w").write("\n".join(lua) + "\n")
PY

# wrk output → "requests/s p50 p99" (latencies in ms).
summarize() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.3f %.3f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}

run() { # name url connections lua
  wrk -t 1 -c "$3" -d "$DURATION" --latency -s "$WORK/$4.lua" "$2/v1/chat/completions" | summarize
}

echo "upstream $UPSTREAM, proxy $PROXY, $(nproc) cores, wrk -t1, $DURATION per run"
printf '%-34s %10s %10s %10s %8s\n' "case" "req/s" "p50 ms" "p99 ms" "non-2xx"
report() { printf '%-34s %10s %10s %10s %8s\n' "$1" $2; }
# Warm both paths (connection pools, the tokenizer).
wrk -t 1 -c 2 -d 2s -s "$WORK/big.lua" "$PROXY/v1/chat/completions" >/dev/null
for case in "small_rate:$RATE_CONNECTIONS:small chat, ~1000 req/s" "small:32:small chat, full speed" "big:2:20k-token chat, full speed"; do
  IFS=: read -r lua conns label <<<"$case"
  direct=$(run direct "$UPSTREAM" "$conns" "$lua")
  proxied=$(run proxy "$PROXY" "$conns" "$lua")
  report "$label: direct" "$direct"
  report "$label: proxy" "$proxied"
  read -r _ d50 d99 _ <<<"$direct"; read -r _ p50 p99 _ <<<"$proxied"
  awk -v a="$d50" -v b="$p50" -v c="$d99" -v d="$p99" -v l="$label" \
    'BEGIN { printf "%-34s %10s %10.3f %10.3f\n", l ": added", "", b - a, d - c }'
done

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PROXY_PID/status"; }
echo "memory: ${SOAK}s of 20k-token requests through the proxy (RSS in KiB, sampled each second)"
start_rss=$(rss)
wrk -t 1 -c 2 -d "${SOAK}s" --latency -s "$WORK/big.lua" "$PROXY/v1/chat/completions" >"$WORK/soak.txt" &
WRK=$!
samples=()
for _ in $(seq "$SOAK"); do sleep 1; samples+=("$(rss)"); done
wait "$WRK"
end_rss=$(rss)
peak=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
echo "rss start ${start_rss} KiB, peak ${peak} KiB, end ${end_rss} KiB; soak: $(summarize <"$WORK/soak.txt" | awk '{print $1 " req/s, p50 " $2 " ms, p99 " $3 " ms"}')"
curl -s "$PROXY/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
r, t = s["requests"], s["tokens"]
print("proxy /stats: requests", r["total"], "failed", r["failed"], "tokens before", t["total_before_compression"],
      "saved", t["saved"], "(%s%%)" % t["savings_percent"], "mean compression time over all chat requests %.2f ms" % s["overhead"]["average_ms"])'
