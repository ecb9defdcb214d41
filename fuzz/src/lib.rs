//! What every fuzz target checks, in one place.

use headroom::marker::{segment_hash, Marker};
use headroom::{CompressedJson, Headroom};
use std::collections::HashSet;

/// A chat-completions body whose tool result is `content` (so fuzz data reaches the compressors
/// through the engine's own walk), answering a call named `tool` with `arguments`.
pub fn tool_body(content: &str, tool: &str, arguments: &str, question: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": tool, "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": "c1", "content": content}
        ]
    }))
    .expect("a JSON value serializes")
}

/// The engine the targets share: small segments are compressed too, so short inputs get far.
pub fn engine() -> &'static Headroom {
    static ENGINE: std::sync::OnceLock<Headroom> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = headroom::Config::default();
        config.min_segment_tokens = 20;
        // A slow sanitizer build must not turn a run into pass-through (the determinism check).
        config.time_budget = std::time::Duration::from_secs(600);
        Headroom::builder()
            .config(config)
            .build()
            .expect("the fuzz engine builds")
    })
}

/// The promises of one `compress_json` run on `body`:
/// - valid JSON in → valid JSON out;
/// - never more tokens, and an unchanged body when nothing was saved;
/// - every marker the run added resolves to an original whose hash is its own;
/// - the same input gives the same bytes.
pub fn check_compress_json(hr: &Headroom, body: &[u8], out: &CompressedJson) {
    let valid_in = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    if valid_in {
        assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(&out.body).is_ok(),
            "valid JSON in, invalid JSON out"
        );
    }
    let r = &out.report;
    assert!(
        r.tokens_after <= r.tokens_before + retrieve_tool_allowance(r),
        "more tokens: {r:?}"
    );
    if out.body != body {
        assert!(
            r.tokens_after < r.tokens_before || r.retrieve_tool_added,
            "rewritten without saving: {r:?}"
        );
    }
    let text_in = String::from_utf8_lossy(body);
    let text_out = String::from_utf8_lossy(&out.body);
    let before: HashSet<String> = Marker::parse_all(&text_in)
        .into_iter()
        .map(|m| m.hash)
        .collect();
    for original in &out.originals {
        assert_eq!(
            segment_hash(&original.text),
            original.hash,
            "an original under a foreign hash"
        );
    }
    let kept: HashSet<&str> = out.originals.iter().map(|o| o.hash.as_str()).collect();
    for marker in Marker::parse_all(&text_out) {
        assert!(
            before.contains(&marker.hash) || kept.contains(marker.hash.as_str()),
            "marker {marker:?} resolves to nothing"
        );
    }
    let again = hr
        .compress_json(body)
        .expect("a body read once is read again");
    assert_eq!(again.body, out.body, "not deterministic");
}

/// Tokens a history that already carries markers may gain: the retrieve tool it needs.
fn retrieve_tool_allowance(report: &headroom::Report) -> usize {
    if report.retrieve_tool_added && report.tokens_saved == 0 {
        usize::MAX / 2
    } else {
        0
    }
}
