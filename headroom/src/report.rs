//! What a compression did: tokens before and after, per segment and in total.

use serde::Serialize;
use std::borrow::Cow;

/// The outcome of one compression, for logs, metrics and `--stats`.
///
/// ```
/// let hr = headroom::Headroom::default();
/// let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
/// let out = hr.compress_json(body)?;
/// assert_eq!(out.report.tokens_saved, 0);
/// assert_eq!(out.report.compression_ratio, 1.0);
/// # Ok::<(), headroom::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// The model whose tokenizer counted.
    pub model: String,
    /// Tokens of the request as it came in (messages and tools).
    pub tokens_before: usize,
    /// Tokens of the request as sent, the retrieve tool included.
    pub tokens_after: usize,
    /// `tokens_before - tokens_after`.
    pub tokens_saved: usize,
    /// after / before: 1.0 means unchanged (the TypeScript SDK's meaning).
    pub compression_ratio: f64,
    /// saved / before.
    pub savings_ratio: f64,
    /// Names of the transforms used, e.g. `json:minify`, in first-use order.
    pub transforms_applied: Vec<String>,
    /// Hashes of originals now retrievable.
    pub ccr_hashes: Vec<String>,
    /// Per-segment detail.
    pub segments: Vec<SegmentReport>,
    /// Why the request went out unchanged, when it did despite compressible content.
    pub passthrough_reason: Option<String>,
    /// Why only lossless transforms were allowed, when something other than the configuration
    /// decided so: the store could not keep the originals, or the model cannot call
    /// `headroom_retrieve` in this request. Doors match on it (the proxy counts store failures).
    pub lossless_fallback: Option<LosslessFallback>,
    /// Whether the retrieve tool was added.
    pub retrieve_tool_added: bool,
    /// The part of `tokens_before` that is the request's function definitions (`tools`, legacy
    /// `functions`), counted the way OpenAI documents ([`crate::tokens::count_tools`]).
    pub tools_tokens: usize,
    /// Some of `tools_tokens` is an estimate (a schema beyond the documented form, or a model
    /// OpenAI did not publish counts for); every other count is exact.
    pub tools_tokens_estimated: bool,
    /// What fitting the request to its token budget did, when it was over.
    pub fit: Option<FitReport>,
}

/// Why a request was compressed with lossless transforms only although its configuration allows
/// lossy ones: nothing was elided, nothing needs retrieving.
///
/// ```
/// use headroom::{LosslessFallback, RetrieveUnavailable};
/// let why = LosslessFallback::RetrieveUnavailable(RetrieveUnavailable::ToolChoiceNone);
/// assert!(why.to_string().contains("tool_choice"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LosslessFallback {
    /// The store refused the originals (its error): a marker would point at nothing.
    #[error("store unavailable ({0}): lossless transforms only")]
    StoreUnavailable(String),
    /// The model cannot call `headroom_retrieve` in this request: a marker would be unanswerable.
    #[error("{0}: lossless transforms only")]
    RetrieveUnavailable(RetrieveUnavailable),
}

/// Why the model cannot call `headroom_retrieve` in a request.
///
/// ```
/// let why = headroom::RetrieveUnavailable::ToolChoiceForces("get_weather".into());
/// assert_eq!(why.to_string(), "tool_choice forces get_weather, so the model cannot call headroom_retrieve");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RetrieveUnavailable {
    /// The request uses legacy `functions`, which cannot be mixed with `tools`.
    #[error("the request uses legacy `functions`, so the headroom_retrieve tool cannot be added")]
    LegacyFunctions,
    /// `tools` is there but is not an array.
    #[error("`tools` is not an array, so the headroom_retrieve tool cannot be added")]
    ToolsNotAnArray,
    /// `tool_choice` is `"none"`.
    #[error("tool_choice is \"none\", so the model cannot call headroom_retrieve")]
    ToolChoiceNone,
    /// `tool_choice` forces another tool (its name).
    #[error("tool_choice forces {0}, so the model cannot call headroom_retrieve")]
    ToolChoiceForces(String),
    /// `tool_choice` allows a list of tools without `headroom_retrieve`.
    #[error("tool_choice allows only tools other than headroom_retrieve")]
    ToolChoiceExcludes,
    /// The engine is configured not to add the tool (`retrieve_tool: false`) and the request does
    /// not offer it.
    #[error("the retrieve tool is switched off and the request does not offer headroom_retrieve")]
    RetrieveToolOff,
}

/// What fitting an over-budget request did (see [`crate::budget`]).
///
/// ```
/// let fit = headroom::FitReport::default();
/// assert!(fit.evictions.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FitReport {
    /// The most tokens the request may have.
    pub target: usize,
    /// Its tokens after compression at the configured settings, before fitting.
    pub tokens_before_fit: usize,
    /// Messages compressed with stronger settings.
    pub harder_messages: usize,
    /// Runs of evicted tool units, each now one marker message.
    pub evictions: Vec<Eviction>,
    /// Message count of the latest earlier request (a prefix of this one) at which the plan
    /// changed: a request of fewer messages got a plan this one keeps; 0 when it never changed.
    pub last_step_at: usize,
    /// The newest results were compressed harder too (a plan only this request has).
    pub newest_harder: bool,
    /// Why the request was left over its target, when it was (`lossless_only` with no explicit
    /// budget: nothing may be evicted, and the window is the model table's, not a user's limit).
    pub left_over: Option<String>,
}

/// One run of evicted messages, replaced by one marker message.
///
/// ```
/// let e = headroom::Eviction { messages: 3..7, tool_calls: 2, hash: "0".repeat(24) };
/// assert_eq!(e.messages.len(), 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Eviction {
    /// Indices of the evicted messages in the request as it came.
    pub messages: std::ops::Range<usize>,
    /// Tool calls among them.
    pub tool_calls: usize,
    /// The hash that retrieves them: a JSON array of the evicted messages, byte for byte.
    pub hash: String,
}

/// What happened to one segment.
///
/// ```
/// let s = headroom::SegmentReport::default();
/// assert_eq!(s.tokens_before, s.tokens_after);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SegmentReport {
    /// Index in `messages`.
    pub message_index: usize,
    /// The message's role.
    pub role: String,
    /// `content`, `content_part`, `tool_call_arguments`.
    pub kind: &'static str,
    /// Detected content type (`json`, `text`, …).
    pub content_type: String,
    /// Tokens before.
    pub tokens_before: usize,
    /// Tokens after.
    pub tokens_after: usize,
    /// Transforms applied to this segment.
    pub transforms: Vec<String>,
    /// The hash its markers carry, when lossy.
    pub hash: Option<String>,
    /// Why it was left alone, when it was.
    pub skipped: Option<Cow<'static, str>>,
}

impl Report {
    /// Fills the derived fields from `tokens_before` and `tokens_after`.
    pub(crate) fn finish(&mut self) {
        self.tokens_saved = self.tokens_before.saturating_sub(self.tokens_after);
        if self.tokens_before == 0 {
            self.compression_ratio = 1.0;
            self.savings_ratio = 0.0;
        } else {
            self.compression_ratio = self.tokens_after as f64 / self.tokens_before as f64;
            self.savings_ratio = self.tokens_saved as f64 / self.tokens_before as f64;
        }
    }
}
