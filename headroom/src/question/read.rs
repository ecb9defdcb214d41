//! How the question's text is read: quoted and backticked spans, JSON arguments as their values,
//! single tokens classified into anchors (paths, identifiers, `#N`, hex prefixes, numbers,
//! versions, dates), and the words too common in questions to name anything.

use super::anchor_kind::AnchorKind;
use serde_json::Value;

/// Words too common in questions to say anything about which unit is wanted, and the words a
/// question uses to talk about the output itself ("quote the line", "report every field").
pub(super) const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "all",
    "also",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "document",
    "each",
    "entry",
    "every",
    "everything",
    "exactly",
    "field",
    "fields",
    "file",
    "find",
    "for",
    "from",
    "get",
    "give",
    "had",
    "has",
    "have",
    "hit",
    "hits",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "line",
    "lines",
    "list",
    "matched",
    "me",
    "mention",
    "mentions",
    "my",
    "not",
    "of",
    "on",
    "one",
    "or",
    "our",
    "output",
    "passage",
    "please",
    "quote",
    "report",
    "returned",
    "say",
    "says",
    "show",
    "so",
    "some",
    "something",
    "tell",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "this",
    "those",
    "to",
    "us",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
];

/// The question with each line that is a JSON object or array (tool-call arguments) replaced by
/// its string and number values, one per line: keys name nothing, values may.
pub(super) fn plain_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let trimmed = line.trim();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            out.push_str(line);
            continue;
        }
        // The arguments on one line, or pretty-printed down to the end of the question.
        if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
            push_values(&value, &mut out);
        } else if let Ok(value) = serde_json::from_str::<Value>(&text[start..]) {
            push_values(&value, &mut out);
            return out;
        } else {
            out.push_str(line);
        }
    }
    out
}

fn push_values(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| push_values(v, out)),
        Value::Object(map) => map.values().for_each(|v| push_values(v, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

pub(super) fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';'
                | '('
                | ')'
                | '"'
                | '\''
                | '`'
                | '{'
                | '}'
                | '['
                | ']'
                | '='
                | '<'
                | '>'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '«'
                | '»'
        )
}

/// Text between quotes of any style and between backticks, with the anchor kind it gives.
/// A straight quote opens only after a space or bracket and closes only before one, so
/// apostrophes (`don't`) open nothing.
pub(super) fn quoted(text: &str) -> Vec<(AnchorKind, &str)> {
    const PAIRS: [(char, char, AnchorKind); 6] = [
        ('`', '`', AnchorKind::Backticked),
        ('"', '"', AnchorKind::Quoted),
        ('\'', '\'', AnchorKind::Quoted),
        ('“', '”', AnchorKind::Quoted),
        ('‘', '’', AnchorKind::Quoted),
        ('«', '»', AnchorKind::Quoted),
    ];
    let mut out = Vec::new();
    for (open, close, kind) in PAIRS {
        let straight = open == close && open != '`';
        let mut from = 0;
        while let Some(at) = text[from..].find(open) {
            let start = from + at;
            let inner = start + open.len_utf8();
            from = inner;
            if straight && !text[..start].chars().next_back().is_none_or(opens_after) {
                continue;
            }
            let Some(len) = text[inner..].find(close) else {
                break;
            };
            let end = inner + len;
            let after = text[end + close.len_utf8()..].chars().next();
            if straight && after.is_some_and(char::is_alphanumeric) {
                continue;
            }
            let inside = text[inner..end].trim();
            if !inside.is_empty() && !inside.contains('\n') && inside.chars().count() <= 200 {
                out.push((kind, inside));
            }
            from = end + close.len_utf8();
        }
    }
    out
}

fn opens_after(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | '[' | '{' | ':' | ',' | '=')
}

/// File extensions that make `name.ext` a file name rather than a field path (`owner.login`).
pub(super) const EXTENSIONS: &[&str] = &[
    "bash", "bat", "c", "cc", "cfg", "cjs", "cmake", "conf", "cpp", "cs", "css", "csv", "cxx",
    "dart", "diff", "ex", "exs", "gemspec", "go", "gradle", "h", "hh", "hpp", "hs", "htm", "html",
    "ini", "java", "js", "json", "jsonl", "jsx", "kt", "kts", "lock", "log", "lua", "m", "md",
    "mjs", "mk", "ml", "mm", "patch", "php", "pl", "proto", "py", "pyi", "r", "rb", "rs", "rst",
    "sass", "scala", "scss", "sh", "sql", "svelte", "swift", "toml", "ts", "tsv", "tsx", "txt",
    "vue", "xml", "yaml", "yml", "zsh",
];

/// The anchor a single token gives, if any: its kind and lowercased text.
pub(super) fn classify(token: &str) -> Option<(AnchorKind, String)> {
    if token.is_empty() {
        return None;
    }
    let lower = token.to_lowercase();
    if let Some(number) = lower.strip_prefix('#') {
        return (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (AnchorKind::Reference, number.to_string()));
    }
    let digits = lower.bytes().filter(u8::is_ascii_digit).count();
    if is_date(&lower) {
        return Some((AnchorKind::Date, lower));
    }
    if digits > 0 && is_version(&lower) {
        return Some((AnchorKind::Version, lower));
    }
    if lower.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return (digits >= 2).then_some((AnchorKind::Number, lower));
    }
    if lower.len() >= 7
        && digits > 0
        && lower.bytes().all(|b| b.is_ascii_hexdigit())
        && lower.bytes().any(|b| b.is_ascii_alphabetic())
    {
        return Some((AnchorKind::HexPrefix, lower));
    }
    if is_path(&lower) {
        let path = lower.trim_start_matches("./").trim_end_matches('/');
        let path = strip_line_number(path);
        return (!path.is_empty()).then(|| (AnchorKind::Path, path.to_string()));
    }
    is_identifier(token).then_some((AnchorKind::Identifier, lower))
}

