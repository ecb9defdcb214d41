//! Cases: a real artifact becomes a chat-completions request (a question, a tool call, the artifact as
//! the tool's result) and the hidden probes drawn from the artifact by the seeded rule.

use crate::probe::{error_lines, Probe, Probes};
use crate::records::{anchor, flatten, main_records};
use crate::seed::Draw;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Probes drawn from uniformly random records, per case.
pub const RECORD_PROBES: usize = 20;

/// The content types the benchmark reports on.
///
/// ```
/// assert_eq!("search".parse::<headroom_bench::corpus::Kind>(), Ok(headroom_bench::corpus::Kind::Search));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// API responses and other JSON documents.
    Json,
    /// Build output, test runs, package-manager logs.
    Logs,
    /// `grep -rn` hits.
    Search,
    /// Unified diffs.
    Diff,
    /// Source files.
    Code,
    /// Prose: man pages, READMEs.
    Text,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 6] = [
        Kind::Json,
        Kind::Logs,
        Kind::Search,
        Kind::Diff,
        Kind::Code,
        Kind::Text,
    ];

    /// The name used in the manifest and the table.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Json => "json",
            Kind::Logs => "logs",
            Kind::Search => "search",
            Kind::Diff => "diff",
            Kind::Code => "code",
            Kind::Text => "text",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!("unknown kind {s:?} (expected one of json, logs, search, diff, code, text)")
            })
    }
}

/// A collected artifact: one line of the collector's manifest plus the file's text.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Case id, e.g. `octokit-paginate-issues`.
    pub id: String,
    /// Its content type.
    pub kind: Kind,
    /// The tool whose result it is.
    pub tool: String,
    /// The tool call's arguments (JSON text).
    pub arguments: String,
    /// Where it came from (package, command).
    pub source: String,
    /// The artifact itself.
    pub text: String,
}

impl Artifact {
    /// Parses a manifest line: `id<TAB>kind<TAB>tool<TAB>arguments<TAB>file<TAB>source`, reading the file
    /// through `read` (relative to the manifest).
    pub fn from_manifest_line(
        line: &str,
        read: impl Fn(&str) -> std::io::Result<String>,
    ) -> Result<Artifact, String> {
        let f: Vec<&str> = line.split('\t').collect();
        let [id, kind, tool, arguments, file, source] = f[..] else {
            return Err(format!(
                "manifest line needs 6 tab-separated fields: {line:?}"
            ));
        };
        serde_json::from_str::<Value>(arguments)
            .map_err(|e| format!("{id}: arguments are not JSON: {e}"))?;
        let text = read(file).map_err(|e| format!("{id}: cannot read {file}: {e}"))?;
        Ok(Artifact {
            id: id.into(),
            kind: kind.parse()?,
            tool: tool.into(),
            arguments: arguments.into(),
            source: source.into(),
            text,
        })
    }
}

/// A benchmark case: the request every method compresses and the probes only the scorer sees.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// Content type.
    pub kind: Kind,
    /// Where the artifact came from.
    pub source: String,
    /// The chat-completions request (its last message is the tool result holding the artifact).
    pub request: Value,
    /// Hidden probes.
    pub probes: Probes,
    /// The same artifact asked about by every kind of question that applies (see [`crate::kinds`]).
    #[serde(default)]
    pub variants: Vec<crate::kinds::Variant>,
}

impl Case {
    /// The artifact: the content of the request's last message.
    pub fn artifact(&self) -> &str {
        last_content(&self.request).unwrap_or("")
    }
}

/// Every request of a built corpus (`headroom-bench corpus` writes them), in the index's order:
/// (case id, content type, request). Panics naming the file it cannot read: for tools run by hand.
///
/// ```no_run
/// let requests = headroom_bench::corpus::built_requests(std::path::Path::new("target/bench/corpus"));
/// assert!(requests.iter().all(|(_, _, r)| r["messages"].is_array()));
/// ```
pub fn built_requests(dir: &std::path::Path) -> Vec<(String, String, Value)> {
    let read = |path: std::path::PathBuf| -> Value {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let index = read(dir.join("index.json"));
    index
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| Some((entry["id"].as_str()?, entry["kind"].as_str()?)))
        .map(|(id, kind)| {
            let request = read(dir.join(format!("{id}.request.json")));
            (id.to_string(), kind.to_string(), request)
        })
        .collect()
}

/// The content of the last message of a request, if it is a string.
pub fn last_content(request: &Value) -> Option<&str> {
    request["messages"].as_array()?.last()?["content"].as_str()
}

