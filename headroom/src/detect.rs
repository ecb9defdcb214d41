//! What kind of content a segment holds, so it reaches the compressor that knows its shape.
//!
//! Detection reads the content (only its first [`SAMPLE_LINES`] lines and [`SAMPLE_BYTES`] bytes,
//! with plain byte scans: no regex, nothing that backtracks on megabyte inputs) plus hints: the tool
//! that produced it, a file extension in the tool call's arguments, a fenced block's language tag.
//! Structure in the content (a diff, `path:line:` hits) wins over hints; hints win over guesses.

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
/// ```
/// use headroom::detect::{detect_with_hints, ContentType, Hints};
/// let log = "2024-05-01 10:00:01 INFO start\n2024-05-01 10:00:02 ERROR boom\n";
/// assert_eq!(detect_with_hints(log, &Hints::default()), ContentType::Logs);
/// let diff = "--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+b\n";
/// assert_eq!(detect_with_hints(diff, &Hints::default()), ContentType::Diff);
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

    if sample.looks_like_diff() {
        return ContentType::Diff;
    }
    let search_threshold = if tool_says(&["grep", "search", "rg", "find"]) {
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
    // A fence tag, then a path in the tool call.
    if let Some(tag) = hints.fence_tag {
        let tag = tag.trim().to_ascii_lowercase();
        if let Some(language) = Language::from_tag(&tag) {
            return ContentType::Code(language);
        }
        match tag.as_str() {
            "diff" | "patch" => return ContentType::Diff,
            "log" | "console" | "shell-session" => return ContentType::Logs,
            _ => {}
        }
    }
    if let Some(ext) = hints.tool_arguments.and_then(extension_in_arguments) {
        if let Some(language) = Language::from_extension(&ext) {
            return ContentType::Code(language);
        }
        match ext.as_str() {
            "log" | "out" => return ContentType::Logs,
            "md" | "markdown" | "rst" | "txt" | "adoc" => return ContentType::Text,
            _ => {}
        }
    }
    if sample.looks_like_logs() {
        return ContentType::Logs;
    }
    if let Some(language) = sample.guess_language() {
        return ContentType::Code(language);
    }
    if tool_says(&[
        "bash", "shell", "terminal", "exec", "command", "run", "build", "test", "log",
    ]) && sample.lines.len() >= 3
        // A command's output with no log line at all (a man page, a file listing) reads better
        // through the prose path, which keeps what the question asks about.
        && sample.lines.iter().any(|l| is_log_line(l))
    {
        return ContentType::Logs;
    }
    ContentType::Text
}

/// The extension of a path's last component, lowercased.
fn extension(path: &str) -> Option<&str> {
    let name = path.rsplit(['/', '\\']).next()?;
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty() && ext.len() <= 10).then_some(ext)
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

/// The first lines of a segment, which detection reads.
struct Sample<'t> {
    lines: Vec<&'t str>,
}

