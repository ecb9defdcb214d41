//! SmartCrusher on real JSON tool outputs, through the whole engine (`Headroom::compress_json`):
//! recorded GitHub API pages, `cargo metadata`, `pip inspect`, `pip list`, `npm view --json`.
//!
//! Large fixtures come from `bash scripts/fixtures.sh`; `HEADROOM_SHOW=1` prints each output.

mod content_support;
mod crush_support;

use crush_support::*;
use headroom::marker::Marker;
use headroom::{Config, Headroom};
use serde_json::Value;

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

/// The compact text of an item as it sits in the minified original: kept items must appear so.
fn minified(item: &Value) -> String {
    serde_json::to_string(item).unwrap()
}

/// The item stands whole in one unit of the output: its minified JSON, or one row of a table
/// (a root table, or a field's table in the record form).
fn verbatim_in_one_unit(text: &str, item: &serde_json::Value) -> bool {
    if text.contains(&minified(item)) {
        return true;
    }
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().any(|(i, header)| {
        let Some(columns) = header
            .ends_with("}:")
            .then(|| header.split_once("]{"))
            .flatten()
        else {
            return false;
        };
        lines[i + 1..].iter().any(|row| {
            let row = row.strip_prefix("  ").unwrap_or(row);
            headroom::table::decode(&format!("[1]{{{}\n{row}", columns.1)).is_ok_and(|rows| {
                rows.as_array()
                    .is_some_and(|r| r.len() == 1 && &r[0] == item)
            })
        })
    })
}