const SYSTEM_PROMPT: &str =
    "You are a careful assistant. Answer from the tool results; quote exact values.";

/// Builds the case for `artifact`: draws the asked-about item, writes the question, draws the probes.
///
/// ```
/// use headroom_bench::corpus::{build_case, Artifact, Kind};
/// let rows: Vec<_> = (0..30).map(|i| serde_json::json!({"id": i, "state": "open"})).collect();
/// let artifact = Artifact { id: "demo".into(), kind: Kind::Json, tool: "list_issues".into(),
///     arguments: "{}".into(), source: "demo".into(), text: serde_json::to_string_pretty(&rows)? };
/// let case = build_case(&artifact)?;
/// assert!(case.request["messages"][1]["content"].as_str().unwrap().contains("id"));
/// assert_eq!(case.probes.records.len(), headroom_bench::corpus::RECORD_PROBES);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn build_case(artifact: &Artifact) -> Result<Case, String> {
    let (question, probes) = match artifact.kind {
        Kind::Json => json_probes(artifact)?,
        _ => line_probes(artifact)?,
    };
    let call_id = "call_1";
    let request = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question},
            {"role": "assistant", "content": null, "tool_calls": [{
                "id": call_id, "type": "function",
                "function": {"name": artifact.tool, "arguments": artifact.arguments}
            }]},
            {"role": "tool", "tool_call_id": call_id, "content": artifact.text}
        ],
        "tools": [{"type": "function", "function": {
            "name": artifact.tool,
            "description": format!("Runs {} and returns its output.", artifact.tool),
            "parameters": tool_parameters(&artifact.arguments)
        }}]
    });
    Ok(Case {
        id: artifact.id.clone(),
        kind: artifact.kind,
        source: artifact.source.clone(),
        request,
        probes,
        variants: crate::kinds::variants(artifact),
    })
}

/// A JSON schema for the tool that accepts the recorded arguments.
fn tool_parameters(arguments: &str) -> Value {
    let args: Value = serde_json::from_str(arguments).unwrap_or(json!({}));
    let properties: serde_json::Map<String, Value> = args
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let ty = match v {
                        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                        Value::Number(_) => "number",
                        Value::Bool(_) => "boolean",
                        Value::Array(_) => "array",
                        Value::Object(_) => "object",
                        _ => "string",
                    };
                    (k.clone(), json!({"type": ty}))
                })
                .collect()
        })
        .unwrap_or_default();
    json!({"type": "object", "properties": properties})
}

fn json_probes(artifact: &Artifact) -> Result<(String, Probes), String> {
    let value: Value = serde_json::from_str(&artifact.text)
        .map_err(|e| format!("{}: artifact is not JSON: {e}", artifact.id))?;
    let records = main_records(&value);
    if records.len() < 2 {
        return Err(format!(
            "{}: needs an array of at least 2 objects",
            artifact.id
        ));
    }
    let anchor_paths = anchor(&records).unwrap_or_default();
    let flat: Vec<_> = records.iter().map(|r| flatten(r)).collect();
    // The record's identifying leaves (empty when nothing identifies the records).
    let anchor_of = |leaves: &[(String, Value)]| -> Vec<(String, Value)> {
        anchor_paths
            .iter()
            .filter_map(|a| leaves.iter().find(|(p, _)| p == a).cloned())
            .collect()
    };

    let mut draw = Draw::new(&artifact.id, "needle");
    let needle_index = draw.below(records.len());
    let needle_leaves = &flat[needle_index];
    let named = anchor_of(needle_leaves);
    let question = if named.is_empty() {
        format!(
            "In the {} result, report every field of entry number {} (counting from 1) exactly as returned.",
            artifact.tool,
            needle_index + 1
        )
    } else {
        let by: Vec<String> = named.iter().map(|(p, v)| format!("`{p}` is {v}")).collect();
        format!(
            "In the {} result, find the entry whose {}. Report every field of that entry exactly as returned.",
            artifact.tool,
            by.join(" and ")
        )
    };
    let needle = Probe::Fields {
        pairs: needle_leaves.clone(),
    };

    let mut errors = Vec::new();
    for leaves in &flat {
        if let Some(pair) = leaves.iter().find(|(p, v)| is_error_leaf(p, v)) {
            let mut pairs = anchor_of(leaves);
            if !pairs.contains(pair) {
                pairs.push(pair.clone());
            }
            errors.push(Probe::Fields { pairs });
        }
    }

    let mut draw = Draw::new(&artifact.id, "records");
    let mut probes = Vec::new();
    while probes.len() < RECORD_PROBES {
        let leaves = &flat[draw.below(flat.len())];
        if leaves.is_empty() {
            continue;
        }
        let pair = leaves[draw.below(leaves.len())].clone();
        let mut pairs = anchor_of(leaves);
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
        probes.push(Probe::Fields { pairs });
    }
    Ok((
        question,
        Probes {
            needle,
            errors,
            records: probes,
        },
    ))
}

