//! A long agent session built from real tool outputs: the request an agent sends at every turn.
//!
//! Turn *t* asks about one artifact (two on every fifth turn, as parallel tool calls), the
//! assistant calls a tool, the tool answers with the artifact as agent tools return it, and the
//! request of turn *t* ends there; the next turn's request adds the assistant's short answer and
//! the next question. So each request is the previous one plus a turn, as agents send them.
//!
//! The artifacts are the repository's real fixtures: small ones committed under
//! `headroom/tests/fixtures`, large ones made by `scripts/fixtures.sh` under `target/fixtures`.

use serde_json::{json, Value};
use std::path::Path;

/// One real tool output and how an agent would have asked for it.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// File name, for reports.
    pub name: String,
    /// The tool the agent called.
    pub tool: &'static str,
    /// The call's arguments (JSON text).
    pub arguments: String,
    /// What the user asked that led to the call.
    pub question: &'static str,
    /// The output, as the tool returned it.
    pub text: String,
}

/// (path under the workspace root, tool, arguments, question). Order is the session's.
const ARTIFACTS: &[(&str, &str, &str, &str)] = &[
    (
        "headroom/tests/fixtures/github-issues.json",
        "github_list_issues",
        r#"{"repo":"octokit/rest.js","state":"open"}"#,
        "Which open issues mention pagination?",
    ),
    (
        "headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt",
        "run_shell",
        r#"{"command":"cargo build -vv"}"#,
        "Why did the build fail?",
    ),
    (
        "target/fixtures/github-closed-issues.json",
        "github_list_issues",
        r#"{"repo":"openframeworks/openFrameworks","state":"closed"}"#,
        "Who closed issue #923, and what was it about?",
    ),
    (
        "headroom/tests/fixtures/search/grep-memchr-unsafe-fn.txt",
        "run_shell",
        r#"{"command":"grep -rn 'unsafe fn' memchr/src"}"#,
        "Where are the unsafe functions of memchr's x86 code?",
    ),
    (
        "target/fixtures/code/serde_json-de.rs",
        "read_file",
        r#"{"path":"serde_json/src/de.rs"}"#,
        "How does the deserializer parse numbers?",
    ),
    (
        "target/fixtures/cargo-metadata.json",
        "run_shell",
        r#"{"command":"cargo metadata --format-version 1"}"#,
        "Which version of serde does the workspace resolve?",
    ),
    (
        "headroom/tests/fixtures/diff/foldhash-0.1.5-0.2.0.diff",
        "run_shell",
        r#"{"command":"git diff v0.1.5 v0.2.0"}"#,
        "What changed in the seed handling?",
    ),
    (
        "target/fixtures/dpkg.log",
        "read_file",
        r#"{"path":"/var/log/dpkg.log"}"#,
        "When was redis-server installed?",
    ),
    (
        "headroom/tests/fixtures/json/npm-view-octokit-rest.json",
        "run_shell",
        r#"{"command":"npm view @octokit/rest --json"}"#,
        "What are the package's dependencies?",
    ),
    (
        "target/fixtures/prose/man-git.txt",
        "run_shell",
        r#"{"command":"man git"}"#,
        "How do I pass a config value to a single git command?",
    ),
    (
        "target/fixtures/pip-inspect.json",
        "run_shell",
        r#"{"command":"pip inspect"}"#,
        "Which installed packages require urllib3?",
    ),
    (
        "target/fixtures/grep-regex-automata-fn.txt",
        "run_shell",
        r#"{"command":"grep -rn 'fn ' regex-automata/src"}"#,
        "Where is the lazy DFA's search function?",
    ),
    (
        "headroom/tests/fixtures/logs/cargo-test-failure.txt",
        "run_shell",
        r#"{"command":"cargo test"}"#,
        "Which test failed and why?",
    ),
    (
        "target/fixtures/code/argparse.py",
        "read_file",
        r#"{"path":"Lib/argparse.py"}"#,
        "How does parse_known_args handle unknown options?",
    ),
    (
        "target/fixtures/github-workflow-runs.json",
        "github_list_workflow_runs",
        r#"{"repo":"PyGithub/PyGithub"}"#,
        "Which workflow runs failed?",
    ),
    (
        "target/fixtures/apt-term.log",
        "read_file",
        r#"{"path":"/var/log/apt/term.log"}"#,
        "Did any package fail to configure?",
    ),
    (
        "headroom/tests/fixtures/code/serde_json-map.rs",
        "read_file",
        r#"{"path":"serde_json/src/map.rs"}"#,
        "What does Map::entry return?",
    ),
    (
        "target/fixtures/base64-0.22.1-0.23.1.diff",
        "run_shell",
        r#"{"command":"git diff v0.22.1 v0.23.1"}"#,
        "What changed in the engine's decode path?",
    ),
    (
        "headroom/tests/fixtures/prose/serde_json-README.md",
        "read_file",
        r#"{"path":"serde_json/README.md"}"#,
        "How do I parse untyped JSON?",
    ),
    (
        "target/fixtures/code/ArrayList.java",
        "read_file",
        r#"{"path":"java/util/ArrayList.java"}"#,
        "How does ensureCapacity grow the array?",
    ),
    (
        "headroom/tests/fixtures/logs/python-http-server.log",
        "read_file",
        r#"{"path":"server.log"}"#,
        "Which requests returned 404?",
    ),
    (
        "target/fixtures/code/pflag-flag.go",
        "read_file",
        r#"{"path":"pflag/flag.go"}"#,
        "How are shorthand flags parsed?",
    ),
    (
        "target/fixtures/prose/man-bash.txt",
        "run_shell",
        r#"{"command":"man bash"}"#,
        "What does set -o pipefail do?",
    ),
    (
        "headroom/tests/fixtures/json/pip-list-venv.json",
        "run_shell",
        r#"{"command":"pip list --format json"}"#,
        "Is requests installed, and which version?",
    ),
    (
        "target/fixtures/code/gtest.cc",
        "read_file",
        r#"{"path":"googletest/src/gtest.cc"}"#,
        "How does RUN_ALL_TESTS report failures?",
    ),
    (
        "headroom/tests/fixtures/logs/pip-install-missing-version.txt",
        "run_shell",
        r#"{"command":"pip install -v numpy==99"}"#,
        "Why did the install fail?",
    ),
    (
        "target/fixtures/code/rxjs-Observable.ts",
        "read_file",
        r#"{"path":"rxjs/src/internal/Observable.ts"}"#,
        "What does pipe do with no operators?",
    ),
    (
        "target/fixtures/prose/man-tar.txt",
        "run_shell",
        r#"{"command":"man tar"}"#,
        "How do I extract a single file?",
    ),
    (
        "headroom/tests/fixtures/logs/cargo-build-type-error.txt",
        "run_shell",
        r#"{"command":"cargo build"}"#,
        "What is the type error?",
    ),
    (
        "target/fixtures/github-punch-card.json",
        "github_punch_card",
        r#"{"repo":"PyGithub/PyGithub"}"#,
        "At what hour are most commits made?",
    ),
];

