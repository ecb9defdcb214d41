//! The engine on Responses requests (`POST /v1/responses`): the same segments as chat, compressed
//! the same way, every byte it does not rewrite kept, and the flat retrieve tool appended.

use async_openai::types::responses::{CreateResponse, InputItem, InputParam, Item};
use headroom::{headroom, CompressOptions, Headroom};
use serde_json::{json, Value};

const BUILD_LOG: &str = include_str!("fixtures/logs/cargo-build-vv-deps-type-error.txt");

fn agent_tool() -> Value {
    json!({"type":"function","name":"cargo_build","parameters":{"type":"object","properties":{}}})
}

fn responses_body(output: &str) -> Value {
    json!({"model":"gpt-4o","instructions":"You are a build assistant.",
        "input":[
            {"role":"user","content":[{"type":"input_text","text":"Why did the build fail?"}]},
            {"type":"function_call","call_id":"call_1","name":"cargo_build","arguments":"{}"},
            {"type":"function_call_output","call_id":"call_1","output":output},
        ],
        "tools":[agent_tool()],"tool_choice":"auto"})
}

fn chat_body(output: &str) -> Value {
    json!({"model":"gpt-4o","messages":[
        {"role":"system","content":"You are a build assistant."},
        {"role":"user","content":"Why did the build fail?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
            "function":{"name":"cargo_build","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":output},
    ],"tools":[{"type":"function","function":{"name":"cargo_build","parameters":{"type":"object","properties":{}}}}]})
}

#[test]
fn a_function_call_output_is_compressed_and_the_flat_tool_appended() {
    let hr = Headroom::default();
    let out = hr
        .compress_json(responses_body(BUILD_LOG).to_string().as_bytes())
        .unwrap();
    let body: Value = serde_json::from_slice(&out.body).unwrap();
    let output = body["input"][2]["output"].as_str().unwrap();
    assert!(output.len() < BUILD_LOG.len() / 3);
    assert!(output.contains("error[E0308]: mismatched types"));
    assert_eq!(out.report.ccr_hashes.len(), 1);
    assert_eq!(out.originals[0].text, BUILD_LOG);
    assert!(output.contains(&format!("hash={}", out.report.ccr_hashes[0])));
    assert_eq!(body["tools"][0], agent_tool());
    assert_eq!(
        body["tools"][1],
        headroom::retrieve::responses_tool_definition()
    );
    assert_eq!(body["tool_choice"], "auto");
    assert_eq!(body["instructions"], "You are a build assistant.");
    assert!(out.report.retrieve_tool_added);
}

#[test]
fn the_same_content_saves_the_same_as_a_chat_request() {
    let hr = Headroom::default();
    let chat = hr
        .compress_json(chat_body(BUILD_LOG).to_string().as_bytes())
        .unwrap();
    let responses = hr
        .compress_json(responses_body(BUILD_LOG).to_string().as_bytes())
        .unwrap();
    let chat_out: Value = serde_json::from_slice(&chat.body).unwrap();
    let responses_out: Value = serde_json::from_slice(&responses.body).unwrap();
    // The same segment, the same question: the same bytes.
    assert_eq!(
        chat_out["messages"][3]["content"],
        responses_out["input"][2]["output"]
    );
    let (c, r) = (&chat.report, &responses.report);
    assert!(
        (c.savings_ratio - r.savings_ratio).abs() < 0.01,
        "{c:?}\n{r:?}"
    );
}

#[test]
fn nothing_to_compress_goes_out_byte_for_byte() {
    let body = br#"{ "model":"gpt-4o", "input" : [ {"type":"item_reference","id":"msg_1"},
        {"role":"user","content":"hi \u00e9"}, {"type":"future_item","x":1.50} ], "store":false }"#;
    let out = Headroom::default().compress_json(body).unwrap();
    assert_eq!(out.body, body);
    assert_eq!(out.report.tokens_saved, 0);
    let text = br#"{"model":"gpt-4o","input":"just a question"}"#;
    assert_eq!(Headroom::default().compress_json(text).unwrap().body, text);
}

