#!/usr/bin/env bash
# Produces the large real fixtures under target/fixtures (small ones are committed in headroom/tests/fixtures).
# Every artifact is real: recorded API responses shipped in packages, or the output of real commands.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/fixtures
mkdir -p "$out"

# cargo metadata of this workspace: a large, real JSON document.
[ -s "$out/cargo-metadata.json" ] || cargo metadata --format-version 1 --offline > "$out/cargo-metadata.json" 2>/dev/null \
  || cargo metadata --format-version 1 > "$out/cargo-metadata.json"

# pip's own inventory of this machine.
[ -s "$out/pip-list.json" ] || python3 -m pip list --format json --disable-pip-version-check > "$out/pip-list.json"
[ -s "$out/pip-inspect.json" ] || python3 -m pip inspect --disable-pip-version-check > "$out/pip-inspect.json" 2>/dev/null || true

# Logs: this machine's own package logs (real apt/dpkg output), when readable.
for f in /var/log/apt/term.log:apt-term.log /var/log/dpkg.log:dpkg.log; do
  src=${f%%:*}; dst=$out/${f##*:}
  [ -s "$dst" ] || { [ -r "$src" ] && cp "$src" "$dst"; } || true
done
