#!/usr/bin/env bash
# Collects the benchmark's real artifacts into target/bench/raw and writes its manifest:
#   id <TAB> kind <TAB> tool <TAB> tool-call arguments <TAB> file <TAB> source
# Every artifact is real: recorded API responses shipped in packages (npm @octokit/fixtures, the
# bfcl-eval tool simulators), the output of real commands (cargo, rustc, pip, dpkg/apt logs,
# git diff between two releases of real crates, grep -rn over real source trees), large real
# source files and man pages. Versions are pinned so the corpus is the same on every machine,
# except the machine's own logs and man pages (marked "this machine" in the source column).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=target/bench
RAW=$B/raw
VENV=$B/venv
mkdir -p "$RAW"
MANIFEST=$RAW/manifest.tsv
: > "$MANIFEST"

case_() { # id kind tool arguments file source
  local file=$RAW/$5
  if [ ! -s "$file" ]; then
    echo "bench: skipping $1 (empty artifact $5)" >&2
    return 0
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >> "$MANIFEST"
}

# --- pinned sources: crates from crates.io, packages from npm and PyPI --------------------------
FETCH=$B/fetch
mkdir -p "$FETCH/src"
: > "$FETCH/src/lib.rs"
cat > "$FETCH/Cargo.toml" <<'EOF'
[package]
name = "headroom-bench-sources"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
base64_old = { package = "base64", version = "=0.22.1" }
base64_new = { package = "base64", version = "=0.23.1" }
foldhash_old = { package = "foldhash", version = "=0.1.5" }
foldhash_new = { package = "foldhash", version = "=0.2.0" }
getrandom_old = { package = "getrandom", version = "=0.3.4" }
getrandom_new = { package = "getrandom", version = "=0.4.3" }
hashbrown_old = { package = "hashbrown", version = "=0.15.5" }
hashbrown_new = { package = "hashbrown", version = "=0.17.2" }
syn = { version = "=2.0.119", features = ["full"] }
serde_json = "=1.0.154"
regex-syntax = "=0.8.12"
EOF
cargo fetch --manifest-path "$FETCH/Cargo.toml" -q
cargo metadata --manifest-path "$FETCH/Cargo.toml" --format-version 1 > "$FETCH/metadata.json"
src() { # name version -> source directory
  python3 -c 'import json,sys,os; m=json.load(open(sys.argv[1]))
print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]==sys.argv[2] and p["version"]==sys.argv[3]))' \
    "$FETCH/metadata.json" "$1" "$2"
}

NPM=$B/npm
if [ ! -d "$NPM/package" ]; then
  mkdir -p "$NPM"
  (cd "$NPM" && npm pack --silent @octokit/fixtures@23.1.2 > /dev/null && tar xzf octokit-fixtures-23.1.2.tgz)
fi
SCEN=$NPM/package/scenarios/api.github.com

BFCL=$B/bfcl
if [ ! -d "$BFCL/bfcl_eval" ]; then
  python3 -m pip install -q --disable-pip-version-check --no-deps --target "$BFCL" bfcl-eval==2025.11.7.1
fi

# --- JSON: recorded API responses and real JSON-emitting commands --------------------------------
python3 - "$SCEN" "$RAW" <<'EOF'
import json, sys
scen, raw = sys.argv[1], sys.argv[2]
def dump(name, value):
    with open(f"{raw}/{name}", "w") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
# octokit.paginate() over the five recorded pages: one array of 13 issues.
issues = []
for x in json.load(open(f"{scen}/paginate-issues/normalized-fixture.json")):
    issues += x["response"]
dump("octokit-paginate-issues.json", issues)
dump("octokit-search-issues.json", json.load(open(f"{scen}/search-issues/normalized-fixture.json"))[0]["response"])
# Whole recordings: the request/response exchanges nock replays.
for name in ["release-assets", "branch-protection", "rename-repository", "create-status"]:
    dump(f"octokit-recording-{name}.json", json.load(open(f"{scen}/{name}/raw-fixture.json")))
EOF
case_ octokit-paginate-issues json list_issues '{"owner":"octokit-fixture-org","repo":"paginate-issues","state":"all"}' octokit-paginate-issues.json "npm @octokit/fixtures 23.1.2, paginate-issues (5 pages)"
case_ octokit-search-issues json search_issues '{"q":"sesame repo:octokit-fixture-org/search-issues"}' octokit-search-issues.json "npm @octokit/fixtures 23.1.2, search-issues"
for name in release-assets branch-protection rename-repository create-status; do
  case_ "octokit-recording-$name" json read_recording "{\"scenario\":\"$name\"}" "octokit-recording-$name.json" "npm @octokit/fixtures 23.1.2, $name raw recording"
