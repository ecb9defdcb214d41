//! The request's `Namespace` extension and the layer's async store, over loopback HTTP.

mod common;

use axum::body::Body;
use bytes::Bytes;
use common::{assert_compressed, chat_body, first_marker_hash, Upstream};
use headroom::store::{AsyncStore, MemoryStore, Store, StoreError, StoreFuture};
use headroom::{Headroom, Report};
use headroom_tower::{HeadroomLayer, Namespace};
use http::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use tower::{Layer, ServiceExt};

fn chat_request(upstream: &Upstream, body: Bytes, namespace: Option<&str>) -> Request<Body> {
    let mut request = Request::post(upstream.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    if let Some(name) = namespace {
        request.extensions_mut().insert(Namespace::new(name));
    }
    request
}

/// Sends one chat request through `layer` to `upstream`; the report and the body the upstream got.
async fn send(
    layer: &HeadroomLayer,
    upstream: &Upstream,
    namespace: Option<&str>,
) -> (Report, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    let response = layer
        .layer(client)
        .oneshot(chat_request(upstream, chat_body(), namespace))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report = response.extensions().get::<Report>().unwrap().clone();
    let received = upstream.seen().last().unwrap().body.clone();
    (report, received)
}

fn engine_with(store: Arc<MemoryStore>) -> Headroom {
    Headroom::builder().store(store).build().unwrap()
}

#[tokio::test]
async fn the_namespace_extension_keeps_originals_apart_in_the_engine_store() {
    let upstream = Upstream::start().await;
    let store = Arc::new(MemoryStore::default());
    let layer = HeadroomLayer::new(engine_with(store.clone()));
    let (report, received) = send(&layer, &upstream, Some("tenant-a")).await;
    assert_compressed(&chat_body(), &received);
    let hash = first_marker_hash(&received).expect("a lossy elision with a marker");
    assert!(report.ccr_hashes.contains(&hash));
    assert!(Store::get(store.as_ref(), "tenant-a", &hash)
        .unwrap()
        .is_some());
    assert_eq!(Store::get(store.as_ref(), "tenant-b", &hash).unwrap(), None);
    assert_eq!(Store::get(store.as_ref(), "default", &hash).unwrap(), None);
}

#[tokio::test]
async fn originals_go_to_the_async_store_under_the_request_namespace() {
    let upstream = Upstream::start().await;
    let engine_store = Arc::new(MemoryStore::default());
    let shared = Arc::new(MemoryStore::default());
    let layer = HeadroomLayer::new(engine_with(engine_store.clone()))
        .with_async_store(shared.clone())
        .max_concurrent_compressions(1);
    let (report, received) = send(&layer, &upstream, Some("tenant-a")).await;
    assert_compressed(&chat_body(), &received);
    assert_eq!(report.passthrough_reason, None);
    assert!(!report.ccr_hashes.is_empty());
    for hash in &report.ccr_hashes {
        let kept = AsyncStore::get(shared.as_ref(), "tenant-a", hash)
            .await
            .unwrap();
        assert!(kept.is_some_and(|text| !text.is_empty()));
        assert_eq!(
            AsyncStore::get(shared.as_ref(), "tenant-b", hash)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            Store::get(engine_store.as_ref(), "tenant-a", hash).unwrap(),
            None
        );
    }
    // Without the extension: the default namespace of the same store.
    let (report, _) = send(&layer, &upstream, None).await;
    let hash = &report.ccr_hashes[0];
    assert!(AsyncStore::get(shared.as_ref(), "default", hash)
        .await
        .unwrap()
        .is_some());
}

/// An async store whose every write fails, as a Redis that went away.
struct Down;

impl AsyncStore for Down {
    fn put<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
    fn get<'a>(&'a self, _: &'a str, _: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
}

#[tokio::test]
async fn a_failing_async_store_gives_a_lossless_compression() {
    let upstream = Upstream::start().await;
    let layer = HeadroomLayer::new(Headroom::default()).with_async_store(Arc::new(Down));
    let (report, received) = send(&layer, &upstream, Some("tenant-a")).await;
    assert!(matches!(
        report.lossless_fallback,
        Some(headroom::LosslessFallback::StoreUnavailable(ref e)) if e.contains("connection refused")
    ));
    assert!(report.ccr_hashes.is_empty(), "{report:?}");
    assert_eq!(first_marker_hash(&received), None, "nothing elided");
    assert!(!report.retrieve_tool_added);
    serde_json::from_slice::<serde_json::Value>(&received).expect("valid JSON sent");
}
