//! The `headroom_retrieve` tool: its definition, and answers from the store.

pub use crate::tool::{responses_tool_definition, tool_definition};

use crate::store::{Store, StoreError};
use crate::tokens::TokenCounter;
use serde::Deserialize;

/// Default cap on one answer, in tokens.
pub const DEFAULT_ANSWER_TOKENS: usize = 8_000;

/// The arguments of a `headroom_retrieve` call.
///
/// ```
/// let args: headroom::retrieve::RetrieveArgs = serde_json::from_str(r#"{"hash":"ab","limit":5}"#).unwrap();
/// assert_eq!((args.hash.as_str(), args.limit), ("ab", Some(5)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RetrieveArgs {
    /// The marker's hash.
    pub hash: String,
    /// Words to filter lines or items by.
    #[serde(default)]
    pub query: Option<String>,
    /// First unit to return.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Most units to return.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Reads a call's arguments, or gives the plain answer that tells the model how to call the tool.
///
/// ```
/// let args = headroom::retrieve::parse_args(r#"{"hash":"ab","query":"error"}"#).unwrap();
/// assert_eq!(args.query.as_deref(), Some("error"));
/// assert!(headroom::retrieve::parse_args("{}").unwrap_err().contains("needs"));
/// // A hash copied with its `hash=` is read as the hash.
/// let args = headroom::retrieve::parse_args(r#"{"hash":" hash=3F9AC0D1E2B4A5C6D7E8F901"}"#).unwrap();
/// assert_eq!(args.hash, "3f9ac0d1e2b4a5c6d7e8f901");
/// ```
pub fn parse_args(arguments: &str) -> Result<RetrieveArgs, String> {
    let mut args: RetrieveArgs = serde_json::from_str(arguments).map_err(|e| {
        format!("headroom_retrieve needs {{\"hash\": string, \"query\"?: string, \"offset\"?: integer, \"limit\"?: integer}}; got invalid arguments ({e}).")
    })?;
    // Models sometimes copy the marker's `hash=` along with the hash, or pad it.
    let hash = args.hash.trim();
    let hash = hash.strip_prefix("hash=").unwrap_or(hash);
    args.hash = hash
        .trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace())
        .to_ascii_lowercase();
    Ok(args)
}

/// The text a `headroom_retrieve` call gets back: the original, filtered and paged, or a plain
/// explanation when it cannot be had. Never an error: the model always gets an answer.
///
/// ```
/// use headroom::store::{MemoryStore, Store};
/// let store = MemoryStore::default();
/// store.put("default", "h1", "line a\nline b")?;
/// let counter = headroom::tokens::counter_for_model("gpt-4o");
/// let answer = headroom::retrieve::answer(r#"{"hash":"h1"}"#, &store, "default", counter.as_ref(), 8000);
/// assert_eq!(answer, "line a\nline b");
/// # Ok::<(), headroom::store::StoreError>(())
/// ```
pub fn answer(
    arguments: &str,
    store: &dyn Store,
    namespace: &str,
    counter: &dyn TokenCounter,
    max_tokens: usize,
) -> String {
    match parse_args(arguments) {
        Ok(args) => answer_with(&args, store.get(namespace, &args.hash), counter, max_tokens),
        Err(text) => text,
    }
}

