//! What every door shares: the decision made before a body is read, and compression that fails open.

use bytes::Bytes;
use headroom::store::{persist_all, AsyncStore, Store, StoreError, DEFAULT_NAMESPACE};
use headroom::{CompressOptions, CompressedJson, Headroom, Report};
use http::{header, HeaderMap, Method};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use tokio::sync::Semaphore;

/// Bodies above this many bytes are compressed on tokio's blocking pool, so a big body does not
/// stall a runtime worker.
///
/// ```
/// assert_eq!(headroom_tower::BLOCKING_THRESHOLD, 64 * 1024);
/// ```
pub const BLOCKING_THRESHOLD: usize = 64 * 1024;

/// The header that sends a request on untouched when its value is `true`.
///
/// ```
/// let request = http::Request::post("http://localhost/v1/chat/completions")
///     .header(headroom_tower::BYPASS_HEADER, "true")
///     .body(())?;
/// # Ok::<(), http::Error>(())
/// ```
pub const BYPASS_HEADER: &str = "x-headroom-bypass";

/// A callback that sees every report.
pub(crate) type ReportHook = Arc<dyn Fn(&Report) + Send + Sync>;

/// The engine used when the layer was not given one, built on first use.
static DEFAULT_ENGINE: OnceLock<Headroom> = OnceLock::new();

/// The engine, the report hook, the store and the concurrency limit, shared by the layer and
/// every service it makes.
#[derive(Clone, Default)]
pub(crate) struct Door {
    pub(crate) engine: Option<Arc<Headroom>>,
    pub(crate) on_report: Option<ReportHook>,
    /// Where originals go instead of the engine's sync store.
    pub(crate) store: Option<Arc<dyn AsyncStore>>,
    /// At most this many compressions at once.
    pub(crate) limit: Option<Arc<Semaphore>>,
}

/// The result of compressing one body.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The body to send instead, when it changed.
    pub(crate) body: Option<Bytes>,
    /// What the engine did, when it could read the body.
    pub(crate) report: Option<Report>,
    /// The engine refused the request ([`headroom::Error::OverBudget`]): it cannot fit its token
    /// budget, and the provider would reject it. The door answers with this error instead.
    pub(crate) refused: Option<Box<headroom::Error>>,
}

impl Door {
    pub(crate) fn engine(&self) -> &Headroom {
        match &self.engine {
            Some(engine) => engine,
            None => DEFAULT_ENGINE.get_or_init(Headroom::default),
        }
    }

