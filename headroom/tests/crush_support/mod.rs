//! Shared by the `crush_*` tests: real JSON tool outputs compressed through the whole engine.
//! A test declares `mod content_support;` (the fixture loaders) beside `mod crush_support;`.

#![allow(dead_code)]

use headroom::marker::Marker;
use headroom::{Config, Headroom};
use serde_json::Value;

// The fixture loaders are shared with the other content tests.
#[allow(unused_imports)] // not every test uses both
pub use super::content_support::{fixture, large_fixture, request};

/// A tool result as the engine sent it.
pub struct Crushed {
    /// The tool message's content as sent.
    pub text: String,
    /// Its value: the JSON, or the table form decoded.
    pub value: Value,
    /// The tool result's tokens before and after.
    pub tokens_before: usize,
    pub tokens_after: usize,
    /// The markers in the content.
    pub markers: Vec<Marker>,
    /// The whole request body sent.
    pub body: Vec<u8>,
}

impl Crushed {
    /// The share of the tool result's tokens saved.
    pub fn savings(&self) -> f64 {
        1.0 - self.tokens_after as f64 / self.tokens_before as f64
    }
}

/// Compresses `output` as the result of `tool(arguments)` asked for by `question`, through
/// `Headroom::compress_json` with `config`; checks that the output is JSON or the table form and
/// that every marker's hash maps to the exact original among the returned originals.
pub fn crush_with(
    config: Config,
    question: &str,
    tool: &str,
    arguments: &str,
    output: &str,
) -> Crushed {
    let body = request(question, tool, arguments, output);
    let hr = Headroom::builder().config(config).build().expect("engine");
    let out = hr
        .compress_json(&serde_json::to_vec(&body).unwrap())
        .expect("compress_json");
    let sent: Value = serde_json::from_slice(&out.body).expect("valid JSON out");
    let text = sent["messages"][2]["content"]
        .as_str()
        .expect("tool content stays a string")
        .to_string();
    let value = serde_json::from_str(&text)
        .or_else(|_| headroom::table::decode(&text))
        .unwrap_or_else(|e| panic!("output is neither JSON nor the table form: {e}\n{text}"));
    let markers = Marker::parse_all(&text);
    super::content_support::assert_markers_resolve(&text, &out.originals, output);
    let segment = out
        .report
        .segments
        .iter()
        .find(|s| s.message_index == 2)
        .expect("the tool result is reported");
    if std::env::var_os("HEADROOM_SHOW").is_some() {
        eprintln!(
            "----- {tool}: {} → {} tokens -----\n{text}\n-----",
            segment.tokens_before, segment.tokens_after
        );
    }
    Crushed {
        text,
        value,
        tokens_before: segment.tokens_before,
        tokens_after: segment.tokens_after,
        markers,
        body: out.body,
    }
}

/// [`crush_with`] under the default configuration.
pub fn crush(question: &str, tool: &str, arguments: &str, output: &str) -> Crushed {
    crush_with(Config::default(), question, tool, arguments, output)
}

/// The array elements of `value` that are not markers.
pub fn kept(items: &Value) -> Vec<&Value> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .filter(|v| !is_marker(v))
        .collect()
}

/// Whether an array element is a marker element.
pub fn is_marker(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key(headroom::marker::JSON_MARKER_KEY))
}

/// Asserts that a crushed array accounts for every original item: kept items are original items in
/// order, and each marker's count is the length of the run it replaced.
pub fn assert_accounted(original: &Value, crushed: &Value) {
    let original = original.as_array().expect("original array");
    let crushed = crushed.as_array().expect("crushed array");
    let mut at = 0;
    for element in crushed {
        if is_marker(element) {
            let marker = &Marker::parse_all(&element.to_string())[0];
            assert_eq!(marker.total, Some(original.len()), "marker total");
            assert!(marker.omitted > 0);
            at += marker.omitted;
        } else {
            assert_eq!(
                original.get(at),
                Some(element),
                "kept items are the original items in order, gaps marked (index {at})"
            );
            at += 1;
        }
    }
    assert_eq!(at, original.len(), "kept + omitted = total");
}
