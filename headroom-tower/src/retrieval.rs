//! Retrieval rounds: answering the model's `headroom_retrieve` calls before the caller sees them.
//!
//! [`HeadroomLayer::with_retrieval`] gives a [`RetrievalLayer`]. Its service compresses like
//! [`HeadroomService`] and then, when the request offered `headroom_retrieve`
//! and the reply is a non-streaming JSON body without `Content-Encoding`, drives the engine's
//! [`Resolver`]: it reads the originals from the engine's own store and re-calls the inner service
//! until the model answers without our tool (at most the engine's `retrieve_max_rounds`, default
//! [`DEFAULT_MAX_ROUNDS`]; answers capped at its `retrieve_answer_tokens`). The caller
//! gets that final answer. The response body becomes an [`UnsyncBoxBody`].
//!
//! ```
//! use headroom_tower::HeadroomLayer;
//! use tower::ServiceBuilder;
//! # use bytes::Bytes; use http_body_util::Full;
//! # let http_client = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
//! # });
//! let client = ServiceBuilder::new()
//!     .layer(HeadroomLayer.with_retrieval())
//!     .service(http_client);
//! # let _ = client;
//! ```

use crate::door::{fix_content_length, Door};
use crate::future::read_at_most_its_size;
use crate::{BoxError, HeadroomLayer, HeadroomService};
use bytes::Bytes;
use headroom::marker::RETRIEVE_TOOL_NAME;
pub use headroom::resolver::DEFAULT_MAX_ROUNDS;
use headroom::resolver::{Resolver, Step};
use headroom::store::{Store, StoreError};
use http::{header, HeaderMap, Request, Response};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

impl HeadroomLayer {
    /// This layer, plus retrieval rounds answered from the engine's store (see [`RetrievalLayer`]).
    ///
    /// ```
    /// let layer = headroom_tower::HeadroomLayer.with_retrieval().max_rounds(2);
    /// # let _ = layer;
    /// ```
    pub fn with_retrieval(self) -> RetrievalLayer {
        RetrievalLayer {
            door: self.door,
            max_rounds: None,
        }
    }
}

/// [`HeadroomLayer`](struct@crate::HeadroomLayer) that also answers `headroom_retrieve` calls; made by [`HeadroomLayer::with_retrieval`].
///
/// ```
/// let layer: headroom_tower::retrieval::RetrievalLayer = headroom_tower::HeadroomLayer.with_retrieval();
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct RetrievalLayer {
    door: Door,
    max_rounds: Option<usize>,
}

impl RetrievalLayer {
    /// At most this many retrieval rounds per request (default: the engine's
    /// `retrieve_max_rounds`, 3); the last round withdraws the tool so the model answers with what it has.
    ///
    /// ```
    /// let layer = headroom_tower::HeadroomLayer.with_retrieval().max_rounds(1);
    /// # let _ = layer;
    /// ```
    pub fn max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = Some(rounds);
        self
    }
}

impl std::fmt::Debug for RetrievalLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetrievalLayer")
            .field("max_rounds", &self.max_rounds)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for RetrievalLayer {
    type Service = HeadroomRetrieval<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HeadroomRetrieval {
            compress: HeadroomService::from_parts(inner, self.door.clone()),
            max_rounds: self.max_rounds,
        }
    }
}

/// The service of [`RetrievalLayer`]: compression (a [`HeadroomService`]), then retrieval rounds.
///
/// ```
/// use tower::Layer;
/// let service = headroom_tower::HeadroomLayer.with_retrieval().layer(tower::service_fn(
///     |_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
///     },
/// ));
/// # let _ = service;
/// ```
#[derive(Clone)]
pub struct HeadroomRetrieval<S> {
    pub(crate) compress: HeadroomService<S>,
    pub(crate) max_rounds: Option<usize>,
}

impl<S> HeadroomRetrieval<S> {
    /// The inner service.
    ///
    /// ```
    /// use tower::Layer;
    /// let service = headroom_tower::HeadroomLayer.with_retrieval().layer(7);
    /// assert_eq!(*service.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        self.compress.get_ref()
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// use tower::Layer;
    /// let mut service = headroom_tower::HeadroomLayer.with_retrieval().layer(7);
    /// *service.get_mut() += 1;
    /// assert_eq!(service.into_inner(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        self.compress.get_mut()
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// use tower::Layer;
    /// assert_eq!(headroom_tower::HeadroomLayer.with_retrieval().layer("inner").into_inner(), "inner");
    /// ```
    pub fn into_inner(self) -> S {
        self.compress.into_inner()
    }
}

impl<S> std::fmt::Debug for HeadroomRetrieval<S>
where
    S: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadroomRetrieval")
            .field("inner", self.get_ref())
            .field("max_rounds", &self.max_rounds)
            .finish_non_exhaustive()
    }
}

/// The boxed response body of [`HeadroomRetrieval`].
///
/// ```
/// use http_body_util::BodyExt;
/// let body: headroom_tower::retrieval::RetrievalBody = http_body_util::Full::new(bytes::Bytes::from_static(b"{}"))
///     .map_err(|never| match never {})
///     .boxed_unsync();
/// # let _ = body;
/// ```
pub type RetrievalBody = UnsyncBoxBody<Bytes, BoxError>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> Service<Request<B>> for HeadroomRetrieval<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<RetrievalBody>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.compress.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let skip = self.compress.door.skip_reason(
            request.method(),
            request.uri().path(),
            request.headers(),
            request.body().size_hint().exact(),
        );
        if skip.is_some() {
            let future = self.compress.inner.call(request);
            return Box::pin(async move { Ok(future.await.map_err(Into::into)?.map(boxed)) });
        }
        let inner = self.compress.take_ready();
        let door = self.compress.door.clone();
        let max_rounds = self.max_rounds;
        Box::pin(exchange(inner, door, max_rounds, request))
    }
}

