//! Retrieval rounds for the async-openai door: [`HeadroomRetrieval`] over `HttpRequestFactory`,
//! for whole JSON replies and for SSE streams, driven by [`Rounds`](crate::rounds::Rounds).

use super::Memo;
use crate::headers::{fix_content_length, is_plain_event_stream, is_plain_json};
use crate::retrieval::{oneshot, HeadroomRetrieval};
use crate::rounds::{read_capped, replay, Capped, ChunkSource, Reply, Rounds, Whole};
use crate::BoxError;
use ::async_openai::error::OpenAIError;
use ::async_openai::middleware::HttpRequestFactory;
use bytes::Bytes;
use futures_util::TryStreamExt;
use headroom::store::DEFAULT_NAMESPACE;
use headroom::Report;
use http::{header, HeaderMap, StatusCode, Version};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_service::Service;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Compresses like [`HeadroomService`](crate::HeadroomService), then answers the model's
/// `headroom_retrieve` calls from the store, re-sending through the inner service, so
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
            let report = prepared.outcome.report.clone();
            if let Some(report) = &report {
                response.extensions_mut().insert(report.clone());
            }
            let Some(sent) = prepared.sent.as_ref() else {
                return Ok(response);
            };
            let readable = |rounds: &Rounds| {
                let headers = response.headers();
                response.status().is_success()
                    && match rounds.is_streaming() {
                        true => is_plain_event_stream(headers),
                        false => is_plain_json(headers),
                    }
            };
            let Some(rounds) = door
                .rounds_for(sent, DEFAULT_NAMESPACE, max_rounds)
                .filter(readable)
            else {
                return Ok(response);
            };
            // Later rounds rebuild async-openai's own request with the resolver's body.
            let factory = memo.factory.clone();
            let send = move |body: Vec<u8>| {
                let request = with_body(&factory, Bytes::from(body));
                let service = inner.clone();
                async move { oneshot(service, request).await.map_err(Into::into) }
            };
            let mut head = head_of(&response);
            if rounds.is_streaming() {
                head.1.remove(header::CONTENT_LENGTH);
                let open = move |body: Vec<u8>| {
                    let round = send(body);
                    async move { Ok(ResponseSource(round.await?)) }
                };
                let stream = rounds
                    .stream(ResponseSource(response), open)
                    .into_stream()
                    .map_err(|error| Box::new(error) as BoxError);
                return Ok(rebuild(head, reqwest::Body::wrap_stream(stream), report));
            }
            whole(rounds, head, response, send, report).await
        })
    }
}

/// A whole JSON reply: resolve every round, hand back the last answer (or a reply over the limit,
/// as it came).
async fn whole<F, Fut>(
    mut rounds: Rounds,
    head: Head,
    response: reqwest::Response,
    send: F,
    report: Option<Report>,
) -> Result<reqwest::Response, OpenAIError>
where
    F: FnMut(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<reqwest::Response, OpenAIError>>,
{
    let limit = rounds.reply_limit();
    let mut source = ResponseSource(response);
    let first = match read_capped(&mut source, limit).await? {
        Capped::Whole(first) => first,
        Capped::Over(read) => return Ok(rebuild(head, as_it_came(read, source), report)),
    };
    let mut send = send;
    let read_round = move |body: Vec<u8>| {
        let round = send(body);
        async move {
            let reply = round.await?;
            let head = head_of(&reply);
            let mut source = ResponseSource(reply);
            Ok::<_, OpenAIError>(match read_capped(&mut source, limit).await? {
                Capped::Whole(bytes) => Reply::Read(head, bytes),
                Capped::Over(read) => Reply::AsItCame((head, as_it_came(read, source))),
            })
        }
    };
    match rounds.whole(first, read_round).await? {
        Whole::Answer { head: last, body } => {
            let mut head = last.unwrap_or(head);
            fix_content_length(&mut head.1, body.len());
            Ok(rebuild(head, body.into(), report))
        }
        Whole::AsItCame((head, body)) => Ok(rebuild(head, body, report)),
    }
}

/// A reqwest response's body, chunk by chunk.
struct ResponseSource(reqwest::Response);

impl ChunkSource for ResponseSource {
    type Error = OpenAIError;

    async fn next_chunk(&mut self) -> Result<Option<Bytes>, OpenAIError> {
        self.0.chunk().await.map_err(OpenAIError::Reqwest)
    }
}

/// The bytes read of a reply over the limit, then the rest of it.
fn as_it_came(read: Vec<u8>, source: ResponseSource) -> reqwest::Body {
    reqwest::Body::wrap_stream(replay(read, source).map_err(|error| Box::new(error) as BoxError))
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

/// Status, headers and version of a reply.
type Head = (StatusCode, HeaderMap, Version);

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
