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
    /// Extra question text to compress against (e.g. the CLI's `--query`).
    pub query: Option<String>,
    /// Bodies larger than this are forwarded untouched.
    pub max_body_bytes: usize,
    /// JSON nested deeper than this is left as it is.
    pub max_depth: usize,
    /// Work stops after this long; segments not reached stay as they are.
    pub time_budget: Duration,
    /// Arrays with fewer items are never cut by the lossy JSON compressor.
    pub json_min_array_items: usize,
    /// What the lossy JSON compressor (SmartCrusher) keeps of a long array; each rule can be switched off.
    pub crush: crate::compress::crush::CrushConfig,
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
            query: None,
            max_body_bytes: 32 * 1024 * 1024,
            max_depth: 64,
            time_budget: Duration::from_secs(5),
            json_min_array_items: 8,
            crush: crate::compress::crush::CrushConfig::default(),
        }
    }
}
