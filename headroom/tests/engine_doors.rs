//! The engine's contracts as doors rely on them: typed and raw paths agree, the retrieve tool is appended
//! (never replacing the caller's tools), protection rules hold, failures are typed.

use async_openai::types::chat::CreateChatCompletionRequest;
use headroom::store::{MemoryStore, Store, StoreError};
use headroom::{Error, Headroom};
use serde_json::{json, Value};

fn github_issues() -> Value {
    serde_json::from_str(include_str!("fixtures/github-issues.json")).unwrap()
}

fn request_with(tool_content: &str, tools: Option<Value>) -> Value {
    let mut req = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Answer from the tool output. ".repeat(100)},
            {"role": "user", "content": "Which issues are assigned to nobody?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "list_issues", "arguments": "{\"state\":\"open\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": tool_content}
        ]
    });
    if let Some(tools) = tools {
        req["tools"] = tools;
    }
    req
}

#[test]
fn typed_and_raw_paths_give_the_same_request() {
    let req = request_with(
        &serde_json::to_string_pretty(&github_issues()).unwrap(),
        None,
    );
    let hr = Headroom::default();
    let raw = hr
        .compress_json(&serde_json::to_vec(&req).unwrap())
        .unwrap();
    let mut typed: CreateChatCompletionRequest = serde_json::from_value(req).unwrap();
    let out = hr.compress(&mut typed).unwrap();
    assert!(out.report.tokens_saved > 0);
    assert_eq!(out.report.tokens_after, raw.report.tokens_after);
    let raw_value: Value = serde_json::from_slice(&raw.body).unwrap();
    let typed_value = serde_json::to_value(&typed).unwrap();
    let (typed_tool, raw_tool) = (
        &typed_value["messages"][3]["content"],
        &raw_value["messages"][3]["content"],
    );
    assert!(
        typed_tool == raw_tool,
        "the tool result is compressed the same way on both paths"
    );
    assert_eq!(typed_value["tools"], raw_value["tools"]);
}

#[test]
fn system_and_user_messages_are_never_rewritten_by_default() {
    let big = serde_json::to_string_pretty(&github_issues()).unwrap();
    let req = json!({"model": "gpt-4o", "messages": [
        {"role": "system", "content": big.clone()},
        {"role": "developer", "content": big.clone()},
        {"role": "user", "content": big.clone()}
    ]});
    let body = serde_json::to_vec(&req).unwrap();
    let out = Headroom::default().compress_json(&body).unwrap();
    assert_eq!(out.body, body);
    let reasons: Vec<_> = out
        .report
        .segments
        .iter()
        .map(|s| s.skipped.clone().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["system prompt", "developer prompt", "user message"]
    );

    let opted_in = Headroom::builder()
        .compress_user_messages(true)
        .build()
        .unwrap()
        .compress_json(&body)
        .unwrap();
    assert!(opted_in.report.segments[2].tokens_after < opted_in.report.segments[2].tokens_before);
    assert_eq!(
        opted_in.report.segments[0].skipped.as_deref(),
        Some("system prompt")
    );
}

#[test]
fn excluded_tools_and_audit_mode_leave_the_body_alone() {
    let req = request_with(
        &serde_json::to_string_pretty(&github_issues()).unwrap(),
        None,
    );
    let body = serde_json::to_vec(&req).unwrap();
    let excluded = Headroom::builder()
        .exclude_tool("list_*")
        .build()
        .unwrap()
        .compress_json(&body)
        .unwrap();
    assert_eq!(excluded.body, body);
    assert_eq!(
        excluded.report.segments.last().unwrap().skipped.as_deref(),
        Some("excluded tool list_issues")
    );

    let audit = Headroom::builder()
        .audit(true)
        .build()
        .unwrap()
        .compress_json(&body)
        .unwrap();
    assert_eq!(audit.body, body);
    assert!(
        audit.report.tokens_saved > 0,
        "audit still reports what would be saved"
    );
    assert!(audit.originals.is_empty());
}

