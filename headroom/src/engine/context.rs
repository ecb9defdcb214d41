//! What every step of one engine run reads, and the retrieve tool as the run would offer it: a
//! leaf both the steps (`run.rs`) and the writing of the result (`finish.rs`) use.

use super::CompressOptions;
use crate::conversation::RequestView;
use crate::deadline::Deadline;
use crate::memo::Memo;
use crate::tokens::TokenCounter;
use crate::Config;
use std::ops::Range;
use std::sync::Arc;

/// What every step of one run reads: the body, the request seen as segments, and the settings
/// in force.
pub(super) struct Context<'r> {
    pub body: &'r [u8],
    /// The body as text (the spans of `request` index into it).
    pub text: &'r str,
    pub request: &'r RequestView,
    pub model: &'r str,
    pub counter: &'r Arc<dyn TokenCounter>,
    /// The config in force: lossless only when the model could not retrieve.
    pub config: &'r Config,
    pub memo: &'r Memo,
    pub deadline: Deadline,
    pub options: &'r CompressOptions,
}

/// The retrieve tool as this request would get it: the edit that appends it (none when it may not
/// be added), and the tokens it adds.
pub(super) struct ToolOffer {
    pub edit: Option<(Range<usize>, String)>,
    pub tokens: usize,
}
