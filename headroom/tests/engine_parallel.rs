//! `Config::parallel_messages`: a request's messages compressed on two threads send the same bytes
//! and report the same numbers as on one.

mod content_support;
use content_support::fixture;
use headroom::{Config, Headroom, Memo};
use serde_json::json;
use std::sync::Arc;

fn engine(parallel: bool) -> Headroom {
    let mut config = Config::default();
    config.parallel_messages = parallel;
    Headroom::builder()
        .config(config)
        .memo(Arc::new(Memo::disabled()))
        .build()
        .expect("a valid config")
}

/// One request answering four tool calls with real outputs (over the 64 KB that turns threads on).
fn request() -> Vec<u8> {
    let outputs = [
        ("cargo_build", "logs/cargo-build-vv-deps-type-error.txt"),
        ("grep", "search/grep-memchr-unsafe-fn.txt"),
        ("read_file", "code/serde_json-map.rs"),
        ("npm_view", "json/npm-view-octokit-rest.json"),
    ];
    let mut messages = vec![
        json!({"role": "user", "content": "Why does the build fail, and where is `memchr` unsafe?"}),
    ];
    for (i, (tool, path)) in outputs.iter().enumerate() {
        let id = format!("call_{i}");
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": tool, "arguments": "{}"}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": fixture(path)}));
    }
    serde_json::to_vec(&json!({"model": "gpt-4o", "messages": messages})).unwrap()
}

#[test]
fn two_threads_send_the_same_bytes_as_one() {
    let body = request();
    assert!(body.len() > 64 * 1024, "{} bytes", body.len());
    let one = engine(false).compress_json(&body).unwrap();
    let two = engine(true).compress_json(&body).unwrap();
    assert_eq!(one.body, two.body);
    assert_eq!(one.report.tokens_after, two.report.tokens_after);
    assert_eq!(one.report.segments.len(), two.report.segments.len());
    assert!(one.report.tokens_after < one.report.tokens_before / 2);
    // The same again on the same engine: nothing depends on which thread took which message.
    let again = engine(true).compress_json(&body).unwrap();
    assert_eq!(two.body, again.body);
}
