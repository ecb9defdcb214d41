//! Properties of the engine over generated requests: never worse, lossless round trips, byte-faithful
//! splicing, determinism, and markers that resolve.

use headroom::marker::Marker;
use headroom::{Headroom, Memo, Report};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::Arc;

/// Tool output shaped like real API listings: records with ids, names, states, nested owners.
fn records() -> impl Strategy<Value = Value> {
    let record = (any::<u32>(), "[a-z]{3,10}(-[a-z]{2,6})?", prop::sample::select(vec!["open", "closed", "error", "ok"]), any::<bool>(), prop::option::of("[a-z ]{0,30}"))
        .prop_map(|(id, name, state, flag, note)| {
            json!({"id": id, "name": name, "state": state, "private": flag, "note": note, "owner": {"login": name, "id": id % 977}})
        });
    prop::collection::vec(record, 0..60).prop_map(Value::Array)
}

fn request(tool_content: &str, extra_fields: &str) -> String {
    let messages = json!([
        {"role": "system", "content": "You are a careful agent."},
        {"role": "user", "content": "Which records are in state error?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "list_records", "arguments": "{\"page\":1}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": tool_content}
    ]);
    format!("{{ \"model\" : \"gpt-4o\",{extra_fields} \"messages\": {messages}, \"temperature\" : 0.50 }}")
}

fn decode_either(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| headroom::table::decode(text).ok())
}

fn tool_content(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["messages"][3]["content"].as_str().unwrap().to_string()
}

/// A fresh engine with a memo of its own (nothing served from an earlier call or another test)
/// and a time budget no debug build on a loaded machine runs out of (running out turns a request
/// into pass-through: tests/engine_time_budget.rs).
fn engine(lossless_only: bool) -> Headroom {
    let mut config = headroom::Config::default();
    config.time_budget = std::time::Duration::from_secs(600);
    Headroom::builder()
        .config(config)
        .min_segment_tokens(50)
        .lossless_only(lossless_only)
        .memo(Arc::new(Memo::new(16 << 20)))
        .build()
        .unwrap()
}

/// Real tool output of every content type the engine detects (tests/fixtures), with the tool
/// name and arguments that produced it.
const FIXTURES: &[(&str, &str, &str)] = &[
    (
        "list_issues",
        "{\"repo\":\"octokit/rest.js\"}",
        include_str!("fixtures/github-issues.json"),
    ),
    (
        "run",
        "{\"cmd\":\"pip list --format json\"}",
        include_str!("fixtures/json/pip-list-venv.json"),
    ),
    (
        "run",
        "{\"cmd\":\"cargo build\"}",
        include_str!("fixtures/logs/cargo-build-type-error.txt"),
    ),
    (
        "run",
        "{\"cmd\":\"cargo test\"}",
        include_str!("fixtures/logs/cargo-test-failure.txt"),
    ),
    (
        "run",
        "{\"cmd\":\"tail server.log\"}",
        include_str!("fixtures/logs/python-http-server.log"),
    ),
    (
        "run",
        "{\"cmd\":\"rg -n 'unsafe fn'\"}",
        include_str!("fixtures/search/grep-memchr-unsafe-fn.txt"),
    ),
    (
        "run",
        "{\"cmd\":\"git diff v0.1.5 v0.2.0\"}",
        include_str!("fixtures/diff/foldhash-0.1.5-0.2.0.diff"),
    ),
    (
        "read_file",
        "{\"path\":\"src/map.rs\"}",
        include_str!("fixtures/code/serde_json-map.rs"),
    ),
    (
        "read_file",
        "{\"path\":\"README.md\"}",
        include_str!("fixtures/prose/serde_json-README.md"),
    ),
];

/// A window of whole lines of `text`: from line `start` (wrapping), `len` lines.
fn window(text: &str, start: usize, len: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = start % lines.len().max(1);
    lines[start..(start + len).min(lines.len())].join("\n")
}

