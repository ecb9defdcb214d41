//! Text a client controls (a model name, a path, a hash, an error message quoting them), made safe
//! before it reaches a log line or a counter's label: escaped, and cut to a bounded length.

/// Characters of client text a log line keeps.
pub const LOG_CHARS: usize = 200;
/// Characters of client text a `/stats` label keeps.
pub const LABEL_CHARS: usize = 64;

/// `text` for a log line: control characters (newlines, escapes, NUL) written as `\n`, `\u{1b}`…,
/// so a client cannot forge a line or drive a terminal; at most [`LOG_CHARS`] characters, then
/// how long it was.
pub fn for_log(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == LOG_CHARS {
            out.push_str(&format!("… ({} bytes)", text.len()));
            break;
        }
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` as a counter's label: control characters dropped, at most [`LABEL_CHARS`] characters
/// (`…` when cut).
pub fn label(text: &str) -> String {
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(LABEL_CHARS + 1)
        .collect();
    if out.chars().count() > LABEL_CHARS {
        out = out.chars().take(LABEL_CHARS - 1).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_cannot_forge_lines_or_escape_the_terminal() {
        let hostile = "abc\n2026-01-01T00:00:00Z  WARN forged\u{1b}[2J\0\\";
        let safe = for_log(hostile);
        assert!(!safe.chars().any(char::is_control), "{safe:?}");
        assert!(safe.contains("\\n") && safe.contains("\\u{1b}") && safe.contains("\\u{0}"));
        let huge = "x".repeat(1_000_000);
        let cut = for_log(&huge);
        assert!(cut.len() < 300 && cut.ends_with("(1000000 bytes)"), "{cut}");
        assert_eq!(for_log("gpt-4o"), "gpt-4o");
    }

    #[test]
    fn labels_are_short_and_printable() {
        assert_eq!(label("gpt-4o"), "gpt-4o");
        let long = label(&"é".repeat(10_000));
        assert_eq!(long.chars().count(), LABEL_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(label("a\nb\u{0}c"), "abc");
    }
}
