//! A fake OpenAI upstream on loopback that records what it receives, and a real compressible request.
#![allow(dead_code)]

mod retry;
#[allow(unused_imports)]
pub use retry::RetryServerErrors;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone, Default)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    fail_first: Arc<AtomicUsize>,
    /// Behave like a model that retrieves the first elided original it sees.
    retrieving: bool,
}

/// An OpenAI-shaped server on 127.0.0.1 with a random port.
pub struct Upstream {
    pub base: String,
    shared: Shared,
}

impl Upstream {
    pub async fn start() -> Upstream {
        Self::serve(Shared::default()).await
    }

    /// A model that calls `headroom_retrieve` for the first marker in the request (when the tool is
    /// offered and nothing was retrieved yet), then answers — as JSON or SSE, as asked.
    pub async fn start_retrieving() -> Upstream {
        Self::serve(Shared {
            retrieving: true,
            ..Shared::default()
        })
        .await
    }

    async fn serve(shared: Shared) -> Upstream {
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Upstream { base, shared }
    }

    /// The next `n` requests get a 500 (with `retry-after: 0`).
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_first.store(n, Ordering::SeqCst);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn answer(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    shared.seen.lock().unwrap().push(Seen {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let failing = shared
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("retry-after", "0")],
            "upstream hiccup",
        )
            .into_response();
    }
    let path = parts.uri.path();
    if shared.retrieving && path.ends_with("/chat/completions") {
        return model_reply(&body);
    }
    let reply = if path.ends_with("/chat/completions") {
        chat_completion_reply("Issues #13 and #11 mention pagination.")
    } else if path.ends_with("/embeddings") {
        json!({
            "object": "list",
            "model": "text-embedding-3-small",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2}
        })
    } else {
        json!({"ok": true})
    };
    (
        [("content-type", "application/json")],
        Body::from(reply.to_string()),
    )
        .into_response()
}

pub fn chat_completion_reply(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    })
}

/// The committed GitHub issues fixture, pretty-printed as an API tool would return it.
pub fn github_issues_pretty() -> String {
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../headroom/tests/fixtures/github-issues.json"
    ))
    .unwrap();
    let value: Value = serde_json::from_str(&raw).unwrap();
    serde_json::to_string_pretty(&value).unwrap()
}

/// A real agent turn: the tool result is the GitHub issues listing.
pub fn chat_request() -> Value {
    json!({
        "model": "gpt-4o",
        "temperature": 0.2,
        "user": "agent-7",
        "metadata": {"run": "r-1"},
        "tools": [{
            "type": "function",
            "function": {
                "name": "list_issues",
                "description": "List the repository's issues.",
                "parameters": {"type": "object", "properties": {"state": {"type": "string"}}}
            }
        }],
        "messages": [
            {"role": "system", "content": "You triage GitHub issues."},
            {"role": "user", "content": "Which issues mention pagination?"},
            {"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "list_issues", "arguments": "{\"state\":\"open\"}"}
            }]},
            {"role": "tool", "tool_call_id": "call_1", "content": github_issues_pretty()}
        ]
    })
}

pub fn chat_body() -> Bytes {
    Bytes::from(serde_json::to_vec(&chat_request()).unwrap())
}

/// The upstream got a smaller, valid request carrying every field but the messages as sent.
pub fn assert_compressed(sent: &[u8], received: &[u8]) {
    assert!(
        received.len() < sent.len(),
        "expected a smaller body: sent {} bytes, upstream got {}",
        sent.len(),
        received.len()
    );
    let sent: Value = serde_json::from_slice(sent).unwrap();
    let received: Value = serde_json::from_slice(received).expect("upstream got valid JSON");
    for (key, value) in sent.as_object().unwrap() {
        match key.as_str() {
            "messages" => {
                let roles = |v: &Value| -> Vec<Value> {
                    v.as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m["role"].clone())
                        .collect()
                };
                assert_eq!(roles(value), roles(&received["messages"]));
            }
            "tools" => {
                let tools = received["tools"].as_array().unwrap();
                assert_eq!(
                    &tools[..value.as_array().unwrap().len()],
                    value.as_array().unwrap()
                );
            }
            _ => assert_eq!(&received[key], value, "field {key} changed"),
        }
    }
}

/// The final answer of the retrieving model.
pub const FINAL_ANSWER: &str = "Issues #13 and #11 mention pagination.";

/// The hash of the first marker in a request's messages, if any.
pub fn first_marker_hash(body: &[u8]) -> Option<String> {
    let request: Value = serde_json::from_slice(body).ok()?;
    request["messages"]
        .as_array()?
        .iter()
        .filter_map(|m| m["content"].as_str())
        .find_map(|text| headroom::marker::Marker::parse_all(text).into_iter().next())
        .map(|marker| marker.hash)
}

/// The committed `cargo build -vv` log of a failing build.
pub fn build_log() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt"
    ))
    .unwrap()
}

/// An agent turn whose tool result is a long build log: compressed lossily, with a marker.
pub fn log_request() -> Value {
    let mut request = chat_request();
    request["messages"][1]["content"] = json!("Why does the build fail?");
    request["messages"][2]["tool_calls"][0]["function"] =
        json!({"name": "run_command", "arguments": "{\"cmd\":\"cargo build -vv\"}"});
    request["messages"][3]["content"] = json!(build_log());
    request
}

fn model_reply(body: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap();
    let streaming = request["stream"] == true;
    let offered = request["tools"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["function"]["name"] == "headroom_retrieve")
    });
    let retrieved = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["role"] == "tool" && m["tool_call_id"] == "hr_1");
    let call = first_marker_hash(body).filter(|_| offered && !retrieved);
    if streaming {
        let chunk = |delta: Value, finish: Value| {
            let chunk = json!({
                "id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1_700_000_000,
                "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
            });
            format!("data: {chunk}\n\n")
        };
        let mut sse = String::new();
        match call {
            Some(hash) => {
                sse += &chunk(
                    json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "hr_1", "type": "function", "function": {"name": "headroom_retrieve", "arguments": ""}}]}),
                    Value::Null,
                );
                sse += &chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": format!("{{\"hash\":\"{hash}\"}}")}}]}),
                    Value::Null,
                );
                sse += &chunk(json!({}), json!("tool_calls"));
            }
            None => {
                sse += &chunk(json!({"role": "assistant", "content": ""}), Value::Null);
                for word in FINAL_ANSWER.split_inclusive(' ') {
                    sse += &chunk(json!({"content": word}), Value::Null);
                }
                sse += &chunk(json!({}), json!("stop"));
            }
        }
        sse += "data: [DONE]\n\n";
        return ([("content-type", "text/event-stream")], Body::from(sse)).into_response();
    }
    let reply = match call {
        Some(hash) => json!({
            "id": "chatcmpl-r", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [{"id": "hr_1", "type": "function", "function": {
                    "name": "headroom_retrieve", "arguments": json!({"hash": hash}).to_string()
                }}]
            }}]
        }),
        None => chat_completion_reply(FINAL_ANSWER),
    };
    (
        [("content-type", "application/json")],
        Body::from(reply.to_string()),
    )
        .into_response()
}

/// The tool message answering our call in a retrieval round's request.
pub fn retrieve_answer(round: &[u8]) -> String {
    let request: Value = serde_json::from_slice(round).unwrap();
    let messages = request["messages"].as_array().unwrap();
    let answer = messages
        .iter()
        .find(|m| m["role"] == "tool" && m["tool_call_id"] == "hr_1")
        .expect("the round carries our tool answer");
    answer["content"].as_str().unwrap().to_string()
}
