//! Markers only where the model can retrieve: when a request cannot offer `headroom_retrieve`
//! (legacy `functions`, a `tools` that is not an array, `tool_choice: "none"`, a forced or limited
//! `tool_choice` without our tool, the tool switched off), the engine stays lossless and the report
//! says why. Tool definitions are counted the way OpenAI documents it.

use headroom::{Headroom, LosslessFallback, RetrieveUnavailable};
use serde_json::{json, Value};

/// A build log big enough to be cut (lossy) under the default settings.
fn log() -> String {
    let mut log = String::new();
    for i in 0..400 {
        log.push_str(&format!("   Compiling crate-{i} v0.{i}.0 (registry+https://github.com/rust-lang/crates.io-index)\n"));
    }
    log.push_str("error[E0308]: mismatched types\n --> src/main.rs:4:18\n");
    log
}

fn request(extra: Value) -> Vec<u8> {
    let mut body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Why did the build fail?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "build", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": log()}
        ]
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    serde_json::to_vec(&body).unwrap()
}

fn build_tool() -> Value {
    json!({"type": "function", "function": {"name": "build", "description": "Build the crate.",
        "parameters": {"type": "object", "properties": {}}}})
}

#[test]
fn lossy_compression_runs_when_the_model_can_retrieve() {
    for extra in [
        json!({}),
        json!({"tools": [build_tool()]}),
        json!({"tools": [build_tool()], "tool_choice": "auto"}),
        json!({"tools": [build_tool()], "tool_choice": "required"}),
        json!({"tools": [build_tool(), headroom::retrieve::tool_definition()],
               "tool_choice": {"type": "function", "function": {"name": "headroom_retrieve"}}}),
        json!({"tools": [build_tool()], "tool_choice": {"type": "allowed_tools",
               "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "headroom_retrieve"}}]}}}),
    ] {
        let out = Headroom::default()
            .compress_json(&request(extra.clone()))
            .unwrap();
        assert!(!out.originals.is_empty(), "{extra}: lossy and stored");
        assert_eq!(out.report.lossless_fallback, None, "{extra}");
        let sent: Value = serde_json::from_slice(&out.body).unwrap();
        let tools = sent["tools"].as_array().unwrap();
        assert!(
            tools
                .iter()
                .any(|t| t["function"]["name"] == "headroom_retrieve"),
            "{extra}"
        );
    }
}

#[test]
fn no_marker_where_the_model_cannot_retrieve() {
    use RetrieveUnavailable::*;
    let legacy = json!([{"name": "build", "parameters": {"type": "object", "properties": {}}}]);
    let cases = [
        (json!({"functions": legacy}), LegacyFunctions),
        (json!({"tools": {"build": build_tool()}}), ToolsNotAnArray),
        (
            json!({"tools": [build_tool()], "tool_choice": "none"}),
            ToolChoiceNone,
        ),
        (json!({"tool_choice": "none"}), ToolChoiceNone),
        (
            json!({"tools": [build_tool()], "tool_choice": {"type": "function", "function": {"name": "build"}}}),
            ToolChoiceForces("build".into()),
        ),
        (
            json!({"tools": [build_tool()], "tool_choice": {"type": "allowed_tools",
                "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "build"}}]}}}),
            ToolChoiceExcludes,
        ),
        (
            json!({"tools": [build_tool()], "tool_choice": {"type": "custom", "custom": {"name": "grammar"}}}),
            ToolChoiceForces("grammar".into()),
        ),
    ];
    for (extra, why) in cases {
        let body = request(extra.clone());
        let out = Headroom::default().compress_json(&body).unwrap();
        let sent = String::from_utf8(out.body.clone()).unwrap();
        assert!(
            !headroom::marker::Marker::is_in(&sent),
            "{extra}: no unanswerable marker"
        );
        assert!(out.originals.is_empty(), "{extra}");
        assert!(out.report.ccr_hashes.is_empty(), "{extra}");
        assert_eq!(
            out.report.lossless_fallback,
            Some(LosslessFallback::RetrieveUnavailable(why)),
            "{extra}"
        );
        // Whatever the engine still does is lossless: the log comes back whole.
        let v: Value = serde_json::from_str(&sent).unwrap();
        assert_eq!(
            v["messages"][2]["content"].as_str().unwrap(),
            log(),
            "{extra}"
        );
    }
    // Switched off, with nothing offering the tool: the same.
    let off = Headroom::builder().retrieve_tool(false).build().unwrap();
    let out = off.compress_json(&request(json!({}))).unwrap();
    assert!(out.originals.is_empty());
    assert_eq!(
        out.report.lossless_fallback,
        Some(LosslessFallback::RetrieveUnavailable(RetrieveToolOff))
    );
    // Switched off, but the caller offers it: lossy is fine.
    let offered = json!({"tools": [headroom::retrieve::tool_definition()]});
    let out = off.compress_json(&request(offered)).unwrap();
    assert!(!out.originals.is_empty());
    // Configured lossless: no fallback to report.
    let lossless = Headroom::builder().lossless_only(true).build().unwrap();
    let out = lossless
        .compress_json(&request(json!({"tool_choice": "none"})))
        .unwrap();
    assert_eq!(out.report.lossless_fallback, None);
}

/// OpenAI's cookbook example ("How to count tokens with tiktoken", §6): one weather function and
/// two messages. The API counted 101 prompt tokens for gpt-4o and gpt-4o-mini, 105 for gpt-4 and
/// gpt-3.5-turbo.
#[test]
fn tools_are_counted_as_the_api_counts_them() {
    let tools = json!([{
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                    "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]}
                },
                "required": ["location"]
            }
        }
    }]);
    let messages = json!([
        {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
        {"role": "user", "content": "What's the weather like in San Francisco?"}
    ]);
    for (model, api_count) in [
        ("gpt-4o", 101),
        ("gpt-4o-mini", 101),
        ("gpt-4", 105),
        ("gpt-3.5-turbo", 105),
    ] {
        let body = json!({"model": model, "messages": messages, "tools": tools});
        let out = Headroom::default()
            .compress_json(&serde_json::to_vec(&body).unwrap())
            .unwrap();
        assert_eq!(out.report.tokens_before, api_count, "{model}");
        assert!(!out.report.tools_tokens_estimated, "{model}");
        let without = json!({"model": model, "messages": messages});
        let bare = Headroom::default()
            .compress_json(&serde_json::to_vec(&without).unwrap())
            .unwrap();
        assert_eq!(
            bare.report.tokens_before + out.report.tools_tokens,
            api_count
        );
    }
    // A schema beyond the documented form is counted, and said to be estimated.
    let nested = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
        "properties": {"rows": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}}}]);
    let body = json!({"model": "gpt-4o", "messages": messages, "tools": nested});
    let out = Headroom::default()
        .compress_json(&serde_json::to_vec(&body).unwrap())
        .unwrap();
    assert!(out.report.tools_tokens_estimated);
    assert!(out.report.tools_tokens > 10);
}
