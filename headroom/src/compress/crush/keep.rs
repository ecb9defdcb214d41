//! Which items of an array to keep: the rules of the crusher, each switchable in [`CrushConfig`].

use super::CrushConfig;
use crate::question::Question;
use foldhash::quality::FixedState;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Field names whose value says how an item went.
const STATUS_KEYS: &[&str] = &[
    "status",
    "state",
    "level",
    "severity",
    "conclusion",
    "result",
    "outcome",
    "loglevel",
    "log_level",
    "levelname",
    "health",
    "phase",
    "lvl",
];
/// Status values that mean something went wrong.
const ERROR_VALUES: &[&str] = &[
    "error",
    "err",
    "errored",
    "failed",
    "failure",
    "fail",
    "fatal",
    "critical",
    "crit",
    "panic",
    "exception",
    "timeout",
    "timed_out",
    "timedout",
    "rejected",
    "denied",
    "crashed",
    "aborted",
    "alert",
    "emerg",
    "emergency",
    "unhealthy",
    "down",
    "broken",
];
/// Field names that, when set, carry an error.
const ERROR_KEYS: &[&str] = &[
    "error",
    "errors",
    "err",
    "exception",
    "stacktrace",
    "stack_trace",
    "traceback",
    "fault",
    "failure",
];
/// Boolean fields that flag an error when true.
const TRUE_IS_ERROR: &[&str] = &["error", "is_error", "failed", "has_error", "has_errors"];
/// Boolean fields that flag an error when false.
const FALSE_IS_ERROR: &[&str] = &["ok", "success", "succeeded", "passed", "healthy"];
/// Words that mark a short message as an error report.
const ERROR_WORDS: &[&str] = &[
    "error",
    "errors",
    "exception",
    "traceback",
    "panic",
    "panicked",
    "fatal",
    "failed",
    "failure",
    "segfault",
    "crashed",
];
/// Fields holding a message about how an item went: only there does an error word report an error
/// (in a title or a description it is a topic).
const MESSAGE_KEYS: &[&str] = &[
    "message",
    "msg",
    "error_message",
    "errormessage",
    "reason",
    "detail",
    "details",
    "stderr",
    "log",
    "output",
    "summary",
    "status_message",
];
/// Messages longer than this are prose, where an error word is a topic rather than a report.
const ERROR_WORDS_MAX_LEN: usize = 500;
/// A term or value that names more than this share of the items does not pick any out.
const NAMED_MAX_SHARE: f64 = 0.1;
/// A BM25 score below this means only common words matched.
const BM25_MIN_SCORE: f64 = 1.0;

/// A scalar field of an item: its key, and its parent's key for fields one object down.
type FieldKey<'a> = (&'a str, &'a str);

/// The items to keep, one flag per item; `None` when every item would be kept.
pub(crate) fn plan(
    items: &[Value],
    texts: &[&str],
    question: &Question,
    config: &CrushConfig,
) -> Option<Vec<bool>> {
    let n = items.len();
    let mut keep = vec![false; n];
    for i in (0..config.keep_first.min(n)).chain(n.saturating_sub(config.keep_last)..n) {
        keep[i] = true;
    }
    let fields: Vec<Vec<(FieldKey<'_>, &Value)>> = items.iter().map(scalar_fields).collect();
    if config.keep_errors {
        for (i, item) in items.iter().enumerate() {
            keep[i] |= looks_like_error(item, &fields[i]);
        }
    }
    if config.keep_named && !question.is_empty() {
        for i in named(items, texts, &fields, question, config.bm25_top) {
            keep[i] = true;
        }
    }
    let columns = columns(&fields);
    let mut signals = Vec::new();
    if config.rare_fraction > 0.0 {
        signals.extend(rare_values(&columns, n, config.rare_fraction));
    }
    if config.keep_change_points {
        signals.extend(change_points(&columns, n));
    }
    if let Some(sigma) = config.outlier_sigma {
        signals.extend(outliers(&columns, n, sigma));
    }
    let budget = config
        .max_items
        .min((n as f64 * config.max_share).ceil() as usize);
    let mut kept = keep.iter().filter(|k| **k).count();
    for i in signals {
        if kept >= budget {
            break;
        }
        if !keep[i] {
            keep[i] = true;
            kept += 1;
        }
    }
    let rest: Vec<usize> = (0..n).filter(|&i| !keep[i]).collect();
    let room = budget.saturating_sub(kept).min(rest.len());
    for k in 0..room {
        keep[rest[(2 * k + 1) * rest.len() / (2 * room)]] = true;
    }
    keep.iter().any(|k| !k).then_some(keep)
}

/// The scalar fields of an item and of the objects directly inside it, the first cells of a row,
/// or the item itself if it is a scalar.
fn scalar_fields(item: &Value) -> Vec<(FieldKey<'_>, &Value)> {
    let mut out = Vec::new();
    match item {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::Object(inner) => {
                        for (inner_key, inner_value) in inner {
                            if !matches!(inner_value, Value::Object(_) | Value::Array(_)) {
                                out.push(((key.as_str(), inner_key.as_str()), inner_value));
                            }
                        }
                    }
                    Value::Array(_) => {}
                    scalar => out.push((("", key.as_str()), scalar)),
                }
            }
        }
        // A row of a table-like array (`[day, hour, commits]`): its columns are its positions.
        Value::Array(row) => {
            for (position, cell) in POSITIONS.iter().zip(row) {
                if !matches!(cell, Value::Object(_) | Value::Array(_)) {
                    out.push((("[]", position), cell));
                }
            }
        }
        scalar => out.push((("", ""), scalar)),
    }
    out
}

