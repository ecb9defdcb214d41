//! Retrieval rounds: the model's `headroom_retrieve` calls are answered here, from the caller's
//! namespace of the store, and the conversation goes on upstream until the model answers; the
//! client sees only that answer. Driven by `headroom_tower::rounds::Rounds` (the one driver every
//! door shares), whole replies and SSE streams alike; this file is only the proxy's transport —
//! the upstream client with its timeouts, the counters, errors as OpenAI-style replies or events.

use super::error::ProxyError;
use super::forward::{self, head_of, response_from, Upstream};
use super::stats::Stats;
use super::App;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use headroom::resolver::{Carries, Resolver};
use headroom::store::{AsyncStore, StoreFuture};
use headroom_tower::headers::{is_event_stream, is_plain_event_stream, is_plain_json};
use headroom_tower::rounds::{read_capped, replay, Capped, ChunkSource, Reply, Rounds, Whole};
use http::{header, HeaderMap, Method, StatusCode};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// One client request's context, for the rounds sent on its behalf.
pub struct Call {
    /// The proxy.
    pub app: Arc<App>,
    /// The caller's store namespace.
    pub namespace: String,
    /// The path and query the request went to.
    pub path: String,
    /// The end-to-end headers it was sent with (`Authorization` included).
    pub headers: HeaderMap,
}

/// Resolves the rounds of a request whose (successful) first reply is `response`.
pub async fn resolve(call: Call, sent: &[u8], response: reqwest::Response) -> Response {
    let Ok(resolver) = Resolver::new(sent) else {
        return forward::relay(call.app.upstream.clone(), response, call.app.stats.clone());
    };
    let resolver = resolver
        .with_config(call.app.engine.config())
        .max_rounds(call.app.max_rounds);
    let store = Arc::new(Counted {
        inner: call.app.store.clone(),
        stats: call.app.stats.clone(),
    });
    let rounds = Rounds::new(resolver, store, call.namespace.clone()).carrying(Carries::shared());
    let headers = response.headers();
    if rounds.is_streaming() && is_plain_event_stream(headers) {
        stream(Arc::new(call), rounds, response)
    } else if !rounds.is_streaming() && is_plain_json(headers) {
        whole(call, rounds, response).await
    } else {
        forward::relay(call.app.upstream.clone(), response, call.app.stats.clone())
    }
}

impl Call {
    async fn send(&self, body: Vec<u8>) -> Result<reqwest::Response, ProxyError> {
        self.app.stats.retrieval_rounds.fetch_add(1, Relaxed);
        tracing::info!(bytes = body.len(), "retrieval round");
        self.app
            .upstream
            .send(
                Method::POST,
                &self.path,
                self.headers.clone(),
                reqwest::Body::from(body),
                &self.app.stats.upstream,
            )
            .await
    }

    fn body(&self, response: reqwest::Response) -> RoundBody {
        RoundBody::Upstream(self.app.upstream.clone(), response)
    }
}

/// A non-streamed exchange: read each reply whole (within the reply limit), answer lookups, send
/// rounds, return the last; a reply over the limit is relayed as it came.
async fn whole(call: Call, mut rounds: Rounds, response: reqwest::Response) -> Response {
    let head = head_of(&response);
    let limit = rounds.reply_limit();
    let mut source = call.body(response);
    let first = match read_capped(&mut source, limit).await {
        Ok(Capped::Whole(first)) => first,
        Ok(Capped::Over(read)) => return as_it_came(head, read, source),
        Err(e) => return call.app.fail(e),
    };
    let read_round = |body: Vec<u8>| async {
        let next = call.send(body).await?;
        let head = head_of(&next);
        let mut source = call.body(next);
        Ok::<_, ProxyError>(match read_capped(&mut source, limit).await? {
            Capped::Whole(reply) => Reply::Read(head, reply),
            Capped::Over(read) => Reply::AsItCame(as_it_came(head, read, source)),
        })
    };
    match rounds.whole(first, read_round).await {
        Ok(Whole::Answer { head: last, body }) => {
            let (status, mut headers) = last.unwrap_or(head);
            headers.remove(header::CONTENT_LENGTH);
            response_from(status, headers, Body::from(body))
        }
        Ok(Whole::AsItCame(response)) => response,
        Err(e) => call.app.fail(e),
    }
}

