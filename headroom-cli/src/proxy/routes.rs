//! The proxy's routes, the pass-through for every other `/v1/*` request, and the per-request
//! context (request id, span, failure count).

use super::body::announced_length;
use super::error::ProxyError;
use super::forward::{end_to_end, limited_body, relay};
use super::stats::Route;
use super::{chat, compress_api, metrics, retrieve_api, App};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{header, HeaderValue};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The header that carries the request id (taken from the client when it sends a sane one).
pub const REQUEST_ID: &str = "x-request-id";

/// Every route of the proxy.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/responses", post(chat::responses))
        .route("/v1/compress", post(compress_api::compress))
        .route("/v1/retrieve", post(retrieve_api::retrieve))
        .route("/v1/retrieve/tool_call", post(retrieve_api::tool_call))
        .route("/health", get(health))
        .route("/stats", get(stats))
        .route("/metrics", get(prometheus))
        .fallback(passthrough)
        .layer(middleware::from_fn_with_state(app.clone(), request_context))
        .with_state(app)
}

async fn health(State(app): State<Arc<App>>) -> Response {
    Json(json!({
        "status": "healthy",
        "version": env!("CARGO_PKG_VERSION"),
        "config": {"optimize": true, "cache": false, "rate_limit": false},
        "upstream": app.upstream_label,
        "store": app.store_label,
    }))
    .into_response()
}

async fn stats(State(app): State<Arc<App>>) -> Response {
    Json(app.stats.snapshot()).into_response()
}

async fn prometheus(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::render(&app.stats),
    )
        .into_response()
}

/// Every other request: `/v1/*` goes upstream untouched (method, path, query, end-to-end headers,
/// body streamed both ways); anything else is 404.
async fn passthrough(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if !(path == "/v1" || path.starts_with("/v1/")) {
        return app.fail(ProxyError::NotFound(format!(
            "{path} is not a proxy route; OpenAI API paths start with /v1/"
        )));
    }
    let route = if path == "/v1/responses" || path.starts_with("/v1/responses/") {
        Route::Responses
    } else {
        Route::Passthrough
    };
    app.stats.request(route);
    let (parts, body) = request.into_parts();
    let announced = announced_length(&parts.headers);
    if announced.is_some_and(|len| len > app.max_body_bytes as u64) {
        return app.fail(ProxyError::BodyTooLarge(app.max_body_bytes));
    }
    let has_body = announced.is_some_and(|len| len > 0)
        || parts.headers.contains_key(header::TRANSFER_ENCODING);
    let fault = Arc::default();
    let body = has_body.then(|| limited_body(body, app.max_body_bytes, Arc::clone(&fault)));
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or(path, |p| p.as_str().to_string())
        .to_string();
    let sent = app
        .upstream
        .send(
            parts.method,
            &path_and_query,
            end_to_end(&parts.headers),
            body,
            &app.stats.upstream,
        )
        .await;
    match sent {
        Ok(response) => relay(app.upstream.clone(), response, app.stats.clone()),
        // A body the client broke off or sent too much of is the client's error, not the upstream's.
        Err(e) => app.fail(fault.get().cloned().unwrap_or(e)),
    }
}

/// Gives every request an id (the client's `x-request-id` when sane), runs it in a span with that
/// id, logs its status and time, and counts failures. Headers are never logged.
async fn request_context(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_string);
    let path = super::client_text::for_log(request.uri().path());
    let span = tracing::info_span!("request", id = %id, method = %request.method(), path = %path);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        app.stats.failed.fetch_add(1, Relaxed);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "response head"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// A process-unique id: the start time and a counter, in hex.
fn new_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    });
    format!(
        "hr-{:x}-{:x}",
        start & 0xffff_ffff_ffff,
        NEXT.fetch_add(1, Relaxed)
    )
}
