//! What the question names: the one model every compressor asks "which of my units does the
//! question name?", so none of them re-parses the question.
//!
//! The question is the user turn that led to a tool result plus the tool call's arguments (a JSON
//! object's keys say nothing; its string values are read as text). It is read into *anchors*, each
//! with a kind, and *words*:
//!
//! * anchors: quoted phrases in any quote style (`"…"`, `'…'`, `“…”`, `‘…’`, `«…»`), backticked
//!   text, file paths (matched by basename and by path suffix), identifiers (`snake_case`,
//!   `camelCase`, `a::b`, `a.b`, field paths such as `owner.login`), `#N` references, hex prefixes
//!   of seven or more digits (they name the longer hashes they start), numbers, versions and dates;
//! * words: the other content words, for BM25 (see [`crate::compress::relevance`]); a word found in
//!   at most [`RARE_MAX_UNITS`] units of the document is a *rare word*.
//!
//! [`Question::naming`] splits what the question names into two tiers: *strong* units, matched by an
//! anchor that picks them out (an anchor found in more than a share of the units names none of
//! them), which a compressor keeps whole; and at most [`WEAK_MAX_UNITS`] *weak* units, ranked by
//! BM25 among those holding a rare word or scoring near the best, so common words never make a
//! compressor keep much.
//!
//! ```text
//! let q = Question::parse("Which lines of util.py matched, and what is commit a1b2c3d?");
//! let units = ["src/foo/util.py:3:x", "src/bar.py:9:y", "commit a1b2c3d4e5f6a7b8", "commit 0f0f0f0f"];
//! assert_eq!(q.naming(&units).strong, vec![0, 2]);
//! ```

use crate::compress::relevance::{bm25, contains_term, words};
use serde_json::Value;

/// A word found in at most this many units of a document is rare: it names them (weakly).
pub(crate) const RARE_MAX_UNITS: usize = 3;
/// Units named by words alone (rare or ranked common words), at most.
pub(crate) const WEAK_MAX_UNITS: usize = 3;
/// An anchor found in more than this share of a segment's units picks none of them out.
pub(crate) const STRONG_MAX_SHARE: f64 = 0.5;
/// A weak unit must score at least this share of the best BM25 score.
const WEAK_MIN_SHARE_OF_BEST: f64 = 0.5;

/// What an anchor is; its kind decides how it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AnchorKind {
    /// Text in quotes (any style), matched whole, whitespace runs as one space.
    Quoted,
    /// Text in backticks, matched whole.
    Backticked,
    /// A file path or name: matched whole, or by its longest suffix some unit holds.
    Path,
    /// An identifier (`snake_case`, `camelCase`, `a::b`, `a.b`): whole, or by its last segments.
    Identifier,
    /// `#N`: the number `N`.
    Reference,
    /// Seven or more hex digits: the start of a hash (`a1b2c3d` names `a1b2c3d4e5…`).
    HexPrefix,
    /// A number of two or more digits.
    Number,
    /// A version (`v1.2.3`, `1.2.3`).
    Version,
    /// A date (`2024-05-01`).
    Date,
}

/// One thing the question names exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// What it is.
    pub(crate) kind: AnchorKind,
    /// Its text, lowercased (for `#N`, just `N`).
    pub(crate) text: String,
    /// The forms it may match in, most specific first: the text itself, then (paths and qualified
    /// identifiers) shorter suffixes that still name something.
    forms: Vec<String>,
}

impl Anchor {
    fn new(kind: AnchorKind, text: String) -> Anchor {
        let forms = match kind {
            AnchorKind::Path => path_forms(&text),
            AnchorKind::Identifier => identifier_forms(&text),
            _ => vec![text.clone()],
        };
        Anchor { kind, text, forms }
    }

    /// The most specific form (0 = the anchor itself) that `unit` holds, if any. `lower` is the
    /// unit lowercased, `squashed` the same with whitespace runs as one space (for phrases).
    fn level(&self, lower: &str, squashed: &str) -> Option<usize> {
        self.forms.iter().position(|form| match self.kind {
            AnchorKind::HexPrefix => starts_hex_token(lower, form),
            AnchorKind::Quoted | AnchorKind::Backticked if form.contains(' ') => {
                contains_term(squashed, form)
            }
            _ => contains_term(lower, form),
        })
    }

