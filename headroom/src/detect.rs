//! What kind of content a segment holds, so it reaches the compressor that knows its shape.

/// The content types the engine routes on.
///
/// ```
/// use headroom::detect::{detect, ContentType};
/// assert_eq!(detect("[{\"id\": 1}]"), ContentType::Json);
/// assert_eq!(detect("just some words"), ContentType::Text);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentType {
    /// A JSON object or array.
    Json,
    /// A unified diff (`git diff`, `git show`).
    Diff,
    /// Search hits, `path:line:text` (`grep -rn`, ripgrep).
    SearchHits,
    /// Build output, test runs, service logs.
    Logs,
    /// Source code in a known language.
    Code(Language),
    /// Prose and anything else.
    Text,
}

/// Source languages the code compressor knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Language {
    /// Rust.
    Rust,
    /// Python.
    Python,
    /// JavaScript.
    JavaScript,
    /// TypeScript.
    TypeScript,
    /// Go.
    Go,
    /// Java.
    Java,
    /// C.
    C,
    /// C++.
    Cpp,
}

impl ContentType {
    /// The short name used in reports (`json`, `text`).
    pub fn name(&self) -> &'static str {
        match self {
            ContentType::Json => "json",
            ContentType::Diff => "diff",
            ContentType::SearchHits => "search",
            ContentType::Logs => "logs",
            ContentType::Code(_) => "code",
            ContentType::Text => "text",
        }
    }
}

/// Classifies `text` by its content.
pub fn detect(text: &str) -> ContentType {
    let trimmed = text.trim_start();
    if trimmed.starts_with(['{', '['])
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    {
        return ContentType::Json;
    }
    ContentType::Text
}