    /// Whether a request may be compressed, judged from its head and its body's exact length only.
    /// `None` means: read and compress it; `Some(reason)` means: forward it unread.
    pub(crate) fn skip_reason(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        exact_len: Option<u64>,
    ) -> Option<&'static str> {
        if method != Method::POST {
            return Some("not a POST");
        }
        if !path.ends_with("/chat/completions") {
            return Some("not a chat-completions path");
        }
        if header_is(headers, BYPASS_HEADER, |v| v.eq_ignore_ascii_case("true")) {
            return Some("bypass requested");
        }
        if !header_is(headers, header::CONTENT_TYPE.as_str(), is_json_media_type) {
            return Some("not JSON");
        }
        if header_is(headers, header::CONTENT_ENCODING.as_str(), |v| {
            !v.eq_ignore_ascii_case("identity")
        }) {
            return Some("encoded body");
        }
        match exact_len {
            None => Some("streaming body of unknown length"),
            Some(0) => Some("empty body"),
            Some(len) if len > self.engine().config().max_body_bytes as u64 => {
                Some("body over the limit")
            }
            Some(_) => None,
        }
    }

    /// Compresses a chat-completions body, persisting originals in the engine's store under
    /// `namespace`. Fails open: a body the engine cannot read is reported as unchanged.
    pub(crate) fn compress(
        &self,
        body: &Bytes,
        namespace: &str,
        options: &CompressOptions,
    ) -> Outcome {
        let engine = self.engine();
        self.finish(
            body,
            engine.compress_json_into_with(body, engine.store().as_ref(), namespace, options),
        )
    }

    /// [`Door::compress`], on the blocking pool when the body is big and a tokio runtime is there;
    /// with an async store or a concurrency limit, a future that waits its turn and persists.
    /// `options` are the request's own (its [`CompressOptions`] extension, when a door has one).
    pub(crate) fn compress_task(
        &self,
        body: Bytes,
        namespace: &str,
        options: CompressOptions,
    ) -> Task {
        if self.store.is_some() || self.limit.is_some() {
            let door = self.clone();
            return Task::Async(Box::pin(door.compress_async(
                body,
                namespace.to_owned(),
                options,
            )));
        }
        if body.len() > BLOCKING_THRESHOLD {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let door = self.clone();
                let namespace = namespace.to_owned();
                return Task::Blocking(
                    runtime.spawn_blocking(move || door.compress(&body, &namespace, &options)),
                );
            }
        }
        Task::Ready(Some(Box::new(self.compress(&body, namespace, &options))))
    }

    /// Compression within the concurrency limit; originals persisted in the async store before the
    /// body is sent, or, when that store fails, a lossless-only compression (nothing to retrieve).
    async fn compress_async(
        self,
        body: Bytes,
        namespace: String,
        options: CompressOptions,
    ) -> Outcome {
        let _permit = match &self.limit {
            Some(limit) => limit.clone().acquire_owned().await.ok(),
            None => None,
        };
        let Some(store) = self.store.clone() else {
            let compressed = self
                .off_runtime_if_big(&body, move |door, body| {
                    door.compress(body, &namespace, &options)
                })
                .await;
            return compressed.unwrap_or_default();
        };
        let first = options.clone();
        let out = self
            .off_runtime_if_big(&body, move |door, body| {
                door.engine().compress_json_with(body, &first)
            })
            .await;
        let out = match out {
            Some(Ok(out)) if !out.originals.is_empty() => {
                match persist_all(store.as_ref(), &namespace, &out.originals).await {
                    Ok(()) => Ok(out),
                    Err(error) => {
                        tracing::warn!(%error, "headroom: store unavailable, lossless compression only");
                        // The engine's own fallback, given a store that refuses as this one did.
                        self.off_runtime_if_big(&body, move |door, body| {
                            door.engine().compress_json_into_with(
                                body,
                                &Unavailable,
                                DEFAULT_NAMESPACE,
                                &options,
                            )
                        })
                        .await
                        .unwrap_or_else(|| Err(panicked()))
                    }
                }
            }
            Some(result) => result,
            None => Err(panicked()),
        };
        self.finish(&body, out)
    }

    /// Runs `work` on the blocking pool when the body is big, inline otherwise. `None` when it
    /// panicked on the pool.
    async fn off_runtime_if_big<T: Send + 'static>(
        &self,
        body: &Bytes,
        work: impl FnOnce(&Door, &Bytes) -> T + Send + 'static,
    ) -> Option<T> {
        if body.len() > BLOCKING_THRESHOLD {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let (door, body) = (self.clone(), body.clone());
                return runtime
                    .spawn_blocking(move || work(&door, &body))
                    .await
                    .ok();
            }
        }
        Some(work(self, body))
    }

    /// The outcome of an engine run: reported to the hook, or "unchanged" when the engine failed.
    fn finish(&self, body: &Bytes, result: headroom::Result<CompressedJson>) -> Outcome {
        match result {
            Ok(out) => {
                if let Some(hook) = &self.on_report {
                    hook(&out.report);
                }
                Outcome {
                    body: (out.body != body.as_ref()).then(|| Bytes::from(out.body)),
                    report: Some(out.report),
                    refused: None,
                }
            }
            Err(error @ headroom::Error::OverBudget { .. }) => {
                tracing::warn!(%error, "headroom: request refused");
                Outcome {
                    refused: Some(Box::new(error)),
                    ..Outcome::default()
                }
            }
            Err(error) => {
                tracing::debug!(%error, "headroom: forwarding a body it cannot read unchanged");
                Outcome::default()
            }
        }
    }
}

fn panicked() -> headroom::Error {
    headroom::Error::InvalidRequest("compression panicked".into())
}