/// The artifacts under `root` (the workspace), each cut to at most `max_bytes` as a paging tool
/// would return it: JSON arrays keep their first items (the largest array inside an object is cut
/// the same way), text its first lines. Missing large fixtures are an error that says how to make them.
pub fn artifacts(root: &Path, max_bytes: usize) -> Result<Vec<Artifact>, String> {
    ARTIFACTS
        .iter()
        .map(|(path, tool, arguments, question)| {
            let full = root.join(path);
            let text = std::fs::read_to_string(&full).map_err(|e| {
                format!(
                    "cannot read {} ({e}): run `bash scripts/fixtures.sh` first",
                    full.display()
                )
            })?;
            Ok(Artifact {
                name: path.rsplit('/').next().unwrap_or(path).to_string(),
                tool,
                arguments: arguments.to_string(),
                question,
                text: cut(&text, max_bytes),
            })
        })
        .collect()
}

/// `text` cut to about `max_bytes`, staying valid JSON when it was.
fn cut(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    if let Ok(mut value) = serde_json::from_str::<Value>(text) {
        shorten(&mut value, max_bytes);
        let pretty = serde_json::to_string_pretty(&value).expect("a value serializes");
        if pretty.len() <= max_bytes * 2 {
            return pretty;
        }
        // Items too large to keep even one: the output is cut as text, as `head` would.
        return first_lines(&pretty, max_bytes);
    }
    first_lines(text, max_bytes)
}