/// One request: compress, send, and resolve retrieval rounds.
async fn exchange<S, B, ResBody>(
    mut inner: S,
    door: Door,
    max_rounds: Option<usize>,
    request: Request<B>,
) -> Result<Response<RetrievalBody>, BoxError>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
    S::Error: Into<BoxError>,
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let original = read_at_most_its_size(body).collect().await?.to_bytes();
    let namespace = crate::Namespace::of(&parts.extensions).to_owned();
    let options = parts
        .extensions
        .get::<headroom::CompressOptions>()
        .cloned()
        .unwrap_or_default();
    let outcome = door
        .compress_task(original.clone(), &namespace, options)
        .await;
    if let Some(refused) = outcome.refused {
        return Err(refused as BoxError);
    }
    let sent = match outcome.body {
        Some(body) => {
            fix_content_length(&mut parts.headers, body.len());
            body
        }
        None => original,
    };
    let response = inner
        .call(Request::from_parts(parts.clone(), B::from(sent.clone())))
        .await
        .map_err(Into::into)?;
    let with_report = |mut response: Response<RetrievalBody>| {
        if let Some(report) = outcome.report.clone() {
            response.extensions_mut().insert(report);
        }
        response
    };
    if !offers_retrieve(&sent)
        || !response.status().is_success()
        || !is_plain_json(response.headers())
    {
        return Ok(with_report(response.map(boxed)));
    }
    let (mut head, body) = response.into_parts();
    let reply = body.collect().await.map_err(Into::into)?.to_bytes();
    let Some(mut resolver) = resolver_for(&door, &sent, max_rounds) else {
        return Ok(with_report(Response::from_parts(head, full(reply))));
    };
    let step = resolver.on_response(&reply);
    let store = door.engine().store().clone();
    let send = move |body: Vec<u8>| {
        let mut parts = parts.clone();
        fix_content_length(&mut parts.headers, body.len());
        let request = Request::from_parts(parts, B::from(Bytes::from(body)));
        let service = inner.clone();
        async move {
            let response = oneshot(service, request).await.map_err(Into::into)?;
            let (head, body) = response.into_parts();
            let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
            Ok::<_, BoxError>((head, bytes.to_vec()))
        }
    };
    let (last_head, answer) = drive(&mut resolver, &store, &namespace, step, send).await?;
    if let Some(last) = last_head {
        head = last;
    }
    fix_content_length(&mut head.headers, answer.len());
    Ok(with_report(Response::from_parts(
        head,
        full(Bytes::from(answer)),
    )))
}

/// The resolver for a request body as sent, configured from the engine (rounds overridable).
pub(crate) fn resolver_for(
    door: &Door,
    sent: &[u8],
    max_rounds: Option<usize>,
) -> Option<Resolver> {
    let resolver = Resolver::new(sent)
        .ok()?
        .with_config(door.engine().config());
    Some(match max_rounds {
        Some(rounds) => resolver.max_rounds(rounds),
        None => resolver,
    })
}

/// Runs the resolver from `step` to its end: store lookups here, next rounds through `send`.
/// Returns the head of the last reply sent for (if any round was sent) and the caller's bytes.
pub(crate) async fn drive<H, E, F, Fut>(
    resolver: &mut Resolver,
    store: &Arc<dyn Store>,
    namespace: &str,
    mut step: Step,
    mut send: F,
) -> Result<(Option<H>, Vec<u8>), E>
where
    F: FnMut(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<(H, Vec<u8>), E>>,
{
    let mut head = None;
    loop {
        step = match step {
            Step::Lookup(hashes) => resolver.resume(lookup(store, namespace, hashes).await),
            Step::Send(body) => {
                let (last, reply) = send(body).await?;
                head = Some(last);
                resolver.on_response(&reply)
            }
            Step::Done(bytes) => return Ok((head, bytes)),
        }
    }
}

/// Reads `hashes` from the store on the blocking pool (stores may do file or network I/O).
pub(crate) async fn lookup(
    store: &Arc<dyn Store>,
    namespace: &str,
    hashes: Vec<String>,
) -> Vec<Result<Option<String>, StoreError>> {
    let store = store.clone();
    let namespace = namespace.to_owned();
    let read = move || {
        hashes
            .iter()
            .map(|hash| store.get(&namespace, hash))
            .collect::<Vec<_>>()
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime
            .spawn_blocking(read)
            .await
            .unwrap_or_else(|e| vec![Err(StoreError(format!("store lookup failed: {e}")))]),
        Err(_) => read(),
    }
}

/// Whether a request body offers the retrieve tool (only then can the model call it).
pub(crate) fn offers_retrieve(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|text| text.contains(RETRIEVE_TOOL_NAME))
}

/// Whether a reply is JSON Headroom can read: `application/json`, no `Content-Encoding`.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("content-type", "application/json; charset=utf-8".parse().unwrap());
/// assert!(headroom_tower::retrieval::is_plain_json(&headers));
/// headers.insert("content-encoding", "gzip".parse().unwrap());
/// assert!(!headroom_tower::retrieval::is_plain_json(&headers));
/// ```
pub fn is_plain_json(headers: &HeaderMap) -> bool {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    json && !headers.contains_key(header::CONTENT_ENCODING)
}

/// Calls a service once it is ready.
pub(crate) async fn oneshot<S, R>(mut service: S, request: R) -> Result<S::Response, S::Error>
where
    S: Service<R>,
{
    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

fn boxed<B>(body: B) -> RetrievalBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

fn full(bytes: Bytes) -> RetrievalBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}
