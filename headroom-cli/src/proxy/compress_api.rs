//! `POST /v1/compress`: the protocol of the Headroom TypeScript SDK (`headroom-ai`, `withHeadroom`).
//!
//! Request `{messages, model, token_budget?, config?}`; reply `{messages, tokens_before,
//! tokens_after, tokens_saved, compression_ratio, transforms_applied, ccr_hashes}` with
//! `compression_ratio` = after / before. The SDK throws on any 4xx, so only a body that is not such
//! a request gets 400; when compression itself fails the reply is 200 with the messages unchanged
//! (the SDK's own fallback shape). `token_budget` is accepted and counted (fitting a window comes
//! later); `config` is accepted and ignored (the proxy's `--config` sets the engine).
//!
//! This is an engine API endpoint, not a forwarding path: the body is compressed by the same
//! `HeadroomLayer` as chat completions (originals in the caller's namespace), but the compressed
//! messages are returned to the caller instead of being sent upstream.

use super::body::read_limited;
use super::chat::set_token_headers;
use super::error::ProxyError;
use super::stats::Route;
use super::{tenant, App};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

#[derive(Deserialize)]
struct CompressRequest {
    messages: Vec<Value>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    token_budget: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    config: Option<Value>,
}

/// The compress route.
pub async fn compress(State(app): State<Arc<App>>, request: Request) -> Response {
    app.stats.request(Route::Compress);
    let (parts, body) = request.into_parts();
    let body = match read_limited(body, &parts.headers, app.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => return app.fail(e),
    };
    let request: CompressRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return app.fail(ProxyError::BadRequest(format!(
                "/v1/compress takes {{\"messages\": [...], \"model\": string, \"token_budget\"?: integer}}: {e}"
            )))
        }
    };
    let model = request
        .model
        .clone()
        .unwrap_or_else(|| headroom::DEFAULT_MODEL.to_string());
    app.stats.model(&model);
    if let Some(budget) = request.token_budget {
        app.stats.token_budgets.fetch_add(1, Relaxed);
        tracing::info!(
            token_budget = budget,
            "token_budget recorded (not applied yet)"
        );
    }
    let namespace = tenant::namespace(&parts.headers);
    let chat = json!({"model": model, "messages": request.messages});
    let chat = Bytes::from(serde_json::to_vec(&chat).expect("a JSON value serializes"));
    let out = app.compress(chat, &namespace).await;
    let compressed = out.report.and_then(|report| {
        let body: Value = serde_json::from_slice(&out.body).ok()?;
        let messages = body.get("messages")?.clone();
        Some((messages, report))
    });
    match compressed {
        Some((messages, report)) => {
            let mut response = Json(json!({
                "messages": messages,
                "tokens_before": report.tokens_before,
                "tokens_after": report.tokens_after,
                "tokens_saved": report.tokens_saved,
                "compression_ratio": report.compression_ratio,
                "transforms_applied": report.transforms_applied,
                "ccr_hashes": report.ccr_hashes,
            }))
            .into_response();
            set_token_headers(response.headers_mut(), &report);
            response
        }
        None => {
            app.stats.error("compression_failed");
            Json(json!({
                "messages": request.messages,
                "tokens_before": 0,
                "tokens_after": 0,
                "tokens_saved": 0,
                "compression_ratio": 1.0,
                "transforms_applied": [],
                "ccr_hashes": [],
            }))
            .into_response()
        }
    }
}
