//! Question kinds: the same artifact asked about in every way a user names a thing — a quoted
//! phrase, a rare word, a file name, a path suffix, a short hash, `#N`, an identifier, a field path,
//! a backticked term — each variant with its own asked-about item, drawn by the seeded rule.

use crate::corpus::{probe_line, Artifact, Kind};
use crate::probe::Probe;
use crate::records::{flatten, main_records, Leaves};
use crate::seed::Draw;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::LazyLock;

/// How a question names the asked-about item.
///
/// ```
/// use headroom_bench::kinds::QuestionKind;
/// assert_eq!(QuestionKind::ShortHash.label(), "short hash");
/// assert_eq!(QuestionKind::ALL.len(), 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// A phrase in quotes (a seeded quote style).
    Quoted,
    /// A word found on few lines, unquoted.
    RareWord,
    /// A file's base name (`util.py`).
    FileName,
    /// The last two segments of a path (`foo/util.py`).
    PathSuffix,
    /// The first 7 digits of a longer hex hash.
    ShortHash,
    /// `#N`.
    Reference,
    /// A `snake_case`, `camelCase` or qualified identifier, unquoted.
    Identifier,
    /// A JSON field path and its value (`owner.login is octocat`).
    FieldPath,
    /// A term in backticks.
    Backticked,
}

impl QuestionKind {
    /// Every kind, in table order.
    pub const ALL: [QuestionKind; 9] = [
        QuestionKind::Quoted,
        QuestionKind::RareWord,
        QuestionKind::FileName,
        QuestionKind::PathSuffix,
        QuestionKind::ShortHash,
        QuestionKind::Reference,
        QuestionKind::Identifier,
        QuestionKind::FieldPath,
        QuestionKind::Backticked,
    ];

    /// The table's name for it.
    pub fn label(self) -> &'static str {
        match self {
            QuestionKind::Quoted => "quoted phrase",
            QuestionKind::RareWord => "rare word",
            QuestionKind::FileName => "file name",
            QuestionKind::PathSuffix => "path suffix",
            QuestionKind::ShortHash => "short hash",
            QuestionKind::Reference => "#N",
            QuestionKind::Identifier => "identifier",
            QuestionKind::FieldPath => "field path",
            QuestionKind::Backticked => "backticked",
        }
    }
}

/// One way of asking about an artifact: the question and the item it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// How the question names the item.
    pub kind: QuestionKind,
    /// The user turn.
    pub question: String,
    /// The asked-about item, which must survive verbatim in one unit.
    pub needle: Probe,
}

/// Quote styles a quoted-phrase question is drawn in.
const QUOTES: [(&str, &str); 5] = [
    ("\"", "\""),
    ("'", "'"),
    ("\u{201c}", "\u{201d}"),
    ("\u{2018}", "\u{2019}"),
    ("\u{ab}", "\u{bb}"),
];

macro_rules! regex {
    ($name:ident, $re:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($re).expect("valid regex"));
    };
}

regex!(PLAIN_WORD, r"\b[a-z]{6,}\b");
regex!(
    IDENTIFIER,
    r"\b[A-Za-z][A-Za-z0-9]*(?:(?:_|::)[A-Za-z0-9]+)+\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b"
);
regex!(HEX, r"\b[0-9a-f]{8,64}\b");
regex!(REFERENCE, r"#[0-9]{1,6}\b");
regex!(
    PATH,
    r"(?:[A-Za-z0-9_.@-]+/)*[A-Za-z0-9_@-][A-Za-z0-9_.@-]*\.(?:rs|py|js|ts|go|java|c|h|cpp|md|toml|json|txt|yml|yaml|lock|sh|cfg|conf|html|css)\b"
);
regex!(SEARCH_HIT, r"^([^\s:]+):(\d+)[:-]");
regex!(DIFF_FILE, r"^\+\+\+ b/(\S+)");
regex!(
    STOP,
    r"^(?:should|before|after|which|there|their|these|those|about|other|being|would|could|returned|exactly|report|entry|field|fields|output|result|document|number|changed|mentions|defines)$"
);

/// The question variants of `artifact`, one per kind that applies (in [`QuestionKind::ALL`]
/// order): the asked-about item is a line for text artifacts, a whole record for JSON.
///
/// ```
/// use headroom_bench::{corpus::{Artifact, Kind}, kinds::{variants, QuestionKind}};
/// let text = "src/a/util.py:3:import os\nsrc/a/util.py:9:def helper():\nsrc/b/main.py:1:import util\n";
/// let artifact = Artifact { id: "demo".into(), kind: Kind::Search, tool: "grep".into(),
///     arguments: "{}".into(), source: "demo".into(), text: text.into() };
/// assert!(variants(&artifact).iter().any(|v| v.kind == QuestionKind::FileName));
/// ```
pub fn variants(artifact: &Artifact) -> Vec<Variant> {
    match artifact.kind {
        Kind::Json => json_variants(artifact),
        _ => line_variants(artifact),
    }
}

