//! Retrieval rounds for the async-openai door: [`HeadroomRetrieval`] over `HttpRequestFactory`,
//! for whole JSON replies and for SSE streams.

use super::Memo;
use crate::door::fix_content_length;
use crate::retrieval::{
    drive, is_plain_json, lookup, offers_retrieve, oneshot, resolver_for, HeadroomRetrieval,
};
use crate::BoxError;
use ::async_openai::error::OpenAIError;
use ::async_openai::middleware::HttpRequestFactory;
use bytes::Bytes;
use headroom::resolver::{Resolver, Step};
use headroom::store::Store;
use headroom::store::DEFAULT_NAMESPACE;
use headroom::Report;
use http::{header, HeaderMap, StatusCode, Version};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Compresses like [`HeadroomService`](crate::HeadroomService), then answers the model's
/// `headroom_retrieve` calls from the engine's store, re-sending through the inner service, so
/// async-openai (and the agent) only sees the final answer — streamed or not.
impl<S> Service<HttpRequestFactory> for HeadroomRetrieval<S>
where
    S: Service<HttpRequestFactory, Response = reqwest::Response> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<OpenAIError>,
{
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.compress.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let door = self.compress.door.clone();
        let memo = Memo::new(factory, door.clone());
        let mut inner = self.compress.take_ready();
        let max_rounds = self.max_rounds;
        Box::pin(async move {
            let mut response = inner.call(memo.factory()).await.map_err(Into::into)?;
            let Some(prepared) = memo.prepared() else {
                return Ok(response);
            };
            if let Some(report) = &prepared.outcome.report {
                response.extensions_mut().insert(report.clone());
            }
            let Some(sent) = prepared.sent.as_ref() else {
                return Ok(response);
            };
            if !offers_retrieve(sent) || !response.status().is_success() {
                return Ok(response);
            }
            let Some(resolver) = resolver_for(&door, sent, max_rounds) else {
                return Ok(response);
            };
            let round = Round {
                resolver,
                store: door.engine().store().clone(),
                inner,
                factory: memo.factory.clone(),
            };
            if round.resolver.is_streaming() && is_event_stream(response.headers()) {
                Ok(round.stream(response))
            } else if !round.resolver.is_streaming() && is_plain_json(response.headers()) {
                round.whole(response).await
            } else {
                Ok(response)
            }
        })
    }
}

/// What the rounds of one call need.
struct Round<S> {
    resolver: Resolver,
    store: Arc<dyn Store>,
    inner: S,
    /// async-openai's own factory: later rounds rebuild its request with the resolver's body.
    factory: HttpRequestFactory,
}

/// Status, headers and version of a reply.
type Head = (StatusCode, HeaderMap, Version);

impl<S> Round<S>
where
    S: Service<HttpRequestFactory, Response = reqwest::Response> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<OpenAIError>,
{
    /// A whole JSON reply: resolve every round, hand back the last answer.
    async fn whole(
        mut self,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, OpenAIError> {
        let report = response.extensions().get::<Report>().cloned();
        let mut head = head_of(&response);
        let reply = response.bytes().await.map_err(OpenAIError::Reqwest)?;
        let step = self.resolver.on_response(&reply);
        let (inner, factory) = (self.inner, self.factory);
        let send = move |body: Vec<u8>| {
            let request = with_body(&factory, Bytes::from(body));
            let service = inner.clone();
            async move {
                let reply = oneshot(service, request).await.map_err(Into::into)?;
                let head = head_of(&reply);
                let bytes = reply.bytes().await.map_err(OpenAIError::Reqwest)?;
                Ok::<_, OpenAIError>((head, bytes.to_vec()))
            }
        };
        let (last, answer) = drive(
            &mut self.resolver,
            &self.store,
            DEFAULT_NAMESPACE,
            step,
            send,
        )
        .await?;
        if let Some(last) = last {
            head = last;
        }
        fix_content_length(&mut head.1, answer.len());
        Ok(rebuild(head, answer.into(), report))
    }

    /// An SSE reply: forward what the resolver releases chunk by chunk, resolving rounds as they end.
    fn stream(self, response: reqwest::Response) -> reqwest::Response {
        let report = response.extensions().get::<Report>().cloned();
        let mut head = head_of(&response);
        head.1.remove(header::CONTENT_LENGTH);
        let state = Streaming {
            round: self,
            current: Some(response),
        };
        let body = futures_util::stream::unfold(state, Streaming::next_chunk);
        rebuild(head, reqwest::Body::wrap_stream(body), report)
    }
}

/// The state of a resolved stream between chunks.
struct Streaming<S> {
    round: Round<S>,
    /// The reply being read; `None` once the exchange is over.
    current: Option<reqwest::Response>,
}

impl<S> Streaming<S>
where
    S: Service<HttpRequestFactory, Response = reqwest::Response> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<OpenAIError>,
{
    async fn next_chunk(mut self) -> Option<(Result<Bytes, BoxError>, Self)> {
        loop {
            let current = self.current.as_mut()?;
            match current.chunk().await {
                Ok(Some(chunk)) => {
                    let out = self.round.resolver.on_sse(&chunk);
                    if !out.is_empty() {
                        return Some((Ok(Bytes::from(out)), self));
                    }
                }
                Ok(None) => {
                    self.current = None;
                    let mut step = self.round.resolver.on_sse_end();
                    loop {
                        step = match step {
                            Step::Lookup(hashes) => {
                                let found =
                                    lookup(&self.round.store, DEFAULT_NAMESPACE, hashes).await;
                                self.round.resolver.resume(found)
                            }
                            Step::Send(body) => {
                                let request = with_body(&self.round.factory, Bytes::from(body));
                                match oneshot(self.round.inner.clone(), request).await {
                                    Ok(next) => {
                                        self.current = Some(next);
                                        break;
                                    }
                                    Err(error) => {
                                        let error: OpenAIError = error.into();
                                        return Some((Err(Box::new(error)), self));
                                    }
                                }
                            }
                            Step::Done(rest) if rest.is_empty() => return None,
                            Step::Done(rest) => return Some((Ok(Bytes::from(rest)), self)),
                        }
                    }
                }
                Err(error) => {
                    self.current = None;
                    return Some((Err(Box::new(error)), self));
                }
            }
        }
    }
}

/// async-openai's request for this call, with `body` in place of its own.
fn with_body(factory: &HttpRequestFactory, body: Bytes) -> HttpRequestFactory {
    let factory = factory.clone();
    HttpRequestFactory::new(move || {
        let factory = factory.clone();
        let body = body.clone();
        async move {
            let mut request = factory.build().await?;
            fix_content_length(request.headers_mut(), body.len());
            *request.body_mut() = Some(body.into());
            Ok(request)
        }
    })
}

fn head_of(response: &reqwest::Response) -> Head {
    (
        response.status(),
        response.headers().clone(),
        response.version(),
    )
}

fn rebuild(head: Head, body: reqwest::Body, report: Option<Report>) -> reqwest::Response {
    let (status, headers, version) = head;
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    *response.version_mut() = version;
    let mut response = reqwest::Response::from(response);
    if let Some(report) = report {
        response.extensions_mut().insert(report);
    }
    response
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"))
        && !headers.contains_key(header::CONTENT_ENCODING)
}
