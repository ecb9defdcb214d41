//! Shared by the `content_*` tests: a tool result compressed through the whole engine.

#![allow(dead_code)]

use headroom::marker::Marker;
use headroom::Headroom;
use serde_json::json;

/// A committed fixture under `tests/fixtures/`.
pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

/// A large fixture written by `scripts/fixtures.sh` under `target/fixtures/`.
pub fn large_fixture(name: &str) -> String {
    let full = format!("{}/../target/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full)
        .unwrap_or_else(|e| panic!("cannot read {full}: {e}; run `bash scripts/fixtures.sh` first"))
}

/// A tool result after compression, with what the engine reported about it.
pub struct Outcome {
    /// The tool message's content as sent.
    pub text: String,
    /// The tool result's tokens before and after.
    pub tokens_before: usize,
    pub tokens_after: usize,
    /// The content type the engine detected.
    pub content_type: String,
}

impl Outcome {
    /// The share of the tool result's tokens saved.
    pub fn savings(&self) -> f64 {
        1.0 - self.tokens_after as f64 / self.tokens_before as f64
    }

    /// Asserts that `line` is in the output verbatim, as a whole line.
    pub fn assert_line(&self, line: &str) {
        assert!(
            self.text.lines().any(|l| l == line),
            "line missing from the compressed output: {line:?}"
        );
    }
}

/// Compresses `output` as the result of tool `tool` called with `arguments` after the user asked
/// `question`, through `Headroom::compress_json`; checks that every marker's hash maps to the exact
/// original in `originals`.
pub fn compress_tool_result(question: &str, tool: &str, arguments: &str, output: &str) -> Outcome {
    let body = request(question, tool, arguments, output);
    let hr = Headroom::builder().model("gpt-4o").build().expect("engine");
    let out = hr
        .compress_json(&serde_json::to_vec(&body).unwrap())
        .expect("compress_json");
    let again = hr
        .compress_json(&serde_json::to_vec(&body).unwrap())
        .unwrap();
    assert_eq!(
        again.body, out.body,
        "the same request compresses to the same bytes"
    );
    let sent: serde_json::Value = serde_json::from_slice(&out.body).expect("valid JSON out");
    let text = sent["messages"][2]["content"]
        .as_str()
        .expect("tool content stays a string")
        .to_string();
    assert_markers_resolve(&text, &out.originals, output);
    if std::env::var_os("HEADROOM_SHOW").is_some() {
        eprintln!("----- compressed ({tool}) -----\n{text}\n-----");
    }
    let segment = out
        .report
        .segments
        .iter()
        .find(|s| s.message_index == 2)
        .expect("the tool result is reported");
    eprintln!(
        "{tool}: {} -> {} tokens ({:.1}% saved) as {}",
        segment.tokens_before,
        segment.tokens_after,
        100.0 - 100.0 * segment.tokens_after as f64 / segment.tokens_before as f64,
        segment.content_type
    );
    Outcome {
        text,
        tokens_before: segment.tokens_before,
        tokens_after: segment.tokens_after,
        content_type: segment.content_type.clone(),
    }
}

/// Every marker in `text` carries the hash of an original in `originals`, and that original is
/// exactly `output`.
pub fn assert_markers_resolve(text: &str, originals: &[headroom::Original], output: &str) {
    for marker in Marker::parse_all(text) {
        let original = originals
            .iter()
            .find(|o| o.hash == marker.hash)
            .unwrap_or_else(|| panic!("marker hash {} has no original", marker.hash));
        assert_eq!(
            original.text, output,
            "the marker's original is the exact tool output"
        );
    }
}

/// The chat-completions body: `question`, a call of `tool` with `arguments`, and its `output`.
pub fn request(question: &str, tool: &str, arguments: &str, output: &str) -> serde_json::Value {
    json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": arguments}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": output}
        ]
    })
}
