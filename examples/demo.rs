//! The main job: compress real tool outputs bundled with the repository, each as the last message of
//! an agent's request, and show what was kept: the question it was compressed against, the
//! asked-for item as it is sent, one marker, and what every output costs before and after.
//!
//! `cargo run --release --example demo` (`-- --brief` for the table alone). Exits 1 if an asked-for
//! item is not in what is sent or a marker does not retrieve the exact original.

use headroom::marker::Marker;
use headroom::store::{MemoryStore, Store, DEFAULT_NAMESPACE};
use headroom::Headroom;
use serde_json::json;
use std::io::Write as _;

/// A real artifact, the tool call that produced it, the question the agent was asked, and the text
/// of the item that question asks for (it must be in what is sent).
struct Case {
    file: &'static str,
    tool: &'static str,
    arguments: &'static str,
    question: &'static str,
    asked: &'static str,
}

const CASES: &[Case] = &[
    Case {
        file: "github-issues.json",
        tool: "list_issues",
        arguments: r#"{"repo":"octokit-fixture-org/paginate-issues"}"#,
        question: "Who opened issue 7?",
        asked: "Test issue 7",
    },
    Case {
        file: "json/npm-view-octokit-rest.json",
        tool: "npm_view",
        arguments: r#"{"package":"@octokit/rest"}"#,
        question: "When was version 18.12.0 of @octokit/rest published?",
        asked: "2024-04-23T07:51:27.541000+00:00",
    },
    Case {
        file: "logs/cargo-build-vv-deps-type-error.txt",
        tool: "run",
        arguments: r#"{"cmd":"cargo build -vv"}"#,
        question: "Why does the build fail?",
        asked: "error[E0308]: mismatched types",
    },
    Case {
        file: "logs/cargo-test-failure.txt",
        tool: "run",
        arguments: r#"{"cmd":"cargo test"}"#,
        question: "Which test failed?",
        asked: "test tests::parses_prerelease_version ... FAILED",
    },
    Case {
        file: "search/grep-memchr-unsafe-fn.txt",
        tool: "grep",
        arguments: r#"{"pattern":"unsafe fn","path":"memchr"}"#,
        question: "Where is the unsafe fn find_raw defined?",
        asked: "pub unsafe fn find_raw(",
    },
    Case {
        file: "diff/foldhash-0.1.5-0.2.0.diff",
        tool: "git_diff",
        arguments: r#"{"from":"0.1.5","to":"0.2.0"}"#,
        question: "What changed in the seed module?",
        asked: "src/seed.rs",
    },
    Case {
        file: "prose/serde_json-README.md",
        tool: "read_file",
        arguments: r#"{"path":"README.md"}"#,
        question: "How do I parse untyped JSON into a Value?",
        asked: "let v: Value = serde_json::from_str(data)?;",
    },
    Case {
        file: "code/serde_json-map.rs",
        tool: "read_file",
        arguments: r#"{"path":"serde_json/src/map.rs"}"#,
        question: "How does Map::entry work?",
        asked: "pub fn entry<S>(&mut self, key: S) -> Entry",
    },
];

/// Columns an excerpt line is cut to for display.
const WIDTH: usize = 100;

/// One compressed case, as the table and the sections show it.
struct Row {
    file: &'static str,
    before: usize,
    after: usize,
    saved: f64,
    markers: usize,
    retrievable: bool,
    kept: bool,
    transforms: String,
}

fn main() {
    let brief = std::env::args().any(|a| a == "--brief");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/headroom/tests/fixtures");
    let store = MemoryStore::default();
    let hr = Headroom::default();
    // Written at the end in one go: `demo | head` then ends quietly.
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "Headroom demo: {} real tool outputs, each the last message of an agent's request to gpt-4o.\n",
            CASES.len()
        ),
    );
    let mut rows = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let artifact = match std::fs::read_to_string(format!("{fixtures}/{}", case.file)) {
            Ok(artifact) => artifact,
            Err(e) => {
                line(&mut out, format!("{}: missing ({e})", case.file));
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
        let compressed = match hr.compress_json_into(&body, &store, DEFAULT_NAMESPACE) {
            Ok(compressed) => compressed,
            Err(e) => {
                line(&mut out, format!("{}: error: {e}", case.file));
                continue;
            }
        };
        let sent: serde_json::Value =
            serde_json::from_slice(&compressed.body).expect("the body is JSON");
        let tool_output = sent["messages"][3]["content"].as_str().unwrap_or_default();
        let markers = Marker::parse_all(tool_output);
        let retrievable = markers.iter().all(|m| {
            store
                .get(DEFAULT_NAMESPACE, &m.hash)
                .ok()
                .flatten()
                .is_some_and(|o| o == artifact)
        });
        let r = &compressed.report;
        let row = Row {
            file: case.file,
            before: r.tokens_before,
            after: r.tokens_after,
            saved: 100.0 * r.savings_ratio,
            markers: markers.len(),
            retrievable,
            kept: tool_output.contains(case.asked),
            transforms: match r.transforms_applied.is_empty() {
                true => "none".to_string(),
                false => r.transforms_applied.join(", "),
            },
        };
        if !brief {
            print_section(&mut out, i + 1, case, &row, tool_output);
        }
        rows.push(row);
    }
    print_table(&mut out, &rows);
    let _ = std::io::stdout().write_all(out.as_bytes());
    if rows.iter().any(|r| !r.kept || !r.retrievable) {
        std::process::exit(1);
    }
}