/// Like [`answer`], from a store lookup already made (async stores do their own I/O).
///
/// The whole original comes back byte for byte when it fits in `max_tokens` and no `query`,
/// `offset` or `limit` narrows it. Otherwise the answer starts with a bracketed header saying
/// what is shown (`lines 1–120 of 2000`, `14 of 2000 lines match "error"`) and how to get the
/// rest (`… more: call headroom_retrieve with offset=120`).
///
/// ```
/// let counter = headroom::tokens::counter_for_model("gpt-4o");
/// let args = headroom::retrieve::RetrieveArgs { hash: "nope".into(), ..Default::default() };
/// let text = headroom::retrieve::answer_with(&args, Ok(None), counter.as_ref(), 8000);
/// assert!(text.contains("unknown or expired"));
/// ```
pub fn answer_with(
    args: &RetrieveArgs,
    lookup: Result<Option<String>, StoreError>,
    counter: &dyn TokenCounter,
    max_tokens: usize,
) -> String {
    let original = match lookup {
        Ok(Some(text)) => text,
        Ok(None) => return format!("No original is stored under hash {} (unknown or expired). Work with the compressed content you have.", args.hash),
        Err(e) => return format!("The original for hash {} is temporarily unavailable (the store did not answer: {e}). Try again later or work with the compressed content.", args.hash),
    };
    let query = args
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let narrowed = query.is_some() || args.offset.unwrap_or(0) > 0 || args.limit.is_some();
    if !narrowed && (original.len() <= max_tokens || counter.count(&original) <= max_tokens) {
        return original;
    }
    let units = split_units(&original, counter, max_tokens);
    let (kind, total) = (units.kind, units.items.len());
    let selected: Vec<&str> = match query {
        Some(query) => {
            let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
            units
                .items
                .iter()
                .filter(|u| {
                    let lower = u.to_lowercase();
                    terms.iter().any(|t| lower.contains(t.as_str()))
                })
                .copied()
                .collect()
        }
        None => units.items.clone(),
    };
    let matched = selected.len();
    let offset = args.offset.unwrap_or(0);
    if matched == 0 {
        let q = query.unwrap_or_default();
        return format!("[0 of {total} {kind} match {q:?}; nothing shown. Try other words, or call headroom_retrieve without query to page through all {total} {kind}.]");
    }
    if offset >= matched {
        return format!("[offset {offset} is past the end: there are {matched} {kind}{}; the last page starts at offset {}.]",
            query.map(|q| format!(" matching {q:?}")).unwrap_or_default(),
            matched.saturating_sub(args.limit.unwrap_or(1).max(1)));
    }
    let limit = args.limit.unwrap_or(usize::MAX).max(1);
    let mut shown = Vec::new();
    let mut used = 0;
    for unit in selected.iter().skip(offset).take(limit) {
        // +1 for the separator between units.
        let cost = counter.count(unit) + 1;
        if used + cost > max_tokens && !shown.is_empty() {
            break;
        }
        used += cost;
        shown.push(*unit);
    }
    let (first, last) = (offset + 1, offset + shown.len());
    let rest = matched - last;
    let mut header = match query {
        Some(q) => {
            format!("{matched} of {total} {kind} match {q:?}; showing matches {first}–{last}")
        }
        None => format!("{kind} {first}–{last} of {total}"),
    };
    if rest > 0 {
        header.push_str(&format!(
            "; {rest} more: call headroom_retrieve with offset={last}"
        ));
    } else {
        header.push_str("; nothing more");
    }
    let body = if kind == "items" {
        format!("[{}]", shown.join(","))
    } else {
        shown.join("\n")
    };
    format!("[{header}]\n{body}")
}

struct Units<'a> {
    kind: &'static str,
    items: Vec<&'a str>,
}