/// The first lines of `text` that fit in `max_bytes`.
fn first_lines(text: &str, max_bytes: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if out.len() + line.len() + 1 > max_bytes {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Halves the largest array (by printed size, anywhere in the value) until the value prints
/// within `max_bytes` or no array has more than one item.
fn shorten(value: &mut Value, max_bytes: usize) {
    let size = |v: &Value| serde_json::to_string_pretty(v).map_or(0, |s| s.len());
    for _ in 0..64 {
        if size(value) <= max_bytes {
            return;
        }
        let Some(array) = largest_array(value) else {
            return;
        };
        let keep = array.len() / 2;
        array.truncate(keep.max(1));
    }
}

/// The array with the largest printed size among those with more than one item.
fn largest_array(value: &mut Value) -> Option<&mut Vec<Value>> {
    fn find(value: &Value, path: &mut Vec<usize>, best: &mut Option<(usize, Vec<usize>)>) {
        let children: Vec<&Value> = match value {
            Value::Array(items) => {
                if items.len() > 1 {
                    let size = serde_json::to_string(value).map_or(0, |s| s.len());
                    if best.as_ref().is_none_or(|(b, _)| size > *b) {
                        *best = Some((size, path.clone()));
                    }
                }
                items.iter().collect()
            }
            Value::Object(map) => map.values().collect(),
            _ => return,
        };
        for (i, child) in children.into_iter().enumerate() {
            path.push(i);
            find(child, path, best);
            path.pop();
        }
    }
    let mut best = None;
    find(value, &mut Vec::new(), &mut best);
    let (_, path) = best?;
    let mut at = value;
    for i in path {
        at = match at {
            Value::Array(items) => &mut items[i],
            Value::Object(map) => map.values_mut().nth(i)?,
            _ => return None,
        };
    }
    at.as_array_mut()
}

/// The request of every turn of a `turns`-turn session for `model` over `artifacts` (reused in
/// order when the session is longer than the list).
pub fn requests(artifacts: &[Artifact], turns: usize, model: &str) -> Vec<Value> {
    let mut messages = vec![json!({
        "role": "system",
        "content": "You are a coding agent. Use the tools to inspect the workspace and answer briefly."
    })];
    let mut requests = Vec::with_capacity(turns);
    let mut next = 0;
    for turn in 0..turns {
        let parallel = turn % 5 == 4;
        let asked: Vec<&Artifact> = (0..if parallel { 2 } else { 1 })
            .map(|_| {
                let a = &artifacts[next % artifacts.len()];
                next += 1;
                a
            })
            .collect();
        let question = asked
            .iter()
            .map(|a| a.question)
            .collect::<Vec<_>>()
            .join(" Also: ");
        messages.push(json!({"role": "user", "content": format!("Turn {}: {question}", turn + 1)}));
        let calls: Vec<Value> = asked
            .iter()
            .enumerate()
            .map(|(k, a)| {
                json!({"id": format!("call_{}_{k}", turn + 1), "type": "function",
                       "function": {"name": a.tool, "arguments": a.arguments}})
            })
            .collect();
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": calls}));
        for (k, a) in asked.iter().enumerate() {
            messages.push(json!({"role": "tool", "tool_call_id": format!("call_{}_{k}", turn + 1), "content": a.text}));
        }
        requests.push(json!({"model": model, "messages": messages.clone(), "tools": tools()}));
        let names: Vec<&str> = asked.iter().map(|a| a.name.as_str()).collect();
        messages.push(json!({"role": "assistant", "content": format!("Read {}; noted what matters for turn {}.", names.join(" and "), turn + 1)}));
    }
    requests
}

/// The agent's own tools, as it declares them.
fn tools() -> Value {
    let tool = |name: &str, description: &str, parameter: &str| {
        json!({"type": "function", "function": {"name": name, "description": description,
            "parameters": {"type": "object", "properties": {parameter: {"type": "string"}}, "required": [parameter]}}})
    };
    json!([
        tool(
            "run_shell",
            "Run a shell command in the workspace.",
            "command"
        ),
        tool("read_file", "Read a file of the workspace.", "path"),
        tool("github_list_issues", "List a repository's issues.", "repo"),
        tool(
            "github_list_workflow_runs",
            "List a repository's workflow runs.",
            "repo"
        ),
        tool(
            "github_punch_card",
            "A repository's commit counts per hour.",
            "repo"
        ),
    ])
}

/// Whether `messages` keep OpenAI's pairing rules: every `tool` message follows, in the block of
/// tool messages right after it, the assistant message holding its `tool_call_id`, and every call
/// of an assistant message is answered in that block. `Err` says which message breaks them.
pub fn check_pairing(messages: &[Value]) -> Result<(), String> {
    let mut open: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or("");
        if role == "tool" {
            let id = m["tool_call_id"].as_str().unwrap_or("");
            let Some(at) = open.iter().position(|o| o == id) else {
                return Err(format!(
                    "messages[{i}]: tool result {id:?} does not follow its call"
                ));
            };
            open.remove(at);
            continue;
        }
        if !open.is_empty() {
            return Err(format!(
                "messages[{i}]: calls {open:?} unanswered before a {role} message"
            ));
        }
        if let Some(calls) = m["tool_calls"].as_array() {
            open = calls
                .iter()
                .map(|c| c["id"].as_str().unwrap_or("").to_string())
                .collect();
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("calls {open:?} unanswered at the end"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_rules() {
        let call = |id: &str| json!({"role": "assistant", "tool_calls": [{"id": id}]});
        let result = |id: &str| json!({"role": "tool", "tool_call_id": id});
        let user = json!({"role": "user", "content": "q"});
        assert!(check_pairing(&[user.clone(), call("a"), result("a"), user.clone()]).is_ok());
        assert!(check_pairing(&[user.clone(), result("a")]).is_err());
        assert!(check_pairing(&[call("a"), user.clone(), result("a")]).is_err());
        assert!(check_pairing(&[call("a")]).is_err());
    }

    #[test]
    fn each_request_extends_the_previous_one() {
        let artifacts: Vec<Artifact> = (0..3)
            .map(|i| Artifact {
                name: format!("a{i}"),
                tool: "read_file",
                arguments: "{}".into(),
                question: "q?",
                text: "x".repeat(10),
            })
            .collect();
        let requests = requests(&artifacts, 6, "gpt-4o");
        for pair in requests.windows(2) {
            let (a, b) = (
                pair[0]["messages"].as_array().unwrap(),
                pair[1]["messages"].as_array().unwrap(),
            );
            assert_eq!(a[..], b[..a.len()]);
            assert!(check_pairing(b).is_ok());
        }
        assert_eq!(
            requests[4]["messages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["role"] == "tool")
                .count(),
            6,
            "turn 5 has two calls"
        );
    }

    #[test]
    fn cut_keeps_json_valid() {
        let big = serde_json::to_string_pretty(&(0..1000).collect::<Vec<_>>()).unwrap();
        let cut = cut(&big, 500);
        let back: Vec<u32> = serde_json::from_str(&cut).unwrap();
        assert!(!back.is_empty() && cut.len() <= 700);
        let object = json!({"version": 1, "packages": (0..500).map(|i| json!({"id": i})).collect::<Vec<_>>()}).to_string();
        let cut = super::cut(&object, 2000);
        assert!(
            serde_json::from_str::<Value>(&cut).unwrap()["packages"]
                .as_array()
                .unwrap()
                .len()
                < 500
        );
    }
}
