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