/// A leaf that says its record is an error: an HTTP status of 400 or more, a non-empty `error(s)`,
/// an `error`/`fatal` level.
fn is_error_leaf(path: &str, value: &Value) -> bool {
    let key = path.rsplit('.').next().unwrap_or(path);
    match key {
        "status" | "status_code" | "statusCode" | "code" => {
            value.as_u64().is_some_and(|s| (400..600).contains(&s))
        }
        "error" | "errors" => {
            !matches!(value, Value::Null | Value::Bool(false))
                && value.as_array().is_none_or(|a| !a.is_empty())
                && value.as_str().is_none_or(|s| !s.is_empty())
        }
        "level" | "severity" => value.as_str().is_some_and(|s| {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "error" | "fatal" | "critical"
            )
        }),
        _ => false,
    }
}

static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Za-z_][A-Za-z0-9_]{4,}\b").expect("valid regex"));
static DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    // A line that starts a definition (not prose that mentions a function or a type).
    Regex::new(
        r"^\s*(?:(?:pub(?:\([^)]*\))?|export|async|unsafe|const|static|default)\s+)*(?:fn|def|class|struct|enum|trait|function|impl|type|interface|mod|macro_rules!)[\s<(]",
    )
    .expect("valid regex")
});

/// Lines worth probing: long enough that finding them is not luck.
pub fn probe_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.len() >= 12 && WORD.is_match(l))
        .collect()
}

