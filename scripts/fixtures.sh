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

# Recorded GitHub API responses from PyGithub's test ReplayData (its pinned sdist on PyPI, LGPL-3.0 test
# data, downloaded rather than committed): 500 closed openFrameworks issues (the first 20 pages of 25,
# concatenated as a paginating client returns them) and a page of 30 Actions workflow runs.
if [ ! -s "$out/github-closed-issues.json" ] || [ ! -s "$out/github-workflow-runs.json" ]; then
  tmp=$(mktemp -d)
  if python3 -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: PyGithub==2.5.0 -d "$tmp"; then
    python3 - "$tmp"/PyGithub-2.5.0.tar.gz "$tmp"/pygithub-2.5.0.tar.gz "$out" <<'PY'
import json, os, sys, tarfile
tarball = next(p for p in sys.argv[1:3] if os.path.exists(p))
out = sys.argv[3]
def replies(name):
    with tarfile.open(tarball) as tar:
        text = tar.extractfile(f"pygithub-2.5.0/tests/ReplayData/{name}").read().decode()
    found = []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            pass  # request lines and headers
    return found
pages = [p for p in replies("Issue33.testClosedIssues.txt") if isinstance(p, list)]
json.dump([i for p in pages[:20] for i in p], open(f"{out}/github-closed-issues.json", "w"), indent=2)
runs = next(r for r in replies("PullRequest1682.test_no_parameters.txt") if isinstance(r, dict) and "workflow_runs" in r)
json.dump(runs, open(f"{out}/github-workflow-runs.json", "w"), indent=2)
PY
  fi
  rm -rf "$tmp"
fi
