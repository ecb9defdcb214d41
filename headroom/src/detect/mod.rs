//! What kind of content a segment holds, so it reaches the compressor that knows its shape.
//!
//! Detection reads the content (only its first [`SAMPLE_LINES`] lines and [`SAMPLE_BYTES`] bytes,
//! with plain byte scans: no regex, nothing that backtracks on megabyte inputs) plus hints: the tool
//! that produced it, a file extension in the tool call's arguments, a fenced block's language tag.
//! Structure in the content (a diff, `path:line:` hits) wins over hints; hints win over guesses,
//! unless the text contradicts them.
//!
//! # Shell commands
//!
//! An agent's shell tool names what it ran (`{"command": "cat src/x.rs | head -50"}`): the command
//! is split into words with a shell-words parser, pipelines and lists (`|`, `&&`, `||`, `;`) and
//! prefixes (`sudo`, `env X=1`, `timeout 10`) included, and what it runs says what its output is:
//! a file's content by its extension (`cat`, `head`, `tail`, `less`, `bat`, `nl`, `sed -n`), prose
//! (`man`), a commit history (`git log`), a diff (`git diff`, `git show`), search hits (`grep`,
//! `rg`, `ag`, `ack`, `git grep`), a listing (`ls`, `find`, `tree`), JSON (`curl`, `gh api`,
//! `http`, `xh`, `jq`) or logs (`journalctl`, `docker logs`, `kubectl logs`, build and test runners).

mod content;
mod kinds;
mod language;
mod shell;

pub(crate) use content::split_search_hit;
use content::Sample;

use kinds::extension;
pub use kinds::{ContentType, Language, SAMPLE_BYTES, SAMPLE_LINES};

/// What besides the text may tell its type: the producing tool, its arguments, a fence tag.
///
/// ```
/// use headroom::detect::{detect_with_hints, ContentType, Hints, Language};
/// let hints = Hints::default()
///     .with_tool_name(Some("read_file"))
///     .with_tool_arguments(Some(r#"{"path": "src/lib.rs"}"#));
/// assert_eq!(detect_with_hints("mod a;\nmod b;\n", &hints), ContentType::Code(Language::Rust));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hints<'a> {
    /// The name of the tool whose result this is.
    pub tool_name: Option<&'a str>,
    /// The JSON arguments of that tool call.
    pub tool_arguments: Option<&'a str>,
    /// The language tag of the fenced block this text came from.
    pub fence_tag: Option<&'a str>,
}

impl<'a> Hints<'a> {
    /// The same hints with the tool name.
    pub fn with_tool_name(mut self, name: Option<&'a str>) -> Self {
        self.tool_name = name;
        self
    }
    /// The same hints with the tool call's arguments.
    pub fn with_tool_arguments(mut self, arguments: Option<&'a str>) -> Self {
        self.tool_arguments = arguments;
        self
    }
    /// The same hints with a fenced block's tag.
    pub fn with_fence_tag(mut self, tag: Option<&'a str>) -> Self {
        self.fence_tag = tag;
        self
    }
}

/// Classifies `text` by its content alone.
///
/// ```
/// use headroom::detect::{detect, ContentType};
/// assert_eq!(detect("src/a.rs:3:fn a() {}\nsrc/b.rs:9:fn b() {}\n"), ContentType::SearchHits);
/// ```
pub fn detect(text: &str) -> ContentType {
    detect_with_hints(text, &Hints::default())
}

