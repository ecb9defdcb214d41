//! `POST /v1/chat/completions`: compress, forward, resolve retrieval rounds, relay the answer.

use super::body::{is_plain_json_request, read_limited, wants_bypass};
use super::compression::Compressed;
use super::stats::Route;
use super::{forward, rounds, tenant, App};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use headroom::Report;
use http::{header, HeaderMap, HeaderValue, Method};
use std::sync::Arc;

/// The response headers that carry a compression's token counts.
pub const TOKENS_BEFORE: &str = "x-headroom-tokens-before";
/// See [`TOKENS_BEFORE`].
pub const TOKENS_AFTER: &str = "x-headroom-tokens-after";
/// See [`TOKENS_BEFORE`].
pub const TOKENS_SAVED: &str = "x-headroom-tokens-saved";

/// The chat-completions route.
pub async fn chat_completions(State(app): State<Arc<App>>, request: Request) -> Response {
    app.stats.request(Route::ChatCompletions);
    let (parts, body) = request.into_parts();
    let body = match read_limited(body, &parts.headers, app.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => return app.fail(e),
    };
    let namespace = tenant::namespace(&parts.headers);
    let bypass = wants_bypass(&parts.headers);
    let Compressed { body, report } = if bypass || !is_plain_json_request(&parts.headers) {
        Compressed { body, report: None }
    } else {
        app.compress(body, &namespace).await
    };
    let model = report
        .as_ref()
        .map(|r| r.model.clone())
        .unwrap_or_else(|| model_of(&body));
    app.stats.model(&model);
    if let Some(r) = &report {
        tracing::info!(
            model = %r.model,
            tokens_before = r.tokens_before,
            tokens_after = r.tokens_after,
            transforms = ?r.transforms_applied,
            "compressed"
        );
    }

    let mut headers = forward::end_to_end(&parts.headers);
    headers.remove(header::CONTENT_LENGTH);
    let resolve = !bypass && rounds::offers_retrieve(&body);
    if resolve {
        // The resolver reads the replies: ask for them unencoded.
        headers.remove(header::ACCEPT_ENCODING);
    }
    let path = parts
        .uri
        .path_and_query()
        .map_or("/v1/chat/completions", |p| p.as_str())
        .to_string();
    let sent = app
        .upstream
        .send(
            Method::POST,
            &path,
            headers.clone(),
            reqwest::Body::from(body.clone()),
            &app.stats.upstream,
        )
        .await;
    let upstream_response = match sent {
        Ok(response) => response,
        Err(e) => return with_report(app.fail(e), report.as_ref()),
    };
    let response = if resolve && upstream_response.status().is_success() {
        let call = rounds::Call {
            app: app.clone(),
            namespace,
            path,
            headers,
        };
        rounds::resolve(call, &body, upstream_response).await
    } else {
        forward::relay(app.upstream.clone(), upstream_response, app.stats.clone())
    };
    with_report(response, report.as_ref())
}

/// Adds the `x-headroom-tokens-*` headers of a compression.
pub fn with_report(mut response: Response, report: Option<&Report>) -> Response {
    if let Some(report) = report {
        set_token_headers(response.headers_mut(), report);
    }
    response
}

/// Writes the `x-headroom-tokens-*` headers.
pub fn set_token_headers(headers: &mut HeaderMap, report: &Report) {
    for (name, value) in [
        (TOKENS_BEFORE, report.tokens_before),
        (TOKENS_AFTER, report.tokens_after),
        (TOKENS_SAVED, report.tokens_saved),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

/// The request's `model`, for the counts of uncompressed requests.
fn model_of(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ModelOnly {
        model: String,
    }
    serde_json::from_slice::<ModelOnly>(body)
        .map(|m| m.model)
        .unwrap_or_else(|_| "unknown".into())
}

impl App {
    /// Counts an error and turns it into its OpenAI-style response.
    pub fn fail(&self, error: super::error::ProxyError) -> Response {
        self.stats.error(error.code());
        tracing::warn!(error = %error.message(), status = error.status().as_u16(), "request failed");
        error.into_response()
    }
}
