//! A fake OpenAI upstream on loopback that records what it receives, and a real compressible request.
#![allow(dead_code)]

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
}

/// An OpenAI-shaped server on 127.0.0.1 with a random port.
pub struct Upstream {
    pub base: String,
    shared: Shared,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let shared = Shared::default();
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
        body,
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
