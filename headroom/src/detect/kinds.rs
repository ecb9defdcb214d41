//! The content types detection routes on and the languages of source code, with the sample
//! size detection reads: a leaf both the entry (`mod.rs`) and the heuristics (`content.rs`) use.

/// Lines of a segment that detection reads.
pub const SAMPLE_LINES: usize = 400;
/// Bytes of a segment that detection reads.
pub const SAMPLE_BYTES: usize = 64 * 1024;

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

impl Language {
    /// The language of a file extension (without the dot), if it is one we know.
    ///
    /// ```
    /// use headroom::detect::Language;
    /// assert_eq!(Language::from_extension("rs"), Some(Language::Rust));
    /// assert_eq!(Language::from_extension("HPP"), Some(Language::Cpp));
    /// assert_eq!(Language::from_extension("txt"), None);
    /// ```
    pub fn from_extension(ext: &str) -> Option<Language> {
        let ext = ext.to_ascii_lowercase();
        Some(match ext.as_str() {
            "rs" => Language::Rust,
            "py" | "pyi" | "pyw" => Language::Python,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "mts" | "cts" | "tsx" => Language::TypeScript,
            "go" => Language::Go,
            "java" => Language::Java,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "c++" | "hh" | "hpp" | "hxx" | "h++" | "ipp" => Language::Cpp,
            _ => return None,
        })
    }

    /// The language a fenced block's tag names (```` ```rust ````, ```` ```py ````), if we know it.
    ///
    /// ```
    /// use headroom::detect::Language;
    /// assert_eq!(Language::from_tag("rust,no_run"), Some(Language::Rust));
    /// assert_eq!(Language::from_tag("Python"), Some(Language::Python));
    /// assert_eq!(Language::from_tag("text"), None);
    /// ```
    pub fn from_tag(tag: &str) -> Option<Language> {
        let tag = tag
            .trim()
            .split([',', ' ', '{'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        Some(match tag.as_str() {
            "rust" => Language::Rust,
            "python" | "python3" => Language::Python,
            "javascript" | "node" => Language::JavaScript,
            "typescript" => Language::TypeScript,
            "golang" => Language::Go,
            "cpp" | "c++" => Language::Cpp,
            other => return Language::from_extension(other),
        })
    }

    /// The language of a path by its extension (`src/main.rs` → Rust).
    ///
    /// ```
    /// use headroom::detect::Language;
    /// assert_eq!(Language::from_path("pkg/server.go"), Some(Language::Go));
    /// assert_eq!(Language::from_path("Makefile"), None);
    /// ```
    pub fn from_path(path: &str) -> Option<Language> {
        extension(path).and_then(Language::from_extension)
    }
}

/// The extension of a path's last component, lowercased.
pub(super) fn extension(path: &str) -> Option<&str> {
    let name = path.rsplit(['/', '\\']).next()?;
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty() && ext.len() <= 10).then_some(ext)
}
