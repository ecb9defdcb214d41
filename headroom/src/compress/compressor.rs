//! What every compressor shares: the trait, its result, and the context it compresses in. A leaf:
//! it names no compressor (the dispatcher reaches compressors through [`SegmentContext`]).

use crate::detect::ContentType;
use crate::tokens::TokenCounter;
use crate::Config;
use std::sync::Arc;

/// A compressor for one kind of content.
///
/// It returns its best rewrite of `text`, or `None` when it has nothing to offer. The engine keeps
/// the rewrite only if it has fewer tokens ("never worse"), and stores the original when it is lossy.
///
/// ```
/// use headroom::compress::{Compression, Compressor, SegmentContext};
/// struct Upper;
/// impl Compressor for Upper {
///     fn name(&self) -> &'static str { "upper" }
///     fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
///         Some(Compression::lossless(text.to_uppercase(), "upper", ctx))
///     }
/// }
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"));
/// assert_eq!(Upper.compress("abc", &ctx).unwrap().text, "ABC");
/// ```
pub trait Compressor: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> &'static str;
    /// The compressed form of `text`, or `None`.
    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression>;
}

/// A compressor's rewrite of a segment.
///
/// ```
/// let config = headroom::Config::default();
/// let ctx = headroom::compress::SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"));
/// let c = headroom::compress::Compression::lossless("x".into(), "demo", &ctx);
/// assert_eq!((c.tokens, c.lossy), (1, false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compression {
    /// The new text.
    pub text: String,
    /// Its tokens.
    pub tokens: usize,
    /// Transforms applied, e.g. `json:minify`.
    pub transforms: Vec<String>,
    /// Whether it elides content (and so carries markers and needs the original stored).
    pub lossy: bool,
}

impl Compression {
    /// A lossless rewrite by one transform, its tokens counted (see [`SegmentContext::count`]).
    pub fn lossless(text: String, transform: &str, ctx: &SegmentContext<'_>) -> Self {
        let tokens = ctx.count(&text);
        Compression {
            text,
            tokens,
            transforms: vec![transform.to_string()],
            lossy: false,
        }
    }

    /// A lossy rewrite (it carries markers with `ctx.hash`), its tokens counted (see
    /// [`SegmentContext::count`]).
    pub fn lossy(text: String, transforms: Vec<String>, ctx: &SegmentContext<'_>) -> Self {
        let tokens = ctx.count(&text);
        Compression {
            text,
            tokens,
            transforms,
            lossy: true,
        }
    }
}

/// The token count [`SegmentContext::count`] gives once time is out: more than any real text has,
/// and still far from overflowing when added to.
pub const OUT_OF_TIME_TOKENS: usize = usize::MAX / 4;

/// What a compressor may know about the segment besides its text.
///
/// ```
/// let config = headroom::Config::default();
/// let ctx = headroom::compress::SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
///     .with_question("which order failed?");
/// assert_eq!(ctx.question, "which order failed?");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SegmentContext<'a> {
    /// The engine's configuration.
    pub config: &'a Config,
    /// The model's token counter.
    pub counter: Arc<dyn TokenCounter>,
    /// What the content is compressed against: the user turn that led to it, the tool call's arguments.
    pub question: String,
    /// The name of the tool that produced it, if any.
    pub tool_name: Option<String>,
    /// The arguments (JSON text) of the tool call that produced it, if any.
    pub tool_arguments: Option<String>,
    /// The hash every marker of this segment carries.
    pub hash: String,
    /// The output must stay valid JSON (tool-call arguments).
    pub json_only: bool,
    /// When work on the request must stop (see [`SegmentContext::out_of_time`]).
    pub(crate) deadline: crate::deadline::Deadline,
    /// The compressor for a block of another type inside this segment (fenced code in prose): the
    /// dispatcher, handed in so a compressor never names the dispatcher that names it.
    pub(crate) dispatch: Dispatch,
}

/// Picks the compressor for a content type (see `SegmentContext::nested`).
pub(crate) type Dispatch = fn(&ContentType) -> Option<&'static dyn Compressor>;

impl<'a> SegmentContext<'a> {
    /// Whether the request's time budget has run out. Compressors check it in long loops and give
    /// up (return `None`) when it has: the engine then sends the whole request as it came, so a busy
    /// machine never changes which bytes a compressed request gets.
    ///
    /// ```
    /// let config = headroom::Config::default();
    /// let ctx = headroom::compress::SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"));
    /// assert!(!ctx.out_of_time(), "a context built outside the engine has no limit");
    /// ```
    pub fn out_of_time(&self) -> bool {
        self.deadline.passed()
    }

    /// Tokens in `text`; once the time budget has run out, [`OUT_OF_TIME_TOKENS`] instead (a
    /// huge text stops being counted within milliseconds of the deadline), so the candidate never
    /// wins; the engine then drops the whole result anyway.
    ///
    /// ```
    /// let config = headroom::Config::default();
    /// let ctx = headroom::compress::SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"));
    /// assert_eq!(ctx.count("hello world"), 2);
    /// ```
    pub fn count(&self, text: &str) -> usize {
        crate::tokens::count_until(self.counter.as_ref(), text, self.deadline)
            .unwrap_or(OUT_OF_TIME_TOKENS)
    }

    /// Tokens in `text` when fewer than `cap`, else a lower bound of at least `cap` (see
    /// [`SegmentContext::count`] for the deadline): enough to know whether `text` beats a size.
    ///
    /// ```
    /// use headroom::compress::SegmentContext;
    /// let config = headroom::Config::default();
    /// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"));
    /// let text = "{\"id\":1},".repeat(20_000);
    /// assert_eq!(ctx.count_below("three small words", 10), 3);
    /// assert!(ctx.count_below(&text, 100) >= 100);
    /// assert!(ctx.count_below(&text, 100) < ctx.count(&text));
    /// ```
    pub fn count_below(&self, text: &str, cap: usize) -> usize {
        crate::tokens::count_below(self.counter.as_ref(), text, cap, self.deadline)
            .unwrap_or(OUT_OF_TIME_TOKENS)
    }

    /// The compressor for a block of `content_type` inside this segment.
    pub(crate) fn nested(&self, content_type: &ContentType) -> Option<&'static dyn Compressor> {
        (self.dispatch)(content_type)
    }

    /// The same context with `question`.
    pub fn with_question(mut self, question: &str) -> Self {
        self.question = question.to_string();
        self
    }

    /// The same context with the segment hash markers must carry.
    pub fn with_hash(mut self, hash: &str) -> Self {
        self.hash = hash.to_string();
        self
    }
}

/// Tokens the `headroom_retrieve` tool definition adds to a request: what any lossy form must
/// save beyond the best lossless one before it is worth its markers.
pub(crate) fn retrieve_tool_tokens(ctx: &SegmentContext<'_>) -> usize {
    crate::tool::definition_tokens(ctx.counter.as_ref())
}
