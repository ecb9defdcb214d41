//! `POST /v1/retrieve` and `POST /v1/retrieve/tool_call`: originals back by hash, from the caller's
//! namespace (the same `Authorization` that compressed them, or none for the anonymous one).

use super::body::read_limited;
use super::client_text::for_log;
use super::error::ProxyError;
use super::stats::Route;
use super::{tenant, App};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use headroom::marker::{parse_hash, RETRIEVE_TOOL_NAME};
use headroom::retrieve::{self, RetrieveArgs};
use headroom::tokens::counter_for_model;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// `{hash, query?, offset?, limit?}` → the original (`original_content`), or with a query the
/// matching part (`content`, `results`, `count`). Unknown or expired hashes are 404.
pub async fn retrieve(State(app): State<Arc<App>>, request: Request) -> Response {
    app.stats.request(Route::Retrieve);
    let (mut args, namespace) = match read_json::<RetrieveArgs>(&app, request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    // The hash is checked before anything else reads, logs or echoes it.
    args.hash = match parse_hash(&args.hash) {
        Ok(hash) => hash,
        Err(_) => return app.fail(not_a_hash(&args.hash)),
    };
    app.stats.retrievals.fetch_add(1, Relaxed);
    let original = match app.store.get(&namespace, &args.hash).await {
        Ok(Some(text)) => text,
        Ok(None) => {
            return app.fail(ProxyError::NotFound(format!(
                "no original is stored under hash {} for this caller (unknown or expired)",
                args.hash
            )))
        }
        Err(e) => return app.fail(ProxyError::Store(format!("the store did not answer: {e}"))),
    };
    let counter = counter_for_model(headroom::DEFAULT_MODEL);
    let narrowed = args.query.is_some() || args.offset.is_some() || args.limit.is_some();
    if !narrowed {
        return Json(json!({
            "hash": args.hash,
            "original_content": original,
            "original_tokens": counter.count(&original),
        }))
        .into_response();
    }
    let content = retrieve::answer_with(
        &args,
        Ok(Some(original)),
        counter.as_ref(),
        app.engine.config().retrieve_answer_tokens,
    );
    let results: Vec<&str> = content.lines().filter(|l| !l.starts_with("[")).collect();
    Json(json!({
        "hash": args.hash,
        "query": args.query,
        "content": content,
        "count": results.len(),
        "results": results,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct ToolCallRequest {
    tool_call: Value,
}

/// `{tool_call: {id, function: {name, arguments}}}` → `{success, tool_result: {role: "tool",
/// tool_call_id, content}}`: the message to send back to the model.
pub async fn tool_call(State(app): State<Arc<App>>, request: Request) -> Response {
    app.stats.request(Route::Retrieve);
    let (request, namespace) = match read_json::<ToolCallRequest>(&app, request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let call = &request.tool_call;
    let name = call["function"]["name"].as_str().unwrap_or_default();
    if name != RETRIEVE_TOOL_NAME {
        return app.fail(ProxyError::BadRequest(format!(
            "only {RETRIEVE_TOOL_NAME} calls are answered here, not {name:?}"
        )));
    }
    let arguments = match &call["function"]["arguments"] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let counter = counter_for_model(headroom::DEFAULT_MODEL);
    let parsed = retrieve::parse_args(&arguments).and_then(|mut args| {
        args.hash = parse_hash(&args.hash).map_err(|_| not_a_hash(&args.hash).message())?;
        Ok(args)
    });
    let (content, success) = match parsed {
        Ok(args) => {
            app.stats.retrievals.fetch_add(1, Relaxed);
            let lookup = app.store.get(&namespace, &args.hash).await;
            let found = matches!(lookup, Ok(Some(_)));
            let text = retrieve::answer_with(
                &args,
                lookup,
                counter.as_ref(),
                app.engine.config().retrieve_answer_tokens,
            );
            (text, found)
        }
        Err(text) => (text, false),
    };
    Json(json!({
        "success": success,
        "tool_result": {"role": "tool", "tool_call_id": call["id"], "content": content},
    }))
    .into_response()
}

/// The answer to a hash that is not one: what a hash looks like, and the input cut short and escaped.
fn not_a_hash(input: &str) -> ProxyError {
    ProxyError::BadRequest(format!(
        "\"{}\" is not a headroom hash: a hash is 24 hex digits, as in a marker's \
         `headroom_retrieve hash=3f9ac0d1e2b4a5c6d7e8f901`",
        for_log(input)
    ))
}

/// The JSON body and the caller's namespace, or the error response.
async fn read_json<T: serde::de::DeserializeOwned>(
    app: &App,
    request: Request,
) -> Result<(T, String), Response> {
    let (parts, body) = request.into_parts();
    let body = read_limited(body, &parts.headers, app.max_body_bytes)
        .await
        .map_err(|e| app.fail(e))?;
    let value = serde_json::from_slice(&body)
        .map_err(|e| app.fail(ProxyError::BadRequest(format!("invalid JSON body: {e}"))))?;
    Ok((value, tenant::namespace(&parts.headers)))
}