done

(cd "$NPM" && npm pack --dry-run --json @octokit/fixtures@23.1.2 2>/dev/null) > "$RAW/npm-pack-files.json" || true
case_ npm-pack-files json npm_pack '{"package":"@octokit/fixtures@23.1.2","dry_run":true}' npm-pack-files.json "npm pack --dry-run --json @octokit/fixtures@23.1.2"

if [ -x "$VENV/bin/pip" ]; then
  "$VENV/bin/pip" list --format json --disable-pip-version-check > "$RAW/pip-list.json"
  "$VENV/bin/pip" inspect --disable-pip-version-check 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
# The installed distributions metadata, as pip reports it.
json.dump([{"name": i["metadata"]["name"], "version": i["metadata"]["version"],
            "summary": i["metadata"].get("summary"), "requires_python": i["metadata"].get("requires_python"),
            "requires_dist": i["metadata"].get("requires_dist", []), "installer": i.get("installer"),
            "requested": i.get("requested")} for i in d["installed"]], sys.stdout, indent=2)' > "$RAW/pip-inspect.json"
fi
case_ pip-list json pip_list '{"format":"json"}' pip-list.json "pip list --format json (venv with headroom-ai)"
case_ pip-inspect json pip_inspect '{}' pip-inspect.json "pip inspect (venv with headroom-ai), installed metadata"

python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))
json.dump(m["packages"], open(sys.argv[2],"w"), indent=2)' "$FETCH/metadata.json" "$RAW/cargo-metadata-packages.json"
case_ cargo-metadata json cargo_metadata '{"format_version":1}' cargo-metadata-packages.json "cargo metadata of a project pinning 11 crates"

python3 - "$BFCL" "$RAW" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from bfcl_eval.eval_checker.multi_turn_eval.func_source_code.trading_bot import TradingBot
bot = TradingBot()
bot._load_scenario({"authenticated": True}, long_context=True)
history = bot.get_transaction_history()
with open(f"{sys.argv[2]}/bfcl-transaction-history.json", "w") as f:
    json.dump(history, f, indent=2)
EOF
case_ bfcl-transaction-history json get_transaction_history '{}' bfcl-transaction-history.json "PyPI bfcl-eval 2025.11.7.1, TradingBot simulator (long context)"

# --- Logs: real command output and this machine's package logs -----------------------------------
tail -n 600 /var/log/dpkg.log > "$RAW/dpkg.log" 2>/dev/null || true
case_ dpkg-log logs read_log '{"path":"/var/log/dpkg.log","lines":600}' dpkg.log "/var/log/dpkg.log (this machine)"
tail -n 600 /var/log/apt/term.log > "$RAW/apt-term.log" 2>/dev/null || true
case_ apt-term-log logs read_log '{"path":"/var/log/apt/term.log","lines":600}' apt-term.log "/var/log/apt/term.log (this machine)"
SERDE_JSON=$(src serde_json 1.0.154)
(cd "$B" && rustc --edition 2021 --crate-type lib --emit=metadata -o /dev/null "$SERDE_JSON/src/lib.rs" 2>&1 || true) | head -n 700 > "$RAW/rustc-errors.log"
case_ rustc-errors logs run '{"cmd":"rustc --edition 2021 --crate-type lib serde_json-1.0.154/src/lib.rs"}' rustc-errors.log "rustc on serde_json 1.0.154 without its dependencies"
# A from-scratch build each time, so the log is the same on every run (a second build prints only "Fresh").
rm -rf "$B/fetch-target"
CARGO_TARGET_DIR=$B/fetch-target cargo build -v --manifest-path "$FETCH/Cargo.toml" > "$RAW/cargo-build.log" 2>&1 || true
case_ cargo-build-log logs run '{"cmd":"cargo build -v"}' cargo-build.log "cargo build -v of the pinned-crates project"
python3 -m unittest -v json.tests 2> "$RAW/python-unittest.log" > /dev/null || python3 -m test -v test_json 2> /dev/null > "$RAW/python-unittest.log" || true
case_ python-unittest-log logs run '{"cmd":"python3 -m unittest -v json.tests"}' python-unittest.log "CPython stdlib json test suite (this machine's Python)"
"$VENV/bin/pip" install -v --dry-run --ignore-installed --disable-pip-version-check headroom-ai==0.42.0 > "$RAW/pip-install.log" 2>&1 || true
python3 -m pip install --disable-pip-version-check --no-index headroom-bench-does-not-exist >> "$RAW/pip-install.log" 2>&1 || true
case_ pip-install-log logs run '{"cmd":"pip install -v --dry-run headroom-ai==0.42.0; pip install --no-index headroom-bench-does-not-exist"}' pip-install.log "pip install -v --dry-run (PyPI), then a failing install"

