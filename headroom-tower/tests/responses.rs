//! The Responses API (`POST /v1/responses`) through the tower doors over loopback HTTP:
//! async-openai's `responses().create()` and `create_stream()` through `with_headroom`, and a raw
//! hyper stack behind `HeadroomLayer`. The fake upstream asks for the elided original once; the
//! caller sees only the final answer.

use async_openai::config::OpenAIConfig;
use async_openai::types::responses::{CreateResponse, OutputItem, ResponseStreamEvent};
use async_openai::Client;
use bytes::Bytes;
use futures_util::StreamExt;
use headroom_tower::async_openai::with_headroom;
use headroom_tower::HeadroomLayer;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tower::{ServiceBuilder, ServiceExt};

#[path = "../../headroom/tests/support/responses_upstream.rs"]
mod responses_upstream;
use responses_upstream::{marker_hash, ResponsesUpstream};

const BUILD_LOG: &str =
    include_str!("../../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt");
const FINAL: &str = "retrieved error[E0308]: true";

fn request_json() -> Value {
    json!({"model":"gpt-4o",
        "input":[
            {"role":"user","content":"Why did the build fail?"},
            {"type":"function_call","call_id":"call_1","name":"cargo_build","arguments":"{}"},
            {"type":"function_call_output","call_id":"call_1","output":BUILD_LOG},
        ],
        "tools":[{"type":"function","name":"cargo_build","parameters":{"type":"object","properties":{}}}]})
}

fn client(up: &ResponsesUpstream) -> Client<OpenAIConfig> {
    with_headroom(Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{}/v1", up.url))
            .with_api_key("sk-test"),
    ))
}

/// The upstream got the compressed request (marked, the flat tool appended), then one round
/// carrying the original.
fn assert_round(up: &ResponsesUpstream) {
    let seen = up.seen();
    assert_eq!(seen.len(), 2, "one retrieval round");
    let output = seen[0]["input"][2]["output"].as_str().unwrap();
    assert!(output.len() < BUILD_LOG.len() / 3 && marker_hash(output).is_some());
    assert_eq!(seen[0]["tools"][1]["name"], "headroom_retrieve");
    let answer = &seen[1]["input"].as_array().unwrap().last().unwrap()["output"];
    assert!(answer
        .as_str()
        .unwrap()
        .contains("error[E0308]: mismatched types"));
}

fn text_of(output: &[OutputItem]) -> String {
    let value = serde_json::to_value(output).unwrap();
    value[0]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn with_headroom_compresses_responses_create_and_answers_the_round() {
    let up = ResponsesUpstream::start().await;
    let request: CreateResponse = serde_json::from_value(request_json()).unwrap();
    let response = client(&up).responses().create(request).await.unwrap();
    assert_eq!(response.output.len(), 1);
    assert_eq!(text_of(&response.output), FINAL);
    assert_round(&up);
}

#[tokio::test]
async fn with_headroom_resolves_the_round_in_create_stream() {
    let up = ResponsesUpstream::start().await;
    let mut request: CreateResponse = serde_json::from_value(request_json()).unwrap();
    request.stream = Some(true);
    let mut stream = client(&up)
        .responses()
        .create_stream(request)
        .await
        .unwrap();
    let mut text = String::new();
    let mut completed = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            ResponseStreamEvent::ResponseOutputTextDelta(delta) => text.push_str(&delta.delta),
            ResponseStreamEvent::ResponseFunctionCallArgumentsDelta(_) => {
                panic!("our call reached the agent")
            }
            ResponseStreamEvent::ResponseCompleted(done) => completed = Some(done.response),
            _ => {}
        }
    }
    assert_eq!(text, FINAL);
    assert_eq!(text_of(&completed.unwrap().output), FINAL);
    assert_round(&up);
}

