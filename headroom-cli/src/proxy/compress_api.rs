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
//! messages are returned to the caller instead of being sent upstream. The body goes to the
//! engine as it came and the reply's `messages` are the raw bytes of the engine's output, so
//! every byte outside the strings it compresses is the caller's own (number text such as a
//! 30-digit integer or `1.0e2`, escapes, key order, spacing), as on the chat route.

use super::body::read_admitted;
use super::chat::set_token_headers;
use super::error::ProxyError;
use super::stats::Route;
use super::{tenant, App};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use headroom::Report;
use http::{header, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// The fields of a compress request, borrowed from the body (nothing is re-serialised).
#[derive(Deserialize)]
struct CompressRequest<'a> {
    #[serde(borrow)]
    messages: &'a RawValue,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    token_budget: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    config: Option<serde::de::IgnoredAny>,
}

/// The reply; `messages` is written out byte for byte.
#[derive(Serialize)]
struct CompressReply<'a> {
    messages: &'a RawValue,
    tokens_before: usize,
    tokens_after: usize,
    tokens_saved: usize,
    compression_ratio: f64,
    transforms_applied: &'a [String],
    ccr_hashes: &'a [String],
}

/// The compress route.
pub async fn compress(State(app): State<Arc<App>>, request: Request) -> Response {
    app.stats.request(Route::Compress);
    let (parts, body) = request.into_parts();
    let (body, _admitted) =
        match read_admitted(body, &parts.headers, app.max_body_bytes, &app.admission).await {
            Ok(read) => read,
            Err(e) => return app.fail(e),
        };
    let (model, token_budget) = match read_request(&body) {
        Ok(read) => read,
        Err(e) => return app.fail(e),
    };
    app.stats.model(&model);
    if let Some(budget) = token_budget {
        app.stats.token_budgets.fetch_add(1, Relaxed);
        tracing::info!(
            token_budget = budget,
            "token_budget recorded (not applied yet)"
        );
    }
    let namespace = tenant::namespace(&parts.headers);
    let out = app.compress(body.clone(), &namespace).await;
    let compressed = out
        .report
        .and_then(|report| Some((messages_of(&out.body)?, report)));
    match compressed {
        Some((messages, report)) => reply(messages, &report),
        None => {
            app.stats.error("compression_failed");
            let messages = messages_of(&body).expect("read_request checked `messages`");
            reply(messages, &Report::default())
        }
    }
}

/// The model (the default when the body names none) and the token budget of a compress body, or
/// why it is not one.
fn read_request(body: &[u8]) -> Result<(String, Option<u64>), ProxyError> {
    let shape =
        "/v1/compress takes {\"messages\": [...], \"model\": string, \"token_budget\"?: integer}";
    let request: CompressRequest<'_> = serde_json::from_slice(body)
        .map_err(|e| ProxyError::BadRequest(format!("{shape}: {e}")))?;
    if serde_json::from_str::<Vec<&RawValue>>(request.messages.get()).is_err() {
        return Err(ProxyError::BadRequest(format!(
            "{shape}: `messages` must be an array"
        )));
    }
    let model = request
        .model
        .unwrap_or_else(|| headroom::DEFAULT_MODEL.to_string());
    Ok((model, request.token_budget))
}

/// The raw `messages` of a body, as its bytes.
fn messages_of(body: &[u8]) -> Option<&RawValue> {
    #[derive(Deserialize)]
    struct Messages<'a> {
        #[serde(borrow)]
        messages: &'a RawValue,
    }
    serde_json::from_slice::<Messages<'_>>(body)
        .ok()
        .map(|m| m.messages)
}

/// The SDK's reply shape for `messages` and what the report says (a default report: unchanged).
fn reply(messages: &RawValue, report: &Report) -> Response {
    let ratio = if report.tokens_before == 0 {
        1.0
    } else {
        report.compression_ratio
    };
    let body = CompressReply {
        messages,
        tokens_before: report.tokens_before,
        tokens_after: report.tokens_after,
        tokens_saved: report.tokens_saved,
        compression_ratio: ratio,
        transforms_applied: &report.transforms_applied,
        ccr_hashes: &report.ccr_hashes,
    };
    let json = serde_json::to_vec(&body).expect("the reply serializes");
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(json),
    )
        .into_response();
    set_token_headers(response.headers_mut(), report);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_bodys_own_bytes() {
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"x","n":123456789012345678901234567890,"f":1.0e2,"s":"\ud800"}]}"#;
        let messages = messages_of(body).unwrap();
        assert_eq!(
            messages.get(),
            r#"[{"role":"user","content":"x","n":123456789012345678901234567890,"f":1.0e2,"s":"\ud800"}]"#
        );
        assert!(read_request(body).is_ok());
    }

    #[test]
    fn bodies_that_are_not_compress_requests_are_refused() {
        for body in [
            &br#"{"model":"gpt-4o"}"#[..],
            br#"{"messages":3}"#,
            br#"{"messages":[],"model":7}"#,
            br#"[1]"#,
            b"{",
        ] {
            assert!(
                matches!(read_request(body), Err(ProxyError::BadRequest(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            read_request(br#"{"messages":[]}"#).unwrap().0,
            headroom::DEFAULT_MODEL
        );
    }
}
