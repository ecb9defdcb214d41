//! `with_headroom(client)`: the async-openai client you have, compressing its chat requests and
//! answering the model's `headroom_retrieve` calls before your code sees them.
//!
//! Run with `cargo run --example async_openai`. A local stand-in for the API plays a model that
//! asks for the elided part of a long build log once, then answers; the agent code below is plain
//! async-openai and sees only that answer. Set `OPENAI_BASE_URL` and `OPENAI_API_KEY` to talk to a
//! real API instead (https needs a TLS feature of reqwest).

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::CreateChatCompletionRequest;
use async_openai::Client;
use axum::body::Bytes;
use headroom::marker::Marker;
use headroom_tower::async_openai::with_headroom;
use serde_json::{json, Value};

/// A model that retrieves the first elided original it is shown, once, then answers.
fn model(request: &Value) -> Value {
    let retrieved = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool" && m["tool_call_id"] == "r1");
    let marker = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"].as_str())
        .find_map(|text| Marker::parse_all(text).into_iter().next());
    let message = match (retrieved, marker) {
        (None, Some(marker)) => json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "r1", "type": "function",
            "function": {"name": "headroom_retrieve", "arguments": json!({"hash": marker.hash, "query": "error"}).to_string()}
        }]}),
        (Some(answer), _) => json!({"role": "assistant", "content": format!(
            "Read {} lines of the elided log; the build fails on a type error.",
            answer["content"].as_str().unwrap_or("").lines().count()
        )}),
        (None, None) => json!({"role": "assistant", "content": "Nothing was elided."}),
    };
    json!({"id": "chatcmpl-local", "object": "chat.completion", "created": 0, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}]})
}

async fn local_api() -> String {
    let app = axum::Router::new().fallback(|body: Bytes| async move {
        let request: Value = serde_json::from_slice(&body).unwrap_or_default();
        println!(
            "  api received {} bytes, {} messages",
            body.len(),
            request["messages"].as_array().map_or(0, Vec::len)
        );
        axum::Json(model(&request))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = match std::env::var("OPENAI_BASE_URL") {
        Ok(base) => base,
        Err(_) => local_api().await,
    };
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-local".into());
    let client = with_headroom(Client::with_config(
        OpenAIConfig::new().with_api_base(base).with_api_key(key),
    ));

    let log = include_str!("../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt");
    let request: CreateChatCompletionRequest = serde_json::from_value(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Why does the build fail?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "run", "arguments": "{\"cmd\":\"cargo build -vv\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": log}
        ]
    }))?;
    println!("request: {} bytes", serde_json::to_vec(&request)?.len());
    let response = client.chat().create(request).await?;
    println!(
        "model: {}",
        response.choices[0].message.content.as_deref().unwrap_or("")
    );
    Ok(())
}
