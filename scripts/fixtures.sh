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
# concatenated as a paginating client returns them), a page of 30 Actions workflow runs, and a
# repository's punch card (168 rows of [day, hour, commits]).
if [ ! -s "$out/github-closed-issues.json" ] || [ ! -s "$out/github-punch-card.json" ]; then
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
card = next(r for r in replies("Repository.testStatisticsPunchCard.txt") if isinstance(r, list))
json.dump(card, open(f"{out}/github-punch-card.json", "w"), indent=2)
PY
  fi
  rm -rf "$tmp"
fi

# Source code (issue 4): large real source files, one per language the code compressor reads.
# Rust from the cargo registry, Python from the standard library, Go (spf13/pflag) and C++
# (googletest) from Debian packages, Java from the JDK's src.zip, JavaScript and TypeScript from npm.
code=$out/code
mkdir -p "$code"
registry_file() { ls -d "$HOME"/.cargo/registry/src/*/$1 2>/dev/null | sort -V | tail -1; }
copy_fixture() { [ -s "$code/$2" ] || { [ -n "$1" ] && [ -r "$1" ] && cp "$1" "$code/$2"; } || echo "fixtures: no source for $2" >&2; }
copy_fixture "$(registry_file 'serde_json-1.*/src/de.rs')" serde_json-de.rs
copy_fixture "$(registry_file 'tree-sitter-0.*/src/subtree.c')" tree-sitter-subtree.c
copy_fixture "$(python3 -c 'import argparse; print(argparse.__file__)')" argparse.py
copy_fixture /usr/share/gocode/src/github.com/spf13/pflag/flag.go pflag-flag.go
copy_fixture /usr/src/googletest/googletest/src/gtest.cc gtest.cc
if [ ! -s "$code/ArrayList.java" ]; then
  zip=$(for z in /usr/lib/jvm/*/lib/src.zip /usr/lib/jvm/*/src.zip; do if [ -r "$z" ]; then echo "$z"; fi; done | head -1)
  [ -n "$zip" ] && python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("java.base/java/util/ArrayList.java"))' "$zip" > "$code/ArrayList.java" \
    || rm -f "$code/ArrayList.java"
fi
# node-addon-api's deprecated inline header: C++ that tree-sitter reads without a single error
# (gtest.cc has macros it cannot expand).
if [ ! -s "$code/lodash.js" ] || [ ! -s "$code/rxjs-Observable.ts" ] || [ ! -s "$code/napi-inl.deprecated.h" ]; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent lodash@4.17.21 rxjs@7.8.2 node-addon-api@8.3.1 >/dev/null 2>&1); then
    tar -xzf "$tmp"/lodash-4.17.21.tgz -C "$tmp" package/lodash.js && cp "$tmp"/package/lodash.js "$code/lodash.js"
    tar -xzf "$tmp"/rxjs-7.8.2.tgz -C "$tmp" package/src/internal/Observable.ts && cp "$tmp"/package/src/internal/Observable.ts "$code/rxjs-Observable.ts"
    tar -xzf "$tmp"/node-addon-api-8.3.1.tgz -C "$tmp" package/napi-inl.deprecated.h && cp "$tmp"/package/napi-inl.deprecated.h "$code/napi-inl.deprecated.h"
  fi
  rm -rf "$tmp"
fi

# Prose (issue 4): man pages rendered as plain text.
prose=$out/prose
mkdir -p "$prose"
for page in bash:1 git:1 ls:1 tar:1; do
  name=${page%%:*}; section=${page##*:}
  [ -s "$prose/man-$name.txt" ] || MANWIDTH=80 man --nh --nj -P cat "$section" "$name" 2>/dev/null | col -bx > "$prose/man-$name.txt" || rm -f "$prose/man-$name.txt"
done

# Search hits: `grep -rn` over a real crate from the cargo registry (a dependency of this workspace).
reg_src() { find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -mindepth 2 -maxdepth 2 -type d -name "$1" 2>/dev/null | sort | head -1; }
[ -n "$(reg_src regex-automata-0.4.19)" ] || cargo fetch --quiet
if [ ! -s "$out/grep-regex-automata-fn.txt" ] && d=$(reg_src regex-automata-0.4.19) && [ -n "$d" ]; then
  (cd "$d" && grep -rn "fn " src | LC_ALL=C sort -t: -k1,1 -s) > "$out/grep-regex-automata-fn.txt"
fi

# Diffs: `git diff` between two releases of a real crate (both versions are in Cargo.lock).
if [ ! -s "$out/base64-0.22.1-0.23.1.diff" ] && a=$(reg_src base64-0.22.1) && b=$(reg_src base64-0.23.1) && [ -n "$a" ] && [ -n "$b" ]; then
  (cd "$(dirname "$a")" && git diff --no-index --no-color base64-0.22.1 base64-0.23.1 || true) > "$out/base64-0.22.1-0.23.1.diff"
fi

# Shell tool outputs (issue 12): what an agent's `bash` tool returns for commands that name their
# output. This repository's own history (pinned at a commit of main), a man page as a shell prints
# it, package stanzas from this machine's apt lists, a crate's changelog.
shell=$out/shell
mkdir -p "$shell"
if git cat-file -e 'db749cd^{commit}' 2>/dev/null; then
  [ -s "$shell/git-log-stat.txt" ] || git log --stat -n 60 db749cd > "$shell/git-log-stat.txt"
  [ -s "$shell/git-log-patch.txt" ] || git log -p -n 10 db749cd -- headroom/src/config.rs > "$shell/git-log-patch.txt"
fi
[ -s "$shell/man-find.txt" ] || MANWIDTH=80 man -P cat find > "$shell/man-find.txt" 2>/dev/null || rm -f "$shell/man-find.txt"
[ -s "$shell/man-jq.txt" ] || MANWIDTH=80 man -P cat jq > "$shell/man-jq.txt" 2>/dev/null || rm -f "$shell/man-jq.txt"
[ -s "$shell/apt-cache-show.txt" ] || apt-cache show dpkg bash coreutils tar gzip grep sed findutils diffutils > "$shell/apt-cache-show.txt" 2>/dev/null || rm -f "$shell/apt-cache-show.txt"
f=$(ls -d "$HOME"/.cargo/registry/src/*/getrandom-0.4.*/CHANGELOG.md 2>/dev/null | sort -V | tail -1)
[ -s "$shell/getrandom-CHANGELOG.md" ] || { [ -n "$f" ] && cp "$f" "$shell/getrandom-CHANGELOG.md"; } || true
# Source and markdown a shell tool once read as logs: Python's standard library, crates in Cargo.lock.
for m in inspect token; do
  [ -s "$shell/$m.py" ] || cp "$(python3 -c "import $m; print($m.__file__)")" "$shell/$m.py" || true
done
for f in 'regex-automata-0.4.*/src/lib.rs:regex-automata-lib.rs' 'anyhow-1.*/src/error.rs:anyhow-error.rs' 'syn-2.*/README.md:syn-README.md' 'shlex-2.*/README.md:shlex-README.md'; do
  src=$(ls -d "$HOME"/.cargo/registry/src/*/${f%%:*} 2>/dev/null | sort -V | tail -1)
  [ -s "$shell/${f##*:}" ] || { [ -n "$src" ] && cp "$src" "$shell/${f##*:}"; } || echo "fixtures: no source for ${f##*:}" >&2
done
