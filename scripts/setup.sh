#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, when it is missing. Idempotent.
# Each step checks first, so a machine that has everything does no network work.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# (Each issue's tooling adds its own check-then-install step below.)

# Reversible compression (issue 5): the Redis store's tests and benchmark start a real redis-server.
command -v redis-server >/dev/null || apt_install redis-server

# Issue 4 (code and prose fixtures): Go and C++ sources from Debian, the JDK's sources, npm, man pages.
[ -r /usr/share/gocode/src/github.com/spf13/pflag/flag.go ] || apt_install golang-github-spf13-pflag-dev
[ -r /usr/src/googletest/googletest/src/gtest.cc ] || apt_install googletest
has_jdk_sources() { for z in /usr/lib/jvm/*/lib/src.zip /usr/lib/jvm/*/src.zip; do if [ -r "$z" ]; then return 0; fi; done; return 1; }
has_jdk_sources || apt_install openjdk-17-source
command -v npm >/dev/null || apt_install npm
command -v col >/dev/null || apt_install bsdextrautils
{ command -v man >/dev/null && man -w ls >/dev/null 2>&1 && man -w tar >/dev/null 2>&1; } || apt_install man-db manpages coreutils tar
# Issue 12 (question model): `man jq` is a shell fixture (scripts/fixtures.sh, tests/question_words.rs).
{ command -v jq >/dev/null && man -w jq >/dev/null 2>&1; } || apt_install jq

# Issue 8 (proxy): the real clients its tests drive — the official Python `openai` package in a venv,
# and the TypeScript SDK (headroom-ai 0.37.0 with openai@4) — under target/proxy-clients/.
CLIENTS=target/proxy-clients
if ! { [ -x "$CLIENTS/venv/bin/python" ] && "$CLIENTS/venv/bin/python" -c 'import openai' 2>/dev/null; }; then
  python3 -m venv "$CLIENTS/venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$CLIENTS/venv"; }
  "$CLIENTS/venv/bin/pip" install -q openai
fi
if ! { [ -f "$CLIENTS/node/node_modules/headroom-ai/package.json" ] && [ -f "$CLIENTS/node/node_modules/openai/package.json" ]; }; then
  mkdir -p "$CLIENTS/node"
  (cd "$CLIENTS/node" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
    && npm install --no-audit --no-fund --loglevel=error headroom-ai@0.37.0 openai@4 >/dev/null)
fi