# --- Search hits: grep -rn over real source trees ------------------------------------------------
HASHBROWN=$(src hashbrown 0.17.2)
SYN=$(src syn 2.0.119)
REGEX_SYNTAX=$(src regex-syntax 0.8.12)
GETRANDOM=$(src getrandom 0.4.3)
grep_() { # name dir pattern
  (cd "$2" && grep -rn -E "$3" src | LC_ALL=C sort -t: -k1,1 -k2,2n) > "$RAW/$1.txt" || true
}
grep_ grep-unsafe-hashbrown "$HASHBROWN" 'unsafe'
case_ grep-unsafe-hashbrown search grep '{"pattern":"unsafe","path":"hashbrown-0.17.2/src"}' grep-unsafe-hashbrown.txt "grep -rn over hashbrown 0.17.2"
grep_ grep-pub-fn-syn "$SYN" 'pub fn'
case_ grep-pub-fn-syn search grep '{"pattern":"pub fn","path":"syn-2.0.119/src"}' grep-pub-fn-syn.txt "grep -rn over syn 2.0.119"
grep_ grep-impl-serde-json "$SERDE_JSON" '^impl'
case_ grep-impl-serde-json search grep '{"pattern":"^impl","path":"serde_json-1.0.154/src"}' grep-impl-serde-json.txt "grep -rn over serde_json 1.0.154"
grep_ grep-error-regex-syntax "$REGEX_SYNTAX" 'Error'
case_ grep-error-regex-syntax search grep '{"pattern":"Error","path":"regex-syntax-0.8.12/src"}' grep-error-regex-syntax.txt "grep -rn over regex-syntax 0.8.12"
grep_ grep-cfg-getrandom "$GETRANDOM" 'cfg'
case_ grep-cfg-getrandom search grep '{"pattern":"cfg","path":"getrandom-0.4.3/src"}' grep-cfg-getrandom.txt "grep -rn over getrandom 0.4.3"
(cd "$BFCL/bfcl_eval/eval_checker/multi_turn_eval" && grep -rn -E 'def ' func_source_code | LC_ALL=C sort -t: -k1,1 -k2,2n) > "$RAW/grep-def-bfcl.txt" || true
case_ grep-def-bfcl search grep '{"pattern":"def ","path":"bfcl_eval/eval_checker/multi_turn_eval"}' grep-def-bfcl.txt "grep -rn over bfcl-eval 2025.11.7.1"

# --- Diffs: git diff between two releases of real crates -----------------------------------------
diff_() { # name old-dir new-dir [subpath]
  git diff --no-index --no-color "$2/${4:-src}" "$3/${4:-src}" > "$RAW/$1.diff" || true
  # Paths read as the crate's own (a/src/… b/src/…), not this machine's registry.
  sed -i "s#$2/#old/#g; s#$3/#new/#g" "$RAW/$1.diff"
}
diff_ diff-base64 "$(src base64 0.22.1)" "$(src base64 0.23.1)"
case_ diff-base64 diff git_diff '{"from":"base64-0.22.1","to":"base64-0.23.1"}' diff-base64.diff "git diff base64 0.22.1..0.23.1 (crates.io)"
diff_ diff-foldhash "$(src foldhash 0.1.5)" "$(src foldhash 0.2.0)"
case_ diff-foldhash diff git_diff '{"from":"foldhash-0.1.5","to":"foldhash-0.2.0"}' diff-foldhash.diff "git diff foldhash 0.1.5..0.2.0 (crates.io)"
diff_ diff-getrandom "$(src getrandom 0.3.4)" "$GETRANDOM"
case_ diff-getrandom diff git_diff '{"from":"getrandom-0.3.4","to":"getrandom-0.4.3"}' diff-getrandom.diff "git diff getrandom 0.3.4..0.4.3 (crates.io)"
diff_ diff-hashbrown-map "$(src hashbrown 0.15.5)" "$HASHBROWN" src/map.rs
case_ diff-hashbrown-map diff git_diff '{"from":"hashbrown-0.15.5","to":"hashbrown-0.17.2","path":"src/map.rs"}' diff-hashbrown-map.diff "git diff hashbrown 0.15.5..0.17.2 src/map.rs (crates.io)"
diff_ diff-hashbrown-cargo "$(src hashbrown 0.15.5)" "$HASHBROWN" Cargo.toml
diff_ diff-hashbrown-changelog "$(src hashbrown 0.15.5)" "$HASHBROWN" CHANGELOG.md
cat "$RAW/diff-hashbrown-cargo.diff" "$RAW/diff-hashbrown-changelog.diff" > "$RAW/diff-hashbrown-meta.diff"
case_ diff-hashbrown-meta diff git_diff '{"from":"hashbrown-0.15.5","to":"hashbrown-0.17.2","paths":["Cargo.toml","CHANGELOG.md"]}' diff-hashbrown-meta.diff "git diff hashbrown 0.15.5..0.17.2 Cargo.toml, CHANGELOG.md (crates.io)"

