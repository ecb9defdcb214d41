//! Retrieval rounds over loopback HTTP: a model that asks for an elided original gets it, and the
//! caller sees only the final answer — through a raw tower stack and through `with_headroom`,
//! streaming and not.

mod common;

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::CreateChatCompletionRequest;
use async_openai::Client;
use bytes::Bytes;
use common::{build_log, first_marker_hash, log_request, retrieve_answer, Upstream, FINAL_ANSWER};
use futures_util::StreamExt;
use headroom_tower::async_openai::with_headroom;
use headroom_tower::HeadroomLayer;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use tower::{ServiceBuilder, ServiceExt};

/// The exchange went: compressed request with a marker → our call → a round carrying the original.
fn assert_rounds(upstream: &Upstream) {
    let seen = upstream.seen();
    assert_eq!(seen.len(), 2, "one retrieval round");
    let hash = first_marker_hash(&seen[0].body).expect("the compressed request has a marker");
    let answer = retrieve_answer(&seen[1].body);
    let original = build_log();
    // The answer is the original (paged when it is long): its lines, in order, from the start.
    let first_lines: Vec<&str> = original.lines().take(40).collect();
    assert!(
        answer.contains(&first_lines.join("\n")),
        "the round carries the original behind hash {hash}, got: {}",
        &answer[..answer.len().min(400)]
    );
}

/// Sends `request` (JSON) through `layer` over a raw hyper stack; the status and the body the
/// caller gets.
async fn through_raw_stack(
    layer: headroom_tower::retrieval::RetrievalLayer,
    upstream: &Upstream,
    request: &serde_json::Value,
) -> (http::StatusCode, Bytes) {
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let request = http::Request::post(upstream.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(request).unwrap())))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert!(response.extensions().get::<headroom::Report>().is_some());
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test]
async fn raw_stack_answers_retrieve_calls_from_the_engine_store() {
    let upstream = Upstream::start_retrieving().await;
    let (status, body) =
        through_raw_stack(HeadroomLayer.with_retrieval(), &upstream, &log_request()).await;
    assert_eq!(status, 200);
    let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], FINAL_ANSWER);
    assert_rounds(&upstream);
}

/// The text an SSE body streams, and whether any event carried a tool call.
fn streamed_text(body: &[u8]) -> (String, bool) {
    let mut text = String::new();
    let mut calls = false;
    for data in String::from_utf8_lossy(body)
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
    {
        if data == "[DONE]" {
            continue;
        }
        let chunk: serde_json::Value = serde_json::from_str(data).unwrap();
        let delta = &chunk["choices"][0]["delta"];
        calls |= delta.get("tool_calls").is_some();
        text.push_str(delta["content"].as_str().unwrap_or(""));
    }
    (text, calls)
}

#[tokio::test]
async fn raw_stack_resolves_a_streamed_round_from_the_layers_async_store() {
    use headroom::store::{AsyncStore, MemoryStore};
    use std::sync::Arc;
    let upstream = Upstream::start_retrieving().await;
    let store = Arc::new(MemoryStore::default());
    let layer = HeadroomLayer::new(headroom::Headroom::default())
        .with_async_store(store.clone() as Arc<dyn AsyncStore>)
        .with_retrieval();
    let mut request = log_request();
    request["stream"] = serde_json::json!(true);
    let (status, body) = through_raw_stack(layer, &upstream, &request).await;
    assert_eq!(status, 200);
    let (text, calls) = streamed_text(&body);
    assert_eq!(text, FINAL_ANSWER);
    assert!(!calls, "our call reached the caller");
    assert_rounds(&upstream);
    let hash = first_marker_hash(&upstream.seen()[0].body).unwrap();
    assert!(AsyncStore::get(store.as_ref(), "default", &hash)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_reply_over_the_reply_limit_reaches_the_caller_as_it_came() {
    for streaming in [false, true] {
        let upstream = Upstream::start_retrieving().await;
        let mut config = headroom::Config::default();
        config.max_reply_bytes = 64;
        let engine = headroom::Headroom::builder()
            .config(config)
            .build()
            .unwrap();
        let mut request = log_request();
        request["stream"] = serde_json::json!(streaming);
        let (status, body) = through_raw_stack(
            HeadroomLayer::new(engine).with_retrieval(),
            &upstream,
            &request,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            upstream.seen().len(),
            1,
            "no round sent: the reply was not read"
        );
        assert!(
            String::from_utf8_lossy(&body).contains("headroom_retrieve"),
            "streaming {streaming}: the model's call, as it came"
        );
    }
}

fn client(upstream: &Upstream) -> Client<OpenAIConfig> {
    with_headroom(Client::with_config(
        OpenAIConfig::new()
            .with_api_base(upstream.url("/v1"))
            .with_api_key("sk-test"),
    ))
}

#[tokio::test]
async fn with_headroom_resolves_a_retrieve_round() {
    let upstream = Upstream::start_retrieving().await;
    let request: CreateChatCompletionRequest = serde_json::from_value(log_request()).unwrap();
    let response = client(&upstream).chat().create(request).await.unwrap();
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some(FINAL_ANSWER)
    );
    assert!(response.choices[0].message.tool_calls.is_none());
    assert_rounds(&upstream);
}

#[tokio::test]
async fn with_headroom_resolves_a_retrieve_round_in_a_stream() {
    let upstream = Upstream::start_retrieving().await;
    let mut request: CreateChatCompletionRequest = serde_json::from_value(log_request()).unwrap();
    request.stream = Some(true);
    let mut stream = client(&upstream)
        .chat()
        .create_stream(request)
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for choice in chunk.choices {
            assert!(
                choice.delta.tool_calls.is_none(),
                "our call reached the agent"
            );
            text.push_str(choice.delta.content.as_deref().unwrap_or(""));
        }
    }
    assert_eq!(text, FINAL_ANSWER);
    assert_rounds(&upstream);
}
