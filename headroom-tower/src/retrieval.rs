//! Retrieval rounds: answering the model's `headroom_retrieve` calls before the caller sees them.
//!
//! [`HeadroomLayer::with_retrieval`] gives a [`RetrievalLayer`]. Its service compresses like
//! [`HeadroomService`] and then, when the request offered `headroom_retrieve` and the reply is an
//! unencoded JSON body (or, for `stream: true`, an unencoded event stream), answers the model's
//! calls from the store the originals went to (the layer's async store when it has one, else the
//! engine's) and re-calls the inner service until the model answers without our tool (at most the
//! engine's `retrieve_max_rounds`, default [`DEFAULT_MAX_ROUNDS`]; answers capped at its
//! `retrieve_answer_tokens`). The caller gets that final answer; a reply over the engine's
//! `max_reply_bytes` goes to the caller as it came. The rounds are driven by
//! [`Rounds`], as in every door. The response body becomes an
//! [`UnsyncBoxBody`].
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

use crate::door::Door;
use crate::future::read_at_most_its_size;
use crate::headers::{fix_content_length, is_plain_event_stream};
use crate::rounds::{read_capped, replay, Capped, ChunkSource, Reply, Rounds, Whole};
use crate::{BoxError, HeadroomLayer, HeadroomService};
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
pub use headroom::resolver::DEFAULT_MAX_ROUNDS;
use headroom::resolver::{offers_retrieve, Carries, Resolver};
use headroom::store::{AsyncStore, Store, StoreError, StoreFuture};
use http::response::Parts;
use http::{header, Request, Response};
use http_body::{Body, Frame};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

pub use crate::headers::is_plain_json;

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

/// One request: compress, send, and resolve retrieval rounds (whole JSON replies and SSE streams).
async fn exchange<S, B, ResBody>(
    mut inner: S,
    door: Door,
    max_rounds: Option<usize>,
    request: Request<B>,
) -> Result<Response<RetrievalBody>, BoxError>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + From<Bytes> + Send + 'static,
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
    // A request chained on a reply of a past exchange that also called the agent's tools: our
    // calls in that stored reply get their answers (see `Carries`).
    let sent = outcome.body.unwrap_or(original);
    let sent = match Carries::shared().apply(&namespace, &sent) {
        Some(carried) => Bytes::from(carried),
        None => sent,
    };
    fix_content_length(&mut parts.headers, sent.len());
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
    let readable = |rounds: &Rounds| {
        let headers = response.headers();
        response.status().is_success()
            && match rounds.is_streaming() {
                true => is_plain_event_stream(headers),
                false => is_plain_json(headers),
            }
    };
    let Some(mut rounds) = door
        .rounds_for(&sent, &namespace, max_rounds)
        .filter(readable)
    else {
        return Ok(with_report(response.map(boxed)));
    };
    // The next round: the same request head with the resolver's body.
    let send = move |body: Vec<u8>| {
        let mut parts = parts.clone();
        fix_content_length(&mut parts.headers, body.len());
        let request = Request::from_parts(parts, B::from(Bytes::from(body)));
        let service = inner.clone();
        async move {
            let response = oneshot(service, request).await.map_err(Into::into)?;
            let (head, body) = response.into_parts();
            Ok::<_, BoxError>((head, BodySource::new(body)))
        }
    };
    let (mut head, body) = response.into_parts();
    let mut source = BodySource::new(body);
    if rounds.is_streaming() {
        head.headers.remove(header::CONTENT_LENGTH);
        let open = move |body: Vec<u8>| {
            let round = send(body);
            async move { Ok(round.await?.1) }
        };
        let stream = rounds.stream(source, open).into_stream();
        return Ok(with_report(Response::from_parts(head, streamed(stream))));
    }
    let limit = rounds.reply_limit();
    let first = match read_capped(&mut source, limit).await? {
        Capped::Whole(first) => first,
        Capped::Over(read) => {
            let body = streamed(replay(read, source));
            return Ok(with_report(Response::from_parts(head, body)));
        }
    };
    let read_round = move |body: Vec<u8>| {
        let round = send(body);
        async move {
            let (head, mut source) = round.await?;
            Ok::<_, BoxError>(match read_capped(&mut source, limit).await? {
                Capped::Whole(reply) => Reply::Read(head, reply),
                Capped::Over(read) => {
                    Reply::AsItCame(Response::from_parts(head, streamed(replay(read, source))))
                }
            })
        }
    };
    match rounds.whole(first, read_round).await? {
        Whole::Answer { head: last, body } => {
            let mut head: Parts = last.unwrap_or(head);
            fix_content_length(&mut head.headers, body.len());
            Ok(with_report(Response::from_parts(
                head,
                full(Bytes::from(body)),
            )))
        }
        Whole::AsItCame(response) => Ok(with_report(response)),
    }
}