/// Classifies `text` by its content and the `hints` around it.
///
/// Structure in the text (JSON that parses, a unified diff, `path:line:` hits) comes first; then a
/// fence tag; then what the tool call says (a shell command in its arguments, see
/// [shell commands](crate::detect#shell-commands), or a path's extension), unless the text contradicts it; then the
/// content's own shape, where a language's shape beats the log heuristic.
///
/// ```
/// use headroom::detect::{detect_with_hints, ContentType, Hints, Language};
/// let log = "2024-05-01 10:00:01 INFO start\n2024-05-01 10:00:02 ERROR boom\n";
/// assert_eq!(detect_with_hints(log, &Hints::default()), ContentType::Logs);
/// let diff = "--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+b\n";
/// assert_eq!(detect_with_hints(diff, &Hints::default()), ContentType::Diff);
/// let bash = Hints::default()
///     .with_tool_name(Some("bash"))
///     .with_tool_arguments(Some(r#"{"command": "cat src/lib.rs | head -50"}"#));
/// assert_eq!(detect_with_hints("mod a;\nmod b;\n", &bash), ContentType::Code(Language::Rust));
/// ```
pub fn detect_with_hints(text: &str, hints: &Hints<'_>) -> ContentType {
    let trimmed = text.trim_start();
    if trimmed.starts_with(['{', '['])
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    {
        return ContentType::Json;
    }
    let sample = Sample::of(text);
    let tool = hints.tool_name.map(str::to_ascii_lowercase);
    let tool_says = |words: &[&str]| {
        tool.as_deref()
            .is_some_and(|t| words.iter().any(|w| t.contains(w)))
    };
    let command = hints
        .tool_arguments
        .and_then(|arguments| shell::claim_in_arguments(arguments, hints.tool_name));

    // A history with patches (`git log -p`) is read by commit, each with its diff: the diff
    // compressor knows files and hunks, not which commit they belong to.
    let history = command == Some(Claim::Commits) && sample.has_commit_headers();
    if sample.looks_like_diff() && !history {
        return ContentType::Diff;
    }
    let search_threshold =
        if tool_says(&["grep", "search", "rg", "find"]) || command == Some(Claim::Search) {
            0.3
        } else {
            0.6
        };
    if sample.hit_ratio() >= search_threshold {
        return ContentType::SearchHits;
    }

    // Markdown with fences is prose with blocks in it: the prose compressor splits it and routes
    // each fenced block here again, its tag as a hint.
    if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
        return ContentType::Text;
    }
    if let Some(tag) = hints.fence_tag {
        let tag = tag.trim().to_ascii_lowercase();
        let claim = Language::from_tag(&tag)
            .map(Claim::Code)
            .or(match tag.as_str() {
                "diff" | "patch" => Some(Claim::Diff),
                "log" | "console" | "shell-session" => Some(Claim::Logs),
                _ => None,
            });
        if let Some(claim) = claim {
            return claim.content_type();
        }
    }
    // What the tool call says: its command, else a path in its arguments.
    let said = command.or_else(|| {
        hints
            .tool_arguments
            .and_then(extension_in_arguments)
            .and_then(|ext| Claim::of_extension(&ext))
    });
    if let Some(content_type) = said.and_then(|claim| claim.accepted_by(&sample)) {
        return content_type;
    }
    if let Some(content_type) = sample.by_shape() {
        return content_type;
    }
    if command.is_none()
        && tool_says(&[
            "bash", "shell", "terminal", "exec", "command", "run", "build", "test", "log",
        ])
        && sample.lines.len() >= 3
        // A command's output with (almost) no log line (a man page, a file listing) reads better
        // through the prose path, which keeps what the question asks about; so do a document and
        // source code that mention a log line or two.
        && sample.has_log_lines()
        && !sample.looks_like_markdown()
        && !sample.looks_like_source()
    {
        return ContentType::Logs;
    }
    ContentType::Text
}

/// What a hint says a segment holds, before the text is asked whether it agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Source in a language (a file's extension).
    Code(Language),
    /// Prose: a man page, a markdown or text file.
    Prose,
    /// A JSON document (an API call, `jq`).
    Json,
    /// A unified diff (`git diff`, a `.patch` file).
    Diff,
    /// Search hits (`grep -rn`, `rg`).
    Search,
    /// A file listing (`ls`, `find`, `tree`).
    Listing,
    /// Command output: a build, a test run, a service's log.
    Logs,
    /// A commit history (`git log`, with or without patches): logs whose records are commits.
    Commits,
}

