//! What a log line is (an error, a warning, a summary, a trace's start or frame), by its shape and
//! words, and its template: the line with numbers and ids blanked, so repeated lines fold.

use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

/// What a line is, as far as keeping it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Error,
    Warning,
    Summary,
    TraceStart,
    Frame,
    Blank,
    Plain,
}

/// What `line` is.
pub(super) fn classify(line: &str) -> Kind {
    let t = line.trim();
    if t.is_empty() {
        return Kind::Blank;
    }
    if is_trace_start(t) {
        return Kind::TraceStart;
    }
    if line.starts_with([' ', '\t']) && is_frame(t) {
        return Kind::Frame;
    }
    let words = RuleWords::of(t);
    if is_summary(t, words) {
        return Kind::Summary;
    }
    if is_error(t, words) {
        return Kind::Error;
    }
    if is_warning(t, words) {
        return Kind::Warning;
    }
    Kind::Plain
}

fn is_trace_start(t: &str) -> bool {
    t.starts_with("Traceback (most recent call last)")
        || t == "stack backtrace:"
        || t.starts_with("goroutine ") && t.ends_with(':')
        || t.starts_with("Exception in thread ")
}

fn is_frame(t: &str) -> bool {
    let numbered = t
        .split_once(": ")
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    numbered
        || t.starts_with("at ")
        || t.starts_with("File \"")
        || (t.starts_with('#') && t[1..].starts_with(|c: char| c.is_ascii_digit()))
        || (t.starts_with("... ") && t.ends_with(" more"))
}

fn is_summary(t: &str, words: RuleWords) -> bool {
    const OPENINGS: &[&str] = &[
        "test result:",
        "failures:",
        "Finished ",
        "Successfully installed",
        "BUILD SUCCESS",
        "BUILD FAILURE",
        "BUILD FAILED",
        "Tests run:",
        "Test Suites:",
        "Tests:",
        "Ran ",
        "Some errors have detailed explanations",
        "For more information about this error",
        "error: could not compile",
        "error: test failed",
        "error: aborting due to",
    ];
    if OPENINGS.iter().any(|o| t.starts_with(o)) {
        return true;
    }
    // `4 passed`, `1 failed`, `== 3 passed, 1 failed in 0.12s ==`, `generated 2 warnings`.
    if !words.summary_count {
        return false;
    }
    COUNT_WORDS.iter().any(|w| {
        t.match_indices(w).any(|(at, _)| {
            let before = t[..at].trim_end_matches(' ');
            at > 0 && t.as_bytes()[at - 1] == b' ' && before.ends_with(|c: char| c.is_ascii_digit())
        })
    })
}

/// Words every rule of [`is_error`] past its line-start prefixes needs one of (any case), and
/// every rule of [`is_warning`] `warn`.
const ERROR_OR_WARNING_WORDS: [&str; 7] = [
    "error",
    "exception",
    "fatal",
    "critical",
    "fail",
    "panic",
    "warn",
];
/// Words every count rule of [`is_summary`] needs one of (`4 passed`, `generated 2 warnings`).
const COUNT_WORDS: [&str; 4] = ["passed", "failed", "warnings", "errors"];

/// Both lists as one automaton, so one scan of a line tells which rules may apply (the count
/// words are found in any case here and checked exactly after).
static RULE_WORDS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(ERROR_OR_WARNING_WORDS.iter().chain(&COUNT_WORDS))
        .expect("fixed patterns")
});

/// Which groups of [`RULE_WORDS`] a line holds.
#[derive(Debug, Clone, Copy, Default)]
struct RuleWords {
    error_or_warning: bool,
    summary_count: bool,
}

impl RuleWords {
    fn of(t: &str) -> RuleWords {
        let mut found = RuleWords::default();
        for m in RULE_WORDS.find_overlapping_iter(t) {
            if m.pattern().as_usize() < ERROR_OR_WARNING_WORDS.len() {
                found.error_or_warning = true;
            } else {
                found.summary_count = true;
            }
            if found.error_or_warning && found.summary_count {
                break;
            }
        }
        found
    }
}

fn is_error(t: &str, words: RuleWords) -> bool {
    const PREFIXES: &[&str] = &[
        "error",
        "fatal",
        "panic",
        "failed",
        "failure",
        "fail:",
        "critical",
        "exception",
        "traceback",
        "caused by:",
        "e: ",
        "err:",
        "npm err!",
        "aborted",
        "segmentation fault",
    ];
    if starts_with_any(t, PREFIXES) {
        return true;
    }
    if !words.error_or_warning {
        return false;
    }
    // `ValueError: …`, `java.lang.IllegalStateException: …`.
    let head = t.split(':').next().unwrap_or("");
    let named = !head.contains(' ') && (head.ends_with("Error") || head.ends_with("Exception"));
    named
        || [
            "ERROR",
            "FATAL",
            "CRITICAL",
            "FAILED",
            "FAIL",
            "PANIC",
            "EXCEPTION",
            "panicked",
            "failed",
            "Failed",
        ]
        .iter()
        .any(|w| has_word(t, w, true))
        || ["error:", "Error:", "fatal:", "error["]
            .iter()
            .any(|w| t.contains(w))
}

