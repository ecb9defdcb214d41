//! Forwarding to the upstream: the URL, the headers that may cross (hop-by-hop ones do not), the
//! timeouts, and response bodies relayed chunk by chunk as they arrive (SSE event by event).

use super::error::ProxyError;
use super::stats::Stats;
use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use headroom_tower::headers::is_event_stream;
use http::{header, HeaderMap, HeaderName, Method, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The upstream API and how long to wait for it.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
    base: String,
    /// Longest wait for a response head.
    pub response_timeout: Duration,
    /// Longest silence between two chunks of a response body.
    pub idle_timeout: Duration,
}

impl Upstream {
    /// A client for `base` (`https://api.openai.com`, or with `/v1`: both mean the same).
    pub fn new(
        base: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
        idle_timeout: Duration,
    ) -> Result<Self, String> {
        let parsed =
            reqwest::Url::parse(base).map_err(|e| format!("upstream URL {base:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("upstream URL {base:?}: use http:// or https://"));
        }
        // Redirects are not followed: the client sees what the upstream said.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| format!("cannot build the upstream client: {e}"))?;
        Ok(Upstream {
            client,
            base: base.trim_end_matches('/').to_string(),
            response_timeout,
            idle_timeout,
        })
    }

    /// The upstream URL for an incoming `/v1/…` path and query. A base ending in `/v1` (as
    /// `OPENAI_BASE_URL` usually does) takes the rest of the path after `/v1`.
    pub fn url_for(&self, path_and_query: &str) -> String {
        match (
            self.base.strip_suffix("/v1"),
            path_and_query.strip_prefix("/v1"),
        ) {
            (Some(_), Some(rest)) => format!("{}{rest}", self.base),
            _ => format!("{}{path_and_query}", self.base),
        }
    }

    /// Sends one request and waits (at most the response timeout) for its head.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: HeaderMap,
        body: impl Into<Option<reqwest::Body>>,
        upstream_time: &super::stats::Histogram,
    ) -> Result<reqwest::Response, ProxyError> {
        let mut request = self
            .client
            .request(method, self.url_for(path_and_query))
            .headers(headers);
        if let Some(body) = body.into() {
            request = request.body(body);
        }
        let started = Instant::now();
        let result = tokio::time::timeout(self.response_timeout, request.send()).await;
        upstream_time.observe(started.elapsed());
        match result {
            Err(_) => Err(ProxyError::UpstreamTimeout(format!(
                "the upstream did not answer within {:?}",
                self.response_timeout
            ))),
            Ok(Err(e)) if e.is_timeout() => Err(ProxyError::UpstreamTimeout(format!(
                "the upstream did not accept the connection in time: {}",
                describe(&e)
            ))),
            Ok(Err(e)) => Err(ProxyError::Upstream(format!(
                "cannot reach the upstream: {}",
                describe(&e)
            ))),
            Ok(Ok(response)) => Ok(response),
        }
    }

    /// The next chunk of a response body, waiting at most the idle timeout.
    pub async fn next_chunk(
        &self,
        response: &mut reqwest::Response,
    ) -> Result<Option<Bytes>, ProxyError> {
        match tokio::time::timeout(self.idle_timeout, response.chunk()).await {
            Err(_) => Err(ProxyError::UpstreamTimeout(format!(
                "the upstream sent nothing for {:?} (stream idle timeout)",
                self.idle_timeout
            ))),
            Ok(Err(e)) => Err(ProxyError::Upstream(format!(
                "the upstream broke off its response: {}",
                describe(&e)
            ))),
            Ok(Ok(chunk)) => Ok(chunk),
        }
    }
}

/// reqwest's error with its causes (the cause says "connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Drops hop-by-hop headers, those the `Connection` header names, and `Host`.
pub fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    let mut out = headers.clone();
    for name in HOP_BY_HOP {
        out.remove(name);
    }
    for name in named {
        out.remove(name);
    }
    out.remove(header::HOST);
    // The proxy's own control header is for the proxy, not the upstream.
    out.remove(headroom_tower::BYPASS_HEADER);
    out
}

/// The status and end-to-end headers of an upstream response.
pub fn head_of(response: &reqwest::Response) -> (StatusCode, HeaderMap) {
    (response.status(), end_to_end(response.headers()))
}

/// An upstream response for the client: its head, and its body relayed chunk by chunk as each
/// arrives. A body that goes silent past the idle timeout ends with an SSE error event when it is
/// an event stream, and is cut (the client sees a broken body) otherwise.
pub fn relay(
    upstream: Upstream,
    response: reqwest::Response,
    stats: Arc<Stats>,
) -> axum::response::Response {
    let (status, headers) = head_of(&response);
    let sse = is_event_stream(&headers);
    let state = Some((upstream, response, stats));
    let body = futures_util::stream::unfold(state, move |state| async move {
        let (upstream, mut response, stats) = state?;
        match upstream.next_chunk(&mut response).await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some((upstream, response, stats)))),
            Ok(None) => None,
            Err(e) => {
                stats.error(e.code());
                tracing::warn!(error = %e.message(), "upstream body failed");
                if sse {
                    Some((Ok(e.sse_event()), None))
                } else {
                    Some((Err(std::io::Error::other(e.message())), None))
                }
            }
        }
    });
    response_from(status, headers, Body::from_stream(body))
}

/// A response with this head and body.
pub fn response_from(
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let mut response = axum::response::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A request body streamed to the upstream that fails once it passes `limit` bytes (bodies that
/// announce their length are checked before forwarding; this catches chunked ones). When the
/// client's body is at fault (too large, or a malformed chunk), `fault` says how, so the client
/// gets 413 or 400 rather than a 502 that blames the upstream.
pub fn limited_body(
    body: Body,
    limit: usize,
    fault: Arc<std::sync::OnceLock<ProxyError>>,
) -> reqwest::Body {
    let mut seen = 0usize;
    let stream = body.into_data_stream().map(move |chunk| {
        let failed = |error: ProxyError| {
            let message = error.message();
            let _ = fault.set(error);
            std::io::Error::other(message)
        };
        let chunk = chunk.map_err(|e| {
            failed(ProxyError::BadRequest(format!(
                "cannot read the request body: {e}"
            )))
        })?;
        seen += chunk.len();
        if seen > limit {
            return Err(failed(ProxyError::BodyTooLarge(limit)));
        }
        Ok(chunk)
    });
    reqwest::Body::wrap_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn upstream(base: &str) -> Upstream {
        let d = Duration::from_secs(1);
        Upstream::new(base, d, d, d).unwrap()
    }

    #[test]
    fn urls_join_with_or_without_v1() {
        let path = "/v1/chat/completions?x=1";
        for base in [
            "http://h:1",
            "http://h:1/",
            "http://h:1/v1",
            "http://h:1/v1/",
        ] {
            assert_eq!(
                upstream(base).url_for(path),
                "http://h:1/v1/chat/completions?x=1"
            );
        }
        assert_eq!(
            upstream("http://h/openai").url_for("/v1/models"),
            "http://h/openai/v1/models"
        );
        assert!(Upstream::new("ftp://h", Duration::ZERO, Duration::ZERO, Duration::ZERO).is_err());
    }

    #[test]
    fn hop_by_hop_headers_stay_behind() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-private"),
        );
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("host", HeaderValue::from_static("localhost:8787"));
        h.insert("authorization", HeaderValue::from_static("Bearer k"));
        h.insert("openai-organization", HeaderValue::from_static("org"));
        h.insert("x-headroom-bypass", HeaderValue::from_static("true"));
        let out = end_to_end(&h);
        let mut names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["authorization", "openai-organization"]);
    }
}
