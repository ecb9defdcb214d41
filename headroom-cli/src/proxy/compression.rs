//! Compression for the proxy's routes: the engine's `compress_json` on a bounded number of
//! workers, originals persisted in the (async) store under the caller's namespace, and fail open.

use super::App;
use bytes::Bytes;
use headroom::store::persist_all;
use headroom::{Headroom, Report};
use headroom_tower::BLOCKING_THRESHOLD;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

/// What compressing one body gave.
#[derive(Debug)]
pub struct Compressed {
    /// The body to send (the original when nothing changed or compression failed).
    pub body: Bytes,
    /// What the engine did, when it could read the body.
    pub report: Option<Report>,
}

impl App {
    /// Compresses a chat-completions body for `namespace`. Never fails: a body the engine cannot
    /// read, an engine error or a panic forwards the original; a store that cannot keep the
    /// originals gets a lossless-only compression (nothing to retrieve).
    pub async fn compress(&self, body: Bytes, namespace: &str) -> Compressed {
        let Ok(_permit) = self.compressions.acquire().await else {
            return Compressed { body, report: None };
        };
        let started = Instant::now();
        let out = run(&self.engine, &body).await;
        let out = match out {
            Some(out) if !out.originals.is_empty() => {
                match persist_all(self.store.as_ref(), namespace, &out.originals).await {
                    Ok(()) => {
                        self.stats
                            .originals_stored
                            .fetch_add(out.originals.len() as u64, Relaxed);
                        Some(out)
                    }
                    Err(error) => {
                        tracing::warn!(%error, "store unavailable: lossless compression only");
                        self.stats.error("store_unavailable");
                        run(&self.lossless, &body).await.map(|mut out| {
                            out.report.passthrough_reason =
                                Some("store unavailable: lossless transforms only".into());
                            out
                        })
                    }
                }
            }
            other => other,
        };
        self.stats.compression.observe(started.elapsed());
        match out {
            Some(out) => {
                self.stats.compressed(&out.report);
                let body = if out.body == body.as_ref() {
                    body
                } else {
                    Bytes::from(out.body)
                };
                Compressed {
                    body,
                    report: Some(out.report),
                }
            }
            None => Compressed { body, report: None },
        }
    }
}

/// The engine on `body`, on the blocking pool when it is big. `None` when it failed.
async fn run(engine: &Arc<Headroom>, body: &Bytes) -> Option<headroom::CompressedJson> {
    let result = if body.len() > BLOCKING_THRESHOLD {
        let (engine, body) = (engine.clone(), body.clone());
        tokio::task::spawn_blocking(move || engine.compress_json(&body))
            .await
            .unwrap_or_else(|panic| {
                Err(headroom::Error::InvalidRequest(format!(
                    "compression panicked: {panic}"
                )))
            })
    } else {
        engine.compress_json(body)
    };
    match result {
        Ok(out) => Some(out),
        Err(error) => {
            tracing::debug!(%error, "forwarding a body the engine cannot compress unchanged");
            None
        }
    }
}
