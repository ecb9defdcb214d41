//! `#[headroom]` end to end: an agent function using async-openai's client, talking to a local
//! fake OpenAI server, with its request compressed on entry.
//!
//! Run with `cargo run --example agent_macro`. It prints the tokens of the request as built, of the
//! request the server received, and what was saved; `RUST_LOG`-style output of the engine's own
//! `tracing` event (target `headroom`) is printed too.

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessage,
    CreateChatCompletionRequest,
};
use async_openai::Client;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use headroom::marker::{Marker, RETRIEVE_TOOL_NAME};
use headroom::{headroom, Headroom};
use serde_json::{json, Value};
use std::sync::{Arc, LazyLock, Mutex};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The engine the agent shares with its loop: what it elides, it can hand back.
static ENGINE: LazyLock<Headroom> = LazyLock::new(|| {
    Headroom::builder()
        .model("gpt-4o")
        .build()
        .expect("the default configuration is valid")
});

/// An agent: asks the model, answers its `headroom_retrieve` calls, returns the final answer.
#[headroom(config = ENGINE)]
async fn triage(
    client: &Client<OpenAIConfig>,
    mut request: CreateChatCompletionRequest,
) -> Result<String, OpenAIError> {
    loop {
        let response = client.chat().create(request.clone()).await?;
        let Some(choice) = response.choices.into_iter().next() else {
            return Ok(String::new());
        };
        let message = choice.message;
        let calls = message.tool_calls.unwrap_or_default();
        if calls.is_empty() {
            return Ok(message.content.unwrap_or_default());
        }
        request.messages.push(
            ChatCompletionRequestAssistantMessage {
                tool_calls: Some(calls.clone()),
                ..Default::default()
            }
            .into(),
        );
        for call in &calls {
            if let ChatCompletionMessageToolCalls::Function(call) = call {
                // A real agent dispatches its own tools here; Headroom answers its own.
                request.messages.push(ENGINE.answer_tool_call(call).into());
            }
        }
    }
}

/// What the fake server saw: every request body, as sent.
#[derive(Default)]
struct Seen(Mutex<Vec<Value>>);

/// A stand-in for the model: retrieves an elided original once, then answers.
async fn chat_completions(State(seen): State<Arc<Seen>>, Json(body): Json<Value>) -> Json<Value> {
    seen.0.lock().unwrap().push(body.clone());
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let retrieved = messages
        .iter()
        .any(|m| m["role"] == "tool" && m["tool_call_id"] == "call_retrieve");
    let offers_retrieve = body["tools"].as_array().is_some_and(|tools| {
        tools
            .iter()
            .any(|t| t["function"]["name"] == RETRIEVE_TOOL_NAME)
    });
    let marker = messages
        .iter()
        .filter_map(|m| m["content"].as_str())
        .find_map(|text| Marker::parse_all(text).into_iter().next());
    let message = match marker {
        Some(marker) if offers_retrieve && !retrieved => json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": "call_retrieve",
                "type": "function",
                "function": {"name": RETRIEVE_TOOL_NAME, "arguments": json!({"hash": marker.hash}).to_string()}
            }]
        }),
        _ => {
            let issues = messages.iter().filter(|m| m["role"] == "tool").count();
            json!({
                "role": "assistant",
                "content": format!("Read {} tool results; issue #13 has the most comments.", issues)
            })
        }
    };
    Json(json!({
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": null
    }))
}

/// The recorded GitHub issues page, repeated into a longer listing with every issue renumbered.
fn issue_listing(pages: u64) -> Value {
    let page: Vec<Value> = serde_json::from_str(include_str!(
        "../headroom/tests/fixtures/github-issues.json"
    ))
    .expect("the fixture is JSON");
    let issues = (0..pages)
        .flat_map(|p| {
            page.iter().map(move |issue| {
                let number = issue["number"].as_u64().unwrap_or(0) + 13 * p;
                let mut issue = issue.clone();
                issue["number"] = json!(number);
                issue["title"] = json!(format!("Test issue {number}"));
                issue
            })
        })
        .collect();
    Value::Array(issues)
}

/// Tokens of a request body as it goes over the wire.
fn tokens(body: &str) -> usize {
    headroom::tokens::counter_for_model("gpt-4o").count(body)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(
            tracing_subscriber::filter::Targets::new()
                .with_target("headroom", tracing::Level::DEBUG),
        )
        .init();

    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("http://{address}/v1"))
            .with_api_key("not-needed-locally"),
    );
    let request: CreateChatCompletionRequest = serde_json::from_value(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You triage GitHub issues."},
            {"role": "user", "content": "Which open issue has the most comments?"},
            {"role": "assistant", "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "list_issues", "arguments": "{\"state\":\"open\"}"}
            }]},
            {"role": "tool", "tool_call_id": "call_1",
             "content": serde_json::to_string_pretty(&issue_listing(6))?}
        ]
    }))?;
    let built = tokens(&serde_json::to_string(&request)?);

    let answer = triage(&client, request).await?;

    let received = seen.0.lock().unwrap().clone();
    let first = received.first().ok_or("the server received no request")?;
    let sent = tokens(&first.to_string());
    println!("request as built:        {built} tokens");
    println!("request the server got:  {sent} tokens");
    println!(
        "saved:                   {} tokens ({:.0}%)",
        built.saturating_sub(sent),
        100.0 * built.saturating_sub(sent) as f64 / built as f64
    );
    let retrieved = received
        .iter()
        .flat_map(|body| body["messages"].as_array().cloned().unwrap_or_default())
        .find(|m| m["tool_call_id"] == "call_retrieve")
        .and_then(|m| m["content"].as_str().map(tokens));
    println!("model round trips:       {}", received.len());
    if let Some(retrieved) = retrieved {
        println!("retrieved on request:    {retrieved} tokens");
    }
    println!("answer:                  {answer}");
    Ok(())
}