impl Claim {
    /// The claim of a file extension (without the dot): a language, prose, JSON, logs or a diff.
    pub(crate) fn of_extension(ext: &str) -> Option<Claim> {
        if let Some(language) = Language::from_extension(ext) {
            return Some(Claim::Code(language));
        }
        Some(match ext.to_ascii_lowercase().as_str() {
            "md" | "markdown" | "mdx" | "rst" | "txt" | "text" | "adoc" | "asciidoc" | "org"
            | "pod" | "man" => Claim::Prose,
            "json" | "geojson" | "ipynb" => Claim::Json,
            "log" | "out" | "err" => Claim::Logs,
            "diff" | "patch" | "rej" => Claim::Diff,
            _ => return None,
        })
    }

    /// The type the claim routes to, whatever the text says.
    fn content_type(self) -> ContentType {
        match self {
            Claim::Code(language) => ContentType::Code(language),
            // A listing has no compressor of its own: the prose path keeps the lines the question
            // names and elides the rest by block.
            Claim::Prose | Claim::Listing => ContentType::Text,
            Claim::Json => ContentType::Json,
            Claim::Diff => ContentType::Diff,
            Claim::Search => ContentType::SearchHits,
            Claim::Logs | Claim::Commits => ContentType::Logs,
        }
    }

    /// The claim's type if the text does not contradict it, else `None` (detection goes on).
    ///
    /// The structural types (JSON, diffs, search hits) were already read from the text; a claim of
    /// one that is not there is contradicted. Code is contradicted by log lines without the shape
    /// of any language, prose by log lines, logs by a language's shape without log lines.
    fn accepted_by(self, sample: &Sample<'_>) -> Option<ContentType> {
        let agrees = match self {
            Claim::Json | Claim::Diff | Claim::Search => false,
            Claim::Code(_) => !sample.looks_like_logs() || sample.guess_language().is_some(),
            Claim::Prose => !sample.looks_like_logs() || sample.looks_like_markdown(),
            Claim::Listing => true,
            Claim::Logs | Claim::Commits => {
                sample.looks_like_logs() || sample.guess_language().is_none()
            }
        };
        agrees.then(|| self.content_type())
    }
}

/// The first file extension named by a string value in a tool call's JSON arguments.
fn extension_in_arguments(arguments: &str) -> Option<String> {
    fn walk(value: &serde_json::Value, budget: &mut usize) -> Option<String> {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        match value {
            serde_json::Value::String(s) if s.len() <= 1024 && !s.contains(char::is_whitespace) => {
                extension(s)
                    .filter(|e| e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+'))
                    .map(str::to_ascii_lowercase)
            }
            serde_json::Value::Array(items) => items.iter().find_map(|v| walk(v, budget)),
            serde_json::Value::Object(map) => map.values().find_map(|v| walk(v, budget)),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_str(arguments).ok()?;
    walk(&value, &mut 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_beats_extension_hints() {
        let hits = "src/lib.rs:1:use std::io;\nsrc/lib.rs:9:use std::fmt;\n";
        let hints = Hints::default()
            .with_tool_name(Some("grep"))
            .with_tool_arguments(Some(r#"{"pattern":"use","glob":"*.rs"}"#));
        assert_eq!(detect_with_hints(hits, &hints), ContentType::SearchHits);
        let source = "use std::io;\n\nfn main() {}\n";
        assert_eq!(
            detect_with_hints(source, &hints),
            ContentType::Code(Language::Rust)
        );
    }

    #[test]
    fn fence_tags_name_the_language() {
        // A whole fenced segment is prose for the prose compressor to split; its inside, with the tag, code.
        let block = "```python\nx = 1\n```";
        assert_eq!(detect(block), ContentType::Text);
        let hints = Hints::default().with_fence_tag(Some("python"));
        assert_eq!(
            detect_with_hints("x = 1", &hints),
            ContentType::Code(Language::Python)
        );
        let hints = Hints::default().with_fence_tag(Some("ts"));
        assert_eq!(
            detect_with_hints("let a = 1", &hints),
            ContentType::Code(Language::TypeScript)
        );
    }

    #[test]
    fn prose_stays_text() {
        let prose =
            "The quick brown fox jumps over the lazy dog.\nIt was a sunny day: 12 people came.\n";
        assert_eq!(detect(prose), ContentType::Text);
    }
}