#[test]
fn history_markers_bring_the_retrieve_tool_and_keep_the_callers_tools() {
    let hash = headroom::marker::segment_hash("elided");
    let marker = headroom::marker::Marker::new(3, Some(9), "lines", &hash).to_text();
    let caller_tool = json!({"type": "function", "function": {"name": "list_issues", "parameters": {"type": "object"}}});
    let req = request_with(
        &format!("a\nb\n{marker}\nz"),
        Some(json!([caller_tool.clone()])),
    );
    let body = serde_json::to_vec(&req).unwrap();
    let out = Headroom::default().compress_json(&body).unwrap();
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    let tools = sent["tools"].as_array().unwrap();
    assert_eq!(
        tools[0], caller_tool,
        "the caller's tools stay first and untouched"
    );
    assert_eq!(tools[1]["function"]["name"], "headroom_retrieve");
    assert!(out.report.retrieve_tool_added);
    assert_eq!(sent["messages"], req["messages"]);

    // Sent again with the tool already there: nothing changes.
    let again = Headroom::default().compress_json(&out.body).unwrap();
    assert_eq!(again.body, out.body);

    let off = Headroom::builder()
        .retrieve_tool(false)
        .build()
        .unwrap()
        .compress_json(&body)
        .unwrap();
    assert_eq!(off.body, body);
}

struct DownStore;
impl Store for DownStore {
    fn put(&self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
        Err(StoreError::new("connection refused"))
    }
    fn get(&self, _: &str, _: &str) -> Result<Option<String>, StoreError> {
        Err(StoreError::new("connection refused"))
    }
}

#[test]
fn a_store_that_is_down_means_lossless_only() {
    let req = request_with(
        &serde_json::to_string_pretty(&github_issues()).unwrap(),
        None,
    );
    let body = serde_json::to_vec(&req).unwrap();
    let out = Headroom::default()
        .compress_json_into(&body, &DownStore, "default")
        .unwrap();
    assert!(out.originals.is_empty());
    assert!(!headroom::marker::Marker::is_in(&String::from_utf8_lossy(
        &out.body
    )));
    // Not "as it came": compressed losslessly (minified), and the report says why, typed.
    assert!(out.body.len() < body.len());
    assert!(matches!(
        out.report.lossless_fallback,
        Some(headroom::LosslessFallback::StoreUnavailable(ref e)) if e.contains("connection refused")
    ));
    let mut typed: CreateChatCompletionRequest = serde_json::from_value(req).unwrap();
    let out = Headroom::default()
        .compress_into(&mut typed, &DownStore)
        .unwrap();
    assert!(out.originals.is_empty());
    assert!(out.report.lossless_fallback.is_some());

    let store = MemoryStore::default();
    let ok = Headroom::default()
        .compress_json_into(&body, &store, "tenant")
        .unwrap();
    for original in &ok.originals {
        assert_eq!(
            store.get("tenant", &original.hash).unwrap().as_deref(),
            Some(original.text.as_str())
        );
    }
}

#[test]
fn bad_bodies_are_typed_errors_and_oversize_bodies_pass_through() {
    let hr = Headroom::default();
    assert!(matches!(
        hr.compress_json(b"{\"messages\": [}"),
        Err(Error::InvalidJson(_))
    ));
    assert!(matches!(
        hr.compress_json(b"\xff{}"),
        Err(Error::InvalidUtf8(0))
    ));
    assert!(matches!(
        hr.compress_json(b"{\"messages\": {}}"),
        Err(Error::InvalidRequest(_))
    ));
    let err = hr.compress_json(b"{\"model\": \"gpt-4o\"}").unwrap_err();
    assert!(err.to_string().contains("messages"), "{err}");

    let mut config = headroom::Config::default();
    config.max_body_bytes = 100;
    let small = Headroom::builder().config(config).build().unwrap();
    let body = serde_json::to_vec(&request_with(&"x".repeat(500), None)).unwrap();
    let out = small.compress_json(&body).unwrap();
    assert_eq!(out.body, body);
    assert!(out
        .report
        .passthrough_reason
        .unwrap()
        .contains("max_body_bytes"));
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let err = Headroom::builder()
        .exclude_tool("read_[")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidGlob { ref glob, .. } if glob == "read_["));
    assert!(err.to_string().contains("read_["), "{err}");
    let cause = std::error::Error::source(&err).expect("the glob parser's error is kept");
    assert!(cause.downcast_ref::<glob::PatternError>().is_some());
}

#[test]
fn a_bad_body_keeps_the_parsers_error_as_its_source() {
    let err = Headroom::default()
        .compress_json(b"{\"messages\": [}")
        .unwrap_err();
    let cause = std::error::Error::source(&err).expect("the parser's error is kept");
    let json = cause
        .downcast_ref::<serde_json::Error>()
        .expect("a serde_json error");
    assert_eq!((json.line(), json.column()), (1, 15));
    assert!(err.to_string().contains("line 1 column 15"), "{err}");
    // So does the resolver's constructor.
    let err = headroom::resolver::Resolver::new(b"{").unwrap_err();
    assert!(matches!(err, Error::InvalidJson(_)));
    assert!(std::error::Error::source(&err).is_some());
}
