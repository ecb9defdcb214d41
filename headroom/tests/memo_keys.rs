//! Memoised results are keyed by the exact text compressed: two JSON blocks of equal length in
//! one segment must each keep their own content (a key on the enclosing segment swapped them).

use headroom::{Headroom, Memo};
use serde_json::json;
use std::sync::Arc;

#[test]
fn two_fenced_json_blocks_of_equal_length_both_survive() {
    let mut prose = String::new();
    for i in 0..30 {
        prose.push_str(&format!(
            "Paragraph {i} of the status report describes the state of the queue and what the workers did.\n\n"
        ));
        if i == 10 {
            prose.push_str("```json\n{\"status\": \"open\", \"n\": 1}\n```\n\n");
        }
        if i == 20 {
            prose.push_str("```json\n{\"status\": \"done\", \"n\": 2}\n```\n\n");
        }
    }
    let body = serde_json::to_vec(&json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "What are the statuses?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "read_report", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": prose}
        ]
    }))
    .unwrap();
    // A memo of its own: the second pass is served from what the first one left, and only that.
    let memo = Arc::new(Memo::new(1 << 20));
    let hr = Headroom::builder()
        .min_segment_tokens(10)
        .memo(memo.clone())
        .build()
        .unwrap();
    for pass in 0..2 {
        assert_eq!(
            memo.is_empty(),
            pass == 0,
            "pass {pass} starts from the first pass's memo"
        );
        let out = hr.compress_json(&body).unwrap();
        let sent: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        let text = sent["messages"][2]["content"].as_str().unwrap();
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for block in [r#"{"status":"open","n":1}"#, r#"{"status":"done","n":2}"#] {
            assert_eq!(
                squeezed.matches(block).count(),
                1,
                "{block} not kept exactly once: {text}"
            );
        }
    }
}
