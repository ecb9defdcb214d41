//! Fail open covers panics: a panic anywhere in the compression work — here a report hook that
//! panics, the same code path as a bug in the engine — never reaches the caller's task. The request
//! goes upstream as it came, inline (small bodies), on the blocking pool (big ones) and behind an
//! async store alike.

mod common;

use axum::body::Body;
use bytes::Bytes;
use common::{chat_body, chat_request, Upstream};
use headroom::store::{AsyncStore, MemoryStore};
use headroom_tower::{HeadroomLayer, BLOCKING_THRESHOLD};
use http::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use tower::{Layer, ServiceExt};

fn panicking() -> HeadroomLayer {
    HeadroomLayer.on_report(|_| panic!("a report hook with a bug"))
}

/// Sends `body` through `layer`; what the upstream received.
async fn send(layer: HeadroomLayer, upstream: &Upstream, body: Bytes) -> Bytes {
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    let request = Request::post(upstream.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = layer.layer(client).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.extensions().get::<headroom::Report>().is_none());
    upstream.seen().last().unwrap().body.clone()
}

/// A chat body over the blocking threshold.
fn big_body() -> Bytes {
    let mut request = chat_request();
    let filler =
        "all quiet on the build farm, nothing to report here\n".repeat(BLOCKING_THRESHOLD / 40);
    request["messages"][1]["content"] = serde_json::Value::String(filler);
    let body = Bytes::from(serde_json::to_vec(&request).unwrap());
    assert!(body.len() > BLOCKING_THRESHOLD);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_inline_forwards_the_original() {
    let upstream = Upstream::start().await;
    let body = chat_body();
    assert!(body.len() <= BLOCKING_THRESHOLD);
    assert_eq!(send(panicking(), &upstream, body.clone()).await, body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_on_the_blocking_pool_forwards_the_original() {
    let upstream = Upstream::start().await;
    let body = big_body();
    assert_eq!(send(panicking(), &upstream, body.clone()).await, body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_behind_an_async_store_forwards_the_original() {
    let upstream = Upstream::start().await;
    let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
    for body in [chat_body(), big_body()] {
        let layer = panicking()
            .with_async_store(store.clone())
            .max_concurrent_compressions(1);
        assert_eq!(send(layer, &upstream, body.clone()).await, body);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_on_a_current_thread_runtime_forwards_the_original() {
    let upstream = Upstream::start().await;
    for body in [chat_body(), big_body()] {
        assert_eq!(send(panicking(), &upstream, body.clone()).await, body);
    }
}
