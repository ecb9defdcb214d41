//! Probes: facts drawn from the original that an output must keep (verbatim) or keep retrievable.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::LazyLock;

/// One fact about the original.
///
/// ```
/// use headroom_bench::probe::Probe;
/// let p = Probe::Line { text: "error: linking failed".into() };
/// assert_eq!(serde_json::to_string(&p)?, r#"{"line":{"text":"error: linking failed"}}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// These leaves (`path → value`) together in one JSON object (or table row) of the output.
    Fields {
        /// Dotted paths and their values.
        pairs: Vec<(String, Value)>,
    },
    /// This text (a trimmed original line) within one line of the output.
    Line {
        /// The line.
        text: String,
    },
}

/// A case's probes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probes {
    /// The asked-about item: all its fields in one unit.
    pub needle: Probe,
    /// Every error line (logs) or error record (JSON).
    pub errors: Vec<Probe>,
    /// Probes from uniformly random records.
    pub records: Vec<Probe>,
}

static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(^|[\s\[(])(error|errors|fatal|panic|panicked|failed|failure|exception|traceback)([\s:\[\]()!.,]|$)|^E: |^ERROR",
    )
    .expect("valid regex")
});

static COMMIT_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^commit [0-9a-f]{7,64}\b").expect("valid regex"));

/// The error lines of a log (trimmed): compiler errors, failures, panics, tracebacks, `E:` lines.
///
/// Commit-structured output (`git log`, `git show`: its first line is `commit <hash>`) has none:
/// its lines are commit headers, messages people wrote and patches, so a message saying "fix
/// error in X" or a diff line holding the word is content, not a failure the command reported.
///
/// ```
/// let log = "Compiling thiserror v2\nerror[E0425]: cannot find value `x`\ntest a ... FAILED\nok";
/// assert_eq!(headroom_bench::probe::error_lines(log), ["error[E0425]: cannot find value `x`", "test a ... FAILED"]);
/// let git_log = "commit 0123456789abcdef0123456789abcdef01234567\nAuthor: A <a@b>\n\n    Fix error in parser\n";
/// assert!(headroom_bench::probe::error_lines(git_log).is_empty());
/// ```
pub fn error_lines(text: &str) -> Vec<&str> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if COMMIT_HEADER.is_match(first) {
        return Vec::new();
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && ERROR_LINE.is_match(l))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_ignore_flags_and_crate_names() {
        let log = "rustc --error-format=json --crate-name thiserror\nE: Unable to locate package foo\nTraceback (most recent call last):\nno errors here? errors: 0";
        assert_eq!(
            error_lines(log),
            [
                "E: Unable to locate package foo",
                "Traceback (most recent call last):",
                "no errors here? errors: 0"
            ]
        );
    }
}
