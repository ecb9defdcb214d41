//! OpenAI-style error replies: `{"error":{"message","type","code"}}` with the matching status.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use serde_json::json;

/// Why the proxy answered instead of the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyError {
    /// The request body is over the limit (413).
    BodyTooLarge(usize),
    /// The request is not what the route needs (400).
    BadRequest(String),
    /// The request cannot fit its token budget, whatever Headroom compresses or evicts (400, as
    /// the provider would answer it).
    ContextLength(String),
    /// Nothing under that hash in the caller's namespace (404).
    NotFound(String),
    /// The upstream could not be reached or broke off (502).
    Upstream(String),
    /// The upstream did not answer in time (504).
    UpstreamTimeout(String),
    /// The store did not answer (503).
    Store(String),
}

impl ProxyError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::BadRequest(_) | ProxyError::ContextLength(_) => StatusCode::BAD_REQUEST,
            ProxyError::NotFound(_) => StatusCode::NOT_FOUND,
            ProxyError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ProxyError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The short name used as the error's `code` and as the `kind` label in `/metrics`.
    pub fn code(&self) -> &'static str {
        match self {
            ProxyError::BodyTooLarge(_) => "body_too_large",
            ProxyError::BadRequest(_) => "invalid_request",
            ProxyError::ContextLength(_) => "context_length_exceeded",
            ProxyError::NotFound(_) => "not_found",
            ProxyError::Upstream(_) => "upstream_unreachable",
            ProxyError::UpstreamTimeout(_) => "upstream_timeout",
            ProxyError::Store(_) => "store_unavailable",
        }
    }

    fn error_type(&self) -> &'static str {
        match self {
            ProxyError::BodyTooLarge(_)
            | ProxyError::BadRequest(_)
            | ProxyError::ContextLength(_)
            | ProxyError::NotFound(_) => "invalid_request_error",
            ProxyError::Upstream(_) | ProxyError::UpstreamTimeout(_) | ProxyError::Store(_) => {
                "proxy_error"
            }
        }
    }

    /// What went wrong, for the caller.
    pub fn message(&self) -> String {
        match self {
            ProxyError::BodyTooLarge(limit) => {
                format!("the request body is larger than the proxy's limit of {limit} bytes")
            }
            ProxyError::BadRequest(m)
            | ProxyError::ContextLength(m)
            | ProxyError::NotFound(m)
            | ProxyError::Upstream(m)
            | ProxyError::UpstreamTimeout(m)
            | ProxyError::Store(m) => m.clone(),
        }
    }

    /// The error body, as JSON.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"message": self.message(), "type": self.error_type(), "code": self.code()}})
    }

    /// The error as one Server-Sent Event, for a stream whose head is already sent.
    pub fn sse_event(&self) -> bytes::Bytes {
        bytes::Bytes::from(format!("data: {}\n\n", self.body()))
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

impl ProxyError {
    /// The error a layer failure stands for: a request over its token budget is the caller's to
    /// fix (400); anything else means the body could not be read.
    pub fn from_layer(error: &headroom_tower::BoxError) -> ProxyError {
        match error.downcast_ref::<headroom::Error>() {
            Some(e @ headroom::Error::OverBudget { .. }) => {
                ProxyError::ContextLength(e.to_string())
            }
            _ => ProxyError::BadRequest(format!("cannot read the request body: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_the_openai_shape() {
        let e = ProxyError::UpstreamTimeout("no answer in 1s".into());
        assert_eq!(e.status(), StatusCode::GATEWAY_TIMEOUT);
        let body = e.body();
        assert_eq!(body["error"]["message"], "no answer in 1s");
        assert_eq!(body["error"]["code"], "upstream_timeout");
        assert_eq!(body["error"]["type"], "proxy_error");
        let event = e.sse_event();
        assert!(event.starts_with(b"data: {\"error\"") && event.ends_with(b"\n\n"));
    }
}