/// The sync face of an async store that just failed: every call refuses, so that
/// [`Headroom::compress_json_into`] takes its lossless-only fallback.
struct Unavailable;

impl Store for Unavailable {
    fn put(&self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
        Err(StoreError("the async store refused the originals".into()))
    }
    fn get(&self, _: &str, _: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
}

/// Compression done now or running on the blocking pool; resolves to its [`Outcome`].
/// A compression that panicked counts as "unchanged" (fail open).
pub(crate) enum Task {
    Ready(Option<Box<Outcome>>),
    Blocking(tokio::task::JoinHandle<Outcome>),
    Async(Pin<Box<dyn Future<Output = Outcome> + Send>>),
}

impl Future for Task {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        match self.get_mut() {
            Task::Ready(outcome) => Poll::Ready(outcome.take().map(|o| *o).unwrap_or_default()),
            Task::Blocking(handle) => Pin::new(handle)
                .poll(cx)
                .map(|joined| joined.unwrap_or_default()),
            Task::Async(future) => future.as_mut().poll(cx),
        }
    }
}

fn header_is(headers: &HeaderMap, name: &str, test: impl Fn(&str) -> bool) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| test(v.trim()))
}

/// Whether a `Content-Type` value is JSON: `application/json`, `application/json; charset=utf-8`,
/// `application/vnd.x+json`.
///
/// ```
/// assert!(headroom_tower::is_json_media_type("application/json; charset=utf-8"));
/// assert!(!headroom_tower::is_json_media_type("text/plain"));
/// ```
pub fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5 && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// Sets `Content-Length` to the new body's length when the request carried one.
pub(crate) fn fix_content_length(headers: &mut HeaderMap, len: usize) {
    if headers.contains_key(header::CONTENT_LENGTH) {
        headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    header::HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn only_known_length_json_chat_posts_are_read() {
        let door = Door::default();
        let json = headers(&[("content-type", "application/json; charset=utf-8")]);
        let path = "/v1/chat/completions";
        assert_eq!(door.skip_reason(&Method::POST, path, &json, Some(10)), None);
        assert!(door
            .skip_reason(&Method::GET, path, &json, Some(10))
            .is_some());
        assert!(door
            .skip_reason(&Method::POST, "/v1/embeddings", &json, Some(10))
            .is_some());
        assert!(door.skip_reason(&Method::POST, path, &json, None).is_some());
        assert!(door
            .skip_reason(&Method::POST, path, &json, Some(u64::MAX))
            .is_some());
        let gzip = headers(&[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ]);
        assert!(door
            .skip_reason(&Method::POST, path, &gzip, Some(10))
            .is_some());
        let bypass = headers(&[
            ("content-type", "application/json"),
            ("x-headroom-bypass", "TRUE"),
        ]);
        assert!(door
            .skip_reason(&Method::POST, path, &bypass, Some(10))
            .is_some());
        let form = headers(&[("content-type", "multipart/form-data; boundary=x")]);
        assert!(door
            .skip_reason(&Method::POST, path, &form, Some(10))
            .is_some());
    }

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON ; charset=utf-8"));
        assert!(is_json_media_type("application/vnd.api+json"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("+json"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn big_bodies_compress_on_the_blocking_pool() {
        let door = Door::default();
        let small = Bytes::from_static(br#"{"model":"gpt-4o","messages":[]}"#);
        assert!(matches!(
            door.compress_task(small, DEFAULT_NAMESPACE, CompressOptions::default()),
            Task::Ready(_)
        ));
        let filler = "x".repeat(BLOCKING_THRESHOLD);
        let big = serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": filler}]});
        let task = door.compress_task(
            Bytes::from(serde_json::to_vec(&big).unwrap()),
            DEFAULT_NAMESPACE,
            CompressOptions::default(),
        );
        assert!(matches!(task, Task::Blocking(_)));
        assert!(task.await.report.is_some());
    }

    #[test]
    fn unreadable_bodies_are_left_unchanged() {
        let out = Door::default().compress(
            &Bytes::from_static(b"{not json"),
            DEFAULT_NAMESPACE,
            &CompressOptions::default(),
        );
        assert!(out.body.is_none() && out.report.is_none());
    }
}