#[test]
fn issue_named_only_by_number_deep_in_500_issues_survives_whole() {
    let output = large_fixture("github-closed-issues.json");
    let original = parse(&output);
    let issues = original.as_array().unwrap();
    assert_eq!(issues.len(), 500);
    let target = &issues[250];
    assert_eq!(target["number"], 923);
    let out = crush(
        "What was #923 about, and who closed it?",
        "list_issues",
        r#"{"owner":"openframeworks","repo":"openFrameworks","state":"closed"}"#,
        &output,
    );
    let kept = kept(&out.value);
    assert!(
        kept.contains(&target),
        "issue #923 survives with every field"
    );
    assert!(verbatim_in_one_unit(&out.text, target), "verbatim");
    assert_accounted(&original, &out.value);
    assert!(out.savings() >= 0.9, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn failed_and_cancelled_workflow_runs_survive() {
    let output = large_fixture("github-workflow-runs.json");
    let original = parse(&output);
    let runs = &original["workflow_runs"];
    let out = crush(
        "Is CI green on the default branch?",
        "list_workflow_runs",
        r#"{"owner":"PyGithub","repo":"PyGithub"}"#,
        &output,
    );
    let crushed_runs = &out.value["workflow_runs"];
    assert_accounted(runs, crushed_runs);
    let kept = kept(crushed_runs);
    for run in runs.as_array().unwrap() {
        if run["conclusion"] != "success" {
            assert!(
                kept.contains(&run),
                "run {} ({}) kept",
                run["id"],
                run["conclusion"]
            );
        }
    }
    assert_eq!(
        out.value["total_count"], original["total_count"],
        "fields beside the array stay"
    );
    assert!(out.savings() >= 0.4, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn a_rare_status_survives_on_its_own() {
    // Errors and the question switched off, a budget of 4 items: only rarity keeps the cancelled run.
    let output = large_fixture("github-workflow-runs.json");
    let original = parse(&output);
    let mut config = Config::default();
    config.crush.keep_errors = false;
    config.crush.keep_named = false;
    config.crush.max_items = 4;
    let out = crush_with(config, "", "list_workflow_runs", "{}", &output);
    let runs = original["workflow_runs"].as_array().unwrap();
    let cancelled = runs
        .iter()
        .find(|r| r["conclusion"] == "cancelled")
        .unwrap();
    assert!(kept(&out.value["workflow_runs"]).contains(&cancelled));
    assert_accounted(&original["workflow_runs"], &out.value["workflow_runs"]);
}

#[test]
fn cargo_metadata_keeps_the_named_package() {
    let output = large_fixture("cargo-metadata.json");
    let original = parse(&output);
    let out = crush(
        "Which license and features does tiktoken-rs have?",
        "cargo_metadata",
        r#"{"format_version":1}"#,
        &output,
    );
    let packages = original["packages"].as_array().unwrap();
    let tiktoken = packages
        .iter()
        .find(|p| p["name"] == "tiktoken-rs")
        .unwrap();
    assert!(kept(&out.value["packages"]).contains(&tiktoken));
    assert!(verbatim_in_one_unit(&out.text, tiktoken), "verbatim");
    assert_accounted(&original["packages"], &out.value["packages"]);
    assert_eq!(out.value["workspace_root"], original["workspace_root"]);
    assert!(out.savings() >= 0.7, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn pip_inspect_keeps_the_named_distribution() {
    let output = large_fixture("pip-inspect.json");
    let original = parse(&output);
    let out = crush(
        "Which version of cryptography is installed, and what does it require?",
        "pip_inspect",
        "{}",
        &output,
    );
    let installed = original["installed"].as_array().unwrap();
    let wanted = installed
        .iter()
        .find(|d| d["metadata"]["name"] == "cryptography")
        .unwrap();
    assert!(kept(&out.value["installed"]).contains(&wanted));
    assert_accounted(&original["installed"], &out.value["installed"]);
    assert!(out.savings() >= 0.7, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn all_distinct_records_without_signal_get_exact_marker_counts() {
    // `pip list`: names and versions, every record distinct, no numbers, no errors, no question.
    let output = large_fixture("pip-list.json");
    let original = parse(&output);
    let mut config = Config::default();
    config.min_segment_tokens = 100;
    let out = crush_with(config, "", "pip_list", "{}", &output);
    assert!(!out.markers.is_empty(), "{}", out.text);
    let total = original.as_array().unwrap().len();
    let omitted: usize = out.markers.iter().map(|m| m.omitted).sum();
    assert_eq!(omitted + kept(&out.value).len(), total);
    assert!(out.markers.iter().all(|m| m.total == Some(total)));
    assert_accounted(&original, &out.value);
}

#[test]
fn npm_view_keeps_a_named_version() {
    let output = fixture("json/npm-view-octokit-rest.json");
    let original = parse(&output);
    let out = crush(
        "What changed in @octokit/rest 18.12.0?",
        "npm_view",
        r#"{"package":"@octokit/rest"}"#,
        &output,
    );
    assert!(kept(&out.value["versions"]).contains(&&Value::from("18.12.0")));
    assert_accounted(&original["versions"], &out.value["versions"]);
    assert_eq!(out.value["time"], original["time"], "objects are not cut");
}

#[test]
fn re_sent_history_is_byte_identical() {
    let output = large_fixture("github-closed-issues.json");
    let first = crush("What was #923 about?", "list_issues", "{}", &output);
    let again = crush("What was #923 about?", "list_issues", "{}", &output);
    assert_eq!(first.text, again.text);
    // A later turn does not change how the earlier tool result is compressed.
    let mut body = request("What was #923 about?", "list_issues", "{}", &output);
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"role": "user", "content": "and #100?"}));
    let hr = headroom::Headroom::default();
    let out = hr
        .compress_json(&serde_json::to_vec(&body).unwrap())
        .unwrap();
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(
        sent["messages"][2]["content"].as_str(),
        Some(first.text.as_str())
    );
}

#[test]
fn lossless_only_never_cuts() {
    let output = large_fixture("github-closed-issues.json");
    let mut config = Config::default();
    config.lossless_only = true;
    let out = crush_with(config, "What was #923 about?", "list_issues", "{}", &output);
    assert!(out.markers.is_empty());
    assert_eq!(out.value, parse(&output));
}

#[test]
fn tool_call_arguments_stay_json() {
    // An assistant's call carrying a long array: it may be cut, but must stay valid JSON.
    let list = large_fixture("pip-list.json");
    let body = serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "upgrade everything"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "pip_upgrade", "arguments": list}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"}
        ]
    });
    let hr = headroom::Headroom::builder()
        .min_segment_tokens(100)
        .build()
        .unwrap();
    let out = hr
        .compress_json(&serde_json::to_vec(&body).unwrap())
        .unwrap();
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    let arguments = sent["messages"][1]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .unwrap();
    let value: Value = serde_json::from_str(arguments).expect("arguments stay JSON");
    assert_accounted(&parse(&list), &value);
    assert!(Marker::is_in(arguments));
}

#[test]
fn tokens_saved_per_fixture() {
    // The numbers of the closing note; each must be a real saving.
    let cases = [
        (
            "npm view @octokit/rest",
            fixture("json/npm-view-octokit-rest.json"),
            "what changed in 18.12.0?",
        ),
        (
            "github-closed-issues.json (500)",
            large_fixture("github-closed-issues.json"),
            "what was #923 about?",
        ),
        (
            "github-workflow-runs.json (30)",
            large_fixture("github-workflow-runs.json"),
            "is CI green?",
        ),
        (
            "cargo-metadata.json",
            large_fixture("cargo-metadata.json"),
            "which license does tiktoken-rs have?",
        ),
        (
            "pip-inspect.json",
            large_fixture("pip-inspect.json"),
            "which version of cryptography?",
        ),
        (
            "github-punch-card.json (168 rows)",
            large_fixture("github-punch-card.json"),
            "when do people commit?",
        ),
        (
            "pip-list.json",
            large_fixture("pip-list.json"),
            "is requests installed?",
        ),
        (
            "github-issues.json (13 issues)",
            fixture("github-issues.json"),
            "what is issue #7 about?",
        ),
    ];
    for (name, output, question) in cases {
        let out = crush(question, "tool", "{}", &output);
        eprintln!(
            "{name}: {} → {} tokens, {:.1}% saved, {} markers",
            out.tokens_before,
            out.tokens_after,
            out.savings() * 100.0,
            out.markers.len()
        );
        assert!(out.tokens_after <= out.tokens_before);
    }
}

#[test]
fn json_inside_a_json_string_is_crushed() {
    // An MCP tool result: the listing is JSON text inside a `content` item.
    let listing = large_fixture("github-closed-issues.json");
    let output = serde_json::json!({
        "content": [{"type": "text", "text": listing}],
        "isError": false
    })
    .to_string();
    let out = crush(
        "What was #923 about?",
        "mcp__github__list_issues",
        "{}",
        &output,
    );
    let inner_text = out.value["content"][0]["text"]
        .as_str()
        .expect("the text stays a string");
    let inner: Value = serde_json::from_str(inner_text).expect("and stays JSON");
    let original = parse(&listing);
    assert_accounted(&original, &inner);
    assert!(kept(&inner).contains(&&original[250]));
    assert_eq!(out.value["isError"], false);
    assert!(out.savings() >= 0.9, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn a_lossy_form_is_never_chosen_over_a_smaller_lossless_one() {
    // `pip list --format json` of a virtualenv: short records whose table form is already small;
    // the crushed form saves a few tokens in the segment but would bring the retrieve tool along.
    let output = fixture("json/pip-list-venv.json");
    let questions = [
        "In the pip_list result, find the entry whose `name` is \"frozenlist\". Report every field.",
        "Which version of pip is installed?",
    ];
    for question in questions {
        let body = |lossless_only: bool| {
            let mut config = Config::default();
            config.lossless_only = lossless_only;
            let hr = Headroom::builder().config(config).build().unwrap();
            let body = request(question, "pip_list", r#"{"format":"json"}"#, &output);
            let out = hr
                .compress_json(&serde_json::to_vec(&body).unwrap())
                .unwrap();
            out.report.tokens_after
        };
        let (lossy, lossless) = (body(false), body(true));
        assert!(
            lossy <= lossless,
            "{question}: default {lossy} tokens, lossless_only {lossless}"
        );
    }
}
