//! Compression for the proxy's routes, done by [`HeadroomLayer`]: the engine, the proxy's (async)
//! store under each caller's [`Namespace`], at most N compressions at once, big bodies on the
//! blocking pool, and fail open. The proxy holds no compression logic of its own.

use super::stats::Stats;
use super::App;
use axum::body::Body;
use bytes::Bytes;
use headroom::store::AsyncStore;
use headroom::{Headroom, Report};
use headroom_tower::{HeadroomLayer, Namespace};
use http::{header, HeaderValue, Response};
use std::convert::Infallible;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;
use tower::{Layer, ServiceExt};

/// What compressing one body gave.
#[derive(Debug)]
pub struct Compressed {
    /// The body to send (the original when nothing changed or compression failed).
    pub body: Bytes,
    /// What the engine did, when it could read the body.
    pub report: Option<Report>,
    /// Why the layer refused the body (a request over its token budget), when it did.
    pub refused: Option<super::error::ProxyError>,
}

/// The layer every route compresses with, built once; its reports feed the proxy's counters.
pub fn layer(
    engine: Arc<Headroom>,
    store: Arc<dyn AsyncStore>,
    max_concurrent: usize,
    stats: Arc<Stats>,
) -> HeadroomLayer {
    HeadroomLayer::with_engine(engine)
        .with_async_store(store)
        .max_concurrent_compressions(max_concurrent)
        .on_report(move |report| {
            stats.compressed(report);
            let store_failed = matches!(
                report.lossless_fallback,
                Some(headroom::LosslessFallback::StoreUnavailable(_))
            );
            if store_failed {
                stats.error("store_unavailable");
            } else {
                stats
                    .originals_stored
                    .fetch_add(report.ccr_hashes.len() as u64, Relaxed);
            }
        })
}

impl App {
    /// Compresses a chat-completions body for `namespace` through the layer, keeping the body it
    /// would send on (used by `/v1/compress`, which answers with it instead of forwarding it).
    /// Never fails: a body the layer does not compress comes back as it went in.
    pub async fn compress(
        &self,
        body: Bytes,
        namespace: &str,
        options: headroom::CompressOptions,
    ) -> Compressed {
        let mut request = http::Request::post("/v1/chat/completions")
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(Body::from(body.clone()))
            .expect("a static request head is valid");
        request.extensions_mut().insert(Namespace::new(namespace));
        request.extensions_mut().insert(options);
        let keep = tower::service_fn(|request: http::Request<Body>| async move {
            Ok::<_, Infallible>(Response::new(request.into_body()))
        });
        let started = Instant::now();
        let kept = self.layer.layer(keep).oneshot(request).await;
        self.stats.compression.observe(started.elapsed());
        let mut response = match kept {
            Ok(response) => response,
            Err(e) => {
                let refused = super::error::ProxyError::from_layer(&e);
                let refused = matches!(refused, super::error::ProxyError::ContextLength(_))
                    .then_some(refused);
                return Compressed {
                    body,
                    report: None,
                    refused,
                };
            }
        };
        let report = response.extensions_mut().remove::<Report>();
        match axum::body::to_bytes(response.into_body(), usize::MAX).await {
            Ok(sent) => Compressed {
                body: sent,
                report,
                refused: None,
            },
            Err(_) => Compressed {
                body,
                report: None,
                refused: None,
            },
        }
    }
}