/// Tokens found by `re` on exactly one eligible line: (line, token), sorted.
fn once(lines: &[&str], re: &Regex, eligible: &dyn Fn(usize) -> bool) -> Vec<(usize, String)> {
    let mut lines_of: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let mut seen = std::collections::HashSet::new();
        for m in re.find_iter(line) {
            if seen.insert(m.as_str()) {
                lines_of.entry(m.as_str().to_string()).or_insert((i, 0)).1 += 1;
            }
        }
    }
    let mut found: Vec<(usize, String)> = lines_of
        .into_iter()
        .filter(|(_, (i, n))| *n == 1 && eligible(*i))
        .map(|(k, (i, _))| (i, k))
        .collect();
    found.sort();
    found
}

fn pick<T: Clone>(items: &[T], artifact: &Artifact, kind: QuestionKind) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    let mut draw = Draw::new(&artifact.id, &format!("kind:{}", kind.label()));
    Some(items[draw.below(items.len())].clone())
}

/// What the question asks, by content type, about the item named `name`.
fn ask(kind: Kind, name: &str) -> String {
    match kind {
        Kind::Logs => {
            format!("What does this output say about {name}? Which errors does it report?")
        }
        Kind::Search => format!("Which hits are about {name}? Give file, line number and text."),
        Kind::Diff => format!("In this diff, what changed about {name}?"),
        Kind::Code => format!("In this file, where is {name}? Quote the line."),
        _ => format!("What does this document say about {name}? Quote the passage."),
    }
}

fn line_variants(artifact: &Artifact) -> Vec<Variant> {
    let lines: Vec<&str> = artifact.text.lines().collect();
    let eligible = |i: usize| probe_line(artifact.kind, lines[i], false);
    let line = |i: usize| Probe::Line {
        text: lines[i].trim().to_string(),
    };
    let mut out = Vec::new();
    let mut push = |kind: QuestionKind, found: Option<(usize, String)>| {
        if let Some((i, question)) = found {
            out.push(Variant {
                kind,
                question,
                needle: line(i),
            });
        }
    };
    let a = artifact;
    // Quoted: two adjacent words (letters only) found on one line, in a seeded quote style.
    let pairs = once(&lines, &WORD_PAIR, &eligible);
    push(
        QuestionKind::Quoted,
        pick(&pairs, a, QuestionKind::Quoted).map(|(i, p)| {
            let mut draw = Draw::new(&a.id, "quote-style");
            let (open, close) = QUOTES[draw.below(QUOTES.len())];
            (i, ask(a.kind, &format!("{open}{p}{close}")))
        }),
    );
    let words: Vec<(usize, String)> = once(&lines, &PLAIN_WORD, &eligible)
        .into_iter()
        .filter(|(_, w)| !STOP.is_match(w))
        .collect();
    push(
        QuestionKind::RareWord,
        pick(&words, a, QuestionKind::RareWord).map(|(i, w)| (i, ask(a.kind, &w))),
    );
    // Files: a search hit's or a diff's file (a needle among its lines), else a path on one line.
    let files = file_lines(artifact, &lines, &eligible);
    let by_base = unique_by(&files, |p| p.rsplit('/').next().unwrap_or(p).to_string());
    push(
        QuestionKind::FileName,
        pick(&by_base, a, QuestionKind::FileName).map(|(i, n)| (i, ask(a.kind, &n))),
    );
    let by_suffix = unique_by(&files, |p| {
        let parts: Vec<&str> = p.rsplit('/').take(2).collect();
        if parts.len() < 2 {
            String::new()
        } else {
            format!("{}/{}", parts[1], parts[0])
        }
    });
    push(
        QuestionKind::PathSuffix,
        pick(&by_suffix, a, QuestionKind::PathSuffix).map(|(i, s)| (i, ask(a.kind, &s))),
    );
    let hashes: Vec<(usize, String)> = once(&lines, &HEX, &|_| true)
        .into_iter()
        .filter(|(_, h)| h.bytes().any(|b| b.is_ascii_digit()) && h.bytes().any(|b| b > b'9'))
        .collect();
    push(
        QuestionKind::ShortHash,
        pick(&hashes, a, QuestionKind::ShortHash).map(|(i, h)| (i, ask(a.kind, &h[..7]))),
    );
    let references = once(&lines, &REFERENCE, &eligible);
    push(
        QuestionKind::Reference,
        pick(&references, a, QuestionKind::Reference).map(|(i, r)| (i, ask(a.kind, &r))),
    );
    let identifiers = once(&lines, &IDENTIFIER, &eligible);
    push(
        QuestionKind::Identifier,
        pick(&identifiers, a, QuestionKind::Identifier).map(|(i, w)| (i, ask(a.kind, &w))),
    );
    let backticked = once(&lines, &WORD, &eligible);
    push(
        QuestionKind::Backticked,
        pick(&backticked, a, QuestionKind::Backticked)
            .map(|(i, w)| (i, ask(a.kind, &format!("`{w}`")))),
    );
    out
}

