//! The engine's side of compress-cache-retrieve: what the model retrieved stays as it is in later
//! turns, so an agent that answers `headroom_retrieve` in its own loop never gets a marker back.

use headroom::marker::RETRIEVE_TOOL_NAME;
use headroom::Headroom;
use serde_json::{json, Value};

/// A real tool output (octokit's recorded GitHub issues), large enough to compress.
const ISSUES: &str = include_str!("fixtures/github-issues.json");

fn conversation(tool_name: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which issues are open?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": tool_name, "arguments": "{\"hash\":\"0123456789abcdef01234567\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": ISSUES}
        ]
    }))
    .unwrap()
}

#[test]
fn a_retrieved_original_is_never_compressed_again() {
    let hr = Headroom::default();
    // The same text from an ordinary tool is compressed…
    let other = hr.compress_json(&conversation("list_issues")).unwrap();
    assert!(other.report.tokens_after < other.report.tokens_before);
    // …but as the answer to headroom_retrieve it goes out byte for byte.
    let body = conversation(RETRIEVE_TOOL_NAME);
    let out = hr.compress_json(&body).unwrap();
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(sent["messages"][2]["content"].as_str().unwrap(), ISSUES);
    let segment = out
        .report
        .segments
        .iter()
        .find(|s| s.message_index == 2)
        .unwrap();
    assert_eq!(segment.skipped.as_deref(), Some("retrieved original"));
}
