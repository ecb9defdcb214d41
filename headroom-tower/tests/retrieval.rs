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

#[tokio::test]
async fn raw_stack_answers_retrieve_calls_from_the_engine_store() {
    let upstream = Upstream::start_retrieving().await;
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer.with_retrieval())
        .service(HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let request = http::Request::post(upstream.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            serde_json::to_vec(&log_request()).unwrap(),
        )))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.extensions().get::<headroom::Report>().is_some());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], FINAL_ANSWER);
    assert_rounds(&upstream);
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
