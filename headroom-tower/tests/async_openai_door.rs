//! The async-openai door over loopback HTTP: `with_headroom(client)` and a raw `with_http_service` stack.

mod common;

use async_openai::config::OpenAIConfig;
use async_openai::middleware::{retry::OpenAIRetryLayer, ReqwestService};
use async_openai::types::chat::CreateChatCompletionRequest;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};
use async_openai::Client;
use common::{assert_compressed, chat_request, github_issues_pretty, Upstream};
use headroom_tower::async_openai::with_headroom;
use headroom_tower::HeadroomLayer;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tower::ServiceBuilder;

fn config(upstream: &Upstream) -> OpenAIConfig {
    OpenAIConfig::new()
        .with_api_base(upstream.url("/v1"))
        .with_api_key("sk-test")
}

fn typed_request() -> CreateChatCompletionRequest {
    serde_json::from_value(chat_request()).unwrap()
}

#[tokio::test]
async fn with_headroom_keeps_the_client_type_and_compresses_chat() {
    let upstream = Upstream::start().await;
    let client: Client<OpenAIConfig> = with_headroom(Client::with_config(config(&upstream)));
    let request = typed_request();
    let sent = serde_json::to_vec(&request).unwrap();
    let response = client.chat().create(request).await.unwrap();
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some("Issues #13 and #11 mention pagination.")
    );
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].headers["authorization"], "Bearer sk-test");
    assert_compressed(&sent, &seen[0].body);
}

#[tokio::test]
async fn with_headroom_passes_other_apis_through_byte_for_byte() {
    let upstream = Upstream::start().await;
    let client = with_headroom(Client::with_config(config(&upstream)));
    let request = CreateEmbeddingRequest {
        model: "text-embedding-3-small".into(),
        input: EmbeddingInput::String(github_issues_pretty()),
        encoding_format: None,
        user: None,
        dimensions: None,
    };
    let sent = serde_json::to_vec(&request).unwrap();
    let response = client.embeddings().create(request).await.unwrap();
    assert_eq!(response.data.len(), 1);
    let seen = upstream.seen();
    assert_eq!(seen[0].path, "/v1/embeddings");
    assert!(seen[0].body == sent, "embeddings body changed");
}

#[tokio::test]
async fn raw_stack_retries_the_compressed_body_and_compresses_once() {
    let upstream = Upstream::start().await;
    upstream.fail_next(1);
    let compressions = Arc::new(AtomicUsize::new(0));
    let counted = compressions.clone();
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer.on_report(move |report| {
            assert!(report.tokens_saved > 0);
            counted.fetch_add(1, Ordering::SeqCst);
        }))
        .layer(OpenAIRetryLayer::default())
        .service(ReqwestService::new(reqwest::Client::new()));
    let client = Client::with_config(config(&upstream)).with_http_service(service);
    let request = typed_request();
    let sent = serde_json::to_vec(&request).unwrap();
    client.chat().create(request).await.unwrap();
    let seen = upstream.seen();
    assert_eq!(seen.len(), 2, "a 500, then a 200");
    assert_eq!(seen[0].body, seen[1].body);
    assert_compressed(&sent, &seen[0].body);
    assert_eq!(
        compressions.load(Ordering::SeqCst),
        1,
        "compressed once per call"
    );
}

#[tokio::test]
async fn with_headroom_http_sends_with_the_callers_own_client() {
    use headroom_tower::async_openai::{with_headroom_http, with_headroom_service};
    let upstream = Upstream::start().await;
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-team", "agents-7".parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(defaults)
        .user_agent("my-agent/1.0")
        .build()
        .unwrap();
    let client = with_headroom_http(
        Client::with_config(config(&upstream)),
        HeadroomLayer,
        http.clone(),
    );
    let request = typed_request();
    let sent = serde_json::to_vec(&request).unwrap();
    client.chat().create(request).await.unwrap();
    let seen = upstream.seen();
    assert_eq!(
        seen[0].headers["x-team"], "agents-7",
        "the caller's default headers"
    );
    assert_eq!(seen[0].headers["user-agent"], "my-agent/1.0");
    assert_compressed(&sent, &seen[0].body);

    // A whole stack of the caller's: every call goes through it, compressed once.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let stack = ServiceBuilder::new()
        .map_request(
            move |factory: async_openai::middleware::HttpRequestFactory| {
                counted.fetch_add(1, Ordering::SeqCst);
                factory
            },
        )
        .service(ReqwestService::new(http));
    let client =
        with_headroom_service(Client::with_config(config(&upstream)), HeadroomLayer, stack);
    client.chat().create(typed_request()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let seen = upstream.seen();
    assert_eq!(seen.last().unwrap().headers["x-team"], "agents-7");
    assert_compressed(&sent, &seen.last().unwrap().body);
}
