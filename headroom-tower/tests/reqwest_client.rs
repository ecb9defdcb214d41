//! `HeadroomLayer` in front of `reqwest::Client`, over loopback HTTP.

mod common;

use common::{assert_compressed, chat_body, RetryServerErrors, Upstream};
use headroom_tower::HeadroomLayer;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};

fn post(client: &reqwest::Client, url: String, body: bytes::Bytes) -> reqwest::Request {
    client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .build()
        .unwrap()
}

#[tokio::test]
async fn chat_completion_is_compressed_and_reported() {
    let upstream = Upstream::start().await;
    let http = reqwest::Client::new();
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer)
        .service(http.clone());
    let sent = chat_body();
    let response = service
        .oneshot(post(
            &http,
            upstream.url("/v1/chat/completions"),
            sent.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report = response.extensions().get::<headroom::Report>().unwrap();
    assert!(report.tokens_saved > 0);
    let seen = upstream.seen();
    assert_compressed(&sent, &seen[0].body);
    assert_eq!(
        seen[0].headers["content-length"],
        seen[0].body.len().to_string().as_str()
    );
}

#[tokio::test]
async fn other_requests_pass_through_byte_for_byte() {
    let upstream = Upstream::start().await;
    let http = reqwest::Client::new();
    let sent = chat_body();
    let embeddings = post(&http, upstream.url("/v1/embeddings"), sent.clone());
    let mut bypass = post(&http, upstream.url("/v1/chat/completions"), sent.clone());
    bypass
        .headers_mut()
        .insert("x-headroom-bypass", "true".parse().unwrap());
    let mut encoded = post(&http, upstream.url("/v1/chat/completions"), sent.clone());
    encoded
        .headers_mut()
        .insert("content-encoding", "br".parse().unwrap());
    let malformed = sent.slice(..sent.len() - 1);
    let broken = post(
        &http,
        upstream.url("/v1/chat/completions"),
        malformed.clone(),
    );
    let cases = [
        (embeddings, &sent),
        (bypass, &sent),
        (encoded, &sent),
        (broken, &malformed),
    ];
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer)
        .service(http.clone());
    for (index, (request, body)) in cases.into_iter().enumerate() {
        let path = request.url().path().to_string();
        let response = service.clone().oneshot(request).await.unwrap();
        assert!(response.extensions().get::<headroom::Report>().is_none());
        assert!(
            upstream.seen()[index].body == *body,
            "case {index} ({path})"
        );
    }
}

#[tokio::test]
async fn retry_resends_the_compressed_body_and_reqwest_errors_pass_through() {
    let upstream = Upstream::start().await;
    upstream.fail_next(1);
    let compressions = Arc::new(AtomicUsize::new(0));
    let counted = compressions.clone();
    let http = reqwest::Client::new();
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer.on_report(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        }))
        .layer(RetryLayer::new(RetryServerErrors { left: 2 }))
        .service(http.clone());
    let sent = chat_body();
    let response = service
        .clone()
        .oneshot(post(
            &http,
            upstream.url("/v1/chat/completions"),
            sent.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
    assert_compressed(&sent, &seen[1].body);
    assert_eq!(compressions.load(Ordering::SeqCst), 1);

    // Nothing listens on port 9 of a fresh loopback address: the error is reqwest's own.
    let error: reqwest::Error = ServiceBuilder::new()
        .layer(HeadroomLayer)
        .service(http.clone())
        .oneshot(post(
            &http,
            "http://127.0.0.1:9/v1/chat/completions".into(),
            sent,
        ))
        .await
        .unwrap_err();
    assert!(error.is_connect() || error.is_request(), "{error}");
}