/// Column names for the first positions of array rows (borrowed, so fields need no allocation).
const POSITIONS: [&str; 16] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
];

/// Whether an item reports a failure: an error status, a set error field, or a short error message.
fn looks_like_error(item: &Value, fields: &[(FieldKey<'_>, &Value)]) -> bool {
    let set = |v: &Value| match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) | Value::Bool(true) => true,
    };
    if let Value::Object(map) = item {
        if map.iter().any(|(k, v)| listed(ERROR_KEYS, k) && set(v)) {
            return true;
        }
    }
    fields.iter().any(|&((parent, key), value)| {
        // A bare string item or a cell of a row has no name to go by: it may be a status or a message.
        let unnamed = key.is_empty() || parent == "[]";
        match value {
            Value::String(s) => {
                ((unnamed || listed(STATUS_KEYS, key)) && listed(ERROR_VALUES, s))
                    || ((unnamed || listed(MESSAGE_KEYS, key))
                        && s.len() <= ERROR_WORDS_MAX_LEN
                        && has_error_word(s))
            }
            Value::Number(n) => {
                listed(&["status", "status_code", "statuscode", "http_status"], key)
                    && n.as_u64().is_some_and(|c| (400..600).contains(&c))
            }
            Value::Bool(b) => {
                (*b && listed(TRUE_IS_ERROR, key)) || (!*b && listed(FALSE_IS_ERROR, key))
            }
            Value::Null | Value::Array(_) | Value::Object(_) => false,
        }
    })
}

/// Whether `word` is one of `list` (lowercase words), ignoring ASCII case, without allocating.
fn listed(list: &[&str], word: &str) -> bool {
    list.iter().any(|entry| entry.eq_ignore_ascii_case(word))
}

fn has_error_word(s: &str) -> bool {
    s.split(|c: char| !c.is_alphanumeric())
        .any(|w| listed(ERROR_WORDS, w))
}

