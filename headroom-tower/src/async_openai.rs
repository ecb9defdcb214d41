//! The async-openai door: [`with_headroom`] keeps your `async_openai::Client<C>` and compresses its
//! chat-completion requests and Responses requests (`client.responses().create()` and
//! `create_stream()`); every other API (embeddings, images, audio, files) passes through.
//!
//! ```
//! use async_openai::{config::OpenAIConfig, Client};
//! let client = headroom_tower::async_openai::with_headroom(Client::with_config(OpenAIConfig::new()));
//! # let _ = client;
//! ```
//!
//! Underneath, [`HeadroomService`] implements `Service<HttpRequestFactory>`. async-openai replays the
//! factory on every retry attempt; the service wraps it in a factory that compresses on its first
//! build and re-sends the same compressed body on every later one, so a request is compressed once
//! per call however often it is retried. Put [`HeadroomLayer`](struct@crate::HeadroomLayer) *outside* the retry layer:
//!
//! ```
//! use async_openai::middleware::{retry::OpenAIRetryLayer, ReqwestService};
//! use async_openai::{config::OpenAIConfig, Client};
//! use headroom_tower::HeadroomLayer;
//! use tower::ServiceBuilder;
//! let service = ServiceBuilder::new()
//!     .layer(HeadroomLayer)
//!     .layer(OpenAIRetryLayer::default())
//!     .service(ReqwestService::new(reqwest::Client::new()));
//! let client = Client::with_config(OpenAIConfig::new()).with_http_service(service);
//! # let _ = client;
//! ```

use crate::door::{Door, Outcome};
use crate::headers::fix_content_length;
use crate::{HeadroomLayer, HeadroomService};
use ::async_openai::config::Config;
use ::async_openai::error::OpenAIError;
use ::async_openai::middleware::retry::OpenAIRetryLayer;
use ::async_openai::middleware::{HttpRequestFactory, ReqwestService};
use ::async_openai::Client;

mod retrieval;
use bytes::Bytes;
use headroom::resolver::Carries;
use headroom::store::DEFAULT_NAMESPACE;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Makes `client` compress its chat-completion and Responses requests with the default engine, and answer the
/// model's `headroom_retrieve` calls before your code sees the reply.
///
/// The client keeps its type, config and every API. Requests are sent by a fresh `reqwest::Client`
/// behind async-openai's default retry layer (async-openai does not hand out the client's own HTTP
/// client): to keep yours — its timeouts, proxies, default headers — pass it to
/// [`with_headroom_http`]; for a whole HTTP stack of your own, [`with_headroom_service`].
///
/// ```
/// let client = headroom_tower::async_openai::with_headroom(async_openai::Client::new());
/// # let _ = client;
/// ```
pub fn with_headroom<C: Config>(client: Client<C>) -> Client<C> {
    with_headroom_layer(client, HeadroomLayer)
}

/// [`with_headroom`] with a configured layer (an engine of your own, a report hook).
///
/// ```
/// use headroom_tower::{async_openai::with_headroom_layer, HeadroomLayer};
/// let layer = HeadroomLayer::new(headroom::Headroom::builder().lossless_only(true).build()?)
///     .on_report(|r| println!("saved {} tokens", r.tokens_saved));
/// let client = with_headroom_layer(async_openai::Client::new(), layer);
/// # let _ = client;
/// # Ok::<(), headroom::Error>(())
/// ```
pub fn with_headroom_layer<C: Config>(client: Client<C>, layer: HeadroomLayer) -> Client<C> {
    with_headroom_http(client, layer, reqwest::Client::new())
}

/// [`with_headroom_layer`], sending with *your* `reqwest::Client` (behind async-openai's default
/// retry layer), so its timeouts, proxies and default headers apply to every request, chat or not.
///
/// ```
/// use std::time::Duration;
/// let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
/// let client = headroom_tower::async_openai::with_headroom_http(
///     async_openai::Client::new(),
///     headroom_tower::HeadroomLayer,
///     http,
/// );
/// # let _ = client;
/// # Ok::<(), reqwest::Error>(())
/// ```
pub fn with_headroom_http<C: Config>(
    client: Client<C>,
    layer: HeadroomLayer,
    http: reqwest::Client,
) -> Client<C> {
    let transport = OpenAIRetryLayer::default().layer(ReqwestService::new(http.clone()));
    with_headroom_service(client.with_http_client(http), layer, transport)
}