#[tokio::test]
async fn the_layer_compresses_post_responses_over_a_raw_stack() {
    let up = ResponsesUpstream::start().await;
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer.with_retrieval())
        .service(HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let request = http::Request::post(format!("{}/v1/responses", up.url))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(request_json().to_string())))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let report = response.extensions().get::<headroom::Report>().cloned();
    assert!(report.unwrap().tokens_saved > 10_000);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let reply: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply["output"][0]["content"][0]["text"], FINAL);
    assert_round(&up);
}

/// The agent's next request after a reply that called its `run_tests`: chained on the reply,
/// answering only that call. The upstream rejects it unless the door adds our answer.
fn chained_on(reply: &Value) -> Value {
    let output = reply["output"].as_array().unwrap();
    assert_eq!(output.len(), 1, "only the agent's call: {reply}");
    assert_eq!(output[0]["name"], "run_tests");
    json!({"model":"gpt-4o","previous_response_id":reply["id"],
        "input":[{"type":"function_call_output","call_id":output[0]["call_id"],"output":"ok"}]})
}

/// The chained request the upstream got: the agent's output, then our answer.
fn assert_carried(up: &ResponsesUpstream) {
    let seen = up.seen();
    let input = seen.last().unwrap()["input"].as_array().unwrap().clone();
    assert_eq!(input.len(), 2);
    assert_eq!(input[1]["call_id"], "call_hr1");
    assert!(input[1]["output"]
        .as_str()
        .unwrap()
        .contains("error[E0308]: mismatched types"));
}

#[tokio::test]
async fn the_layer_answers_our_calls_of_a_mixed_reply_in_the_chained_request() {
    let up = ResponsesUpstream::start().await;
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer.with_retrieval())
        .service(HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let send = |body: Value| {
        let request = http::Request::post(format!("{}/v1/responses", up.url))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let service = service.clone();
        async move {
            let response = service.oneshot(request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };
    let mut first = request_json();
    first["metadata"] = json!({"mixed":"ours_first"});
    let (status, reply) = send(first).await;
    assert_eq!(status, 200);
    let (status, last) = send(chained_on(&reply)).await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(last["output"][0]["content"][0]["text"], FINAL);
    assert_carried(&up);
}

#[tokio::test]
async fn with_headroom_answers_our_calls_of_a_streamed_mixed_reply_in_the_chained_request() {
    let up = ResponsesUpstream::start().await;
    let client = client(&up);
    let mut first = request_json();
    first["metadata"] = json!({"mixed":"agent_first"});
    first["stream"] = json!(true);
    let request: CreateResponse = serde_json::from_value(first).unwrap();
    let mut stream = client.responses().create_stream(request).await.unwrap();
    let mut completed = None;
    while let Some(event) = stream.next().await {
        if let ResponseStreamEvent::ResponseCompleted(done) = event.unwrap() {
            completed = Some(serde_json::to_value(done.response).unwrap());
        }
    }
    let next: CreateResponse = serde_json::from_value(chained_on(&completed.unwrap())).unwrap();
    let response = client.responses().create(next).await.unwrap();
    assert_eq!(text_of(&response.output), FINAL);
    assert_carried(&up);
}

#[tokio::test]
async fn async_openai_through_an_explicit_headroom_layer_stack() {
    use async_openai::middleware::{retry::OpenAIRetryLayer, ReqwestService};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let up = ResponsesUpstream::start().await;
    let saved = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = saved.clone();
    let service = ServiceBuilder::new()
        .layer(
            HeadroomLayer
                .on_report(move |r| {
                    seen.fetch_add(r.tokens_saved, Ordering::SeqCst);
                })
                .with_retrieval(),
        )
        .layer(OpenAIRetryLayer::default())
        .service(ReqwestService::new(reqwest::Client::new()));
    let config = OpenAIConfig::new()
        .with_api_base(format!("{}/v1", up.url))
        .with_api_key("sk-test");
    let client = Client::with_config(config).with_http_service(service);
    let request: CreateResponse = serde_json::from_value(request_json()).unwrap();
    let response = client.responses().create(request).await.unwrap();
    assert_eq!(text_of(&response.output), FINAL);
    assert!(saved.load(Ordering::SeqCst) > 10_000);
    assert_round(&up);
}