/// A JSON array's items (as their exact text) when each fits an answer; otherwise the text's lines.
/// When a line is too long for one answer, every unit is a "part" (a line, or a piece of a long one)
/// so that everything can be paged to.
fn split_units<'a>(original: &'a str, counter: &dyn TokenCounter, max_tokens: usize) -> Units<'a> {
    // A token covers at least one byte, so a piece of `max_tokens` bytes always fits one answer.
    let piece_bytes = max_tokens.max(16);
    let fits = |unit: &str| unit.len() <= piece_bytes || counter.count(unit) < max_tokens;
    if let Ok(items) = serde_json::from_str::<Vec<&serde_json::value::RawValue>>(original) {
        if !items.is_empty() && items.iter().all(|r| fits(r.get())) {
            return Units {
                kind: "items",
                items: items.into_iter().map(|r| r.get()).collect(),
            };
        }
    }
    let mut items = Vec::new();
    let mut cut_lines = false;
    for line in original.lines() {
        if fits(line) {
            items.push(line);
            continue;
        }
        cut_lines = true;
        let mut rest = line;
        while !rest.is_empty() {
            let mut cut = rest.len().min(piece_bytes);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            items.push(&rest[..cut]);
            rest = &rest[cut..];
        }
    }
    Units {
        kind: if cut_lines { "parts" } else { "lines" },
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use serde_json::Value;

    fn counter() -> std::sync::Arc<dyn TokenCounter> {
        crate::tokens::counter_for_model("gpt-4o")
    }

    #[test]
    fn query_filters_and_pages() {
        let store = MemoryStore::default();
        let text: String = (0..100)
            .map(|i| format!("line {i} {}\n", if i % 10 == 0 { "ERROR" } else { "ok" }))
            .collect();
        store.put("ns", "h", &text).unwrap();
        let a = answer(
            r#"{"hash":"h","query":"error","limit":3}"#,
            &store,
            "ns",
            counter().as_ref(),
            8000,
        );
        assert!(a.starts_with("[10 of 100 lines match \"error\"; showing matches 1–3; 7 more: call headroom_retrieve with offset=3]"), "{a}");
        assert!(a.contains("line 20 ERROR") && !a.contains("line 30 ERROR"));
    }

    #[test]
    fn caps_tokens_and_says_how_to_continue() {
        let store = MemoryStore::default();
        let text: String = (0..2000)
            .map(|i| format!("row number {i} with some padding words\n"))
            .collect();
        store.put("ns", "h", &text).unwrap();
        let a = answer(r#"{"hash":"h"}"#, &store, "ns", counter().as_ref(), 500);
        assert!(counter().count(&a) < 600);
        assert!(
            a.contains("more: call headroom_retrieve with offset="),
            "{}",
            &a[..200]
        );
    }

    #[test]
    fn failures_are_plain_answers() {
        let store = MemoryStore::default();
        assert!(
            answer("not json", &store, "ns", counter().as_ref(), 10).contains("invalid arguments")
        );
        assert!(
            answer(r#"{"hash":"x"}"#, &store, "ns", counter().as_ref(), 10)
                .contains("unknown or expired")
        );
        let down = answer_with(
            &RetrieveArgs {
                hash: "x".into(),
                ..Default::default()
            },
            Err(StoreError::new("connection refused")),
            counter().as_ref(),
            10,
        );
        assert!(down.contains("temporarily unavailable"));
    }

    /// Real data: octokit's recorded GitHub issues, minified to one line as many APIs send it.
    fn issues_one_line() -> String {
        let v: Value =
            serde_json::from_str(include_str!("../tests/fixtures/github-issues.json")).unwrap();
        serde_json::to_string(&v).unwrap()
    }

    fn ask(original: &str, arguments: &str, max_tokens: usize) -> String {
        let lookup = Ok(Some(original.to_string()));
        answer_with(
            &parse_args(arguments).unwrap(),
            lookup,
            counter().as_ref(),
            max_tokens,
        )
    }

    #[test]
    fn json_items_are_queried_and_paged_as_items() {
        let original = issues_one_line();
        let items: Vec<Value> = serde_json::from_str(&original).unwrap();
        let open = items
            .iter()
            .filter(|i| i.to_string().to_lowercase().contains("\"open\""))
            .count();
        let a = ask(&original, r#"{"hash":"h","query":"\"open\""}"#, 50_000);
        let (header, body) = a.split_once('\n').unwrap();
        assert!(
            header.starts_with(&format!("[{open} of {} items match", items.len())),
            "{header}"
        );
        let shown: Vec<Value> = serde_json::from_str(body).unwrap();
        assert_eq!(shown.len(), open);
        // Paging by items: the first two, then the rest from offset 2.
        let a = ask(&original, r#"{"hash":"h","limit":2}"#, 8000);
        assert!(
            a.starts_with(&format!(
                "[items 1–2 of {}; {} more: call headroom_retrieve with offset=2]",
                items.len(),
                items.len() - 2
            )),
            "{}",
            &a[..120]
        );
        let shown: Vec<Value> = serde_json::from_str(a.split_once('\n').unwrap().1).unwrap();
        assert_eq!(shown, items[..2]);
    }

    #[test]
    fn one_huge_line_is_paged_in_parts_that_add_up() {
        let original = issues_one_line();
        // With a cap below one item, items cannot be shown whole: the text is cut into parts.
        let mut rebuilt = String::new();
        let mut offset = 0;
        for _ in 0..1000 {
            let a = ask(
                &original,
                &format!(r#"{{"hash":"h","offset":{offset}}}"#),
                300,
            );
            assert!(counter().count(&a) <= 300 + 40, "{}", counter().count(&a));
            let (header, body) = a.split_once('\n').unwrap();
            assert!(header.starts_with("[parts "), "{header}");
            rebuilt.push_str(&body.replace('\n', ""));
            match header.split_once("with offset=") {
                Some((_, next)) => offset = next.trim_end_matches(']').parse().unwrap(),
                None => break,
            }
        }
        assert_eq!(rebuilt, original);
    }

    #[test]
    fn no_match_and_past_the_end_say_what_to_do() {
        let text = "alpha\nbeta\ngamma";
        let a = ask(text, r#"{"hash":"h","query":"delta"}"#, 8000);
        assert!(a.starts_with("[0 of 3 lines match \"delta\""), "{a}");
        assert!(a.contains("without query"));
        let a = ask(text, r#"{"hash":"h","offset":10}"#, 8000);
        assert!(a.contains("past the end") && a.contains("3 lines"), "{a}");
        assert_eq!(ask(text, r#"{"hash":"h"}"#, 8000), text, "whole and exact");
    }
}