/// Keys (by `keys_of`) found on exactly one line, with that line, for eligible lines; sorted.
fn unique_keys(
    lines: &[&str],
    keys_of: impl Fn(&str) -> Vec<String>,
    eligible: &impl Fn(usize) -> bool,
) -> Vec<(usize, String)> {
    let mut lines_of: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let mut seen = std::collections::HashSet::new();
        for key in keys_of(line) {
            if seen.insert(key.clone()) {
                lines_of.entry(key).or_insert((i, 0)).1 += 1;
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

/// Adjacent whitespace-separated words, both with a letter: `configure libssl3:amd64`.
fn word_pairs(line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w.iter().all(|x| x.chars().any(char::is_alphabetic)))
        .map(|w| w.join(" "))
        .collect()
}

/// Whether a probe may be drawn from `line` of an artifact of `kind`: at least 12 characters once
/// trimmed; in a diff, an added or removed line (not a file header); in code, when
/// `code_definitions_only`, a line that defines something.
pub(crate) fn probe_line(kind: Kind, line: &str, code_definitions_only: bool) -> bool {
    let l = line.trim();
    l.len() >= 12
        && match kind {
            Kind::Diff => {
                (l.starts_with('+') || l.starts_with('-'))
                    && !l.starts_with("+++")
                    && !l.starts_with("---")
            }
            Kind::Code if code_definitions_only => DEFINITION.is_match(l),
            _ => true,
        }
}

fn line_probes(artifact: &Artifact) -> Result<(String, Probes), String> {
    let text = &artifact.text;
    let lines: Vec<&str> = text.lines().collect();
    let eligible = |i: usize| probe_line(artifact.kind, lines[i], true);
    // A word that occurs on exactly one line names that line unambiguously; when no single word
    // does (package logs repeat every name), two adjacent words do.
    let mut candidates = unique_keys(
        &lines,
        |l| WORD.find_iter(l).map(|m| m.as_str().to_string()).collect(),
        &eligible,
    );
    if candidates.is_empty() {
        candidates = unique_keys(&lines, word_pairs, &eligible);
    }
    if candidates.is_empty() {
        return Err(format!(
            "{}: no line carries a word of its own",
            artifact.id
        ));
    }
    let (line_index, word) =
        candidates[Draw::new(&artifact.id, "needle").below(candidates.len())].clone();
    let question = match artifact.kind {
        Kind::Logs => format!(
            "This output mentions `{word}`. What does it say about it, and which errors does the output report?"
        ),
        Kind::Search => format!("Which of these hits mentions `{word}`? Give its file, line number and text."),
        Kind::Diff => format!("In this diff, what changed on the line that mentions `{word}`?"),
        Kind::Code => format!("In this file, what is `{word}`? Quote the line that defines it."),
        _ => format!("What does this document say about `{word}`? Quote the line."),
    };
    let needle = Probe::Line {
        text: lines[line_index].trim().to_string(),
    };
    let errors = if artifact.kind == Kind::Logs {
        error_lines(text)
            .into_iter()
            .map(|l| Probe::Line {
                text: l.to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let pool = probe_lines(text);
    if pool.is_empty() {
        return Err(format!("{}: no line long enough to probe", artifact.id));
    }
    let mut draw = Draw::new(&artifact.id, "records");
    let records = (0..RECORD_PROBES)
        .map(|_| Probe::Line {
            text: pool[draw.below(pool.len())].to_string(),
        })
        .collect();
    Ok((
        question,
        Probes {
            needle,
            errors,
            records,
        },
    ))
}

/// An artifact of `kind` holding `text`, for unit tests.
#[cfg(test)]
pub(crate) fn artifact(kind: Kind, text: &str) -> Artifact {
    Artifact {
        id: "t".into(),
        kind,
        tool: "run".into(),
        arguments: r#"{"cmd":"x"}"#.into(),
        source: "test".into(),
        text: text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_needle_carries_every_leaf_of_the_asked_record() {
        let rows: Vec<_> = (0..12)
            .map(|i| json!({"number": i, "state": if i == 3 { "closed" } else { "open" }, "user": {"login": format!("u{i}")}}))
            .collect();
        let case = build_case(&artifact(
            Kind::Json,
            &serde_json::to_string_pretty(&rows).unwrap(),
        ))
        .unwrap();
        let Probe::Fields { pairs } = &case.probes.needle else {
            panic!("a JSON needle is a record")
        };
        assert_eq!(pairs.len(), 3);
        let question = case.request["messages"][1]["content"].as_str().unwrap();
        assert!(
            question.contains(&format!("`number` is {}", pairs[0].1)),
            "{question}"
        );
        // The artifact is the last message, byte for byte; the probes are not in the request.
        assert_eq!(
            case.artifact(),
            serde_json::to_string_pretty(&rows).unwrap()
        );
        for probe in &case.probes.records {
            let Probe::Fields { pairs } = probe else {
                panic!()
            };
            assert_eq!(pairs[0].0, "number", "record probes are anchored");
        }
    }

    #[test]
    fn json_errors_are_records_with_an_error_status() {
        let rows =
            json!([{"id": 1, "status": 200}, {"id": 2, "status": 404}, {"id": 3, "status": 201}]);
        let case = build_case(&artifact(Kind::Json, &rows.to_string())).unwrap();
        assert_eq!(
            case.probes.errors,
            vec![Probe::Fields {
                pairs: vec![("id".into(), json!(2)), ("status".into(), json!(404))]
            }]
        );
    }

    #[test]
    fn log_needle_is_the_one_line_its_word_names() {
        let log = "   Compiling serde v1.0.0\n   Compiling itoa v1.0.1\nerror[E0432]: unresolved import `foo`\n   Compiling memchr v2.7.0\n";
        let case = build_case(&artifact(Kind::Logs, log)).unwrap();
        let Probe::Line { text } = &case.probes.needle else {
            panic!()
        };
        let question = case.request["messages"][1]["content"].as_str().unwrap();
        let word = question.split('`').nth(1).unwrap();
        assert_eq!(log.lines().filter(|l| l.contains(word)).count(), 1);
        assert!(text.contains(word));
        assert_eq!(
            case.probes.errors,
            vec![Probe::Line {
                text: "error[E0432]: unresolved import `foo`".into()
            }]
        );
    }

    #[test]
    fn manifest_lines_are_checked() {
        let read = |_: &str| Ok("[1,2]".to_string());
        assert!(Artifact::from_manifest_line("a\tjson\tt\t{}\tf\tsrc", read).is_ok());
        assert!(Artifact::from_manifest_line("a\tjson\tt\tnot json\tf\tsrc", read).is_err());
        assert!(Artifact::from_manifest_line("a\tvideo\tt\t{}\tf\tsrc", read).is_err());
        assert!(Artifact::from_manifest_line("a\tjson", read).is_err());
    }
}
