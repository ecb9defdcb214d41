//! What we know about models: their tokenizer and context window.

/// The tokenizer a model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// gpt-4o, gpt-4.1, gpt-5, o-series, and unknown models.
    O200kBase,
    /// gpt-4, gpt-3.5.
    Cl100kBase,
}

/// The tokenizer of `model` (o200k_base unless the model is known to use cl100k_base).
///
/// ```
/// use headroom::models::{encoding_for_model, Encoding};
/// assert_eq!(encoding_for_model("gpt-4o-mini"), Encoding::O200kBase);
/// assert_eq!(encoding_for_model("gpt-4-0613"), Encoding::Cl100kBase);
/// assert_eq!(encoding_for_model("some-local-model"), Encoding::O200kBase);
/// ```
pub fn encoding_for_model(model: &str) -> Encoding {
    known_encoding(model).unwrap_or(Encoding::O200kBase)
}

/// The tokenizer of `model` when Headroom knows it (OpenAI's models, with or without a
/// `provider/` prefix); `None` for others, whose tokens [`encoding_for_model`] counts with
/// o200k_base, an estimate.
///
/// ```
/// use headroom::models::{known_encoding, Encoding};
/// assert_eq!(known_encoding("openai/gpt-4.1"), Some(Encoding::O200kBase));
/// assert_eq!(known_encoding("gpt-3.5-turbo"), Some(Encoding::Cl100kBase));
/// assert_eq!(known_encoding("claude-3-opus"), None);
/// ```
pub fn known_encoding(model: &str) -> Option<Encoding> {
    let m = strip_provider(model);
    let o200k = [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "chatgpt-4o",
        "o1",
        "o3",
        "o4",
    ];
    if o200k.iter().any(|p| m.starts_with(p)) {
        return Some(Encoding::O200kBase);
    }
    let cl100k = [
        "gpt-4",
        "gpt-3.5",
        "gpt-35",
        "text-embedding-3",
        "text-embedding-ada",
    ];
    if cl100k.iter().any(|p| m.starts_with(p)) {
        return Some(Encoding::Cl100kBase);
    }
    None
}

/// The context window of `model` in tokens (128k when unknown).
///
/// ```
/// assert_eq!(headroom::models::context_window("gpt-4o-2024-08-06"), 128_000);
/// assert_eq!(headroom::models::context_window("gpt-4.1-mini"), 1_047_576);
/// ```
pub fn context_window(model: &str) -> usize {
    known_context_window(model).unwrap_or(128_000)
}

/// The context window of `model` in tokens, when the model is one we know.
///
/// ```
/// assert_eq!(headroom::models::known_context_window("gpt-4-0613"), Some(8_192));
/// assert_eq!(headroom::models::known_context_window("llama-3-70b"), None);
/// ```
pub fn known_context_window(model: &str) -> Option<usize> {
    let m = strip_provider(model);
    // Longest prefix first, so `gpt-4o` is not read as `gpt-4`.
    const TABLE: &[(&str, usize)] = &[
        ("gpt-4o", 128_000),
        ("chatgpt-4o", 128_000),
        ("gpt-4.1", 1_047_576),
        ("gpt-4.5", 128_000),
        ("gpt-4-turbo", 128_000),
        ("gpt-4-32k", 32_768),
        ("gpt-4", 8_192),
        ("gpt-3.5-turbo", 16_385),
        ("gpt-5", 400_000),
        ("o1-mini", 128_000),
        ("o1", 200_000),
        ("o3", 200_000),
        ("o4-mini", 200_000),
    ];
    TABLE
        .iter()
        .find(|(prefix, _)| m.starts_with(prefix))
        .map(|(_, n)| *n)
}

fn strip_provider(model: &str) -> &str {
    model.rsplit('/').next().unwrap_or(model)
}