/// [`with_headroom_layer`] over your own `HttpRequestFactory` stack (your retry policy, rate
/// limits, tracing, your `reqwest::Client` inside): Headroom goes outside it, so a request is
/// compressed once however often your stack retries it.
///
/// ```
/// use async_openai::middleware::{retry::OpenAIRetryLayer, ReqwestService};
/// let http = reqwest::Client::builder().user_agent("my-agent/1.0").build()?;
/// let stack = tower::ServiceBuilder::new()
///     .layer(OpenAIRetryLayer::default())
///     .service(ReqwestService::new(http.clone()));
/// let client = headroom_tower::async_openai::with_headroom_service(
///     async_openai::Client::new().with_http_client(http),
///     headroom_tower::HeadroomLayer,
///     stack,
/// );
/// # let _ = client;
/// # Ok::<(), reqwest::Error>(())
/// ```
pub fn with_headroom_service<C, S>(client: Client<C>, layer: HeadroomLayer, service: S) -> Client<C>
where
    C: Config,
    S: Service<HttpRequestFactory, Response = reqwest::Response> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<OpenAIError> + Send + Sync + 'static,
{
    client.with_http_service(layer.with_retrieval().layer(service))
}

impl<S> Service<HttpRequestFactory> for HeadroomService<S>
where
    S: Service<HttpRequestFactory, Response = reqwest::Response>,
{
    type Response = reqwest::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let memo = Memo::new(factory, self.door.clone());
        ResponseFuture {
            future: self.inner.call(memo.factory()),
            memo,
        }
    }
}

/// One call's request factory, compressed on its first build and replayed from memory after.
pub(crate) struct Memo {
    pub(crate) factory: HttpRequestFactory,
    door: Door,
    prepared: tokio::sync::OnceCell<Prepared>,
}

/// What the first build decided.
#[derive(Default)]
pub(crate) struct Prepared {
    pub(crate) outcome: Outcome,
    /// The chat-completions body sent upstream (compressed or not); `None` for other requests.
    pub(crate) sent: Option<Bytes>,
}

impl Memo {
    pub(crate) fn new(factory: HttpRequestFactory, door: Door) -> Arc<Memo> {
        Arc::new(Memo {
            factory,
            door,
            prepared: tokio::sync::OnceCell::new(),
        })
    }

    /// The factory the inner service gets: it builds through this memo.
    pub(crate) fn factory(self: &Arc<Self>) -> HttpRequestFactory {
        let memo = self.clone();
        HttpRequestFactory::new(move || {
            let memo = memo.clone();
            async move { memo.build().await }
        })
    }

    /// The first build's decision, once the inner service has built the request.
    pub(crate) fn prepared(&self) -> Option<&Prepared> {
        self.prepared.get()
    }

    async fn build(&self) -> Result<reqwest::Request, OpenAIError> {
        let mut request = self.factory.build().await?;
        let prepared = self.prepared.get_or_init(|| self.compress(&request)).await;
        if let Some(refused) = &prepared.outcome.refused {
            // Over its token budget: the API would reject it; say why before sending.
            return Err(OpenAIError::InvalidArgument(refused.to_string()));
        }
        if let Some(body) = &prepared.outcome.body {
            fix_content_length(request.headers_mut(), body.len());
            *request.body_mut() = Some(body.clone().into());
        }
        Ok(request)
    }

    async fn compress(&self, request: &reqwest::Request) -> Prepared {
        let Some(original) = crate::reqwest::compressible_body(&self.door, request) else {
            return Prepared::default();
        };
        let mut outcome = self
            .door
            .compress_task(original.clone(), DEFAULT_NAMESPACE, Default::default())
            .await;
        let sent = outcome.body.clone().unwrap_or(original);
        // Chained on a stored reply that held our calls next to the agent's: answer ours.
        let sent = match Carries::shared().apply(DEFAULT_NAMESPACE, &sent) {
            Some(carried) => {
                let carried = Bytes::from(carried);
                outcome.body = Some(carried.clone());
                carried
            }
            None => sent,
        };
        Prepared {
            outcome,
            sent: Some(sent),
        }
    }
}

pin_project! {
    /// The response future of [`HeadroomService`] for async-openai's `HttpRequestFactory`:
    /// puts the call's report in the response's extensions.
    ///
    /// ```
    /// use async_openai::middleware::ReqwestService;
    /// fn named(_: headroom_tower::async_openai::ResponseFuture<<ReqwestService as tower::Service<async_openai::middleware::HttpRequestFactory>>::Future>) {}
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        future: F,
        memo: Arc<Memo>,
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<reqwest::Response, E>>,
{
    type Output = Result<reqwest::Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.future.poll(cx))?;
        if let Some(report) = this.memo.prepared().and_then(|p| p.outcome.report.clone()) {
            response.extensions_mut().insert(report);
        }
        Poll::Ready(Ok(response))
    }
}