fn check_never_worse(report: &Report) {
    for seg in &report.segments {
        assert!(
            seg.tokens_after <= seg.tokens_before,
            "segment grew: {seg:?}"
        );
    }
    assert!(
        report.tokens_after <= report.tokens_before,
        "request grew: {report:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn lossless_forms_round_trip_and_never_grow(data in records(), pretty in any::<bool>()) {
        let content = if pretty { serde_json::to_string_pretty(&data).unwrap() } else { data.to_string() };
        let body = request(&content, "");
        let out = engine(true).compress_json(body.as_bytes()).unwrap();
        check_never_worse(&out.report);
        prop_assert!(out.originals.is_empty(), "lossless_only stores nothing");
        prop_assert!(!Marker::is_in(&String::from_utf8_lossy(&out.body)));
        prop_assert_eq!(decode_either(&tool_content(&out.body)), Some(data));
    }

    #[test]
    fn untouched_bytes_are_copied_and_output_is_deterministic(data in records(), spaces in "[ \t\n]{0,3}", number in "[1-9][0-9]{0,3}\\.[0-9]{1,3}0") {
        let extra = format!("{spaces}\"x_vendor\"{spaces}:{spaces}{{\"n\": {number}, \"z\": [true,null]}},");
        let body = request(&serde_json::to_string_pretty(&data).unwrap(), &extra);
        let first = engine(false).compress_json(body.as_bytes()).unwrap();
        let second = engine(false).compress_json(body.as_bytes()).unwrap();
        prop_assert_eq!(&first.body, &second.body, "same input, same bytes");
        check_never_worse(&first.report);
        let out = String::from_utf8(first.body.clone()).unwrap();
        let prefix = &body[..body.find("\"messages\"").unwrap()];
        prop_assert!(out.starts_with(prefix), "bytes before the messages are copied");
        prop_assert!(out.contains(" \"temperature\" : 0.50 "), "bytes after the messages are copied");
        // Everything but the tool result (and the appended tool) is unchanged.
        let (a, b): (Value, Value) = (serde_json::from_str(&body).unwrap(), serde_json::from_str(&out).unwrap());
        for i in 0..3 {
            prop_assert_eq!(&a["messages"][i], &b["messages"][i]);
        }
        // Every marker resolves to the exact original of its segment.
        for marker in Marker::parse_all(&out) {
            let original = first.originals.iter().find(|o| o.hash == marker.hash);
            prop_assert!(original.is_some(), "marker hash {} has no original", marker.hash);
            prop_assert_eq!(&original.unwrap().text, a["messages"][3]["content"].as_str().unwrap());
            prop_assert_eq!(&marker.hash, &headroom::marker::segment_hash(&original.unwrap().text));
        }
        if !first.originals.is_empty() {
            let tools = b["tools"].as_array().expect("the retrieve tool is added with markers");
            prop_assert_eq!(&tools.last().unwrap()["function"]["name"], "headroom_retrieve");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 36, .. ProptestConfig::default() })]

    /// Same input, same bytes, across content types: two fresh engines (two processes, in effect)
    /// agree, and an engine whose memo already holds the request agrees with both.
    #[test]
    fn every_content_type_compresses_to_the_same_bytes_in_fresh_engines(
        pick in 0..FIXTURES.len(),
        start in 0usize..2000,
        len in 40usize..400,
        question in prop::sample::select(vec!["What failed?", "Which issues are open?", "where is `get_mut` defined?", "error[E0308]", "summarize"]),
        lossless_only in any::<bool>(),
    ) {
        let (tool, arguments, text) = FIXTURES[pick];
        let content = window(text, start, len);
        let body = serde_json::to_vec(&json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "content": question},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": tool, "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": content}
            ]
        })).unwrap();
        let first = engine(lossless_only).compress_json(&body).unwrap();
        let second = engine(lossless_only).compress_json(&body).unwrap();
        let timed_out = |out: &headroom::CompressedJson| out.report.passthrough_reason.as_deref().is_some_and(|r| r.contains("time budget"));
        prop_assert!(!timed_out(&first) && !timed_out(&second), "no time-out to compare");
        prop_assert_eq!(&first.body, &second.body, "two fresh engines differ");
        prop_assert_eq!(&first.originals, &second.originals);
        let warm = engine(lossless_only);
        warm.compress_json(&body).unwrap();
        let remembered = warm.compress_json(&body).unwrap();
        prop_assert_eq!(&remembered.body, &first.body, "a memo hit differs from a fresh run");
        check_never_worse(&first.report);
    }
}
