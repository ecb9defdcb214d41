//! `POST /v1/compress`: the protocol of the Headroom TypeScript SDK (`headroom-ai`, `withHeadroom`).
//!
//! Request `{messages, model, token_budget?, session_id?, frozen_message_count?, config?}`; reply
//! `{messages, tokens_before, tokens_after, tokens_saved, compression_ratio, transforms_applied,
//! ccr_hashes, evicted_messages, evictions}` with `compression_ratio` = after / before, plus
//! `session_id` and `prefix_stable_messages` for a session's later calls. The SDK throws on any
//! 4xx, so only a body that is not such a request gets 400, and a request that cannot fit its
//! budget (`context_length_exceeded`, as the provider would answer it); when compression itself
//! fails the reply is 200 with the messages unchanged (the SDK's own fallback shape).
//! `token_budget` is the most tokens the messages may have (else the model's window less the
//! completion reserve); messages before `frozen_message_count` are returned byte-identical, never
//! recompressed or evicted (for gateways that send back what an earlier call returned);
//! `config` is accepted and ignored (the proxy's `--config` sets the engine).
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
    session_id: Option<String>,
    #[serde(default)]
    frozen_message_count: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    config: Option<serde::de::IgnoredAny>,
}

/// What a compress request asks besides its messages.
struct Asked {
    model: String,
    options: headroom::CompressOptions,
    session_id: Option<String>,
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
    /// Indices (in the request's `messages`) of the messages evicted to fit the budget.
    evicted_messages: Vec<usize>,
    /// The runs evicted: their message range, tool calls and the hash that retrieves them.
    evictions: &'a [headroom::Eviction],
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    /// Leading messages byte-identical to the session's previous reply (on its later calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix_stable_messages: Option<usize>,
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
    let asked = match read_request(&body) {
        Ok(read) => read,
        Err(e) => return app.fail(e),
    };
    app.stats.model(&asked.model);
    if asked.options.token_budget.is_some() {
        app.stats.token_budgets.fetch_add(1, Relaxed);
    }
    let namespace = tenant::namespace(&parts.headers);
    let out = app
        .compress(body.clone(), &namespace, asked.options.clone())
        .await;
    if let Some(refused) = out.refused {
        return app.fail(refused);
    }
    if let Some(report) = &out.report {
        app.stats.route_compressed(Route::Compress, report);
    }
    let compressed = out
        .report
        .and_then(|report| Some((messages_of(&out.body)?, report)));
    let (messages, report) = match compressed {
        Some(compressed) => compressed,
        None => {
            app.stats.error("compression_failed");
            let messages = messages_of(&body).expect("read_request checked `messages`");
            (messages, Report::default())
        }
    };
    let stable = asked.session_id.as_deref().and_then(|session| {
        let each: Vec<&RawValue> = serde_json::from_str(messages.get()).unwrap_or_default();
        let each: Vec<&str> = each.iter().map(|m| m.get()).collect();
        let (stable, previous) = app.sessions.advance(&namespace, session, &each)?;
        app.stats.session(stable, previous);
        Some(stable)
    });
    reply(messages, &report, asked.session_id.as_deref(), stable)
}

/// The model (the default when the body names none), the options and the session of a compress
/// body, or why it is not one.
fn read_request(body: &[u8]) -> Result<Asked, ProxyError> {
    let shape =
        "/v1/compress takes {\"messages\": [...], \"model\": string, \"token_budget\"?: integer, \
                 \"session_id\"?: string, \"frozen_message_count\"?: integer}";
    let request: CompressRequest<'_> = serde_json::from_slice(body)
        .map_err(|e| ProxyError::BadRequest(format!("{shape}: {e}")))?;
    // `messages` is valid JSON (it parsed): an array exactly when it opens with a bracket, so
    // this costs no second pass over a long session's history.
    if !request.messages.get().starts_with('[') {
        return Err(ProxyError::BadRequest(format!(
            "{shape}: `messages` must be an array"
        )));
    }
    let model = request
        .model
        .unwrap_or_else(|| headroom::DEFAULT_MODEL.to_string());
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let mut options = headroom::CompressOptions::default()
        .frozen_message_count(request.frozen_message_count.map_or(0, size));
    if let Some(budget) = request.token_budget {
        options = options.token_budget(size(budget));
    }
    Ok(Asked {
        model,
        options,
        session_id: request.session_id,
    })
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
fn reply(
    messages: &RawValue,
    report: &Report,
    session_id: Option<&str>,
    prefix_stable_messages: Option<usize>,
) -> Response {
    let evictions = report.fit.as_ref().map_or(&[][..], |f| &f.evictions[..]);
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
        evicted_messages: evictions.iter().flat_map(|e| e.messages.clone()).collect(),
        evictions,
        session_id,
        prefix_stable_messages,
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
            read_request(br#"{"messages":[]}"#).unwrap().model,
            headroom::DEFAULT_MODEL
        );
    }
}
