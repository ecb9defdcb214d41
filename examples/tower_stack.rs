//! `HeadroomLayer` in a reqwest tower stack with retry and rate limiting.
//!
//! Run with `cargo run --example tower_stack`. It starts a local stand-in for the OpenAI API (set
//! `OPENAI_BASE_URL` and `OPENAI_API_KEY` to talk to a real one; https needs a TLS feature of
//! reqwest) and sends one agent turn whose tool result is a real GitHub API listing, then prints the
//! report and the bytes the server received.

use axum::body::Bytes;
use headroom_tower::HeadroomLayer;
use serde_json::json;
use std::time::Duration;
use tower::retry::{Policy, RetryLayer};
use tower::{ServiceBuilder, ServiceExt};

/// Retries 5xx answers and connection errors, re-sending the compressed request.
#[derive(Clone)]
struct RetryServerErrors {
    left: usize,
}

impl Policy<reqwest::Request, reqwest::Response, reqwest::Error> for RetryServerErrors {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        _request: &mut reqwest::Request,
        result: &mut Result<reqwest::Response, reqwest::Error>,
    ) -> Option<Self::Future> {
        let failed = result
            .as_ref()
            .map_or(true, |response| response.status().is_server_error());
        (failed && self.left > 0).then(|| {
            self.left -= 1;
            tokio::time::sleep(Duration::from_millis(200))
        })
    }

    fn clone_request(&mut self, request: &reqwest::Request) -> Option<reqwest::Request> {
        request.try_clone()
    }
}

/// A stand-in for the API that says how many bytes each chat request had.
async fn local_api() -> String {
    let app = axum::Router::new().fallback(|body: Bytes| async move {
        axum::Json(json!({
            "id": "chatcmpl-local", "object": "chat.completion", "created": 0, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": format!("received {} bytes", body.len())}}]
        }))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let base = match std::env::var("OPENAI_BASE_URL") {
        Ok(base) => base,
        Err(_) => local_api().await,
    };
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-local".into());

    let http = reqwest::Client::new();
    let client = ServiceBuilder::new()
        .layer(HeadroomLayer.on_report(|report| {
            println!(
                "headroom: {} → {} tokens ({} saved, {})",
                report.tokens_before,
                report.tokens_after,
                report.tokens_saved,
                report.transforms_applied.join(", ")
            )
        }))
        .buffer(64)
        .rate_limit(60, Duration::from_secs(60))
        .layer(RetryLayer::new(RetryServerErrors { left: 2 }))
        .service(http.clone());

    let issues: serde_json::Value = serde_json::from_str(include_str!(
        "../headroom/tests/fixtures/github-issues.json"
    ))?;
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which issues mention pagination?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "list_issues", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": serde_json::to_string_pretty(&issues)?}
        ]
    });
    let body = serde_json::to_vec(&body)?;
    println!("request body: {} bytes", body.len());
    let request = http
        .post(format!("{base}/chat/completions"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .build()?;
    let response = client.oneshot(request).await?;
    let reply: serde_json::Value = response.json().await?;
    println!("model: {}", reply["choices"][0]["message"]["content"]);
    Ok(())
}