regex!(WORD_PAIR, r"\b[A-Za-z]{3,} [A-Za-z]{3,}\b");
regex!(WORD, r"\b[A-Za-z_][A-Za-z0-9_]{4,}\b");

/// (line, path) pairs: each hit of a search output, each changed line of a diff's file, or each
/// path found on one line of any other text.
fn file_lines(
    artifact: &Artifact,
    lines: &[&str],
    eligible: &dyn Fn(usize) -> bool,
) -> Vec<(usize, String)> {
    match artifact.kind {
        Kind::Search => (0..lines.len())
            .filter_map(|i| {
                let c = SEARCH_HIT.captures(lines[i])?;
                (eligible(i) && lines[i][c[1].len()..].starts_with(':'))
                    .then(|| (i, c[1].to_string()))
            })
            .collect(),
        Kind::Diff => {
            let mut file = None;
            let mut out = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                if let Some(c) = DIFF_FILE.captures(l) {
                    file = Some(c[1].to_string());
                } else if let Some(f) = &file {
                    if eligible(i) {
                        out.push((i, f.clone()));
                    }
                }
            }
            out
        }
        _ => once(lines, &PATH, eligible),
    }
}

/// The (line, key) pairs whose key (`key_of` the line's path: its base name, its last two
/// segments) belongs to one path only: every line of such a file may be the asked-about item.
fn unique_by(files: &[(usize, String)], key_of: impl Fn(&str) -> String) -> Vec<(usize, String)> {
    let mut paths_of: HashMap<String, Vec<&str>> = HashMap::new();
    for (_, p) in files {
        let k = key_of(p);
        let paths = paths_of.entry(k).or_default();
        if !paths.contains(&p.as_str()) {
            paths.push(p);
        }
    }
    let mut out: Vec<(usize, String)> = files
        .iter()
        .filter_map(|(i, p)| {
            let k = key_of(p);
            (!k.is_empty() && paths_of[&k].len() == 1).then_some((*i, k))
        })
        .collect();
    out.sort();
    out
}

