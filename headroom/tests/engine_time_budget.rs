//! The time budget: when it runs out, the whole request goes out as it came — never a request
//! compressed partway, whose bytes would depend on how busy the machine was.

use headroom::{Config, Headroom, Memo};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A memo of each test's own: both tests compress the same body, and a result the other test left
/// in a shared memo would be served without the time budget ever being asked.
fn own_memo() -> Arc<Memo> {
    Arc::new(Memo::new(16 << 20))
}

fn big_request() -> Vec<u8> {
    let rows: Vec<_> = (0..400)
        .map(|i| json!({"id": i, "name": format!("package-{i}"), "version": format!("1.{i}.0"), "ok": i % 7 != 0}))
        .collect();
    let log: String = (0..400)
        .map(|i| {
            format!(
                "2026-12-04T01:{:02}:{:02}Z INFO worker {i} finished job {i} in {i} ms\n",
                i / 60,
                i % 60
            )
        })
        .collect();
    serde_json::to_vec(&json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which packages are not ok?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "list", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "logs", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": serde_json::to_string_pretty(&rows).unwrap()},
            {"role": "tool", "tool_call_id": "c2", "content": log}
        ]
    }))
    .unwrap()
}

#[test]
fn an_exhausted_budget_sends_the_whole_request_as_it_came() {
    let body = big_request();
    let mut config = Config::default();
    config.time_budget = Duration::ZERO;
    let hr = Headroom::builder()
        .config(config)
        .memo(own_memo())
        .build()
        .unwrap();
    let out = hr.compress_json(&body).unwrap();
    assert_eq!(out.body, body, "byte for byte");
    assert!(out.originals.is_empty());
    let reason = out.report.passthrough_reason.as_deref().unwrap_or("");
    assert!(reason.contains("time budget"), "{reason:?}");
    assert_eq!(out.report.tokens_after, out.report.tokens_before);
    assert!(out.report.tokens_before > 1000, "tokens are still counted");
    assert!(out.report.transforms_applied.is_empty());
}

#[test]
fn an_ample_budget_compresses_the_same_request() {
    let body = big_request();
    let hr = Headroom::builder().memo(own_memo()).build().unwrap();
    let out = hr.compress_json(&body).unwrap();
    assert!(out.report.tokens_after < out.report.tokens_before);
    assert_eq!(out.report.passthrough_reason, None);
}