pub(super) fn is_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// `v1.2`, `1.2.3`, `2.0.0-rc.1`: digits and dots (two dots, or one after a `v`), then a suffix.
pub(super) fn is_version(t: &str) -> bool {
    let (v, rest) = match t.strip_prefix('v') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && (parts.len() >= 3 || (v && parts.len() >= 2))
}

pub(super) fn is_path(t: &str) -> bool {
    if t.contains('/') {
        return t.chars().any(char::is_alphabetic) && !t.starts_with('@');
    }
    let name = strip_line_number(t);
    match name.rsplit_once('.') {
        Some((stem, ext)) => !stem.is_empty() && EXTENSIONS.contains(&ext),
        None => false,
    }
}

/// `src/a.rs:12` or `src/a.rs:12:5` without the line (and column) number.
pub(super) fn strip_line_number(t: &str) -> &str {
    let mut t = t;
    for _ in 0..2 {
        if let Some((head, tail)) = t.rsplit_once(':') {
            if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
                t = head;
            }
        }
    }
    t
}

/// An identifier: letters mixed with digits, inner `_ - . @ :`, a capital after the first letter,
/// or a leading `@` (`@octokit/rest` is a path).
pub(super) fn is_identifier(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    if letters == 0 {
        return false;
    }
    let inner_punct = token
        .char_indices()
        .any(|(i, c)| i > 0 && i + c.len_utf8() < token.len() && "_-.@:".contains(c));
    let camel =
        token.chars().skip(1).any(char::is_uppercase) && token.chars().any(char::is_lowercase);
    (digits > 0 && token.chars().count() >= 3) || inner_punct || camel || token.starts_with('@')
}

/// A path's forms: itself, then each shorter suffix at a `/` that still has a `/` or is a file
/// name (`src/foo/util.py`, `foo/util.py`, `util.py`).
pub(super) fn path_forms(path: &str) -> Vec<String> {
    let mut forms = vec![path.to_string()];
    let mut rest = path;
    while let Some((_, tail)) = rest.split_once('/') {
        rest = tail;
        if rest.contains('/') || is_path(rest) {
            forms.push(rest.to_string());
        }
    }
    forms
}

/// A qualified identifier's forms: itself, then its shorter suffixes at `::` or `.` that are
/// identifiers themselves (`a::parse_header` gives `parse_header`, `owner.login` nothing more).
pub(super) fn identifier_forms(identifier: &str) -> Vec<String> {
    let mut forms = vec![identifier.to_string()];
    let mut rest = identifier;
    while let Some(at) = rest
        .find("::")
        .map(|i| (i, 2))
        .or(rest.find('.').map(|i| (i, 1)))
    {
        rest = &rest[at.0 + at.1..];
        if is_identifier(rest) && rest.chars().any(|c| c == '_' || c.is_ascii_digit()) {
            forms.push(rest.to_string());
        }
    }
    forms
}

/// The values of several words a question gives a field (`the entry whose `title` is Test issue
/// 4.`, `where status = payment declined`): the text after `whose|where [the] FIELD is|=|==|equals`
/// up to the end of the sentence, when it is more than one word and not quoted (a quoted value is
/// a phrase already; a one-word value is an anchor or a word of its own).
pub(super) fn field_values(text: &str) -> Vec<&str> {
    const MAX_WORDS: usize = 12;
    let mut out = Vec::new();
    for line in text.lines() {
        let words: Vec<(usize, &str)> = line
            .split_whitespace()
            .map(|w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
            .collect();
        for (i, &(_, word)) in words.iter().enumerate() {
            if !matches!(word.to_lowercase().as_str(), "whose" | "where") {
                continue;
            }
            let mut at = i + 1;
            if words
                .get(at)
                .is_some_and(|(_, w)| w.eq_ignore_ascii_case("the"))
            {
                at += 1;
            }
            let field = words.get(at).map_or("", |(_, w)| *w);
            let field_shaped = field.len() > 1
                && field
                    .trim_matches('`')
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_.-[]".contains(c));
            let Some(&(start, verb)) = words.get(at + 1) else {
                continue;
            };
            if !field_shaped || !matches!(verb, "is" | "=" | "==" | "equals") {
                continue;
            }
            let from = start + verb.len();
            let rest = line[from..].trim_start();
            let end = sentence_end(rest);
            let value = rest[..end]
                .trim_end_matches(['.', '?', '!', ',', ';', ':'])
                .trim();
            let count = value.split_whitespace().count();
            let quoted = value.starts_with(['"', '\'', '`', '“', '‘', '«']);
            if (2..=MAX_WORDS).contains(&count) && !quoted {
                out.push(value);
            }
        }
    }
    out
}

/// Where the sentence starting `text` ends: at `.`, `?` or `!` followed by a space, or the end.
fn sentence_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .find(|&i| {
            matches!(bytes[i], b'.' | b'?' | b'!')
                && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace())
        })
        .unwrap_or(text.len())
}