fn json_variants(artifact: &Artifact) -> Vec<Variant> {
    let Ok(value) = serde_json::from_str::<Value>(&artifact.text) else {
        return Vec::new();
    };
    let records = main_records(&value);
    if records.len() < 2 {
        return Vec::new();
    }
    let flat: Vec<Leaves> = records.iter().map(|r| flatten(r)).collect();
    // How many records hold each (path, value) and each value at all.
    let mut value_count: HashMap<String, usize> = HashMap::new();
    for leaves in &flat {
        let mut seen = std::collections::HashSet::new();
        for (_, v) in leaves {
            let text = scalar_text(v);
            if !text.is_empty() && seen.insert(text.clone()) {
                *value_count.entry(text).or_default() += 1;
            }
        }
    }
    // A value found in one record only, and (a string) written once in the whole document.
    let unique = |v: &Value| {
        let t = scalar_text(v);
        !t.is_empty()
            && value_count.get(&t) == Some(&1)
            && v.as_str().is_none_or(|s| {
                serde_json::to_string(s)
                    .is_ok_and(|quoted| artifact.text.matches(&quoted).count() == 1)
            })
    };
    let tool = &artifact.tool;
    let ask = |name: &str| {
        format!("In the {tool} result, find the entry for {name}. Report every field of that entry exactly as returned.")
    };
    let mut candidates: HashMap<QuestionKind, Vec<(usize, String)>> = HashMap::new();
    for (r, leaves) in flat.iter().enumerate() {
        for (path, v) in leaves {
            if !unique(v) {
                continue;
            }
            let key = path.rsplit('.').next().unwrap_or(path);
            let mut add =
                |kind, question: String| candidates.entry(kind).or_default().push((r, question));
            if let Some(s) = v.as_str() {
                let words = s.split_whitespace().count();
                if (2..=6).contains(&words) && s.len() <= 60 && !s.contains(['"', '\'', '\n']) {
                    add(QuestionKind::Quoted, s.to_string());
                }
                if s.len() >= 12
                    && HEX.is_match(s)
                    && HEX.find(s).is_some_and(|m| m.len() == s.len())
                {
                    add(QuestionKind::ShortHash, s[..7].to_string());
                }
                if PLAIN_WORD.find(s).is_some_and(|m| m.len() == s.len()) && !STOP.is_match(s) {
                    add(QuestionKind::RareWord, s.to_string());
                }
                if IDENTIFIER.find(s).is_some_and(|m| m.len() == s.len()) {
                    add(QuestionKind::Identifier, s.to_string());
                }
                if !s.contains("://") && PATH.find(s).is_some_and(|m| m.len() == s.len()) {
                    let base = s.rsplit('/').next().unwrap_or(s);
                    if unique_text(&flat, base, s) {
                        add(QuestionKind::FileName, base.to_string());
                    }
                    let parts: Vec<&str> = s.rsplit('/').take(2).collect();
                    if parts.len() == 2 {
                        add(
                            QuestionKind::PathSuffix,
                            format!("{}/{}", parts[1], parts[0]),
                        );
                    }
                }
                if path.contains('.') && s.len() <= 40 && !s.contains(char::is_whitespace) {
                    add(
                        QuestionKind::FieldPath,
                        format!("the entry whose {path} is {s}"),
                    );
                }
            }
            if let Some(n) = v.as_u64() {
                if matches!(key, "number" | "id" | "issue_number" | "pull_number") && path == key {
                    add(QuestionKind::Reference, format!("#{n}"));
                }
                if path.contains('.') {
                    add(
                        QuestionKind::FieldPath,
                        format!("the entry whose {path} is {n}"),
                    );
                }
            }
            if v.is_string() || v.is_number() {
                add(
                    QuestionKind::Backticked,
                    format!("the entry whose `{path}` is {}", scalar_text(v)),
                );
            }
        }
    }
    let mut out = Vec::new();
    for kind in QuestionKind::ALL {
        let Some(found) = candidates.get(&kind) else {
            continue;
        };
        let Some((r, name)) = pick(found, artifact, kind) else {
            continue;
        };
        let question = match kind {
            QuestionKind::Quoted => {
                let mut draw = Draw::new(&artifact.id, "quote-style");
                let (open, close) = QUOTES[draw.below(QUOTES.len())];
                ask(&format!("{open}{name}{close}"))
            }
            QuestionKind::FieldPath | QuestionKind::Backticked => format!(
                "In the {tool} result, find {name}. Report every field of that entry exactly as returned."
            ),
            _ => ask(&name),
        };
        out.push(Variant {
            kind,
            question,
            needle: Probe::Fields {
                pairs: flat[r].clone(),
            },
        });
    }
    out
}

/// Whether `base` (a path's last segment) is found in no record's path value but `path`'s.
fn unique_text(flat: &[Leaves], base: &str, path: &str) -> bool {
    flat.iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str())
        .filter(|s| *s != path && s.rsplit('/').next() == Some(base))
        .count()
        == 0
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::artifact;

    #[test]
    fn search_variants_name_files_by_base_name_and_suffix() {
        let hits = "src/foo/util.py:3:import os, sys\nsrc/foo/util.py:9:def helper_function():\nsrc/bar/main.py:1:from foo import util\n";
        let v = variants(&artifact(Kind::Search, hits));
        let file = v.iter().find(|v| v.kind == QuestionKind::FileName).unwrap();
        assert!(
            file.question.contains("util.py") || file.question.contains("main.py"),
            "{file:?}"
        );
        let suffix = v
            .iter()
            .find(|v| v.kind == QuestionKind::PathSuffix)
            .unwrap();
        assert!(suffix.question.contains("foo/util.py") || suffix.question.contains("bar/main.py"));
        let identifier = v
            .iter()
            .find(|v| v.kind == QuestionKind::Identifier)
            .unwrap();
        assert!(identifier.question.contains("helper_function"));
    }

    #[test]
    fn json_variants_name_records_by_reference_hash_and_field_path() {
        let rows: Vec<Value> = (0..12)
            .map(|i| serde_json::json!({"number": 50 + i, "sha": format!("{:040x}", 0xa1b2c3d4u64 * (i + 1)), "user": {"login": format!("user{i}")}}))
            .collect();
        let v = variants(&artifact(
            Kind::Json,
            &serde_json::to_string_pretty(&rows).unwrap(),
        ));
        let kinds: Vec<QuestionKind> = v.iter().map(|v| v.kind).collect();
        for k in [
            QuestionKind::Reference,
            QuestionKind::ShortHash,
            QuestionKind::FieldPath,
        ] {
            assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
        }
        let hash = v
            .iter()
            .find(|v| v.kind == QuestionKind::ShortHash)
            .unwrap();
        let Probe::Fields { pairs } = &hash.needle else {
            panic!()
        };
        let sha = pairs
            .iter()
            .find(|(p, _)| p == "sha")
            .unwrap()
            .1
            .as_str()
            .unwrap();
        assert!(hash.question.contains(&sha[..7]) && !hash.question.contains(sha));
    }
}
