//! The fidelity metric: probes checked against an output, elision markers checked against the
//! originals they point at, and the two rules that zero a case (invented tokens, false claims of form).

use crate::corpus::Kind;
use crate::probe::{Probe, Probes};
use crate::records::{all_objects, flatten, Leaves};
use regex::Regex;
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// An elision marker found in an output, in any known compressor's syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elision {
    /// Units omitted, when the marker says.
    pub omitted: Option<usize>,
    /// Units in the original, when the marker says.
    pub total: Option<usize>,
    /// What was omitted (`lines`, `items`, `rows`, …).
    pub unit: String,
    /// The hash its original is stored under.
    pub hash: String,
}

macro_rules! regex {
    ($name:ident, $re:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($re).expect("valid regex"));
    };
}

// Headroom (this crate's engine): one marker format, in text (`[… …]`), as a JSON element's string,
// or bare in a table cell.
regex!(
    HEADROOM_MARKER,
    r"(?:\[… |\x22)?\b(\d+) (?:of (\d+) )?([^\[\]\x22\n,]*?) omitted · headroom_retrieve hash=([0-9a-f]{24})(?:\]|\x22)?"
);
// The marker's key, as a JSON key or a table column (`[28]{_headroom,name}:` rows carry the marker
// text in that cell).
regex!(HEADROOM_KEY, r#""_headroom"\s*:|\b_headroom\b"#);
// Headroom's table form: `key[N]{a,b}:` headers (the count is Headroom's own).
regex!(
    TABLE_HEADER,
    r"(?m)^(\s*[^\s\[]*)\[(\d+)\](\{[^}\n]*\}:)\s*$"
);
// Fold counts (`… ×12`, `(repeated 12 times)`): a count of identical lines folded into one.
regex!(
    FOLD_COUNT,
    r"(?:[(\[]?×\s?\d+[)\]]?|\((?:repeated|seen) \d+ (?:times|more)\)|\[\d+ (?:identical|similar|repeated) lines?[^\]]*\])"
);
// headroom-ai (the Python reference): `<<ccr:HASH N_rows_offloaded>>`, `<<ccr:HASH,KIND,SIZE>>`,
// `[N lines omitted…]` with `Retrieve more: hash=HASH.`, dense-line elisions.
regex!(
    CCR_MARKER,
    r"<<ccr:([0-9a-f]{12,24})(?: (\d+)_([a-z]+)_offloaded| ([^>]*))?(?:,([^>]*))?>>"
);
regex!(CCR_KEY, r#""_ccr_dropped"\s*:"#);
regex!(
    PY_LINES_OMITTED,
    r"\[(\d+) (lines|items|matches|hunks|entries) (?:omitted|elided)[^\]\n]*\]"
);
// Its summaries of the same elision (`[601 lines compressed to 0. Retrieve more: hash=…]`), its
// `… 38 more items <<ccr:…>>` array elements, and its typed table headers (`[70]{name:string}`).
regex!(
    PY_SUMMARY,
    r"\[\d+ (?:lines|items|matches|hunks|entries) compressed to \d+[.:][^\]\n]*\]|… \d+ more (?:items|rows|lines)"
);
regex!(
    PY_TABLE_HEADER,
    r"(?m)^\[(\d+)\]\{([^}\n]*:[a-z]+[^}\n]*)\}:?\s*$"
);
regex!(
    PY_TABLE_HEADER_ANYWHERE,
    r"\[\d+\]\{[^}\n]*:[a-z]+[^}\n]*\}:?"
);
regex!(JSON_ESCAPE, r#"\\[nrtb"\\/]"#);
regex!(PY_RETRIEVE, r"Retrieve more: hash=([0-9a-f]{12,24})\.?");
regex!(PY_DENSE, r"\.\.\.\[(\d+) chars of dense[^\]\n]*\]");
regex!(TOKEN, r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+");

/// Every elision marker in `output`, Headroom's and the Python reference's.
///
/// ```
/// let out = "a\n[… 3 of 9 lines omitted · headroom_retrieve hash=0123456789abcdef01234567]";
/// let found = headroom_bench::fidelity::elisions(out);
/// assert_eq!((found[0].omitted, found[0].total), (Some(3), Some(9)));
/// ```
pub fn elisions(output: &str) -> Vec<Elision> {
    let mut found = Vec::new();
    for c in HEADROOM_MARKER.captures_iter(output) {
        found.push(Elision {
            omitted: c[1].parse().ok(),
            total: c.get(2).and_then(|m| m.as_str().parse().ok()),
            unit: c[3].to_string(),
            hash: c[4].to_string(),
        });
    }
    for c in CCR_MARKER.captures_iter(output) {
        found.push(Elision {
            omitted: c.get(2).and_then(|m| m.as_str().parse().ok()),
            total: None,
            unit: c.get(3).map_or("blob", |m| m.as_str()).to_string(),
            hash: c[1].to_string(),
        });
    }
    // The code form names its hash once per output, after the omitted-lines comments.
    if let Some(hash) = PY_RETRIEVE.captures(output).map(|c| c[1].to_string()) {
        for c in PY_LINES_OMITTED.captures_iter(output) {
            found.push(Elision {
                omitted: c[1].parse().ok(),
                total: None,
                unit: c[2].to_string(),
                hash: hash.clone(),
            });
        }
    }
    found
}

/// `output` without the compressors' own syntax: markers, marker keys, table counts, fold counts.
pub fn strip_syntax(output: &str) -> String {
    let mut s = HEADROOM_MARKER.replace_all(output, " ").into_owned();
    for re in [
        &*HEADROOM_KEY,
        &*CCR_MARKER,
        &*CCR_KEY,
        &*PY_LINES_OMITTED,
        &*PY_SUMMARY,
        &*PY_TABLE_HEADER_ANYWHERE,
        &*PY_RETRIEVE,
        &*PY_DENSE,
        &*FOLD_COUNT,
    ] {
        s = re.replace_all(&s, " ").into_owned();
    }
    TABLE_HEADER.replace_all(&s, "$1$3").into_owned()
}

/// Identifiers and numbers of `text`; a JSON escape (`\n`, `\"`) separates tokens like the
/// character it stands for.
fn tokens(text: &str) -> Vec<String> {
    let text = JSON_ESCAPE.replace_all(text, " ");
    TOKEN
        .find_iter(&text)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// Identifiers and numbers in `output` that are not in `original` (the compressors' syntax excepted).
///
/// ```
/// let original = r#"{"id": 42, "name": "octocat"}"#;
/// assert!(headroom_bench::fidelity::invented_tokens(original, r#"{"id":42,"name":"octocat"}"#).is_empty());
/// assert_eq!(headroom_bench::fidelity::invented_tokens(original, r#"{"id":43}"#), ["43"]);
/// ```
pub fn invented_tokens(original: &str, output: &str) -> Vec<String> {
    let mut known: HashSet<String> = tokens(original).into_iter().collect();
    if let Ok(value) = serde_json::from_str::<Value>(original) {
        // Strings as the JSON text escapes them and as they decode (the table form writes them bare).
        known.extend(strings_of(&value).iter().flat_map(|s| tokens(s)));
    }
    let stripped = strip_syntax(output);
    let mut invented: Vec<String> = Vec::new();
    for t in tokens(&stripped) {
        if !known.contains(&t) && !invented.contains(&t) {
            invented.push(t);
        }
    }
    invented
}

fn strings_of(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                out.extend(map.keys().cloned());
                stack.extend(map.values());
            }
            _ => {}
        }
    }
    out
}

/// How an output is read: as JSON objects (JSON or table form) or as lines.
#[derive(Debug, Clone)]
pub enum Units {
    /// The flattened objects of a decoded JSON or table-form output, and the decoded value.
    Objects(Vec<Leaves>, Value),
    /// The lines of a text output.
    Lines(Vec<String>),
}

/// Whether `text` presents itself as Headroom's table form.
pub fn looks_like_table(text: &str) -> bool {
    TABLE_HEADER.is_match(text)
}

/// Reads an output of a `kind` case into units. An output that claims to be JSON (a JSON case whose
/// output starts with `{` or `[`) or the table form and does not decode is an error.
///
/// ```
/// use headroom_bench::{corpus::Kind, fidelity::{read_units, Units}};
/// assert!(matches!(read_units(Kind::Json, "[2]{id}:\n1\n2"), Ok(Units::Objects(..))));
/// assert!(read_units(Kind::Json, "[{\"id\":1},{\"id\":").is_err());
/// assert!(matches!(read_units(Kind::Logs, "[INFO] ok"), Ok(Units::Lines(_))));
/// ```
pub fn read_units(kind: Kind, output: &str) -> Result<Units, String> {
    // An output that is one JSON string (the reference wraps some forms so) is read as its text.
    if output.trim_start().starts_with('"') {
        if let Ok(Value::String(inner)) = serde_json::from_str::<Value>(output) {
            return read_units(kind, &inner);
        }
    }
    if let Some(value) = typed_table(output) {
        let leaves = all_objects(&value).into_iter().map(flatten).collect();
        return Ok(Units::Objects(leaves, value));
    }
    let objects = |value: Value| {
        let mut leaves: Vec<Leaves> = all_objects(&value).into_iter().map(flatten).collect();
        // Tables or JSON written inside a string value (the reference nests its table form so)
        // are read as the rows they hold.
        for inner in strings_of(&value) {
            let nested = typed_table(&inner).or_else(|| {
                let t = inner.trim_start();
                (t.starts_with('[') || t.starts_with('{'))
                    .then(|| serde_json::from_str::<Value>(&inner).ok())
                    .flatten()
            });
            if let Some(nested) = nested {
                leaves.extend(all_objects(&nested).into_iter().map(flatten));
            }
        }
        Units::Objects(leaves, value)
    };
    if looks_like_table(output) {
        return match headroom::table::decode(output) {
            Ok(value) => Ok(objects(value)),
            Err(e) if kind == Kind::Json => {
                Err(format!("claims the table form but does not decode: {e}"))
            }
            Err(_) => Ok(Units::Lines(output.lines().map(str::to_string).collect())),
        };
    }
    let trimmed = output.trim_start();
    if kind == Kind::Json && (trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return serde_json::from_str(output)
            .map(objects)
            .map_err(|e| format!("claims to be JSON but does not decode: {e}"));
    }
    let lines = output.lines().map(str::to_string).collect();
    Ok(Units::Lines(if kind == Kind::Search {
        ungroup_hits(lines)
    } else {
        lines
    }))
}

/// The reference's typed table (`[N]{a:string,b:int}` then N comma-separated rows) as JSON rows.
fn typed_table(text: &str) -> Option<Value> {
    let mut lines = text.lines();
    let header = PY_TABLE_HEADER.captures(lines.next()?)?;
    let count: usize = header[1].parse().ok()?;
    let columns: Vec<&str> = header[2]
        .split(',')
        .map(|c| c.split(':').next().unwrap_or(c))
        .collect();
    let rows: Vec<Value> = lines
        .take(count)
        .map(|line| {
            let cells = split_cells(line);
            let map = columns
                .iter()
                .zip(cells)
                .map(|(c, v)| {
                    (
                        c.to_string(),
                        serde_json::from_str(&v).unwrap_or(Value::String(v)),
                    )
                })
                .collect();
            Value::Object(map)
        })
        .collect();
    (rows.len() == count).then_some(Value::Array(rows))
}

/// Comma-separated cells; a double-quoted cell may hold commas.
fn split_cells(line: &str) -> Vec<String> {
    let (mut cells, mut cur, mut quoted, mut escaped) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            _ if escaped => {
                cur.push(c);
                escaped = false;
            }
            '\\' if quoted => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    cells
}

regex!(GROUPED_HIT, r"^\s*(\d+)([:-])(.*)$");

/// Search hits grouped under a path header (`src/lib.rs` then `12: text`) read back as the
/// `src/lib.rs:12: text` lines they stand for: the header and the line are one unit.
///
/// ```
/// let lines = vec!["src/a.rs".to_string(), "12:    fn a() {}".to_string()];
/// assert_eq!(headroom_bench::fidelity::ungroup_hits(lines)[1], "src/a.rs:12:    fn a() {}");
/// ```
pub fn ungroup_hits(lines: Vec<String>) -> Vec<String> {
    let mut header: Option<String> = None;
    lines
        .into_iter()
        .map(|line| match GROUPED_HIT.captures(&line) {
            Some(c) if header.is_some() => {
                format!(
                    "{}{}{}{}{}",
                    header.as_deref().unwrap_or(""),
                    &c[2],
                    &c[1],
                    &c[2],
                    &c[3]
                )
            }
            _ => {
                let t = line.trim();
                if !t.starts_with('[') {
                    // A marker line stays inside its group; anything else opens or closes one.
                    header =
                        (!t.is_empty() && !t.contains(char::is_whitespace)).then(|| t.to_string());
                }
                line
            }
        })
        .collect()
}

/// Whether `probe` holds verbatim in one unit of `units`.
pub fn holds(probe: &Probe, units: &Units) -> bool {
    match (probe, units) {
        (Probe::Fields { pairs }, Units::Objects(objects, _)) => objects
            .iter()
            .any(|leaves| pairs.iter().all(|pair| leaves.contains(pair))),
        (Probe::Fields { pairs }, Units::Lines(lines)) => lines.iter().any(|line| {
            pairs.iter().all(|(path, value)| {
                let key = path.rsplit('.').next().unwrap_or(path);
                let value = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                line.contains(key) && line.contains(&value)
            })
        }),
        (Probe::Line { text }, Units::Lines(lines)) => {
            lines.iter().any(|l| l.contains(text.as_str()))
        }
        (Probe::Line { text }, Units::Objects(_, value)) => {
            strings_of(value).iter().any(|s| s.contains(text.as_str()))
        }
    }
}

/// Checks each hash's markers against the stored original: the counts must add up.
///
/// A hash is verified when its original is stored and every marker carrying it has a count that
/// holds: JSON elements (Headroom's or the reference's) make their array add up to the original
/// array's length; Headroom's `lines` markers give the original's line count as total, and omitted
/// plus kept lines cover it; any other unit says how many it omitted, no more than the original has.
pub fn verified_hashes(
    output: &str,
    units: &Units,
    originals: &HashMap<String, String>,
) -> HashSet<String> {
    let found = elisions(output);
    let mut verified = HashSet::new();
    let hashes: HashSet<&str> = found.iter().map(|e| e.hash.as_str()).collect();
    for hash in hashes {
        let Some(original) = originals.get(hash) else {
            continue;
        };
        let markers: Vec<&Elision> = found.iter().filter(|e| e.hash == hash).collect();
        let line_count = original.lines().count();
        let counted = markers.iter().all(|e| {
            e.omitted
                .is_some_and(|n| n > 0 && e.total.is_none_or(|t| n <= t))
                && (e.unit != "lines" || e.total.is_none_or(|t| t <= line_count + 1))
        });
        let ok = counted
            && match units {
                Units::Objects(_, value)
                    if markers
                        .iter()
                        .any(|e| JSON_UNITS.contains(&e.unit.as_str())) =>
                {
                    arrays_add_up(value, hash, original)
                }
                Units::Lines(lines) if markers.iter().all(|e| e.unit == "lines") => {
                    let omitted = markers.iter().filter_map(|e| e.omitted).sum();
                    lines_add_up(omitted, lines, original)
                }
                _ => true,
            };
        if ok {
            verified.insert(hash.to_string());
        }
    }
    verified
}

const JSON_UNITS: [&str; 4] = ["items", "rows", "entries", "records"];

/// Line accounting over a whole output: every non-blank original line is kept, counted as omitted,
/// or stands behind a rewritten line (no silent drop), and omitted plus kept lines fit the original
/// (no over-claim).
fn lines_add_up(omitted: usize, lines: &[String], original: &str) -> bool {
    let total = original.lines().count();
    // A final newline may be counted as one more (empty) line.
    let slack = usize::from(original.ends_with('\n'));
    let mut pool: HashMap<&str, usize> = HashMap::new();
    for l in original.lines() {
        *pool.entry(l).or_default() += 1;
    }
    let (mut kept, mut other) = (0, 0);
    for l in lines {
        let marker = HEADROOM_MARKER.find(l);
        if marker.is_some_and(|m| l.replace(m.as_str(), "").trim().len() <= 6) {
            continue; // a marker line (in a comment or not) stands for nothing but its count
        }
        match pool.get_mut(l.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                kept += 1;
            }
            // Code with a marker inside (`fn f() { /* [… 18 lines omitted …] */ }`) stands for the
            // block's opening and closing lines; any other rewritten line for at least one.
            _ if marker.is_some() => other += 2,
            _ => other += 1,
        }
    }
    // Blank lines may go uncounted: a silent drop is of content.
    let blank = original.lines().filter(|l| l.trim().is_empty()).count();
    omitted + kept <= total + slack && omitted + kept + other + blank >= total
}

fn arrays_add_up(value: &Value, hash: &str, original: &str) -> bool {
    let original_lengths: HashSet<usize> = serde_json::from_str::<Value>(original)
        .map(|v| array_lengths(&v))
        .unwrap_or_default();
    let mut ok = true;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => {
                let markers: Vec<Elision> = items
                    .iter()
                    .filter(|i| is_marker_element(i))
                    .flat_map(|i| elisions(&i.to_string()))
                    .filter(|m| m.hash == hash)
                    .collect();
                if !markers.is_empty() {
                    let kept = items.iter().filter(|i| !is_marker_element(i)).count();
                    let omitted: usize = markers.iter().filter_map(|m| m.omitted).sum();
                    let claimed = markers
                        .iter()
                        .find_map(|m| m.total)
                        .unwrap_or(kept + omitted);
                    ok &= claimed == kept + omitted
                        && (original_lengths.contains(&claimed)
                            || original_lengths.contains(&omitted));
                }
                stack.extend(items);
            }
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    ok
}

fn is_marker_element(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.len() == 1 && (m.contains_key("_headroom") || m.contains_key("_ccr_dropped"))
        }
        Value::String(s) => {
            !elisions(&v.to_string()).is_empty()
                && (s.contains("<<ccr:") || s.contains("headroom_retrieve"))
        }
        _ => false,
    }
}

