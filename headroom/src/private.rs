//! What `#[headroom]` expands to calls; not a public API (no semver promises).
//!
//! The expansion stays short: one lazily built engine per annotated function and one
//! [`compress`] call per request argument. Everything else happens here.

use crate::{Compressed, Headroom, Result};
use async_openai::types::chat::CreateChatCompletionRequest;
use async_openai::types::responses::CreateResponse;
use std::sync::LazyLock;

/// The engine an annotated function builds on first use.
pub type LazyEngine = LazyLock<Headroom>;

/// The engine options the attribute can set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `model = "…"`.
    pub model: Option<&'static str>,
    /// `lossless_only`.
    pub lossless_only: bool,
    /// `budget = N`.
    pub token_budget: Option<usize>,
}

/// Builds the engine for `options`. Should the build ever fail, the engine runs in audit mode,
/// so requests go out unchanged: the macro never stands between an agent and its model.
pub fn engine(options: Options) -> Headroom {
    let mut builder = Headroom::builder().lossless_only(options.lossless_only);
    if let Some(model) = options.model {
        builder = builder.model(model);
    }
    if let Some(budget) = options.token_budget {
        builder = builder.token_budget(budget);
    }
    builder.build().unwrap_or_else(|error| {
        tracing::error!(target: "headroom", %error, "#[headroom] engine not built; requests go out unchanged");
        Headroom::builder().audit(true).build().unwrap_or_default()
    })
}

/// A request type the attribute compresses: chat completions or Responses.
pub trait Request {
    /// Compresses in place, persisting originals in the engine's store.
    fn compress_with(&mut self, engine: &Headroom) -> Result<Compressed>;
}

impl Request for CreateChatCompletionRequest {
    fn compress_with(&mut self, engine: &Headroom) -> Result<Compressed> {
        engine.compress_into(self, engine.store().as_ref())
    }
}

impl Request for CreateResponse {
    fn compress_with(&mut self, engine: &Headroom) -> Result<Compressed> {
        engine.compress_response_into(self, engine.store().as_ref())
    }
}

/// Compresses `request` in place with `engine`, persisting originals in the engine's store, and
/// emits one `tracing` event (target `headroom`) with the tokens before and after.
///
/// Fails open: if compression fails (a panic included: the engine catches it), the request is
/// left exactly as it came.
pub fn compress(
    engine: &Headroom,
    request: &mut impl Request,
    function: &'static str,
    argument: &'static str,
) {
    match request.compress_with(engine) {
        Ok(out) => {
            let report = &out.report;
            tracing::debug!(
                target: "headroom",
                function,
                argument,
                model = %report.model,
                tokens_before = report.tokens_before,
                tokens_after = report.tokens_after,
                tokens_saved = report.tokens_saved,
                transforms = ?report.transforms_applied,
                ccr_hashes = ?report.ccr_hashes,
                passthrough_reason = report.passthrough_reason.as_deref(),
                lossless_fallback = report.lossless_fallback.as_ref().map(tracing::field::display),
                "request compressed",
            );
        }
        Err(error) => tracing::warn!(
            target: "headroom",
            function,
            argument,
            %error,
            "request left unchanged: compression failed",
        ),
    }
}
