//! The content's own shape: the line heuristics detection reads a sample with.

use super::kinds::{ContentType, Language, SAMPLE_BYTES, SAMPLE_LINES};
use super::language::opens_like;

/// The first lines of a segment, which detection reads.
pub(super) struct Sample<'t> {
    /// The sample's non-blank lines.
    pub(super) lines: Vec<&'t str>,
}

impl<'t> Sample<'t> {
    pub(super) fn of(text: &'t str) -> Self {
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
    pub(super) fn looks_like_diff(&self) -> bool {
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

    /// Two or more `commit <hash>` lines: a `git log` history.
    pub(super) fn has_commit_headers(&self) -> bool {
        let headers = self.lines.iter().filter(|l| {
            l.strip_prefix("commit ").is_some_and(|rest| {
                let hash = rest.split(' ').next().unwrap_or("");
                hash.len() >= 7 && hash.bytes().all(|b| b.is_ascii_hexdigit())
            })
        });
        headers.take(2).count() == 2
    }

    /// The share of lines shaped like a search hit (`path:12:text`), compiler diagnostics excluded.
    pub(super) fn hit_ratio(&self) -> f64 {
        if self.lines.len() < 2 {
            return 0.0;
        }
        let hits = self.lines.iter().filter(|l| is_search_hit(l)).count();
        hits as f64 / self.lines.len() as f64
    }

    /// A quarter or more of the lines are log lines (see [`is_log_line`]).
    pub(super) fn looks_like_logs(&self) -> bool {
        if self.lines.len() < 2 {
            return false;
        }
        let logish = self.log_lines();
        logish >= 2 && logish * 4 >= self.lines.len()
    }

    /// Some log lines: two or more, a tenth of the lines or more.
    pub(super) fn has_log_lines(&self) -> bool {
        let logish = self.log_lines();
        logish >= 2 && logish * 10 >= self.lines.len()
    }

    fn log_lines(&self) -> usize {
        self.lines.iter().filter(|l| is_log_line(l)).count()
    }

    /// Markdown by its block shapes: ATX headings, fences, list items, link or table lines make up
    /// a fifth of the lines, a heading or fence among them.
    pub(super) fn looks_like_markdown(&self) -> bool {
        let mut anchors = 0;
        let mut blocks = 0;
        for line in &self.lines {
            let t = line.trim_start();
            let heading = t.starts_with('#') && {
                let level = t.bytes().take_while(|&b| b == b'#').count();
                level <= 6 && t[level..].starts_with(' ')
            };
            let fence = t.starts_with("```") || t.starts_with("~~~");
            let item = t.starts_with("- ")
                || t.starts_with("* ")
                || t.split_once(". ")
                    .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let link = t.contains("](")
                || (t.starts_with('[') && t.contains("]: "))
                || (t.starts_with('|') && t.ends_with('|'));
            anchors += usize::from(heading || fence);
            blocks += usize::from(heading || fence || item || link);
        }
        anchors >= 1 && blocks * 5 >= self.lines.len()
    }

    /// What the content's shape alone says: logs, or code in a language (by the lines outside
    /// fences). A language's shape beats the log heuristic when its lines outnumber the log lines,
    /// or when the text is markdown.
    pub(super) fn by_shape(&self) -> Option<ContentType> {
        let markdown = self.looks_like_markdown();
        // Code in fences is quoted (markdown, an answer with a block): only the lines outside
        // them say the text is source.
        let language = self.outside_fences().guess_language();
        if self.looks_like_logs() && !markdown {
            let code_wins = language.is_some_and(|l| self.language_lines(l) > self.log_lines());
            if !code_wins {
                return Some(ContentType::Logs);
            }
        }
        language.map(ContentType::Code)
    }

    /// The lines outside fenced blocks.
    fn outside_fences(&self) -> Sample<'t> {
        let mut inside = false;
        let mut lines = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let t = line.trim_start();
            if t.starts_with("```") || t.starts_with("~~~") {
                inside = !inside;
            } else if !inside {
                lines.push(*line);
            }
        }
        Sample { lines }
    }

