//! The main job: compress real tool outputs bundled with the repository and print what each one costs
//! before and after, and whether every elided part can be retrieved.
//!
//! `cargo run --release --example demo`

use headroom::marker::Marker;
use headroom::store::{MemoryStore, Store, DEFAULT_NAMESPACE};
use headroom::Headroom;
use serde_json::json;

/// A real artifact, the tool call that produced it, and the question the agent was asked.
struct Case {
    file: &'static str,
    tool: &'static str,
    arguments: &'static str,
    question: &'static str,
}

const CASES: &[Case] = &[
    Case {
        file: "github-issues.json",
        tool: "list_issues",
        arguments: r#"{"repo":"octokit-fixture-org/paginate-issues"}"#,
        question: "Who opened issue 7?",
    },
    Case {
        file: "json/npm-view-octokit-rest.json",
        tool: "npm_view",
        arguments: r#"{"package":"@octokit/rest"}"#,
        question: "Which versions of @octokit/rest were published in 2021?",
    },
    Case {
        file: "logs/cargo-build-vv-deps-type-error.txt",
        tool: "run",
        arguments: r#"{"cmd":"cargo build -vv"}"#,
        question: "Why does the build fail?",
    },
    Case {
        file: "logs/cargo-test-failure.txt",
        tool: "run",
        arguments: r#"{"cmd":"cargo test"}"#,
        question: "Which test failed?",
    },
    Case {
        file: "search/grep-memchr-unsafe-fn.txt",
        tool: "grep",
        arguments: r#"{"pattern":"unsafe fn","path":"memchr"}"#,
        question: "Where is the unsafe fn find_raw defined?",
    },
    Case {
        file: "diff/foldhash-0.1.5-0.2.0.diff",
        tool: "git_diff",
        arguments: r#"{"from":"0.1.5","to":"0.2.0"}"#,
        question: "What changed in the seed module?",
    },
    Case {
        file: "prose/serde_json-README.md",
        tool: "read_file",
        arguments: r#"{"path":"README.md"}"#,
        question: "How do I parse untyped JSON into a Value?",
    },
    Case {
        file: "code/serde_json-map.rs",
        tool: "read_file",
        arguments: r#"{"path":"serde_json/src/map.rs"}"#,
        question: "How does Map::entry work?",
    },
];

fn main() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/headroom/tests/fixtures");
    let store = MemoryStore::default();
    let hr = Headroom::default();
    println!(
        "{:<42} {:>8} {:>8} {:>7}  {:<10} transforms",
        "tool output", "before", "after", "saved", "retrievable"
    );
    let (mut total_before, mut total_after) = (0, 0);
    for case in CASES {
        let artifact = match std::fs::read_to_string(format!("{fixtures}/{}", case.file)) {
            Ok(artifact) => artifact,
            Err(e) => {
                println!("{:<42} missing: {e}", case.file);
                continue;
            }
        };
        let request = json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are a coding agent. Answer from the tool output."},
                {"role": "user", "content": case.question},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": case.tool, "arguments": case.arguments}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": artifact}
            ]
        });
        let body = serde_json::to_vec(&request).expect("requests serialize");
        let out = match hr.compress_json_into(&body, &store, DEFAULT_NAMESPACE) {
            Ok(out) => out,
            Err(e) => {
                println!("{:<42} error: {e}", case.file);
                continue;
            }
        };
        let text = String::from_utf8_lossy(&out.body);
        let markers = Marker::parse_all(&text);
        let retrievable = markers.iter().all(|m| {
            store
                .get(DEFAULT_NAMESPACE, &m.hash)
                .ok()
                .flatten()
                .is_some_and(|o| o == artifact)
        });
        let r = &out.report;
        total_before += r.tokens_before;
        total_after += r.tokens_after;
        println!(
            "{:<42} {:>8} {:>8} {:>6.1}%  {:<10} {}",
            case.file,
            r.tokens_before,
            r.tokens_after,
            100.0 * r.savings_ratio,
            if markers.is_empty() {
                "lossless".to_string()
            } else if retrievable {
                format!("{} markers", markers.len())
            } else {
                "BROKEN".to_string()
            },
            r.transforms_applied.join(", ")
        );
    }
    let saved = total_before.saturating_sub(total_after);
    println!(
        "{:<42} {:>8} {:>8} {:>6.1}%",
        "total",
        total_before,
        total_after,
        100.0 * saved as f64 / total_before.max(1) as f64
    );
}