    /// Whether a whole value (a JSON field's, lowercased) is what this anchor names: equal to it,
    /// or for a hex prefix a hash it starts, for a path a path it ends.
    fn is_value(&self, value: &str) -> bool {
        match self.kind {
            AnchorKind::HexPrefix => {
                value.starts_with(&self.text) && value.bytes().all(|b| b.is_ascii_hexdigit())
            }
            AnchorKind::Path => self
                .forms
                .first()
                .is_some_and(|f| value == f || value.ends_with(&format!("/{f}"))),
            AnchorKind::Reference => value == self.text || value == format!("#{}", self.text),
            _ => value == self.text,
        }
    }
}

/// The units a question names in one segment: strong ones (by anchors), then weak ones (by words).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Naming {
    /// Units an anchor picks out, in order.
    pub(crate) strong: Vec<usize>,
    /// Up to [`WEAK_MAX_UNITS`] other units: those holding a rare word first, then by BM25.
    pub(crate) weak: Vec<usize>,
}

impl Naming {
    /// Every named unit: strong first (in order), then weak (best first).
    pub(crate) fn all(&self) -> impl Iterator<Item = usize> + '_ {
        self.strong.iter().chain(&self.weak).copied()
    }
}

/// A question read into anchors and words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Question {
    anchors: Vec<Anchor>,
    /// Lowercased content words (no stopwords), deduplicated, in order.
    words: Vec<String>,
    /// Lowercased identifier-shaped tokens (`parse_header`, `keep`): names a function may have.
    names: Vec<String>,
    /// Of those, the ones only ever said as a qualifier (`Map` in `Map::retain`).
    qualifiers: Vec<String>,
    /// Some anchor is a phrase (matched with whitespace runs as one space).
    phrases: bool,
}

