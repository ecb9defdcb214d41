//! What every door shares: the decision made before a body is read, and compression that fails
//! open — a body the engine cannot read, a store that refuses the originals, a panic anywhere in
//! the work (the engine's or a report hook's) all send the request on as it came or lossless.

use crate::headers::{is_json, is_unencoded, wants_bypass};
use bytes::Bytes;
use headroom::store::{persist_all, AsyncStore};
use headroom::{CompressOptions, CompressedJson, Headroom, Report};
use http::{HeaderMap, Method};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
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
        if headroom::Protocol::from_path(path).is_none() {
            return Some("not a chat-completions or responses path");
        }
        if wants_bypass(headers) {
            return Some("bypass requested");
        }
        if !is_json(headers) {
            return Some("not JSON");
        }
        if !is_unencoded(headers) {
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
    /// `namespace` (the engine's policy: lossless only when the store fails). Fails open: a body
    /// the engine cannot read, or a panic, leaves it unchanged.
    pub(crate) fn compress(
        &self,
        body: &Bytes,
        namespace: &str,
        options: &CompressOptions,
    ) -> Outcome {
        guarded(|| {
            let engine = self.engine();
            let store = engine.store().as_ref();
            self.finish(
                body,
                engine.compress_json_into_with(body, store, namespace, options),
            )
        })
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
            let namespace = namespace.to_owned();
            return Task::Async(Box::pin(door.compress_async(body, namespace, options)));
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
    /// body is sent, by the engine's policy ([`Headroom::settle`]: lossless only when the store
    /// fails).
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
            return self
                .off_runtime_if_big(&body, move |door, body| {
                    door.compress(body, &namespace, &options)
                })
                .await;
        };
        let first = options.clone();
        let compressed = self
            .off_runtime_if_big(&body, move |door, body| {
                guarded(|| Some(door.engine().compress_json_with(body, &first)))
            })
            .await;
        let Some(compressed) = compressed else {
            return Outcome::default();
        };
        let out = match compressed {
            Ok(out) if !out.originals.is_empty() => {
                let persisted = persist_all(store.as_ref(), &namespace, &out.originals).await;
                if persisted.is_ok() {
                    Ok(out)
                } else {
                    // The lossless redo is engine work too: off the runtime when big.
                    let settled = self
                        .off_runtime_if_big(&body, move |door, body| {
                            guarded(|| Some(door.engine().settle(body, &options, out, persisted)))
                        })
                        .await;
                    match settled {
                        Some(settled) => settled,
                        None => return Outcome::default(),
                    }
                }
            }
            other => other,
        };
        guarded(|| self.finish(&body, out))
    }

    /// Runs `work` on the blocking pool when the body is big, inline otherwise. A task the pool
    /// lost (the runtime shutting down) is logged at `error` and gives `T::default()`: the
    /// request goes on as it came.
    async fn off_runtime_if_big<T: Default + Send + 'static>(
        &self,
        body: &Bytes,
        work: impl FnOnce(&Door, &Bytes) -> T + Send + 'static,
    ) -> T {
        if body.len() > BLOCKING_THRESHOLD {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let (door, body) = (self.clone(), body.clone());
                return runtime
                    .spawn_blocking(move || work(&door, &body))
                    .await
                    .unwrap_or_else(|error| {
                        tracing::error!(%error, "headroom: compression task lost; forwarding the request as it came");
                        T::default()
                    });
            }
        }
        work(self, body)
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
            Err(headroom::Error::CompressionPanicked(_)) => Outcome::default(), // logged by the engine
            Err(error) => {
                tracing::debug!(%error, "headroom: forwarding a body it cannot read unchanged");
                Outcome::default()
            }
        }
    }
}

/// Runs `work`; a panic in it (a report hook's, say) is logged at `error` and gives
/// `T::default()`, so the request goes on as it came.
fn guarded<T: Default>(work: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let error = headroom::Error::from_panic(panic.as_ref());
        tracing::error!(%error, "headroom: forwarding the request as it came");
        T::default()
    })
}

/// Compression done now or running on the blocking pool; resolves to its [`Outcome`].
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
            Task::Blocking(handle) => Pin::new(handle).poll(cx).map(|joined| {
                joined.unwrap_or_else(|error| {
                    tracing::error!(%error, "headroom: compression task lost; forwarding the request as it came");
                    Outcome::default()
                })
            }),
            Task::Async(future) => future.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom::store::DEFAULT_NAMESPACE;
    use http::header;

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