#[test]
fn unknown_items_and_fields_are_kept_byte_for_byte() {
    let mut body = responses_body(BUILD_LOG);
    let unknown = r#"{"type":"future_item" ,"payload":{"n":1.50,"deep":[null,false,0]}}"#;
    body["x-vendor"] = json!({"keep": [1, 2]});
    let text = body.to_string().replacen(
        r#"{"role":"user""#,
        &format!(r#"{unknown},{{"role":"user""#),
        1,
    );
    let out = Headroom::default().compress_json(text.as_bytes()).unwrap();
    let sent = String::from_utf8(out.body).unwrap();
    assert!(sent.contains(unknown), "unknown item re-serialised");
    assert!(sent.contains(r#""x-vendor":{"keep":[1,2]}"#));
    assert!(sent.len() < text.len() / 2);
}

#[test]
fn instructions_and_developer_messages_are_protected() {
    let big = BUILD_LOG.to_string();
    let body = json!({"model":"gpt-4o","instructions":big,
        "input":[{"role":"developer","content":big},{"role":"user","content":"hi"}]});
    let bytes = body.to_string().into_bytes();
    let out = Headroom::default().compress_json(&bytes).unwrap();
    assert_eq!(out.body, bytes);
    let reasons: Vec<_> = out
        .report
        .segments
        .iter()
        .filter_map(|s| s.skipped.as_deref())
        .collect();
    assert_eq!(reasons[..2], ["system prompt", "developer prompt"]);
}

#[test]
fn a_typed_create_response_is_compressed_in_place() {
    let mut request: CreateResponse = serde_json::from_value(responses_body(BUILD_LOG)).unwrap();
    let out = Headroom::default().compress_response(&mut request).unwrap();
    assert!(out.report.tokens_saved > 10_000);
    let InputParam::Items(items) = &request.input else {
        panic!("items stay items")
    };
    let InputItem::Item(Item::FunctionCallOutput(output)) = &items[2] else {
        panic!("{:?}", items[2])
    };
    let text = serde_json::to_value(&output.output).unwrap();
    assert!(text.as_str().unwrap().len() < BUILD_LOG.len() / 3);
    let tools = serde_json::to_value(&request.tools).unwrap();
    assert_eq!(tools[1]["name"], "headroom_retrieve");
}

#[headroom]
fn agent_step(request: CreateResponse) -> CreateResponse {
    request
}

#[test]
fn the_macro_compresses_create_response_arguments() {
    let request: CreateResponse = serde_json::from_value(responses_body(BUILD_LOG)).unwrap();
    let before = serde_json::to_string(&request).unwrap().len();
    let after = serde_json::to_string(&agent_step(request)).unwrap().len();
    assert!(after < before / 3, "{before} -> {after}");
}

#[test]
fn fitting_the_window_evicts_calls_with_their_outputs() {
    // Six calls, each answered by its own output: over the budget, the oldest go as whole pairs.
    let mut input = vec![json!({"role":"user","content":"Why did the build fail?"})];
    for i in 0..6 {
        let id = format!("call_{i}");
        input.push(json!({"type":"reasoning","id":format!("rs_{i}"),"summary":[]}));
        input.push(json!({"type":"function_call","call_id":id,"name":"cargo_build","arguments":format!("{{\"run\":{i}}}")}));
        input.push(json!({"type":"function_call_output","call_id":id,"output":BUILD_LOG}));
    }
    let body = json!({"model":"gpt-4o","input":input});
    let hr = Headroom::default();
    let options = CompressOptions::default().token_budget(6_000);
    let out = hr
        .compress_json_with(body.to_string().as_bytes(), &options)
        .unwrap();
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    let items = sent["input"].as_array().unwrap();
    let fit = out.report.fit.as_ref().expect("fitted");
    assert!(!fit.evictions.is_empty(), "{fit:?}");
    assert!(out.report.tokens_after <= 6_000);
    // Every output still has its call, and every call its output.
    let calls: Vec<_> = items
        .iter()
        .filter(|i| i["type"] == "function_call")
        .map(|i| i["call_id"].clone())
        .collect();
    let outputs: Vec<_> = items
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i["call_id"].clone())
        .collect();
    assert_eq!(calls, outputs);
    assert!(calls.len() < 6);
    // The eviction marker is a user message the Responses API reads, retrievable by its hash.
    let marker = items
        .iter()
        .find(|i| {
            i["role"] == "user" && i["content"].as_str().is_some_and(|c| c.contains("omitted"))
        })
        .expect("a marker message");
    let hash = &fit.evictions[0].hash;
    assert!(marker["content"].as_str().unwrap().contains(hash.as_str()));
    let original = out.originals.iter().find(|o| &o.hash == hash).unwrap();
    let evicted: Vec<Value> = serde_json::from_str(&original.text).unwrap();
    assert_eq!(
        evicted[0]["type"], "reasoning",
        "a call goes with its reasoning"
    );
}

const ISSUES: &str = include_str!("fixtures/github-issues.json");

/// Every field of `after` equals `before`'s, but the strings at `compressed` (JSON pointers).
fn same_but(before: &Value, after: &Value, compressed: &[&str]) {
    let (mut before, mut after) = (before.clone(), after.clone());
    for pointer in compressed {
        *before.pointer_mut(pointer).unwrap() = Value::Null;
        *after.pointer_mut(pointer).unwrap() = Value::Null;
    }
    assert_eq!(before, after);
}

#[test]
fn shell_apply_patch_and_mcp_outputs_are_compressed_and_their_other_fields_kept() {
    let body = json!({"model":"gpt-5","input":[
        {"role":"user","content":"Fix the build, then list the open issues."},
        {"type":"shell_call","id":"sh_1","call_id":"call_sh","status":"completed",
            "action":{"commands":["cargo build -vv"],"timeout_ms":120000,"max_output_length":null}},
        {"type":"shell_call_output","call_id":"call_sh","max_output_length":null,"future":[1.50],
            "output":[{"stdout":BUILD_LOG,"stderr":"warning: 1 warning emitted",
                "outcome":{"type":"exit","exit_code":101}}]},
        {"type":"apply_patch_call","call_id":"call_ap","status":"completed",
            "operation":{"type":"update_file","path":"docs/guide.md","diff":"@@ -1 +1 @@\n-# old\n+# new"}},
        {"type":"apply_patch_call_output","call_id":"call_ap","status":"failed","output":BUILD_LOG},
        {"type":"mcp_call","id":"mcp_1","server_label":"github","name":"list_issues",
            "arguments":"{\"repo\":\"octokit-fixture-org/paginate-issues\"}","status":"completed",
            "approval_request_id":null,"error":null,"output":ISSUES},
    ],"tools":[{"type":"shell"},{"type":"apply_patch"},
        {"type":"mcp","server_label":"github","server_url":"https://example.com/mcp"}]});
    let out = Headroom::default()
        .compress_json(body.to_string().as_bytes())
        .unwrap();
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    let stdout = sent["input"][2]["output"][0]["stdout"].as_str().unwrap();
    assert!(stdout.len() < BUILD_LOG.len() / 3, "{} bytes", stdout.len());
    assert!(stdout.contains("error[E0308]: mismatched types"));
    let patched = sent["input"][4]["output"].as_str().unwrap();
    // Compressed against the patch operation: a path the log names would keep its lines.
    assert!(
        patched.len() < BUILD_LOG.len() / 3,
        "{} bytes",
        patched.len()
    );
    assert!(patched.contains("error[E0308]: mismatched types"));
    let issues = sent["input"][5]["output"].as_str().unwrap();
    assert!(issues.len() < ISSUES.len() / 2, "{} bytes", issues.len());
    assert!(issues.contains("headroom_retrieve hash="), "{issues}");
    assert!(
        issues.contains("paginate-issues/issues/13"),
        "the rows stay"
    );
    // Three originals kept (the two build logs are one), every other byte as it came.
    assert_eq!(out.report.ccr_hashes.len(), 2);
    let mut sent_inputs = sent.clone();
    sent_inputs["tools"] = body["tools"].clone();
    same_but(
        &body,
        &sent_inputs,
        &[
            "/input/2/output/0/stdout",
            "/input/4/output",
            "/input/5/output",
        ],
    );
    assert_eq!(sent["tools"][3]["name"], "headroom_retrieve");
}

#[test]
fn shell_and_mcp_outputs_are_compressed_against_their_own_call() {
    // The same log behind two calls: one names a file the log mentions on many lines, so the
    // question keeps those lines; the other does not. Different bytes prove the pairing.
    let shell = |command: &str| {
        json!({"model":"gpt-5","input":[
            {"role":"user","content":"Why did the build fail?"},
            {"type":"shell_call","call_id":"c","action":{"commands":[command]}},
            {"type":"shell_call_output","call_id":"c","output":[{"stdout":BUILD_LOG,"stderr":"",
                "outcome":{"type":"exit","exit_code":101}}]},
        ]})
    };
    let mcp = |arguments: &str| {
        json!({"model":"gpt-5","input":[
            {"role":"user","content":"Why did the build fail?"},
            {"type":"mcp_call","id":"m","server_label":"ci","name":"job_log",
                "arguments":arguments,"output":BUILD_LOG},
        ]})
    };
    let hr = Headroom::default();
    let sent = |body: Value, pointer: &str| {
        let out = hr.compress_json(body.to_string().as_bytes()).unwrap();
        let sent: Value = serde_json::from_slice(&out.body).unwrap();
        sent.pointer(pointer).unwrap().as_str().unwrap().len()
    };
    let stdout = "/input/2/output/0/stdout";
    let plain = sent(shell("cargo build -vv"), stdout);
    let named = sent(shell("cargo build -vv && cat README.md"), stdout);
    assert!(
        plain < BUILD_LOG.len() / 3 && named > plain,
        "{plain} {named}"
    );
    let plain = sent(mcp(r#"{"job":"build"}"#), "/input/1/output");
    let named = sent(
        mcp(r#"{"job":"build","file":"README.md"}"#),
        "/input/1/output",
    );
    assert!(
        plain < BUILD_LOG.len() / 3 && named > plain,
        "{plain} {named}"
    );
}
