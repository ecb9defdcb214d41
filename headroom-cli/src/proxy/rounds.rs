//! Retrieval rounds: the model's `headroom_retrieve` calls are answered here, from the caller's
//! namespace of the store, and the conversation goes on upstream until the model answers; the
//! client sees only that answer. Driven by the engine's I/O-free [`Resolver`], whole replies and
//! SSE streams alike (a stream that is not a retrieve call is relayed as it comes).

use super::error::ProxyError;
use super::forward::{self, head_of, is_event_stream, response_from};
use super::App;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use headroom::marker::RETRIEVE_TOOL_NAME;
use headroom::resolver::{Resolver, Step};
use headroom::store::lookup_all;
use headroom_tower::retrieval::is_plain_json;
use http::{header, HeaderMap, Method};
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

/// Whether a request body offers the retrieve tool (only then can the model call it).
pub fn offers_retrieve(body: &[u8]) -> bool {
    memchr_str(body, RETRIEVE_TOOL_NAME.as_bytes())
}

fn memchr_str(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Resolves the rounds of a request whose (successful) first reply is `response`.
pub async fn resolve(call: Call, sent: &[u8], response: reqwest::Response) -> Response {
    let Ok(resolver) = Resolver::new(sent) else {
        return forward::relay(call.app.upstream.clone(), response, call.app.stats.clone());
    };
    let resolver = resolver
        .max_rounds(call.app.max_rounds)
        .answer_tokens(call.app.engine.config().retrieve_answer_tokens);
    let streamed = is_event_stream(response.headers());
    if resolver.is_streaming() && streamed {
        stream(call, resolver, response)
    } else if !resolver.is_streaming() && is_plain_json(response.headers()) {
        match whole(&call, resolver, response).await {
            Ok(response) => response,
            Err(e) => call.app.fail(e),
        }
    } else {
        forward::relay(call.app.upstream.clone(), response, call.app.stats.clone())
    }
}

impl Call {
    async fn lookup(
        &self,
        hashes: &[String],
    ) -> Vec<Result<Option<String>, headroom::store::StoreError>> {
        self.app
            .stats
            .retrievals
            .fetch_add(hashes.len() as u64, Relaxed);
        lookup_all(self.app.store.as_ref(), &self.namespace, hashes).await
    }

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
}

/// A non-streamed exchange: read each reply whole, answer lookups, send rounds, return the last.
async fn whole(
    call: &Call,
    mut resolver: Resolver,
    mut response: reqwest::Response,
) -> Result<Response, ProxyError> {
    let mut head = head_of(&response);
    let reply = call.app.upstream.read_all(&mut response).await?;
    let mut step = resolver.on_response(&reply);
    loop {
        step = match step {
            Step::Lookup(hashes) => resolver.resume(call.lookup(&hashes).await),
            Step::Send(body) => {
                let mut next = call.send(body).await?;
                head = head_of(&next);
                let reply = call.app.upstream.read_all(&mut next).await?;
                resolver.on_response(&reply)
            }
            Step::Done(bytes) => {
                let (status, mut headers) = head;
                headers.remove(header::CONTENT_LENGTH);
                return Ok(response_from(status, headers, Body::from(bytes)));
            }
        }
    }
}

/// A streamed exchange: chunks go to the client as the resolver releases them; rounds are sent
/// when a stream ends in our tool call, and their streams continue the same response.
fn stream(call: Call, resolver: Resolver, response: reqwest::Response) -> Response {
    let (status, mut headers) = head_of(&response);
    headers.remove(header::CONTENT_LENGTH);
    let state = Streaming {
        call,
        resolver,
        current: Some(response),
    };
    let body = futures_util::stream::unfold(state, Streaming::next_chunk);
    response_from(status, headers, Body::from_stream(body))
}

struct Streaming {
    call: Call,
    resolver: Resolver,
    current: Option<reqwest::Response>,
}

/// What to do after an upstream stream ended.
enum Next {
    /// A new round's stream is current: read on.
    ReadOn,
    /// Give the client these bytes (and then end, unless a stream is current).
    Yield(Bytes),
    /// The exchange is over.
    End,
}

impl Streaming {
    async fn next_chunk(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        loop {
            let current = self.current.as_mut()?;
            match self.call.app.upstream.next_chunk(current).await {
                Ok(Some(chunk)) => {
                    let out = self.resolver.on_sse(&chunk);
                    if !out.is_empty() {
                        return Some((Ok(Bytes::from(out)), self));
                    }
                }
                Ok(None) => {
                    self.current = None;
                    match self.after_stream().await {
                        Next::ReadOn => continue,
                        Next::Yield(bytes) => return Some((Ok(bytes), self)),
                        Next::End => return None,
                    }
                }
                Err(e) => {
                    let event = self.failed(e);
                    return Some((Ok(event), self));
                }
            }
        }
    }

    /// One upstream stream ended: look up, send the next round, or finish.
    async fn after_stream(&mut self) -> Next {
        let mut step = self.resolver.on_sse_end();
        loop {
            step = match step {
                Step::Lookup(hashes) => {
                    let found = self.call.lookup(&hashes).await;
                    self.resolver.resume(found)
                }
                Step::Send(body) => {
                    return match self.call.send(body).await {
                        Ok(next)
                            if next.status().is_success() && is_event_stream(next.headers()) =>
                        {
                            self.current = Some(next);
                            Next::ReadOn
                        }
                        Ok(mut next) => {
                            let status = next.status();
                            let body = self
                                .call
                                .app
                                .upstream
                                .read_all(&mut next)
                                .await
                                .unwrap_or_default();
                            self.call.app.stats.error("upstream_error");
                            Next::Yield(error_event(status, &body))
                        }
                        Err(e) => Next::Yield(self.failed(e)),
                    };
                }
                Step::Done(rest) if rest.is_empty() => return Next::End,
                Step::Done(rest) => return Next::Yield(Bytes::from(rest)),
            }
        }
    }

    fn failed(&mut self, e: ProxyError) -> Bytes {
        self.current = None;
        self.call.app.stats.error(e.code());
        tracing::warn!(error = %e.message(), "stream failed");
        e.sse_event()
    }
}

/// An upstream error reply in the middle of a stream, as an SSE error event.
fn error_event(status: http::StatusCode, body: &[u8]) -> Bytes {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) if value.get("error").is_some() => Bytes::from(format!("data: {value}\n\n")),
        _ => ProxyError::Upstream(format!(
            "the upstream answered a retrieval round with {status}"
        ))
        .sse_event(),
    }
}