impl Door {
    /// The rounds for a request body as sent, when it offers the retrieve tool: the engine's
    /// resolver settings (rounds overridable), the store originals went to (the layer's async store
    /// when it has one, else the engine's), the caller's namespace, carries kept in the
    /// process-wide book ([`Carries::shared`]).
    pub(crate) fn rounds_for(
        &self,
        sent: &[u8],
        namespace: &str,
        max_rounds: Option<usize>,
    ) -> Option<Rounds> {
        if !offers_retrieve(sent) {
            return None;
        }
        let resolver = Resolver::new(sent)
            .ok()?
            .with_config(self.engine().config());
        let resolver = match max_rounds {
            Some(rounds) => resolver.max_rounds(rounds),
            None => resolver,
        };
        let store: Arc<dyn AsyncStore> = match &self.store {
            Some(store) => store.clone(),
            None => Arc::new(OffRuntime(self.engine().store().clone())),
        };
        Some(Rounds::new(resolver, store, namespace).carrying(Carries::shared()))
    }
}

/// A sync store read on tokio's blocking pool (it may do file or network I/O), inline without a
/// runtime.
struct OffRuntime(Arc<dyn Store>);

impl AsyncStore for OffRuntime {
    fn put<'a>(&'a self, namespace: &'a str, hash: &'a str, text: &'a str) -> StoreFuture<'a, ()> {
        let (ns, hash, text) = (namespace.to_owned(), hash.to_owned(), text.to_owned());
        self.off_runtime(move |store| store.put(&ns, &hash, &text))
    }
    fn get<'a>(&'a self, namespace: &'a str, hash: &'a str) -> StoreFuture<'a, Option<String>> {
        let (ns, hash) = (namespace.to_owned(), hash.to_owned());
        self.off_runtime(move |store| store.get(&ns, &hash))
    }
}

impl OffRuntime {
    fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let store = self.0.clone();
        Box::pin(async move {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => runtime
                    .spawn_blocking(move || work(store.as_ref()))
                    .await
                    .unwrap_or_else(|e| Err(StoreError::new(format!("store call failed: {e}")))),
                Err(_) => work(store.as_ref()),
            }
        })
    }
}

/// The data of an `http_body::Body`, chunk by chunk (trailers skipped).
pub(crate) struct BodySource<B>(Pin<Box<B>>);

impl<B> BodySource<B> {
    pub(crate) fn new(body: B) -> Self {
        BodySource(Box::pin(body))
    }
}

impl<B> ChunkSource for BodySource<B>
where
    B: Body<Data = Bytes> + Send,
    B::Error: Into<BoxError>,
{
    type Error = BoxError;

    async fn next_chunk(&mut self) -> Result<Option<Bytes>, BoxError> {
        while let Some(frame) = self.0.frame().await {
            if let Ok(data) = frame.map_err(Into::into)?.into_data() {
                return Ok(Some(data));
            }
        }
        Ok(None)
    }
}

/// A response body from a stream of chunks.
fn streamed(stream: impl Stream<Item = Result<Bytes, BoxError>> + Send + 'static) -> RetrievalBody {
    StreamBody::new(stream.map_ok(Frame::data)).boxed_unsync()
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