impl<'t> Sample<'t> {
    fn of(text: &'t str) -> Self {
        let mut end = text.len().min(SAMPLE_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let lines = text[..end]
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(SAMPLE_LINES)
            .collect();
        Sample { lines }
    }

    /// `diff --git`, or `--- ` then `+++ ` then `@@ -` in order.
    fn looks_like_diff(&self) -> bool {
        let mut stage = 0;
        for line in &self.lines {
            if line.starts_with("diff --git ") || line.starts_with("diff -") && stage == 0 {
                stage = stage.max(1);
            }
            if line.starts_with("--- ") && stage <= 1 {
                stage = 2;
            } else if line.starts_with("+++ ") && stage == 2 {
                stage = 3;
            } else if line.starts_with("@@ -") && stage == 3 {
                return true;
            }
        }
        false
    }

    /// The share of lines shaped like a search hit (`path:12:text`), compiler diagnostics excluded.
    fn hit_ratio(&self) -> f64 {
        if self.lines.len() < 2 {
            return 0.0;
        }
        let hits = self.lines.iter().filter(|l| is_search_hit(l)).count();
        hits as f64 / self.lines.len() as f64
    }

    fn looks_like_logs(&self) -> bool {
        if self.lines.len() < 2 {
            return false;
        }
        let logish = self.lines.iter().filter(|l| is_log_line(l)).count();
        logish >= 2 && logish * 4 >= self.lines.len()
    }

    fn guess_language(&self) -> Option<Language> {
        let mut scores = [0usize; LANGUAGES.len()];
        let mut signal_lines = 0;
        for line in &self.lines {
            let line = line.trim_start();
            let mut any = false;
            for (i, (language, prefixes)) in LANGUAGES.iter().enumerate() {
                // Python blocks open with a line ending in `:` (`if x:`, `else:`, `try:`).
                let python_block = *language == Language::Python
                    && line.ends_with(':')
                    && line.starts_with(|c: char| c.is_ascii_lowercase());
                if python_block || prefixes.iter().any(|p| line.starts_with(p)) {
                    scores[i] += 1;
                    any = true;
                }
            }
            signal_lines += usize::from(any);
        }
        let (best, score) = scores
            .iter()
            .enumerate()
            .max_by_key(|(i, s)| (**s, usize::MAX - i))?;
        (*score >= 2 && signal_lines * 6 >= self.lines.len()).then_some(LANGUAGES[best].0)
    }
}

/// Line openings typical of each language (first match wins ties: more specific languages first).
const LANGUAGES: &[(Language, &[&str])] = &[
    (
        Language::Rust,
        &[
            "fn ",
            "pub fn ",
            "pub(crate) ",
            "impl ",
            "impl<",
            "use std::",
            "use crate::",
            "let mut ",
            "#[derive",
            "pub struct ",
            "pub enum ",
            "mod ",
            "#[cfg(",
            "pub mod ",
        ],
    ),
    (
        Language::Python,
        &[
            "def ",
            "async def ",
            "from ",
            "elif ",
            "self.",
            "@property",
            "if __name__",
            "except ",
            "print(",
        ],
    ),
    (
        Language::Go,
        &[
            "package ", "func ", "import (", "go func", "defer ", "type ",
        ],
    ),
    (
        Language::Java,
        &[
            "public class ",
            "private ",
            "protected ",
            "@Override",
            "import java.",
            "public static ",
            "public interface ",
        ],
    ),
    (
        Language::TypeScript,
        &[
            "interface ",
            "export interface ",
            "export type ",
            "import type ",
            "export class ",
            "readonly ",
        ],
    ),
    (
        Language::JavaScript,
        &[
            "function ",
            "const ",
            "module.exports",
            "export default ",
            "export function ",
            "require(",
            "var ",
        ],
    ),
    (
        Language::Cpp,
        &[
            "#include <iostream>",
            "namespace ",
            "template<",
            "template <",
            "std::",
            "public:",
            "private:",
            "using namespace ",
        ],
    ),
    (
        Language::C,
        &[
            "#include ",
            "#define ",
            "typedef ",
            "static ",
            "int main(",
            "struct ",
            "#ifndef ",
            "#endif",
        ],
    ),
];

/// Whether `line` is `path:LINE:text` or `path-LINE-text` (grep context) with a path-like prefix,
/// and not a compiler diagnostic (`src/a.c:3:5: error: …`).
pub(crate) fn is_search_hit(line: &str) -> bool {
    split_search_hit(line).is_some_and(|(_, _, rest)| {
        let rest = rest.trim_start();
        let rest = rest
            .split_once(": ")
            .filter(|(col, _)| col.bytes().all(|b| b.is_ascii_digit()) && !col.is_empty())
            .map_or(rest, |(_, after)| after);
        !["error:", "warning:", "note:", "fatal error:"]
            .iter()
            .any(|p| rest.starts_with(p))
    })
}

/// Splits `path:LINE:text` (or `path-LINE-text`) into path, line number and text.
///
/// ```text
/// split_search_hit("src/a.rs:12:fn a()") == Some(("src/a.rs", 12, "fn a()"))
/// ```
pub(crate) fn split_search_hit(line: &str) -> Option<(&str, usize, &str)> {
    // A match (`:`) first: `my-file-2.rs:3:x` is a match in `my-file-2.rs`, not context of `my-file`.
    split_at_separator(line, b':').or_else(|| split_at_separator(line, b'-'))
}

/// `path{sep}DIGITS{sep}rest` where the path has no whitespace (and, for `-`, no `:`).
fn split_at_separator(line: &str, sep: u8) -> Option<(&str, usize, &str)> {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate().take(512) {
        if b.is_ascii_whitespace() || (b == b':' && sep != b':') {
            return None;
        }
        if b != sep || i == 0 {
            continue;
        }
        let digits_end = bytes[i + 1..]
            .iter()
            .position(|d| !d.is_ascii_digit())
            .map_or(bytes.len(), |p| i + 1 + p);
        if digits_end > i + 1 && digits_end < bytes.len() && bytes[digits_end] == sep {
            let path = &line[..i];
            if is_path_like(path) {
                let number = line[i + 1..digits_end].parse().ok()?;
                return Some((path, number, &line[digits_end + 1..]));
            }
        }
        if sep == b':' {
            return None;
        }
    }
    None
}

fn is_path_like(path: &str) -> bool {
    !path.is_empty()
        && !path.bytes().all(|b| b.is_ascii_digit())
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./\\-+@~,=#".contains(&b) || b >= 0x80)
}

/// Whether a line looks like build, test or service log output.
fn is_log_line(line: &str) -> bool {
    let t = line.trim_start();
    const OPENINGS: &[&str] = &[
        "Compiling ",
        "Checking ",
        "Finished ",
        "Running ",
        "Downloaded ",
        "Downloading ",
        "Fresh ",
        "Updating ",
        "Locking ",
        "Building ",
        "Installing ",
        "Collecting ",
        "Successfully ",
        "Requirement already",
        "Setting up ",
        "Unpacking ",
        "Preparing to unpack",
        "Selecting previously",
        "Processing triggers",
        "Get:",
        "Hit:",
        "Ign:",
        "Err:",
        "Fetched ",
        "Reading package",
        "E: ",
        "W: ",
        "npm ",
        "make[",
        "test ",
        "running ",
        "error:",
        "error[",
        "warning:",
        "warning[",
        "note:",
        "help:",
        "ERROR",
        "WARN",
        "INFO",
        "DEBUG",
        "TRACE",
        "FATAL",
        "[INFO]",
        "[ERROR]",
        "[WARN",
        "[DEBUG]",
        "PASSED",
        "FAILED",
        "Traceback",
        "thread '",
        "--> ",
        "= note",
        "= help",
        "Caused by",
        "panic:",
        "goroutine ",
        "at ",
        "File \"",
    ];
    if OPENINGS.iter().any(|o| t.starts_with(o)) {
        return true;
    }
    // Timestamps: `2024-05-01`, `10:00:01`, `[2024-…`, `Nov 25 07:21:00`, `[25/Nov/2026 07:56:56]`.
    let t = t.trim_start_matches('[');
    let b = t.as_bytes();
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    // A clock time `hh:mm:ss` in the first 64 bytes: access logs, syslog, `[25/Nov/2026 07:56:56]`.
    let clock = (0..b.len().min(64).saturating_sub(7)).any(|i| {
        digits(i, 2) && b[i + 2] == b':' && digits(i + 3, 2) && b[i + 5] == b':' && digits(i + 6, 2)
    });
    (digits(0, 4) && b.get(4) == Some(&b'-') && digits(5, 2))
        || (digits(0, 2) && b.get(2) == Some(&b':') && digits(3, 2))
        || clock
        || t.contains(" ERROR ")
        || t.contains(" WARN ")
        || t.contains(" INFO ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_hits_split_path_line_and_text() {
        assert_eq!(
            split_search_hit("src/a-b.rs:12:  let x = 1;"),
            Some(("src/a-b.rs", 12, "  let x = 1;"))
        );
        assert_eq!(
            split_search_hit("src/a.rs-13-context"),
            Some(("src/a.rs", 13, "context"))
        );
        assert_eq!(split_search_hit("10:00:01 started"), None);
        assert_eq!(split_search_hit("a sentence: 12: no"), None);
        assert!(!is_search_hit("src/a.c:3:5: error: expected ';'"));
        assert_eq!(
            split_search_hit("my-file-2.rs:3:x"),
            Some(("my-file-2.rs", 3, "x"))
        );
    }

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