/// Items the question names: an item with a field whose whole value an anchor is (`number: 57`
/// for `#57`, a `sha` that `a1b2c3d` starts) or a question word is; an item holding an anchor in
/// its text (see [`Question::naming_within`]); then the best few by BM25. An anchor or word that
/// names too many items names none.
fn named(
    items: &[Value],
    texts: &[&str],
    fields: &[Vec<(FieldKey<'_>, &Value)>],
    question: &Question,
    bm25_top: usize,
) -> Vec<usize> {
    let n = items.len();
    let limit = ((n as f64 * NAMED_MAX_SHARE) as usize).max(1);
    let mut by_anchor: Vec<Vec<usize>> = vec![Vec::new(); question.anchors().len()];
    let mut by_word: Vec<Vec<usize>> = vec![Vec::new(); question.words().len()];
    for (i, item_fields) in fields.iter().enumerate() {
        for (_, value) in item_fields {
            let text = match value {
                Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
                Value::Number(number) => number.to_string().into(),
                _ => continue,
            };
            for a in question.names_value(&text) {
                if by_anchor[a].last() != Some(&i) {
                    by_anchor[a].push(i);
                }
            }
            if let Value::String(s) = value {
                for (w, word) in question.words().iter().enumerate() {
                    if s.len() == word.len()
                        && s.eq_ignore_ascii_case(word)
                        && by_word[w].last() != Some(&i)
                    {
                        by_word[w].push(i);
                    }
                }
            }
        }
    }
    let mut out: Vec<usize> = by_anchor
        .into_iter()
        .chain(by_word)
        .filter(|hits| hits.len() <= limit)
        .flatten()
        .collect();
    out.extend(question.strong_within(texts, NAMED_MAX_SHARE));
    if bm25_top > 0 && !question.words().is_empty() {
        let scores = question.scores(texts);
        let best = scores.iter().copied().fold(0.0, f64::max);
        let mut ranked: Vec<usize> = (0..n)
            .filter(|&i| scores[i] >= BM25_MIN_SCORE && scores[i] >= best / 2.0)
            .collect();
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        out.extend(ranked.into_iter().take(bm25_top));
    }
    out
}

/// One field's values in item order, with the item index.
type Column<'a> = Vec<(usize, &'a Value)>;

/// Each field's values, the columns the statistics run on, in the order of their field keys.
/// Grouped by hash (a tree keyed by the strings compared them on every insert), then sorted once.
fn columns<'a>(fields: &[Vec<(FieldKey<'a>, &'a Value)>]) -> Vec<Column<'a>> {
    let mut by_key: HashMap<FieldKey<'a>, Column<'a>, FixedState> = HashMap::default();
    for (i, item_fields) in fields.iter().enumerate() {
        for &(key, value) in item_fields {
            by_key.entry(key).or_default().push((i, value));
        }
    }
    let mut columns: Vec<(FieldKey<'a>, Column<'a>)> = by_key.into_iter().collect();
    columns.sort_unstable_by_key(|(key, _)| *key);
    columns.into_iter().map(|(_, column)| column).collect()
}

/// A categorical value: a string, a boolean or null, compared as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category<'a> {
    Null,
    Bool(bool),
    Str(&'a str),
}

fn category(value: &Value) -> Option<Category<'_>> {
    match value {
        Value::String(s) => Some(Category::Str(s)),
        Value::Bool(b) => Some(Category::Bool(*b)),
        Value::Null => Some(Category::Null),
        Value::Number(_) | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The first item of every rare value of a categorical field, and of every rarely present field.
fn rare_values(columns: &[Column<'_>], n: usize, fraction: f64) -> Vec<usize> {
    let rare = ((n as f64 * fraction) as usize).max(1);
    let mut out = Vec::new();
    for column in columns {
        if column.len() <= rare {
            out.push(column[0].0);
            continue;
        }
        // A field with many distinct values is an identifier or free text, not a category: the
        // count stops at the first value past that limit (long URLs and ids made this the crush's
        // costliest loop).
        let max_distinct = (n / 4).clamp(2, 20);
        let mut counts: BTreeMap<Category<'_>, (usize, usize)> = BTreeMap::new();
        for &(i, value) in column {
            if let Some(c) = category(value) {
                counts.entry(c).or_insert((0, i)).0 += 1;
                if counts.len() > max_distinct {
                    break;
                }
            }
        }
        if counts.len() < 2 || counts.len() > max_distinct {
            continue;
        }
        let mut firsts: Vec<usize> = counts
            .values()
            .filter(|(count, _)| *count <= rare)
            .map(|&(_, first)| first)
            .collect();
        firsts.sort_unstable();
        out.extend(firsts);
    }
    out
}

fn numbers(column: &[(usize, &Value)]) -> Vec<(usize, f64)> {
    column
        .iter()
        .filter_map(|&(i, v)| v.as_f64().map(|x| (i, x)))
        .collect()
}

fn mean_and_std(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let count = xs.clone().count().max(1) as f64;
    let mean = xs.clone().sum::<f64>() / count;
    let var = xs.map(|x| (x - mean) * (x - mean)).sum::<f64>() / count;
    (mean, var.sqrt())
}

/// Items more than `sigma` standard deviations from their field's mean, most extreme first.
fn outliers(columns: &[Column<'_>], n: usize, sigma: f64) -> Vec<usize> {
    let mut found: Vec<(f64, usize)> = Vec::new();
    for column in columns {
        let xs = numbers(column);
        if xs.len() < (n / 2).max(8) {
            continue;
        }
        let (mean, std) = mean_and_std(xs.iter().map(|&(_, x)| x));
        if !(std > 0.0 && std.is_finite()) {
            continue;
        }
        for &(i, x) in &xs {
            let z = (x - mean).abs() / std;
            if z > sigma {
                found.push((z, i));
            }
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    found.into_iter().map(|(_, i)| i).collect()
}

/// The items on both sides of a level shift: a numeric field whose mean jumps between two windows,
/// or a categorical field switching from one long run to another.
fn change_points(columns: &[Column<'_>], n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let window = (n / 10).clamp(3, 20);
    for column in columns {
        let xs = numbers(column);
        if xs.len() > 2 * window {
            let (_, overall) = mean_and_std(xs.iter().map(|&(_, x)| x));
            // Runs of shifted positions: the biggest jump of each run is the change point.
            let mut best: Option<(f64, usize)> = None;
            for at in window..=xs.len() - window {
                let (lm, ls) = mean_and_std(xs[at - window..at].iter().map(|&(_, x)| x));
                let (rm, rs) = mean_and_std(xs[at..at + window].iter().map(|&(_, x)| x));
                let jump = (rm - lm).abs();
                let noise = ((ls * ls + rs * rs) / 2.0).sqrt();
                if jump > 3.0 * noise && jump > overall / 2.0 && jump > 0.0 {
                    if best.is_none_or(|(j, _)| jump > j) {
                        best = Some((jump, at));
                    }
                } else if let Some((_, a)) = best.take() {
                    out.extend([xs[a - 1].0, xs[a].0]);
                }
            }
            if let Some((_, a)) = best {
                out.extend([xs[a - 1].0, xs[a].0]);
            }
        } else if column.len() >= 6 {
            let mut run_start = 0;
            let mut previous_run = 0;
            for at in 1..=column.len() {
                let switched = at == column.len()
                    || category(column[at].1).is_none()
                    || category(column[at].1) != category(column[at - 1].1);
                if switched {
                    let run = at - run_start;
                    if previous_run >= 3 && run >= 3 {
                        out.extend([column[run_start - 1].0, column[run_start].0]);
                    }
                    previous_run = run;
                    run_start = at;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(items: &[Value]) -> Vec<String> {
        items.iter().map(|v| v.to_string()).collect()
    }

    fn run(items: &[Value], question: &str, config: &CrushConfig) -> Vec<bool> {
        let owned = texts(items);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        plan(items, &refs, &Question::parse(question), config).expect("something to cut")
    }

    #[test]
    fn keeps_first_last_errors_and_named() {
        let items: Vec<Value> = (0..100)
            .map(|i| {
                json!({"id": 5000 + i, "status": if i == 40 { "failed" } else { "ok" }, "ms": 10})
            })
            .collect();
        let keep = run(&items, "what about job 5077?", &CrushConfig::default());
        for i in [0, 1, 99, 40, 77] {
            assert!(keep[i], "item {i}");
        }
        assert!(keep.iter().filter(|k| **k).count() <= CrushConfig::default().max_items + 2);
    }

    #[test]
    fn numeric_outliers_and_level_shifts() {
        let items: Vec<Value> = (0..200)
            .map(|i| {
                let latency = if i == 123 { 900 } else { 20 + (i * 7) % 5 };
                let load = if i < 150 { 1 + i % 2 } else { 50 + i % 2 };
                json!({"latency": latency, "load": load})
            })
            .collect();
        let config = CrushConfig {
            max_items: 10,
            ..CrushConfig::default()
        };
        let keep = run(&items, "", &config);
        assert!(keep[123], "outlier");
        assert!(keep[149] && keep[150], "change point");
    }

    #[test]
    fn rules_switch_off() {
        let items: Vec<Value> = (0..50)
            .map(|i| json!({"n": i, "level": if i == 20 { "error" } else { "info" }}))
            .collect();
        let config = CrushConfig {
            keep_errors: false,
            rare_fraction: 0.0,
            max_items: 3,
            keep_first: 1,
            keep_last: 1,
            ..CrushConfig::default()
        };
        let keep = run(&items, "", &config);
        assert!(!keep[20]);
        assert_eq!(keep.iter().filter(|k| **k).count(), 3);
    }

    #[test]
    fn rows_and_bare_strings_can_be_errors() {
        let rows: Vec<Value> = (0..40)
            .map(|i| json!([i, if i == 17 { "ERROR" } else { "info" }, "tick"]))
            .collect();
        let lines: Vec<Value> = (0..40)
            .map(|i| {
                json!(if i == 23 {
                    "request failed: timeout"
                } else {
                    "request served"
                })
            })
            .collect();
        let config = CrushConfig {
            max_items: 2,
            rare_fraction: 0.0,
            ..CrushConfig::default()
        };
        assert!(run(&rows, "", &config)[17]);
        assert!(run(&lines, "", &config)[23]);
    }
}
