//! Everything a user can tune, in one `Config`, built with `Headroom::builder()`.

use std::time::Duration;

/// The engine's settings. Defaults protect what must not change and compress the rest.
///
/// ```
/// let config = headroom::Config::default();
/// assert_eq!(config.min_segment_tokens, 250);
/// assert!(!config.compress_user_messages);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Count tokens for this model instead of the request's own `model`.
    pub model: Option<String>,
    /// Segments with fewer tokens stay as they are.
    pub min_segment_tokens: usize,
    /// Also compress user messages (off: user turns are the user's words).
    pub compress_user_messages: bool,
    /// Tool names (globs such as `read_*`) whose results are never compressed.
    pub exclude_tools: Vec<String>,
    /// Only transforms that keep every byte of meaning (no markers, nothing to retrieve).
    pub lossless_only: bool,
    /// Compute the report, but send the request unchanged.
    pub audit: bool,
    /// Add the `headroom_retrieve` tool when the conversation carries a marker.
    pub retrieve_tool: bool,
    /// Cap on one `headroom_retrieve` answer, in tokens; longer originals are paged.
    pub retrieve_answer_tokens: usize,
    /// Retrieval rounds a door resolves for one agent request; the last withdraws the tool.
    pub retrieve_max_rounds: usize,
    /// The most bytes of one upstream reply a door reads to answer retrieval calls in it; a larger
    /// reply goes to the agent as it came.
    pub max_reply_bytes: usize,
    /// How long an original stays retrievable after it was last stored (see [`Config::store_limits`]).
    pub store_ttl: Duration,
    /// The most bytes of originals a store keeps; the oldest go first.
    pub store_max_bytes: usize,
    /// Extra question text to compress against (e.g. the CLI's `--query`).
    pub query: Option<String>,
    /// The most tokens a request may have after compression. `None`: the model's context window
    /// minus the completion it reserves (see [`Config::fit_to_window`]).
    pub token_budget: Option<usize>,
    /// With no `token_budget`, fit requests to models of known window: the window minus the
    /// request's `max_completion_tokens` (or `max_tokens`), else minus
    /// [`DEFAULT_COMPLETION_RESERVE`](crate::budget::DEFAULT_COMPLETION_RESERVE) (at most a quarter of the window).
    pub fit_to_window: bool,
    /// When a request is over its budget, the newest tool units (an assistant message with
    /// `tool_calls` and all its results) that are never evicted.
    pub protect_recent_units: usize,
    /// Eviction goes down to this share of the budget, so the kept prefix moves rarely.
    pub eviction_low_water: f64,
    /// Bodies larger than this are forwarded untouched.
    pub max_body_bytes: usize,
    /// JSON nested deeper than this is left as it is.
    pub max_depth: usize,
    /// Work on one request stops after this long, and the request then goes out as it came (the
    /// report says why): how busy the machine is never changes the bytes of a compressed request.
    pub time_budget: Duration,
    /// Arrays with fewer items are never cut by the lossy JSON compressor.
    pub json_min_array_items: usize,
    /// What the lossy JSON compressor (SmartCrusher) keeps of a long array; each rule can be switched off.
    pub crush: crate::compress::crush::CrushConfig,
    /// Function bodies with fewer inner lines are never elided by the code compressor.
    pub code_min_body_lines: usize,
    /// Source larger than this (bytes) skips tree-sitter and takes the prose path.
    pub code_max_bytes: usize,
    /// Long comments outside the asked-about functions keep their first paragraph, at most this
    /// many lines; the rest becomes a marker inside the comment (0: comments stay whole).
    pub code_comment_lines: usize,
    /// Share of a prose segment's tokens the prose compressor aims to keep (0.0–1.0).
    pub text_keep_ratio: f64,
    /// Prose with fewer paragraphs or sentences is left as it is.
    pub text_min_units: usize,
    /// Logs with fewer lines are left to the engine's other checks (not compressed as logs).
    pub logs_min_lines: usize,
    /// Lines kept before each error line.
    pub logs_context_before: usize,
    /// Lines kept after each error line, whatever they are (a blank line ends them).
    pub logs_context_after: usize,
    /// Most lines kept after an error while the diagnostic block continues (indented, `|`, `=`).
    pub logs_block_lines: usize,
    /// Lines kept after the first occurrence of a warning or a summary line.
    pub logs_warning_lines: usize,
    /// Frames kept at each end of a stack trace.
    pub logs_trace_frames: usize,
    /// Consecutive lines differing only in numbers, timestamps or ids fold from this many on
    /// (from three on when one of them is kept anyway).
    pub logs_fold_min: usize,
    /// First lines of a log always kept.
    pub logs_head_lines: usize,
    /// Last lines of a log always kept.
    pub logs_tail_lines: usize,
    /// Search output with fewer hits is left as it is.
    pub search_min_hits: usize,
    /// Hits kept in all (raised to one per file when there are more files).
    pub search_max_hits: usize,
    /// Hits kept per file.
    pub search_max_per_file: usize,
    /// Context lines (`grep -C`) kept on each side of a kept hit.
    pub search_context_lines: usize,
    /// Longer hit lines are cut at a space before this many characters (never inside a word).
    pub search_max_line_chars: usize,
    /// Diffs with fewer lines are left as they are.
    pub diff_min_lines: usize,
    /// Unchanged lines kept on each side of a change in hunks nobody asked about.
    pub diff_context_lines: usize,
    /// Changed lines kept per hunk nobody asked about (the first two thirds and the last third).
    pub diff_max_changed_lines: usize,
    /// File names (globs) whose diffs become one line of counts, unless asked about: lock files.
    pub diff_summary_files: Vec<String>,
    /// Compress a request's messages on two threads when it has two or more with text to compress
    /// and 64 KB of it or more: the same bytes, a shorter wall-clock time on a second core, no less
    /// CPU time. Off by default in the library (the caller owns its threads).
    pub parallel_messages: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            model: None,
            min_segment_tokens: 250,
            compress_user_messages: false,
            exclude_tools: Vec::new(),
            lossless_only: false,
            audit: false,
            retrieve_tool: true,
            retrieve_answer_tokens: crate::retrieve::DEFAULT_ANSWER_TOKENS,
            retrieve_max_rounds: crate::resolver::limits::DEFAULT_MAX_ROUNDS,
            max_reply_bytes: crate::resolver::limits::DEFAULT_MAX_REPLY_BYTES,
            store_ttl: crate::store::StoreLimits::default().ttl,
            store_max_bytes: crate::store::StoreLimits::default().max_bytes,
            query: None,
            token_budget: None,
            fit_to_window: true,
            protect_recent_units: 3,
            eviction_low_water: 0.75,
            max_body_bytes: 32 * 1024 * 1024,
            max_depth: 64,
            time_budget: Duration::from_secs(5),
            json_min_array_items: 8,
            crush: crate::compress::crush::CrushConfig::default(),
            code_min_body_lines: 3,
            code_max_bytes: 2 * 1024 * 1024,
            code_comment_lines: 1,
            text_keep_ratio: 0.5,
            text_min_units: 6,
            logs_min_lines: 20,
            logs_context_before: 2,
            logs_context_after: 3,
            logs_block_lines: 24,
            logs_warning_lines: 2,
            logs_trace_frames: 3,
            logs_fold_min: 5,
            logs_head_lines: 2,
            logs_tail_lines: 3,
            search_min_hits: 12,
            search_max_hits: 30,
            search_max_per_file: 5,
            search_context_lines: 1,
            search_max_line_chars: 300,
            diff_min_lines: 40,
            diff_context_lines: 1,
            diff_max_changed_lines: 12,
            diff_summary_files: [
                "*.lock",
                "package-lock.json",
                "npm-shrinkwrap.json",
                "pnpm-lock.yaml",
                "go.sum",
                "*.min.js",
                "*.min.css",
            ]
            .map(String::from)
            .to_vec(),
            parallel_messages: false,
        }
    }
}

impl Config {
    /// The limits to open stores with: [`Config::store_ttl`] and [`Config::store_max_bytes`].
    ///
    /// ```
    /// let limits = headroom::Config::default().store_limits();
    /// assert_eq!(limits.ttl.as_secs(), 24 * 3600);
    /// let store = headroom::store::open("memory:", limits)?;
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn store_limits(&self) -> crate::store::StoreLimits {
        crate::store::StoreLimits {
            ttl: self.store_ttl,
            max_bytes: self.store_max_bytes,
        }
    }
}