impl Question {
    /// Reads `text` (the user turn plus the tool call's arguments).
    pub(crate) fn parse(text: &str) -> Question {
        let text = plain_text(text);
        let mut q = Question::default();
        for (kind, inside) in quoted(&text) {
            // One token in quotes is classified as a token (a path stays a path), else a phrase.
            let single = !inside.contains(char::is_whitespace);
            match classify(inside) {
                Some((token_kind, t)) if single => q.push(token_kind, t),
                _ => q.push(kind, inside.to_lowercase()),
            }
        }
        for raw in text.split(is_separator) {
            let token = raw.trim_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '@'));
            if let Some((kind, t)) = classify(token) {
                q.push(kind, t);
            }
        }
        // The parts of a path (`src/hir/mod.rs`) name a file (its anchor), not words, functions
        // or types.
        let text: String = text
            .split_inclusive(char::is_whitespace)
            .filter(|chunk| !chunk.contains('/'))
            .collect();
        for word in words(&text) {
            // Two characters are a word only as letters (`ci`, `os`); `3d` is more often `%3D` in a URL.
            let long_enough = word.chars().count() >= 3
                || (word.chars().count() == 2 && word.chars().all(char::is_alphabetic));
            if long_enough
                && !word.bytes().all(|b| b.is_ascii_digit())
                && !STOPWORDS.contains(&word.as_str())
                && !q.words.contains(&word)
            {
                q.words.push(word);
            }
        }
        let is_name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
        // The words of a quoted phrase (`'home directory'`) name the phrase, not a function or
        // a type each.
        let mut text = text;
        let phrases: Vec<String> = quoted(&text)
            .into_iter()
            .filter(|(_, inside)| inside.contains(char::is_whitespace))
            .map(|(_, inside)| inside.to_string())
            .collect();
        for phrase in phrases {
            text = text.replace(&phrase, " ");
        }
        let mut said_alone: Vec<String> = Vec::new();
        let mut at = 0;
        for name in text.split(|c: char| !is_name_char(c)) {
            let end = at + name.len();
            let rest = &text[end..];
            at = end + rest.chars().next().map_or(0, char::len_utf8);
            let lower = name.to_lowercase();
            if name.is_empty()
                || name.starts_with(|c: char| c.is_ascii_digit())
                || STOPWORDS.contains(&lower.as_str())
            {
                continue;
            }
            let qualifier = (rest.starts_with("::") || rest.starts_with('.'))
                && rest
                    .trim_start_matches([':', '.'])
                    .starts_with(|c: char| c.is_alphabetic() || c == '_');
            if !qualifier && !said_alone.contains(&lower) {
                said_alone.push(lower.clone());
            }
            if !q.names.contains(&lower) {
                q.names.push(lower);
            }
        }
        q.qualifiers = q
            .names
            .iter()
            .filter(|n| !said_alone.contains(n))
            .cloned()
            .collect();
        q.phrases = q
            .anchors
            .iter()
            .any(|a| a.forms.iter().any(|f| f.contains(' ')));
        q
    }

    /// `unit` lowercased, and the same with whitespace runs as one space when a phrase needs it.
    fn lowered(&self, unit: &str) -> (String, Option<String>) {
        let lower = unit.to_lowercase();
        let squashed = self.phrases.then(|| squash(&lower));
        (lower, squashed)
    }

    /// Whether the question names nothing at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty() && self.anchors.is_empty()
    }

    /// The anchors, in the order the question gives them.
    pub(crate) fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// The content words, lowercased (for BM25 and whole-value comparison).
    pub(crate) fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether `unit` holds an anchor (in its most specific form, or a shorter one for paths and
    /// qualified identifiers), whatever the rest of the document holds.
    pub(crate) fn mentions(&self, unit: &str) -> bool {
        if self.anchors.is_empty() {
            return false;
        }
        let (lower, squashed) = self.lowered(unit);
        let squashed = squashed.as_deref().unwrap_or(&lower);
        self.anchors
            .iter()
            .any(|a| a.level(&lower, squashed).is_some())
    }

    /// The anchors a whole value names (a JSON field's value as text): by index into
    /// [`Question::anchors`]. `"a1b2c3d4…"` is named by `a1b2c3d`, `57` by `#57`.
    pub(crate) fn names_value(&self, value: &str) -> Vec<usize> {
        if self.anchors.is_empty() {
            return Vec::new();
        }
        let lower = value.to_lowercase();
        (0..self.anchors.len())
            .filter(|&a| self.anchors[a].is_value(&lower))
            .collect()
    }

    /// Whether `name` (a function's, a type's) is one the question says: an anchor, or a whole
    /// identifier-shaped token of it (`Parser::parse_header` says `Parser` and `parse_header`, not
    /// `parse`), case aside.
    #[cfg_attr(not(feature = "code"), allow(dead_code))]
    pub(crate) fn says_name(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        self.names.contains(&lower) || self.anchors.iter().any(|a| a.text == lower)
    }

    /// Whether the question says `name` other than as a qualifier: `Map::retain` names the method
    /// `retain`, not every part of the type `Map`.
    #[cfg_attr(not(feature = "code"), allow(dead_code))]
    pub(crate) fn says_name_alone(&self, name: &str) -> bool {
        self.says_name(name) && !self.qualifiers.contains(&name.to_lowercase())
    }

    /// BM25 of every unit against the question's words (all zeros without words).
    pub(crate) fn scores(&self, units: &[&str]) -> Vec<f64> {
        bm25(&self.words, units).0
    }

    /// Which units the question names, with [`STRONG_MAX_SHARE`] as the share past which an
    /// anchor names nothing (see [`Question::naming_within`]).
    pub(crate) fn naming(&self, units: &[&str]) -> Naming {
        self.naming_within(units, STRONG_MAX_SHARE)
    }

    /// The strong units alone (see [`Question::naming_within`]): for compressors that rank by
    /// words themselves.
    pub(crate) fn strong_within(&self, units: &[&str], max_share: f64) -> Vec<usize> {
        if self.anchors.is_empty() || units.is_empty() {
            return Vec::new();
        }
        // Two units or fewer: an anchor in both still names them.
        let limit = if units.len() <= 2 {
            units.len()
        } else {
            ((units.len() as f64 * max_share) as usize).max(1)
        };
        let mut strong = vec![false; units.len()];
        // Per anchor: the best level reached and the units reaching it.
        let mut best: Vec<(usize, Vec<usize>)> = vec![(usize::MAX, Vec::new()); self.anchors.len()];
        for (i, unit) in units.iter().enumerate() {
            let (lower, squashed) = self.lowered(unit);
            let squashed = squashed.as_deref().unwrap_or(&lower);
            for (a, anchor) in self.anchors.iter().enumerate() {
                let Some(level) = anchor.level(&lower, squashed) else {
                    continue;
                };
                let (at, found) = &mut best[a];
                if level < *at {
                    *at = level;
                    found.clear();
                }
                if level == *at {
                    found.push(i);
                }
            }
        }
        for (_, found) in best {
            if found.len() <= limit {
                found.into_iter().for_each(|i| strong[i] = true);
            }
        }
        (0..units.len()).filter(|&i| strong[i]).collect()
    }

    /// Which units the question names. Strong: for each anchor, the units holding its most
    /// specific form that any unit holds, unless they are more than `max_share` of the units (and
    /// more than one). Weak: up to [`WEAK_MAX_UNITS`] more, best BM25 first, among the units that
    /// hold a rare word or score at least half the best.
    pub(crate) fn naming_within(&self, units: &[&str], max_share: f64) -> Naming {
        let mut naming = Naming {
            strong: self.strong_within(units, max_share),
            weak: Vec::new(),
        };
        if units.is_empty() {
            return naming;
        }
        if !self.words.is_empty() {
            let (scores, frequency) = bm25(&self.words, units);
            let rare: Vec<usize> = (0..self.words.len())
                .filter(|&w| frequency[w] >= 1 && frequency[w] as usize <= RARE_MAX_UNITS)
                .collect();
            let top = scores.iter().copied().fold(0.0, f64::max);
            // (unit, holds a rare word): a unit holding one ranks first, rarity being what makes
            // a word name something.
            let mut ranked: Vec<(usize, bool)> = (0..units.len())
                .filter(|&i| scores[i] > 0.0 && naming.strong.binary_search(&i).is_err())
                .filter_map(|i| {
                    let rare_here =
                        !rare.is_empty() && holds_any_word(units[i], &self.words, &rare);
                    (rare_here || scores[i] >= top * WEAK_MIN_SHARE_OF_BEST)
                        .then_some((i, rare_here))
                })
                .collect();
            ranked.sort_by(|&(a, ra), &(b, rb)| {
                rb.cmp(&ra)
                    .then(scores[b].total_cmp(&scores[a]))
                    .then(a.cmp(&b))
            });
            naming.weak = ranked
                .into_iter()
                .take(WEAK_MAX_UNITS)
                .map(|(i, _)| i)
                .collect();
        }
        naming
    }

    fn push(&mut self, kind: AnchorKind, text: String) {
        if text.is_empty() || self.anchors.iter().any(|a| a.text == text) {
            return;
        }
        self.anchors.push(Anchor::new(kind, text));
    }
}