# --- Code: large real source files ---------------------------------------------------------------
cp "$SYN/src/item.rs" "$RAW/syn-item.rs"
case_ code-syn-item code read_file '{"path":"syn-2.0.119/src/item.rs"}' syn-item.rs "syn 2.0.119 src/item.rs"
cp "$SERDE_JSON/src/de.rs" "$RAW/serde-json-de.rs"
case_ code-serde-json-de code read_file '{"path":"serde_json-1.0.154/src/de.rs"}' serde-json-de.rs "serde_json 1.0.154 src/de.rs"
cp "$REGEX_SYNTAX/src/hir/mod.rs" "$RAW/regex-syntax-hir.rs"
case_ code-regex-syntax-hir code read_file '{"path":"regex-syntax-0.8.12/src/hir/mod.rs"}' regex-syntax-hir.rs "regex-syntax 0.8.12 src/hir/mod.rs"
cp "$BFCL/bfcl_eval/eval_checker/multi_turn_eval/func_source_code/travel_booking.py" "$RAW/bfcl-travel-booking.py"
case_ code-bfcl-travel-booking code read_file '{"path":"bfcl_eval/eval_checker/multi_turn_eval/func_source_code/travel_booking.py"}' bfcl-travel-booking.py "bfcl-eval 2025.11.7.1 travel_booking.py"
cp "$BFCL/bfcl_eval/eval_checker/multi_turn_eval/func_source_code/gorilla_file_system.py" "$RAW/bfcl-gorilla-file-system.py"
case_ code-bfcl-file-system code read_file '{"path":"bfcl_eval/eval_checker/multi_turn_eval/func_source_code/gorilla_file_system.py"}' bfcl-gorilla-file-system.py "bfcl-eval 2025.11.7.1 gorilla_file_system.py"

# --- Text: man pages and release notes -----------------------------------------------------------
for page in git tar grep ssh; do
  MANWIDTH=80 man -P cat "$page" 2>/dev/null | col -bx > "$RAW/man-$page.txt" || true
  case_ "man-$page" text read_manual "{\"page\":\"$page\"}" "man-$page.txt" "man $page (this machine)"
done
cp "$HASHBROWN/CHANGELOG.md" "$RAW/hashbrown-changelog.md"
case_ text-hashbrown-changelog text read_file '{"path":"hashbrown-0.17.2/CHANGELOG.md"}' hashbrown-changelog.md "hashbrown 0.17.2 CHANGELOG.md"
cp "$SYN/README.md" "$RAW/syn-readme.md"
case_ text-syn-readme text read_file '{"path":"syn-2.0.119/README.md"}' syn-readme.md "syn 2.0.119 README.md"