/// A reply over the limit: the bytes read, then the rest as it arrives.
fn as_it_came(head: (StatusCode, HeaderMap), read: Vec<u8>, rest: RoundBody) -> Response {
    let body =
        replay(read, rest).map(|chunk| chunk.map_err(|e| std::io::Error::other(e.message())));
    response_from(head.0, head.1, Body::from_stream(body))
}

/// A streamed exchange: chunks go to the client as the resolver releases them; rounds are sent
/// when a stream ends in our tool call, and their streams continue the same response. A failure
/// ends the stream with an SSE error event.
fn stream(call: Arc<Call>, rounds: Rounds, response: reqwest::Response) -> Response {
    let (status, mut headers) = head_of(&response);
    headers.remove(header::CONTENT_LENGTH);
    let first = call.body(response);
    let app = call.app.clone();
    let open = move |body: Vec<u8>| {
        let call = call.clone();
        async move {
            let mut next = call.send(body).await?;
            if next.status().is_success() && is_event_stream(next.headers()) {
                return Ok(call.body(next));
            }
            // An error reply in the middle of a stream: the client gets it as an SSE error event.
            let status = next.status();
            let limit = call.app.engine.config().max_reply_bytes;
            let mut body = Vec::new();
            while let Ok(Some(chunk)) = call.app.upstream.next_chunk(&mut next).await {
                body.extend_from_slice(&chunk);
                if body.len() > limit {
                    break;
                }
            }
            call.app.stats.error("upstream_error");
            Ok(RoundBody::Event(Some(error_event(status, &body))))
        }
    };
    let body = rounds.stream(first, open).into_stream().map(move |item| {
        Ok::<_, std::io::Error>(item.unwrap_or_else(|e| {
            app.stats.error(e.code());
            tracing::warn!(error = %e.message(), "stream failed");
            e.sse_event()
        }))
    });
    response_from(status, headers, Body::from_stream(body))
}

/// The body of one reply the rounds read: the upstream's (each chunk within the idle timeout), or
/// an error event standing for a round the upstream refused.
enum RoundBody {
    Upstream(Upstream, reqwest::Response),
    Event(Option<Bytes>),
}

impl ChunkSource for RoundBody {
    type Error = ProxyError;

    async fn next_chunk(&mut self) -> Result<Option<Bytes>, ProxyError> {
        match self {
            RoundBody::Upstream(upstream, response) => upstream.next_chunk(response).await,
            RoundBody::Event(event) => Ok(event.take()),
        }
    }
}

/// The proxy's store as the rounds read it: every lookup counted in `/stats` and `/metrics`.
struct Counted {
    inner: Arc<dyn AsyncStore>,
    stats: Arc<Stats>,
}

impl AsyncStore for Counted {
    fn put<'a>(&'a self, namespace: &'a str, hash: &'a str, text: &'a str) -> StoreFuture<'a, ()> {
        self.inner.put(namespace, hash, text)
    }
    fn get<'a>(&'a self, namespace: &'a str, hash: &'a str) -> StoreFuture<'a, Option<String>> {
        self.stats.retrievals.fetch_add(1, Relaxed);
        self.inner.get(namespace, hash)
    }
}

/// An upstream error reply in the middle of a stream, as an SSE error event.
fn error_event(status: StatusCode, body: &[u8]) -> Bytes {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) if value.get("error").is_some() => Bytes::from(format!("data: {value}\n\n")),
        _ => ProxyError::Upstream(format!(
            "the upstream answered a retrieval round with {status}"
        ))
        .sse_event(),
    }
}
