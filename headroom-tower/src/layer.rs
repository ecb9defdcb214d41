//! [`HeadroomLayer`](struct@crate::HeadroomLayer): the cheap, cloneable configuration that wraps services.

use crate::door::Door;
use crate::HeadroomService;
use headroom::{Headroom, Report};
use std::sync::Arc;
use tower_layer::Layer;

/// Compresses chat-completion request bodies on their way to the inner service.
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
                on_report: None,
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
            .finish()
    }
}

impl<S> Layer<S> for HeadroomLayer {
    type Service = HeadroomService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HeadroomService::from_parts(inner, self.door.clone())
    }
}