/// Whether `unit` holds one of `words` (by index in `which`) as a whole word.
fn holds_any_word(unit: &str, words_: &[String], which: &[usize]) -> bool {
    let lower = unit.to_lowercase();
    which.iter().any(|&w| {
        lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|x| x == words_[w])
    })
}

/// Words too common in questions to say anything about which unit is wanted, and the words a
/// question uses to talk about the output itself ("quote the line", "report every field").
const STOPWORDS: &[&str] = &[
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
fn plain_text(text: &str) -> String {
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

fn is_separator(c: char) -> bool {
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
fn quoted(text: &str) -> Vec<(AnchorKind, &str)> {
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
const EXTENSIONS: &[&str] = &[
    "bash", "bat", "c", "cc", "cfg", "cjs", "cmake", "conf", "cpp", "cs", "css", "csv", "cxx",
    "dart", "diff", "ex", "exs", "gemspec", "go", "gradle", "h", "hh", "hpp", "hs", "htm", "html",
    "ini", "java", "js", "json", "jsonl", "jsx", "kt", "kts", "lock", "log", "lua", "m", "md",
    "mjs", "mk", "ml", "mm", "patch", "php", "pl", "proto", "py", "pyi", "r", "rb", "rs", "rst",
    "sass", "scala", "scss", "sh", "sql", "svelte", "swift", "toml", "ts", "tsv", "tsx", "txt",
    "vue", "xml", "yaml", "yml", "zsh",
];

/// The anchor a single token gives, if any: its kind and lowercased text.
fn classify(token: &str) -> Option<(AnchorKind, String)> {
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

fn is_date(t: &str) -> bool {
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
fn is_version(t: &str) -> bool {
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

fn is_path(t: &str) -> bool {
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
fn strip_line_number(t: &str) -> &str {
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
fn is_identifier(token: &str) -> bool {
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
fn path_forms(path: &str) -> Vec<String> {
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
fn identifier_forms(identifier: &str) -> Vec<String> {
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

/// Whether `haystack` holds a hex token that starts with `prefix` (both lowercased).
fn starts_hex_token(haystack: &str, prefix: &str) -> bool {
    let bytes = haystack.as_bytes();
    let mut from = 0;
    while let Some(at) = haystack[from..].find(prefix) {
        let start = from + at;
        let before_ok = start == 0 || !is_word_byte(bytes[start - 1]);
        let mut end = start + prefix.len();
        while end < bytes.len() && bytes[end].is_ascii_hexdigit() {
            end += 1;
        }
        if before_ok && (end == bytes.len() || !is_word_byte(bytes[end])) {
            return true;
        }
        from = start + 1;
    }
    false
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `text` with every whitespace run as one space.
fn squash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
