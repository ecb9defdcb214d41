//! [`HeadroomLayer`](struct@crate::HeadroomLayer): the cheap, cloneable configuration that wraps services.

use crate::door::Door;
use crate::HeadroomService;
use headroom::store::AsyncStore;
use headroom::{Headroom, Report};
use http::{HeaderMap, Method};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tower_layer::Layer;

/// Compresses chat-completion and Responses request bodies (`POST …/chat/completions`,
/// `POST …/responses`) on their way to the inner service.
///
/// `HeadroomLayer` on its own is a ready value using the default engine (built on first use);
/// [`HeadroomLayer::new`] takes a configured one.
///
/// ```
/// use headroom_tower::HeadroomLayer;
/// use tower::ServiceBuilder;
/// # let client = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(()))
/// # });
/// let service = ServiceBuilder::new().layer(HeadroomLayer).service(client);
/// # let _ = service;
/// ```
#[derive(Clone)]
pub struct HeadroomLayer {
    pub(crate) door: Door,
}

/// The layer with the default engine, so that `ServiceBuilder::new().layer(HeadroomLayer)` reads as it should.
#[allow(non_upper_case_globals)]
pub const HeadroomLayer: HeadroomLayer = HeadroomLayer {
    door: Door {
        engine: None,
        on_report: None,
        store: None,
        limit: None,
    },
};

impl HeadroomLayer {
    /// A layer that compresses with `engine` (its config, its store for originals).
    ///
    /// ```
    /// let engine = headroom::Headroom::builder().lossless_only(true).build()?;
    /// let layer = headroom_tower::HeadroomLayer::new(engine);
    /// assert!(layer.engine().config().lossless_only);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn new(engine: Headroom) -> Self {
        Self::with_engine(Arc::new(engine))
    }

    /// A layer sharing an engine that other parts of the program use too.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let engine = Arc::new(headroom::Headroom::default());
    /// let layer = headroom_tower::HeadroomLayer::with_engine(engine.clone());
    /// assert!(Arc::ptr_eq(engine.store(), layer.engine().store()));
    /// ```
    pub fn with_engine(engine: Arc<Headroom>) -> Self {
        HeadroomLayer {
            door: Door {
                engine: Some(engine),
                ..Door::default()
            },
        }
    }

    /// Calls `hook` with the report of every compressed request, for logs and metrics where the
    /// response (which carries the same report in its extensions) is out of reach.
    ///
    /// ```
    /// use headroom_tower::HeadroomLayer;
    /// let layer = HeadroomLayer.on_report(|report| {
    ///     tracing::info!(saved = report.tokens_saved, "headroom");
    /// });
    /// # let _ = layer;
    /// ```
    pub fn on_report(mut self, hook: impl Fn(&Report) + Send + Sync + 'static) -> Self {
        self.door.on_report = Some(Arc::new(hook));
        self
    }

    /// Persists originals in `store` instead of the engine's sync store: in the service's future,
    /// under the request's [`Namespace`](crate::Namespace), before the inner service is called.
    /// When the store fails, the request is compressed lossless-only (nothing to retrieve) and its
    /// report's `lossless_fallback` says so (the engine's one policy, [`Headroom::settle`]).
    ///
    /// Retrieval rounds run by [`HeadroomLayer::with_retrieval`] read this store too (under the
    /// same namespace), so what was elided on the way out is answered on the way back.
    ///
    /// ```
    /// use headroom::store::{AsyncStore, MemoryStore};
    /// use std::sync::Arc;
    /// let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
    /// let layer = headroom_tower::HeadroomLayer.with_async_store(store);
    /// # let _ = layer;
    /// ```
    pub fn with_async_store(mut self, store: Arc<dyn AsyncStore>) -> Self {
        self.door.store = Some(store);
        self
    }

    /// Runs at most `n` compressions at once (at least one); later requests wait their turn.
    ///
    /// ```
    /// let layer = headroom_tower::HeadroomLayer.max_concurrent_compressions(4);
    /// # let _ = layer;
    /// ```
    pub fn max_concurrent_compressions(mut self, n: usize) -> Self {
        self.door.limit = Some(Arc::new(Semaphore::new(n.max(1))));
        self
    }

    /// Why a request would be forwarded unread, judged from its head and its body's exact length;
    /// `None` when the layer reads and compresses it.
    ///
    /// ```
    /// let headers = http::HeaderMap::new();
    /// let layer = headroom_tower::HeadroomLayer;
    /// let why = layer.skip_reason(&http::Method::GET, "/v1/chat/completions", &headers, Some(2));
    /// assert_eq!(why, Some("not a POST"));
    /// ```
    pub fn skip_reason(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        exact_len: Option<u64>,
    ) -> Option<&'static str> {
        self.door.skip_reason(method, path, headers, exact_len)
    }

    /// The engine this layer compresses with.
    ///
    /// ```
    /// let layer = headroom_tower::HeadroomLayer;
    /// assert_eq!(layer.engine().config().min_segment_tokens, 250);
    /// ```
    pub fn engine(&self) -> &Headroom {
        self.door.engine()
    }
}

impl std::fmt::Debug for HeadroomLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadroomLayer")
            .field("engine", self.engine())
            .field("on_report", &self.door.on_report.is_some())
            .field("async_store", &self.door.store.is_some())
            .field("limit", &self.door.limit.is_some())
            .finish()
    }
}

impl<S> Layer<S> for HeadroomLayer {
    type Service = HeadroomService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HeadroomService::from_parts(inner, self.door.clone())
    }
}
