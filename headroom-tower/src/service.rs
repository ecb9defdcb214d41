//! [`HeadroomService`]: compresses `http::Request<B>` chat-completion and Responses bodies, forwards everything else.

use crate::door::Door;
use crate::future::ResponseFuture;
use crate::{BoxError, HeadroomLayer};
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use std::task::{Context, Poll};
use tower_service::Service;

/// The service [`HeadroomLayer`](struct@crate::HeadroomLayer) wraps around an HTTP client.
///
/// For `http::Request<B>` it reads a body only when the request is a JSON `POST …/chat/completions`
/// with no `Content-Encoding`, no `x-headroom-bypass: true`, and a body whose exact size (from its
/// size hint) is within the engine's `max_body_bytes`. Every other request goes to the inner service
/// as it came, unread.
///
/// ```
/// use bytes::Bytes;
/// use headroom_tower::HeadroomLayer;
/// use http_body_util::Full;
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), headroom_tower::BoxError> {
/// let upstream = service_fn(|req: http::Request<Full<Bytes>>| async move {
///     Ok::<_, std::convert::Infallible>(http::Response::new(req.into_body()))
/// });
/// let service = HeadroomLayer.layer(upstream);
/// let request = http::Request::post("http://localhost/v1/embeddings")
///     .header("content-type", "application/json")
///     .body(Full::new(Bytes::from_static(br#"{"input":"hi"}"#)))?;
/// let response = service.oneshot(request).await?;
/// assert!(response.extensions().get::<headroom::Report>().is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HeadroomService<S> {
    pub(crate) inner: S,
    pub(crate) door: Door,
}

impl<S> HeadroomService<S> {
    /// Wraps `inner` with the default engine.
    ///
    /// ```
    /// let service = headroom_tower::HeadroomService::new(tower::service_fn(|r: ()| async move { Ok::<_, ()>(r) }));
    /// # let _ = service;
    /// ```
    pub fn new(inner: S) -> Self {
        Self::from_parts(inner, Door::default())
    }

    pub(crate) fn from_parts(inner: S, door: Door) -> Self {
        HeadroomService { inner, door }
    }

    /// The layer with the default engine (the same as the `HeadroomLayer` value).
    ///
    /// ```
    /// let layer = headroom_tower::HeadroomService::<()>::layer();
    /// # let _ = layer;
    /// ```
    pub fn layer() -> HeadroomLayer {
        HeadroomLayer
    }

    /// The inner service.
    ///
    /// ```
    /// let service = headroom_tower::HeadroomService::new(7);
    /// assert_eq!(*service.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// let mut service = headroom_tower::HeadroomService::new(7);
    /// *service.get_mut() += 1;
    /// assert_eq!(service.into_inner(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// assert_eq!(headroom_tower::HeadroomService::new("inner").into_inner(), "inner");
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The readied inner service, leaving a fresh clone in its place (tower's rule for services
    /// whose call does work before calling the inner one).
    pub(crate) fn take_ready(&mut self) -> S
    where
        S: Clone,
    {
        let fresh = self.inner.clone();
        std::mem::replace(&mut self.inner, fresh)
    }
}

impl<S> std::fmt::Debug for HeadroomService<S>
where
    S: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadroomService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for HeadroomService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
    S::Error: Into<BoxError>,
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResBody>;
    type Error = BoxError;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let skip = self.door.skip_reason(
            request.method(),
            request.uri().path(),
            request.headers(),
            request.body().size_hint().exact(),
        );
        if skip.is_some() {
            return ResponseFuture::forward(self.inner.call(request));
        }
        let inner = self.take_ready();
        ResponseFuture::compress(inner, self.door.clone(), request)
    }
}