    /// Source of some language by its punctuation, even one detection cannot name: a third of the
    /// lines end in `;`, `{`, `}`, `(`, `,` or `:` or are comments (`//`, `/*`, `*`, `#`, `--`).
    pub(super) fn looks_like_source(&self) -> bool {
        let code = self
            .lines
            .iter()
            .filter(|l| {
                let t = l.trim();
                t.ends_with([';', '{', '}', '(', ',', ':'])
                    || ["//", "/*", "*", "#", "--"]
                        .iter()
                        .any(|p| t.starts_with(p))
            })
            .count();
        code * 3 >= self.lines.len()
    }

    /// Lines opening the way `language`'s lines do.
    fn language_lines(&self, language: Language) -> usize {
        self.lines
            .iter()
            .filter(|l| opens_like(language, l.trim_start()))
            .count()
    }

    /// The language most lines open like (see [`super::language::guess`]).
    pub(super) fn guess_language(&self) -> Option<Language> {
        super::language::guess(&self.lines)
    }
}

/// Whether `line` is `path:LINE:text` or `path-LINE-text` (grep context) with a path-like prefix,
/// and not a compiler diagnostic (`src/a.c:3:5: error: …`).
pub(crate) fn is_search_hit(line: &str) -> bool {
    split_search_hit(line).is_some_and(|(_, _, rest)| {
        let rest = rest.trim_start();
        // A column number (`5: `) before the diagnostic's word is passed over.
        let column = rest.bytes().take_while(u8::is_ascii_digit).count();
        let rest = match rest[column..].strip_prefix(": ") {
            Some(after) if column > 0 => after,
            _ => rest,
        };
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

/// A file path as grep prints it: path characters only, and a letter somewhere, so a number or a
/// time stamp is not one (`2024-05-01T12` of `2024-05-01T12:00:00Z INFO …`, `1.2.3`).
fn is_path_like(path: &str) -> bool {
    !path.is_empty()
        && has_letter_beyond_time_separator(path)
        && path.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'.' | b'/' | b'\\' | b'-' | b'+' | b'@' | b'~' | b',' | b'=' | b'#'
                )
                || b >= 0x80
        })
}

/// Whether `text` has a letter (or non-ASCII character) other than one `T` between digits, the
/// date-time separator of ISO 8601 (`2024-05-01T12`).
fn has_letter_beyond_time_separator(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut letters = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_alphabetic() || **b >= 0x80);
    match (letters.next(), letters.next()) {
        (None, _) => false,
        (Some((i, &b)), None) => {
            let digit_at =
                |j: Option<usize>| j.and_then(|j| bytes.get(j)).is_some_and(u8::is_ascii_digit);
            !(matches!(b, b'T' | b't') && digit_at(i.checked_sub(1)) && digit_at(Some(i + 1)))
        }
        (Some(_), Some(_)) => true,
    }
}

/// Whether a line looks like build, test or service log output.
pub(super) fn is_log_line(line: &str) -> bool {
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
    fn python_blocks_open_with_a_keyword_and_end_no_line_with_a_semicolon() {
        assert!(opens_like(Language::Python, "if x:"));
        assert!(opens_like(Language::Python, "else:"));
        assert!(opens_like(Language::Python, "self.items = []"));
        assert!(!opens_like(Language::Python, "case ts_builtin_sym_end:"));
        assert!(!opens_like(Language::Python, "cleanup:"));
        assert!(!opens_like(Language::Python, "self.ptr->error_cost = 0;"));
    }

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
        // Time stamps and numbers are not paths.
        assert_eq!(
            split_search_hit("2024-05-01T12:00:07.123Z INFO ready"),
            None
        );
        assert_eq!(split_search_hit("20240501t12:00:07 ready"), None);
        assert_eq!(split_search_hit("1.2.3:4:x"), None);
        assert_eq!(
            split_search_hit("logs/2024-05-01T12.log:7:x"),
            Some(("logs/2024-05-01T12.log", 7, "x"))
        );
        assert_eq!(split_search_hit("T1:2:x"), Some(("T1", 2, "x")));
        assert_eq!(split_search_hit("a sentence: 12: no"), None);
        assert!(!is_search_hit("src/a.c:3:5: error: expected ';'"));
        assert_eq!(
            split_search_hit("my-file-2.rs:3:x"),
            Some(("my-file-2.rs", 3, "x"))
        );
    }
}