/// Warnings by their shape (`warning: …`, `WARN`, `W: `), not any `warn` word (`--cap-lints warn`).
fn is_warning(t: &str, words: RuleWords) -> bool {
    starts_with_any(t, &["warning", "warn:", "warn[", "w: ", "deprecat"])
        || words.error_or_warning && is_warning_word(t)
}

/// The rules of [`is_warning`] past its line-start prefixes.
fn is_warning_word(t: &str) -> bool {
    ["WARN", "WARNING"].iter().any(|w| has_word(t, w, true))
        || ["warning:", "Warning:", "DeprecationWarning"]
            .iter()
            .any(|w| t.contains(w))
}

/// Whether `t` starts with one of `prefixes`, ASCII case-insensitively.
fn starts_with_any(t: &str, prefixes: &[&str]) -> bool {
    prefixes
        .iter()
        .any(|p| t.len() >= p.len() && t.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
}

/// Whether `word` occurs in `text` as a whole word, exactly or ASCII case-insensitively
/// (`-` and `_` join words, so `libgpg-error` and `thiserror` are not errors).
fn has_word(text: &str, word: &str, exact_case: bool) -> bool {
    let hay = text.as_bytes();
    let w = word.as_bytes();
    if hay.len() < w.len() {
        return false;
    }
    let joins = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    (0..=hay.len() - w.len()).any(|at| {
        (if exact_case {
            &hay[at..at + w.len()] == w
        } else {
            hay[at..at + w.len()].eq_ignore_ascii_case(w)
        }) && (at == 0 || !joins(hay[at - 1]))
            && hay.get(at + w.len()).is_none_or(|&b| !joins(b))
    })
}

/// A line's shape: digit runs become `0`, long hex ids `#`, so lines differing only there match.
pub(super) fn template(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() {
            let end = bytes[i..]
                .iter()
                .position(|c| !c.is_ascii_alphanumeric())
                .map_or(bytes.len(), |p| i + p);
            let token = &bytes[i..end];
            if token.iter().all(u8::is_ascii_digit) {
                out.push('0');
            } else if token.len() >= 8
                && token.iter().all(u8::is_ascii_hexdigit)
                && token.iter().any(u8::is_ascii_digit)
            {
                out.push('#');
            } else {
                // Digits inside words (`v1`, `x86`) vary too: `Get:12` and `Get:13` share a shape.
                out.extend(
                    token
                        .iter()
                        .map(|&c| if c.is_ascii_digit() { '0' } else { c as char }),
                );
            }
            i = end;
        } else {
            let end = line[i..]
                .char_indices()
                .nth(1)
                .map_or(line.len(), |(p, _)| i + p);
            out.push_str(&line[i..end]);
            i = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_respect_boundaries() {
        assert!(has_word("error[E0308]: mismatched types", "error", false));
        assert!(has_word(
            "pip: ERROR: No matching distribution",
            "ERROR",
            true
        ));
        assert!(!has_word(
            "Unpacking libgpg-error0 (1.46-1) ...",
            "error",
            false
        ));
        assert!(!has_word("Compiling thiserror v2.0.21", "error", false));
        assert!(!has_word("0 errors", "error", false));
        let warning = "Running `rustc --crate-name x --cap-lints warn`";
        assert!(!is_warning(warning, RuleWords::of(warning)));
        let error = "ValueError: invalid literal for int()";
        assert!(is_error(error, RuleWords::of(error)));
        let flag = "Running `rustc -C panic=abort`";
        assert!(!is_error(flag, RuleWords::of(flag)));
    }

    #[test]
    fn templates_ignore_numbers_and_ids() {
        assert_eq!(
            template("Get:12 http://x 3f9ac0d1e2"),
            template("Get:13 http://x 00aa11bb22")
        );
        assert_ne!(template("Unpacking a (1.0)"), template("Unpacking b (1.0)"));
    }

    #[test]
    fn classifies_real_lines() {
        assert_eq!(
            classify("test result: FAILED. 4 passed; 1 failed"),
            Kind::Summary
        );
        assert_eq!(classify("test tests::parses ... FAILED"), Kind::Error);
        assert_eq!(classify("warning: unused variable: `x`"), Kind::Warning);
        assert_eq!(
            classify("   3: core::panicking::assert_failed"),
            Kind::Frame
        );
        assert_eq!(classify("   Compiling memchr v2.8.3"), Kind::Plain);
    }
}