/// What one output became: its question, the asked-for item in context, one marker.
fn print_section(out: &mut String, n: usize, case: &Case, row: &Row, sent: &str) {
    line(
        out,
        format!(
            "── {n}/{} {} ({} tool) ── {} → {} tokens, {:.1}% saved",
            CASES.len(),
            case.file,
            case.tool,
            row.before,
            row.after,
            row.saved
        ),
    );
    line(out, format!("question   {}", case.question));
    match sent.find(case.asked) {
        Some(at) => {
            line(out, format!("asked for  {:?}, as sent:", case.asked));
            // In the table form the columns are named on the first line.
            if sent.starts_with('[')
                && sent[..at].contains("]{")
                && sent[..at].matches('\n').count() > 2
            {
                line(
                    out,
                    format!("  │ {}", clip(sent.lines().next().unwrap_or(""), 0..0)),
                );
                line(out, "  │ ⋮".to_string());
            }
            print_excerpt(out, sent, at, case.asked.len(), 1);
        }
        None => line(
            out,
            format!("asked for  {:?}: NOT IN WHAT IS SENT", case.asked),
        ),
    }
    match sent.find(HASH_PREFIX) {
        Some(at) => {
            let verdict = if row.retrievable {
                "every hash retrieves the exact original"
            } else {
                "BROKEN: a hash does not retrieve the original"
            };
            line(out, format!("marker     1 of {} ({verdict}):", row.markers));
            print_excerpt(out, sent, at, HASH_PREFIX.len(), 0);
        }
        None => line(out, "marker     none: nothing was elided".to_string()),
    }
    line(out, format!("transforms {}\n", row.transforms));
}

const HASH_PREFIX: &str = "headroom_retrieve hash=";

/// The line holding `text[at..at + len]` and `context` lines either side, each cut to [`WIDTH`]
/// columns around the match (or a marker); cuts for display are shown as `‹…›`.
fn print_excerpt(out: &mut String, text: &str, at: usize, len: usize, context: usize) {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let lines: Vec<&str> = text.split('\n').collect();
    let index = text[..line_start].matches('\n').count();
    let first = index.saturating_sub(context);
    let last = (index + context).min(lines.len() - 1);
    for (i, text) in lines.iter().enumerate().take(last + 1).skip(first) {
        let focus = if i == index {
            at - line_start..at - line_start + len
        } else {
            text.find(HASH_PREFIX)
                .map_or(0..0, |m| m..m + HASH_PREFIX.len())
        };
        line(out, format!("  │ {}", clip(text, focus)));
    }
}

/// `text` cut to [`WIDTH`] characters, keeping `focus` (a byte range) in view.
fn clip(text: &str, focus: std::ops::Range<usize>) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    if chars.len() <= WIDTH {
        return text.to_string();
    }
    let focus_char = chars
        .iter()
        .position(|(b, _)| *b >= focus.start)
        .unwrap_or(0);
    let start = focus_char
        .saturating_sub(WIDTH / 3)
        .min(chars.len() - WIDTH);
    let end = start + WIDTH;
    let byte = |c: usize| chars.get(c).map_or(text.len(), |(b, _)| *b);
    format!(
        "{}{}{}",
        if start > 0 { "‹…›" } else { "" },
        &text[byte(start)..byte(end)],
        if end < chars.len() { "‹…›" } else { "" }
    )
}

fn print_table(out: &mut String, rows: &[Row]) {
    line(
        out,
        format!(
            "{:<40} {:>7} {:>7} {:>6}  {:<8} transforms",
            "tool output", "before", "after", "saved", "markers"
        ),
    );
    for r in rows {
        let markers = match (r.markers, r.retrievable) {
            (0, _) => "0".to_string(),
            (n, true) => format!("{n} ✓"),
            (n, false) => format!("{n} BROKEN"),
        };
        let missing = if r.kept {
            ""
        } else {
            "  (asked-for item NOT SENT)"
        };
        line(
            out,
            format!(
                "{:<40} {:>7} {:>7} {:>5.1}%  {:<8} {}{missing}",
                r.file, r.before, r.after, r.saved, markers, r.transforms
            ),
        );
    }
    let before: usize = rows.iter().map(|r| r.before).sum();
    let after: usize = rows.iter().map(|r| r.after).sum();
    let saved = 100.0 * before.saturating_sub(after) as f64 / before.max(1) as f64;
    line(
        out,
        format!("{:<40} {before:>7} {after:>7} {saved:>5.1}%", "total"),
    );
    line(out, LEGEND.to_string());
}

const LEGEND: &str = "
before, after  tokens of the whole request (system prompt, question, tool call, tool output; after
               also counts the headroom_retrieve tool definition), gpt-4o's tokenizer (o200k_base)
saved          1 - after / before
markers        elisions left in the tool output, each `[… N of M lines omitted · headroom_retrieve
               hash=…]` or a {\"_headroom\":…} element; ✓ = every hash retrieved the exact original
               from the store; 0 = nothing was elided (sent whole, or rewritten by transforms that
               decode back to the original)
transforms     what was applied (type:step), in order";

fn line(out: &mut String, text: String) {
    out.push_str(&text);
    out.push('\n');
}
