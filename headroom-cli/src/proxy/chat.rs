//! `POST /v1/chat/completions` and `POST /v1/responses`: compress (the proxy's [`HeadroomLayer`](headroom_tower::HeadroomLayer)
//! around the forwarding service), forward, resolve retrieval rounds, relay the answer.

use super::body::read_admitted;
use super::error::ProxyError;
use super::stats::Route;
use super::{forward, rounds, tenant, App};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use headroom::resolver::{offers_retrieve, Carries};
use headroom::Report;
use headroom_tower::headers::wants_bypass;
use headroom_tower::Namespace;
use http::{header, HeaderMap, HeaderValue, Method};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;
use tower::{Layer, ServiceExt};

/// The response headers that carry a compression's token counts.
pub const TOKENS_BEFORE: &str = "x-headroom-tokens-before";
/// See [`TOKENS_BEFORE`].
pub const TOKENS_AFTER: &str = "x-headroom-tokens-after";
/// See [`TOKENS_BEFORE`].
pub const TOKENS_SAVED: &str = "x-headroom-tokens-saved";

/// A request extension: the client sent no `Content-Type` (curl users' JSON), one was added so
/// the layer reads the body, and forwarding takes it off again.
#[derive(Clone, Copy)]
struct ContentTypeAdded;

/// A request extension: when the layer was handed a request it compresses, for the histogram.
#[derive(Clone, Copy)]
struct CompressionStarted(Instant);

/// The chat-completions route: the body read within the limit, the caller's namespace attached,
/// then the proxy's layer around [`forward_chat`]; the report comes back in the response's
/// extensions and becomes the `x-headroom-tokens-*` headers.
pub async fn chat_completions(State(app): State<Arc<App>>, request: Request) -> Response {
    compressed(app, request, Route::ChatCompletions).await
}

/// The Responses route (`POST /v1/responses`): the same door as chat completions — the engine and
/// the resolver read the Responses shape from the body — counted apart in `/stats` and `/metrics`.
pub async fn responses(State(app): State<Arc<App>>, request: Request) -> Response {
    compressed(app, request, Route::Responses).await
}

/// A request the proxy compresses and resolves, counted under `route`.
async fn compressed(app: Arc<App>, request: Request, route: Route) -> Response {
    app.stats.request(route);
    let (mut parts, body) = request.into_parts();
    // Held until the response head is out: the body and its compression live that long.
    let (body, _admitted) =
        match read_admitted(body, &parts.headers, app.max_body_bytes, &app.admission).await {
            Ok(read) => read,
            Err(e) => return app.fail(e),
        };
    let namespace = tenant::namespace(&parts.headers);
    parts.extensions.insert(Namespace::new(namespace));
    if !parts.headers.contains_key(header::CONTENT_TYPE) {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        parts.extensions.insert(ContentTypeAdded);
    }
    let len = Some(body.len() as u64);
    let path = parts.uri.path();
    if (app.layer)
        .skip_reason(&parts.method, path, &parts.headers, len)
        .is_none()
    {
        parts.extensions.insert(CompressionStarted(Instant::now()));
    }
    let model = model_of(&body);
    let forwarder = {
        let app = app.clone();
        tower::service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(forward_chat(app, request).await) }
        })
    };
    let request = http::Request::from_parts(parts, Body::from(body));
    let mut response = match app.layer.layer(forwarder).oneshot(request).await {
        Ok(response) => response,
        Err(e) => return app.fail(ProxyError::from_layer(&e)),
    };
    // Taken, not cloned: a report of a million segments is large.
    let report = response.extensions_mut().remove::<Report>();
    match &report {
        Some(r) => {
            app.stats.model(&r.model);
            app.stats.route_compressed(route, r);
            tracing::info!(
                model = %super::client_text::for_log(&r.model),
                tokens_before = r.tokens_before,
                tokens_after = r.tokens_after,
                transforms = ?r.transforms_applied,
                "compressed"
            );
        }
        None => app.stats.model(&model),
    }
    with_report(response, report.as_ref())
}

/// The service inside the layer: forwards the (compressed) request upstream and answers the
/// model's retrieval rounds from the caller's namespace.
async fn forward_chat(app: Arc<App>, request: http::Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    if let Some(CompressionStarted(started)) = parts.extensions.get() {
        app.stats.compression.observe(started.elapsed());
    }
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            return app.fail(ProxyError::BadRequest(format!(
                "cannot read the request body: {e}"
            )))
        }
    };
    let namespace = Namespace::of(&parts.extensions).to_owned();
    let bypass = wants_bypass(&parts.headers);
    // Chained on a stored reply that held our calls next to the agent's: answer ours (see
    // `Carries`), or the upstream rejects the request.
    let body = match bypass {
        false => Carries::shared()
            .apply(&namespace, &body)
            .map_or(body, Bytes::from),
        true => body,
    };
    let mut headers = forward::end_to_end(&parts.headers);
    headers.remove(header::CONTENT_LENGTH);
    if parts.extensions.get::<ContentTypeAdded>().is_some() {
        headers.remove(header::CONTENT_TYPE);
    }
    let resolve = !bypass && offers_retrieve(&body);
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
        Err(e) => return app.fail(e),
    };
    if resolve && upstream_response.status().is_success() {
        let call = rounds::Call {
            app: app.clone(),
            namespace,
            path,
            headers,
        };
        rounds::resolve(call, &body, upstream_response).await
    } else {
        forward::relay(app.upstream.clone(), upstream_response, app.stats.clone())
    }
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
        if matches!(error, ProxyError::ContextLength(_)) {
            self.stats
                .over_budget
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        tracing::warn!(error = %super::client_text::for_log(&error.message()), status = error.status().as_u16(), "request failed");
        error.into_response()
    }
}