# --- Shell: what an agent's `bash` tool returns ---------------------------------------------------
# The tool is named `bash` and its one argument is the command, as agents send it; each artifact is
# the real output (stdout and stderr) of that command run in the pinned tree named in the source.
shell_() { # id kind dir file command source
  [ -d "$3" ] || { echo "bench: skipping $1 (no $3)" >&2; return 0; }
  (cd "$3" && bash -c "$5") > "$RAW/$4" 2>&1 || true
  case_ "$1" "$2" bash "$(python3 -c 'import json, sys; print(json.dumps({"command": sys.argv[1]}))' "$5")" "$4" "$6"
}
command -v rg > /dev/null || { apt-get install -y -qq ripgrep || { apt-get update -qq && apt-get install -y -qq ripgrep; }; } > /dev/null 2>&1 || true
FUNC=$BFCL/bfcl_eval/eval_checker/multi_turn_eval/func_source_code
# Source files in five languages, read with cat, head and sed as agents do.
shell_ shell-cat-rust code "$SYN" shell-cat-syn-ty.rs 'cat src/ty.rs' "syn 2.0.119 src/ty.rs"
shell_ shell-head-rust code "$HASHBROWN" shell-head-hashbrown-set.rs 'cat src/set.rs | head -n 1200' "hashbrown 0.17.2 src/set.rs, first 1200 lines"
shell_ shell-cat-python code "$FUNC" shell-cat-bfcl-ticket-api.py 'cat ticket_api.py' "bfcl-eval 2025.11.7.1 ticket_api.py"
shell_ shell-sed-python code "$FUNC" shell-sed-bfcl-posting-api.py "sed -n '1,400p' posting_api.py" "bfcl-eval 2025.11.7.1 posting_api.py, lines 1-400"
shell_ shell-cat-c code /usr/include shell-cat-zlib.h 'cat zlib.h' "/usr/include/zlib.h (this machine's zlib1g-dev)"
shell_ shell-cat-go code /usr/share/gocode/src/github.com/spf13/pflag shell-cat-pflag-flag.go 'cat flag.go' "spf13/pflag flag.go (this machine's golang-github-spf13-pflag-dev)"
shell_ shell-cat-js code "$NPM/package" shell-cat-octokit-normalize.js 'cat lib/normalize/index.js' "npm @octokit/fixtures 23.1.2 lib/normalize/index.js"
# Markdown documents.
shell_ shell-cat-readme text "$HASHBROWN" shell-cat-hashbrown-readme.md 'cat README.md' "hashbrown 0.17.2 README.md"
shell_ shell-cat-changelog text "$GETRANDOM" shell-cat-getrandom-changelog.md 'cat CHANGELOG.md' "getrandom 0.4.3 CHANGELOG.md"
# Man pages, as a shell prints them (no pager, 80 columns).
shell_ shell-man-find text . shell-man-find.txt 'MANWIDTH=80 man -P cat find' "man find (this machine)"
shell_ shell-man-jq text . shell-man-jq.txt 'MANWIDTH=80 man -P cat jq' "man jq (this machine)"
# Commit histories: this repository's own, pinned at a commit (skipped in a clone without it).
PIN=db749cd
if git cat-file -e "$PIN^{commit}" 2> /dev/null; then
  shell_ shell-git-log-stat logs . shell-git-log-stat.txt "git log --stat -n 60 $PIN" "git log --stat of this repository at $PIN"
  shell_ shell-git-log-patch logs . shell-git-log-patch.txt "git log -p -n 10 $PIN -- headroom/src/config.rs" "git log -p of this repository at $PIN, one file"
  shell_ shell-git-log-json json . shell-git-log-json.json "git log -n 80 --format='%H%x1f%h%x1f%an%x1f%aI%x1f%s' $PIN | jq -R -s '[split(\"\\n\")[] | select(length > 0) | split(\"\\u001f\") | {sha: .[0], short: .[1], author: .[2], date: .[3], subject: .[4]}]'" "git log of this repository at $PIN, as JSON by jq"
fi
# Search hits over pinned trees, grep sorted by path and line, ripgrep sorted by path.
shell_ shell-grep-rn search "$SYN" shell-grep-syn-parse.txt "grep -rn 'fn parse' src | LC_ALL=C sort -t: -k1,1 -k2,2n" "grep -rn over syn 2.0.119"
shell_ shell-rg-pub-fn search "$REGEX_SYNTAX" shell-rg-regex-syntax-pub-fn.txt "rg -n --sort path 'pub fn' src" "ripgrep over regex-syntax 0.8.12"
shell_ shell-rg-error search "$SERDE_JSON" shell-rg-serde-json-error.txt "rg -n --sort path -w 'Error' src" "ripgrep over serde_json 1.0.154"
# JSON listings named by `#N`: issues pulled out of a recorded API exchange with jq.
shell_ shell-jq-issues json "$NPM/package" shell-jq-paginate-issues.json "jq '[.[].response[] | {number, title, state, user: .user.login, labels: [.labels[].name], comments, created_at, updated_at, body}]' scenarios/api.github.com/paginate-issues/normalized-fixture.json" "jq over npm @octokit/fixtures 23.1.2 paginate-issues"

echo "bench: $(wc -l < "$MANIFEST") cases in $MANIFEST" >&2
