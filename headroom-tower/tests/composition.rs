//! `HeadroomLayer` next to tower's retry, buffer, rate-limit, concurrency-limit and timeout layers.

mod common;

use bytes::Bytes;
use common::{assert_compressed, chat_body, RetryServerErrors, Upstream};
use headroom_tower::{BoxError, HeadroomLayer};
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};

fn chat_request(upstream: &Upstream, body: Bytes) -> Request<Full<Bytes>> {
    Request::post(upstream.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Full::new(body))
        .unwrap()
}

#[tokio::test]
async fn retry_inside_resends_the_compressed_body_compressed_once() {
    let upstream = Upstream::start().await;
    upstream.fail_next(1);
    let compressions = Arc::new(AtomicUsize::new(0));
    let counted = compressions.clone();
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer.on_report(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        }))
        .layer(RetryLayer::new(RetryServerErrors { left: 2 }))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let sent = chat_body();
    let response = service
        .oneshot(chat_request(&upstream, sent.clone()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 2, "a 500 then a 200");
    assert_eq!(seen[0].body, seen[1].body, "the same body both times");
    assert_compressed(&sent, &seen[1].body);
    assert_eq!(compressions.load(Ordering::SeqCst), 1, "compressed once");
}

#[tokio::test]
async fn buffer_rate_limit_concurrency_limit_timeout_complete_200_calls() {
    let upstream = Upstream::start().await;
    let service = ServiceBuilder::new()
        .layer(HeadroomLayer)
        .buffer(64)
        .concurrency_limit(16)
        .rate_limit(100, Duration::from_millis(50))
        .timeout(Duration::from_secs(30))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let sent = chat_body();
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let call = service
                .clone()
                .oneshot(chat_request(&upstream, sent.clone()));
            tokio::spawn(call)
        })
        .collect();
    for call in calls {
        let response: Response<_> = call.await.unwrap().map_err(|e: BoxError| e).unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.extensions().get::<headroom::Report>().is_some());
    }
    let seen = upstream.seen();
    assert_eq!(seen.len(), 200);
    for request in &seen {
        assert_eq!(request.body, seen[0].body, "deterministic output");
    }
    assert_compressed(&sent, &seen[0].body);
}
