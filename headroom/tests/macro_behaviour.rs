//! What an annotated function receives: `#[headroom]` on real requests.

use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionRequestMessage,
    ChatCompletionRequestToolMessageContent, ChatCompletionTools, CreateChatCompletionRequest,
    FunctionCall,
};
use headroom::marker::{Marker, RETRIEVE_TOOL_NAME};
use headroom::{headroom, Headroom};
use serde_json::{json, Value};
use std::sync::LazyLock;

const ISSUES: &str = include_str!("fixtures/github-issues.json");

/// The recorded page of GitHub issues, repeated into `pages` pages with every issue renumbered,
/// as a paginating tool would return them.
fn issues(pages: usize) -> Value {
    let page: Vec<Value> = serde_json::from_str(ISSUES).unwrap();
    let mut all = Vec::new();
    for p in 0..pages {
        for issue in &page {
            let number = issue["number"].as_u64().unwrap() + 13 * p as u64;
            let old = format!("/issues/{}", issue["number"]);
            let text = serde_json::to_string(issue)
                .unwrap()
                .replace(&old, &format!("/issues/{number}"));
            let mut issue: Value = serde_json::from_str(&text).unwrap();
            issue["number"] = json!(number);
            issue["id"] = json!(1000 + number);
            issue["title"] = json!(format!("Test issue {number}"));
            all.push(issue);
        }
    }
    Value::Array(all)
}

/// An agent's conversation: the user asks, the model called `list_issues`, the tool answered
/// with the issues as pretty-printed JSON (the way most tools hand results back).
fn triage_request(tool_result: &Value) -> CreateChatCompletionRequest {
    serde_json::from_value(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You triage GitHub issues."},
            {"role": "user", "content": "Which open issues have the most comments?"},
            {"role": "assistant", "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "list_issues", "arguments": "{\"state\":\"open\"}"}
            }]},
            {"role": "tool", "tool_call_id": "call_1",
             "content": serde_json::to_string_pretty(tool_result).unwrap()}
        ],
        "tools": [{"type": "function", "function": {
            "name": "list_issues", "description": "Lists a repository's issues",
            "parameters": {"type": "object", "properties": {"state": {"type": "string"}}}
        }}]
    }))
    .unwrap()
}

fn tokens(request: &CreateChatCompletionRequest) -> usize {
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    counter.count(&serde_json::to_string(request).unwrap())
}

fn tool_result(request: &CreateChatCompletionRequest) -> &str {
    match request.messages.last() {
        Some(ChatCompletionRequestMessage::Tool(tool)) => match &tool.content {
            ChatCompletionRequestToolMessageContent::Text(text) => text,
            other => panic!("tool content is not text: {other:?}"),
        },
        other => panic!("last message is not the tool result: {other:?}"),
    }
}

fn has_retrieve_tool(request: &CreateChatCompletionRequest) -> bool {
    request.tools.iter().flatten().any(|tool| match tool {
        ChatCompletionTools::Function(f) => f.function.name == RETRIEVE_TOOL_NAME,
        _ => false,
    })
}

/// The value a lossless rewrite of JSON stands for: minified JSON or the Headroom table form.
fn decoded(text: &str) -> Value {
    serde_json::from_str(text)
        .or_else(|_| headroom::table::decode(text))
        .unwrap_or_else(|e| {
            panic!(
                "a lossless rewrite decodes ({e}): {}",
                &text[..text.len().min(600)]
            )
        })
}

#[headroom]
async fn receive(request: CreateChatCompletionRequest) -> CreateChatCompletionRequest {
    request
}

#[headroom(lossless_only)]
async fn receive_lossless(request: CreateChatCompletionRequest) -> CreateChatCompletionRequest {
    request
}

#[headroom(model = "gpt-4o")]
fn shrink(request: &mut CreateChatCompletionRequest) {
    let _ = request;
}

static ENGINE: LazyLock<Headroom> = LazyLock::new(Headroom::default);

struct Agent;

impl Agent {
    /// A method whose engine the caller can reach, to answer `headroom_retrieve`.
    #[headroom(config = ENGINE)]
    async fn receive(
        &self,
        mut request: CreateChatCompletionRequest,
    ) -> CreateChatCompletionRequest {
        request.n = Some(1);
        request
    }
}

#[tokio::test]
async fn the_function_receives_a_compressed_request_with_a_marker_and_the_retrieve_tool() {
    let original = triage_request(&issues(8));
    let received = receive(original.clone()).await;
    let (before, after) = (tokens(&original), tokens(&received));
    assert!(after * 2 < before, "{before} -> {after} tokens");
    let markers = Marker::parse_all(tool_result(&received));
    assert!(!markers.is_empty());
    assert!(markers.iter().all(|m| m.hash == markers[0].hash));
    assert!(has_retrieve_tool(&received));
    // Everything but the tool result and the added tool is as the caller sent it.
    assert_eq!(received.messages[..3], original.messages[..3]);
    assert_eq!(received.model, original.model);
    assert_eq!(
        received.tools.as_ref().unwrap()[0],
        original.tools.as_ref().unwrap()[0]
    );
}

#[tokio::test]
async fn the_agent_loop_gets_back_what_was_elided() {
    let issues = issues(8);
    let received = Agent.receive(triage_request(&issues)).await;
    let text = tool_result(&received);
    let marker = Marker::parse_all(text)
        .into_iter()
        .next()
        .expect("a marker");
    let elided = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| format!("\"{}\"", issue["title"].as_str().unwrap()))
        .find(|title| !text.contains(title.as_str()))
        .expect("some issue was elided");
    let call = ChatCompletionMessageToolCall {
        id: "call_2".into(),
        function: FunctionCall {
            name: RETRIEVE_TOOL_NAME.into(),
            arguments: json!({"hash": marker.hash, "query": elided.trim_matches('"')}).to_string(),
        },
    };
    let answer = match ENGINE.answer_tool_call(&call).content {
        ChatCompletionRequestToolMessageContent::Text(text) => text,
        other => panic!("{other:?}"),
    };
    assert!(answer.contains(elided.trim_matches('"')), "{answer}");
}

#[tokio::test]
async fn lossless_only_never_marks_and_keeps_every_value() {
    let issues = issues(8);
    let original = triage_request(&issues);
    let received = receive_lossless(original.clone()).await;
    assert!(tokens(&received) < tokens(&original));
    let text = tool_result(&received);
    assert!(!Marker::is_in(text));
    assert!(!has_retrieve_tool(&received));
    assert_eq!(decoded(text), issues);
}

#[test]
fn a_mut_reference_caller_sees_its_request_compressed() {
    let original = triage_request(&issues(2));
    let mut request = original.clone();
    shrink(&mut request);
    assert!(tokens(&request) < tokens(&original));
    assert_ne!(tool_result(&request), tool_result(&original));
}

#[tokio::test]
async fn an_uncompressible_request_arrives_unchanged() {
    let original: CreateChatCompletionRequest = serde_json::from_value(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "And of Italy?"}
        ],
        "temperature": 0.2
    }))
    .unwrap();
    let received = receive(original.clone()).await;
    assert_eq!(
        serde_json::to_string(&received).unwrap(),
        serde_json::to_string(&original).unwrap()
    );
}