fn array_lengths(value: &Value) -> HashSet<usize> {
    let mut out = HashSet::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => {
                out.insert(items.len());
                stack.extend(items);
            }
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    out
}

/// Whether a stored original holds `probe`.
fn original_holds(kind: Kind, probe: &Probe, original: &str) -> bool {
    match read_units(kind, original) {
        Ok(units) => holds(probe, &units),
        Err(_) => false,
    }
}

/// One method's fidelity on one case.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fidelity {
    /// Why the case scores 0, when it does (an invented token, an output that does not decode).
    pub zeroed: Option<String>,
    /// The asked-about item survived verbatim in one unit.
    pub needle: bool,
    /// Error lines or records in the original.
    pub errors: usize,
    /// Of which survived verbatim.
    pub errors_kept: usize,
    /// Record probes drawn.
    pub probes: usize,
    /// Of which verbatim.
    pub verbatim: usize,
    /// Of which verbatim or retrievable behind a marker with a correct count.
    pub recoverable: usize,
}

impl Fidelity {
    /// The 1-or-0 score: the asked-about item and every error line verbatim.
    pub fn asked_and_errors(&self) -> bool {
        self.zeroed.is_none() && self.needle && self.errors_kept == self.errors
    }
}

/// Scores `output` (the artifact as a method sent it) against the case's probes; `originals` maps
/// hashes to the texts the method stored.
///
/// ```
/// use headroom_bench::{corpus::Kind, fidelity::score, probe::{Probe, Probes}};
/// let probes = Probes { needle: Probe::Line { text: "error: boom".into() }, errors: vec![], records: vec![] };
/// let f = score(Kind::Logs, "ok\nerror: boom\n", "error: boom", &Default::default(), &probes);
/// assert!(f.asked_and_errors());
/// let f = score(Kind::Logs, "ok\nerror: boom\n", "error: boom 42", &Default::default(), &probes);
/// assert!(f.zeroed.is_some());
/// ```
pub fn score(
    kind: Kind,
    original: &str,
    output: &str,
    originals: &HashMap<String, String>,
    probes: &Probes,
) -> Fidelity {
    let mut f = Fidelity {
        errors: probes.errors.len(),
        probes: probes.records.len(),
        ..Fidelity::default()
    };
    let invented = invented_tokens(original, output);
    if !invented.is_empty() {
        let shown: Vec<_> = invented.iter().take(5).map(String::as_str).collect();
        f.zeroed = Some(format!("invents {}", shown.join(", ")));
        return f;
    }
    let units = match read_units(kind, output) {
        Ok(u) => u,
        Err(e) => {
            f.zeroed = Some(e);
            return f;
        }
    };
    let verified = verified_hashes(output, &units, originals);
    let retrievable = |probe: &Probe| {
        verified.iter().any(|h| {
            originals
                .get(h)
                .is_some_and(|orig| original_holds(kind, probe, orig))
        })
    };
    f.needle = holds(&probes.needle, &units);
    f.errors_kept = probes.errors.iter().filter(|p| holds(p, &units)).count();
    for p in &probes.records {
        if holds(p, &units) {
            f.verbatim += 1;
            f.recoverable += 1;
        } else if retrievable(p) {
            f.recoverable += 1;
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom::marker::{segment_hash, Marker};
    use serde_json::json;

    fn fields(pairs: &[(&str, Value)]) -> Probe {
        Probe::Fields {
            pairs: pairs
                .iter()
                .map(|(p, v)| (p.to_string(), v.clone()))
                .collect(),
        }
    }

    fn rows(n: usize) -> Value {
        Value::Array(
            (0..n)
                .map(|i| json!({"id": i, "name": format!("pkg-{i}"), "ok": i % 2 == 0}))
                .collect(),
        )
    }

    #[test]
    fn fields_must_share_one_object() {
        let units = read_units(Kind::Json, &rows(3).to_string()).unwrap();
        assert!(holds(
            &fields(&[("id", json!(1)), ("name", json!("pkg-1"))]),
            &units
        ));
        assert!(!holds(
            &fields(&[("id", json!(1)), ("name", json!("pkg-2"))]),
            &units
        ));
    }

    #[test]
    fn table_form_is_read_as_rows() {
        let table = headroom::table::encode(&rows(3)).unwrap();
        let units = read_units(Kind::Json, &table).unwrap();
        assert!(holds(
            &fields(&[("id", json!(2)), ("ok", json!(true))]),
            &units
        ));
        assert!(
            read_units(Kind::Json, "[3]{id}:\n1\n2").is_err(),
            "a row short of its header"
        );
    }

    #[test]
    fn elided_records_are_recoverable_only_with_a_correct_count() {
        let original = serde_json::to_string_pretty(&rows(10)).unwrap();
        let hash = segment_hash(&original);
        let keep = |marker: Value| {
            let mut kept: Vec<Value> = rows(10).as_array().unwrap()[..2].to_vec();
            kept.push(marker);
            serde_json::to_string(&kept).unwrap()
        };
        let originals = HashMap::from([(hash.clone(), original.clone())]);
        let probes = Probes {
            needle: fields(&[("id", json!(0))]),
            errors: vec![],
            records: vec![fields(&[("id", json!(7)), ("name", json!("pkg-7"))])],
        };
        let honest = keep(Marker::new(8, Some(10), "items", &hash).to_json());
        let f = score(Kind::Json, &original, &honest, &originals, &probes);
        assert_eq!(
            (f.zeroed.as_deref(), f.needle, f.verbatim, f.recoverable),
            (None, true, 0, 1)
        );

        let lying = keep(Marker::new(5, Some(10), "items", &hash).to_json());
        let f = score(Kind::Json, &original, &lying, &originals, &probes);
        assert_eq!(f.recoverable, 0, "5 omitted + 2 kept is not 10");

        let f = score(Kind::Json, &original, &honest, &HashMap::new(), &probes);
        assert_eq!(f.recoverable, 0, "nothing stored under the hash");
    }

    #[test]
    fn marker_rows_of_the_table_form_are_counted_like_json_elements() {
        let original = serde_json::to_string_pretty(&rows(10)).unwrap();
        let hash = segment_hash(&original);
        let table = |omitted: usize| {
            format!(
                "[3]{{_headroom,id,name,ok}}:\n,0,pkg-0,true\n{omitted} of 10 items omitted · headroom_retrieve hash={hash},,,\n,9,pkg-9,false"
            )
        };
        let originals = HashMap::from([(hash.clone(), original.clone())]);
        let probes = Probes {
            needle: fields(&[("id", json!(9)), ("name", json!("pkg-9"))]),
            errors: vec![],
            records: vec![fields(&[("id", json!(4)), ("ok", json!(true))])],
        };
        let f = score(Kind::Json, &original, &table(8), &originals, &probes);
        assert_eq!(
            (f.zeroed.as_deref(), f.needle, f.verbatim, f.recoverable),
            (None, true, 0, 1)
        );
        assert_eq!(
            score(Kind::Json, &original, &table(7), &originals, &probes).recoverable,
            0
        );
    }

    #[test]
    fn line_markers_must_cover_the_original() {
        let original: String = (0..20)
            .map(|i| format!("line number {i} of the log\n"))
            .collect();
        let hash = segment_hash(&original);
        let originals = HashMap::from([(hash.clone(), original.clone())]);
        let lines: Vec<&str> = original.lines().collect();
        let probes = Probes {
            needle: Probe::Line {
                text: "line number 0 of the log".into(),
            },
            errors: vec![],
            records: vec![Probe::Line {
                text: "line number 9 of the log".into(),
            }],
        };
        let out = |omitted: usize| {
            format!(
                "{}\n{}\n{}",
                lines[0],
                Marker::new(omitted, Some(20), "lines", &hash).to_text(),
                lines[19]
            )
        };
        let f = score(Kind::Logs, &original, &out(18), &originals, &probes);
        assert_eq!((f.zeroed.as_deref(), f.recoverable), (None, 1));
        assert_eq!(
            score(Kind::Logs, &original, &out(10), &originals, &probes).recoverable,
            0
        );
        assert_eq!(
            score(Kind::Logs, &original, &out(20), &originals, &probes).recoverable,
            0
        );
    }

    #[test]
    fn a_code_line_holding_a_marker_stands_for_the_block_it_closes() {
        let original = "fn keep() -> u32 {\n    let a = 1;\n    let b = 2;\n    a + b\n}\n\nfn other_function() {}\n";
        let hash = segment_hash(original);
        let marker = Marker::new(3, None, "lines", &hash).to_text();
        let out = format!("fn keep() -> u32 {{ /* {marker} */ }}\n\nfn other_function() {{}}\n");
        let originals = HashMap::from([(hash, original.to_string())]);
        let probes = Probes {
            needle: Probe::Line {
                text: "fn other_function() {}".into(),
            },
            errors: vec![],
            records: vec![Probe::Line {
                text: "let b = 2;".into(),
            }],
        };
        let f = score(Kind::Code, original, &out, &originals, &probes);
        assert_eq!(
            (f.zeroed.as_deref(), f.needle, f.verbatim, f.recoverable),
            (None, true, 0, 1)
        );
        let dropped = format!("fn keep() -> u32 {{ /* {marker} */ }}\n");
        assert_eq!(
            score(Kind::Code, original, &dropped, &originals, &probes).recoverable,
            0
        );
    }

    #[test]
    fn invented_tokens_zero_the_case_but_syntax_does_not() {
        let original = serde_json::to_string_pretty(&rows(10)).unwrap();
        let hash = segment_hash(&original);
        let table = headroom::table::encode(&rows(10)).unwrap();
        let marked = format!(
            "{table}\n{}",
            Marker::new(3, Some(10), "lines", &hash).to_text()
        );
        assert!(
            invented_tokens(&original, &marked).is_empty(),
            "{:?}",
            invented_tokens(&original, &marked)
        );
        let python = r#"[{"id":0},{"_ccr_dropped":"<<ccr:4749a3a3b738 9_rows_offloaded>>"}]"#;
        assert!(invented_tokens(&original, python).is_empty());
        assert_eq!(
            invented_tokens(&original, "summary: 10 packages"),
            ["summary", "10", "packages"]
        );
    }

    #[test]
    fn truncated_json_is_zeroed() {
        let original = serde_json::to_string_pretty(&rows(10)).unwrap();
        let cut = &original[..original.len() / 2];
        let probes = Probes {
            needle: fields(&[("id", json!(0))]),
            errors: vec![],
            records: vec![],
        };
        let f = score(Kind::Json, &original, cut, &HashMap::new(), &probes);
        assert!(f.zeroed.unwrap().contains("does not decode"));
    }

    #[test]
    fn errors_count_against_the_asked_item_score() {
        let log = "step 1 ok\nerror: disk full\nstep 2 ok\n";
        let probes = Probes {
            needle: Probe::Line {
                text: "step 1 ok".into(),
            },
            errors: vec![Probe::Line {
                text: "error: disk full".into(),
            }],
            records: vec![],
        };
        assert!(!score(
            Kind::Logs,
            log,
            "step 1 ok\nstep 2 ok",
            &HashMap::new(),
            &probes
        )
        .asked_and_errors());
        assert!(score(Kind::Logs, log, log, &HashMap::new(), &probes).asked_and_errors());
    }
}
