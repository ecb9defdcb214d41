//! Search hits (`grep -rn`, ripgrep, code search): the best hits per file, every file named.
//!
//! Hits are grouped by file in ripgrep's heading form (the path once, then `line:text`), which alone
//! saves the path on every line. Each file keeps its best hit; the rest of the budget goes to the
//! hits that best match the question and the tool call's pattern, capped per file. A file that lost
//! hits says how many behind a marker.

use super::{Compression, Compressor, SegmentContext};
use crate::detect::split_search_hit;
use crate::marker::Marker;
use crate::question::{Question, STRONG_MAX_SHARE};
use std::fmt::Write as _;

/// Compresses `path:line:text` search output.
///
/// ```
/// use headroom::compress::{Compressor, SearchHitsCompressor, SegmentContext};
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
///     .with_question("where is parse_config defined?")
///     .with_hash("0123456789abcdef01234567");
/// let mut hits = String::new();
/// for i in 1..=60 { hits.push_str(&format!("src/cli.rs:{i}:    let c = parse_config(&args{i});\n")); }
/// hits.push_str("src/config.rs:12:pub fn parse_config(args: &Args) -> Config {\n");
/// let out = SearchHitsCompressor.compress(&hits, &ctx).unwrap();
/// assert!(out.text.contains("src/config.rs\n12:pub fn parse_config(args: &Args) -> Config {"));
/// assert!(out.text.contains("hits in this file omitted · headroom_retrieve hash=0123456789abcdef01234567"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchHitsCompressor;

/// One line of search output.
struct Line<'t> {
    number: usize,
    text: &'t str,
    /// A match (`path:N:`) rather than grep context (`path-N-`).
    is_hit: bool,
}

/// The lines of one file, in order of appearance.
struct FileHits<'t> {
    path: &'t str,
    lines: Vec<Line<'t>>,
}

impl Compressor for SearchHitsCompressor {
    fn name(&self) -> &'static str {
        "search"
    }

    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
        let config = ctx.config;
        let (files, other) = parse(text);
        let hit_count: usize = files
            .iter()
            .map(|f| f.lines.iter().filter(|l| l.is_hit).count())
            .sum();
        if hit_count < config.search_min_hits {
            return None;
        }
        if ctx.out_of_time() {
            return None;
        }
        let keep = choose(&files, ctx);
        if ctx.out_of_time() {
            return None;
        }
        let has_context = files.iter().any(|f| f.lines.iter().any(|l| !l.is_hit));

        let mut out = String::new();
        let mut elided = false;
        for (file, keep) in files.iter().zip(&keep) {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(file.path);
            let mut previous: Option<usize> = None;
            for (line, _) in file.lines.iter().zip(keep).filter(|(_, k)| **k) {
                if has_context && previous.is_some_and(|p| line.number > p + 1) {
                    out.push_str("\n--");
                }
                previous = Some(line.number);
                out.push('\n');
                let _ = write!(out, "{}", line.number);
                out.push(if line.is_hit { ':' } else { '-' });
                out.push_str(&shorten(line.text, config.search_max_line_chars, &ctx.hash));
            }
            let omitted = keep.iter().filter(|k| !**k).count();
            if omitted > 0 {
                let unit = if has_context {
                    "lines in this file"
                } else {
                    "hits in this file"
                };
                out.push('\n');
                out.push_str(
                    &Marker::new(omitted, Some(file.lines.len()), unit, &ctx.hash).to_text(),
                );
                elided = true;
            }
        }
        for line in other {
            out.push('\n');
            out.push_str(line);
        }
        if !Marker::is_in(&out) {
            // Every hit kept, only regrouped under its path: nothing to retrieve.
            return Some(Compression::lossless(out, "search:group", ctx));
        }
        let mut transforms = vec!["search:group".to_string()];
        if elided {
            transforms.push("search:select".into());
        }
        Some(Compression::lossy(out, transforms, ctx))
    }
}

/// Splits search output into files (in order of first appearance) and lines that are not hits.
fn parse(text: &str) -> (Vec<FileHits<'_>>, Vec<&str>) {
    let mut files: Vec<FileHits<'_>> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut other = Vec::new();
    for raw in text.lines() {
        if raw == "--" || raw.trim().is_empty() {
            continue;
        }
        let Some((path, number, rest)) = split_search_hit(raw) else {
            other.push(raw);
            continue;
        };
        let is_hit = raw.as_bytes()[path.len()] == b':';
        let at = *index.entry(path).or_insert_with(|| {
            files.push(FileHits {
                path,
                lines: Vec::new(),
            });
            files.len() - 1
        });
        files[at].lines.push(Line {
            number,
            text: rest,
            is_hit,
        });
    }
    (files, other)
}

/// Which lines of each file to keep.
fn choose(files: &[FileHits<'_>], ctx: &SegmentContext<'_>) -> Vec<Vec<bool>> {
    let config = ctx.config;
    let question = Question::of(ctx);
    let patterns = ctx
        .tool_arguments
        .as_deref()
        .map(pattern_literals)
        .unwrap_or_default();
    // Every hit as (file, line, score), scored against the question (BM25) and the pattern.
    let mut hits: Vec<(usize, usize, f64)> = Vec::new();
    let mut units: Vec<&str> = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (l, line) in file.lines.iter().enumerate().filter(|(_, l)| l.is_hit) {
            hits.push((f, l, 0.0));
            units.push(line.text);
        }
    }
    // One naming of the hits gives their BM25 scores and, below, the hits the question names.
    let naming = question.naming(&units);
    for ((f, l, score), &base) in hits.iter_mut().zip(&naming.scores) {
        let text = files[*f].lines[*l].text;
        *score = base;
        if !patterns.is_empty() {
            let lower = text.to_ascii_lowercase();
            *score += patterns
                .iter()
                .filter(|p| lower.contains(p.as_str()))
                .count() as f64;
        }
        if is_definition(text) {
            *score += 0.5;
        }
    }
    let mut keep: Vec<Vec<bool>> = files.iter().map(|f| vec![false; f.lines.len()]).collect();
    let mut per_file = vec![0usize; files.len()];
    // What the question names stays whatever the caps: every hit of a file it names (by basename
    // or path suffix) up to a share of the hits, and the hits it names.
    let paths: Vec<&str> = files.iter().map(|f| f.path).collect();
    let named_files = question.naming(&paths).strong;
    let share = ((hits.len() as f64 * STRONG_MAX_SHARE) as usize).max(config.search_max_hits);
    let mut named = 0;
    for &(f, l, _) in &hits {
        if named < share && named_files.binary_search(&f).is_ok() {
            keep[f][l] = true;
            per_file[f] += 1;
            named += 1;
        }
    }
    for h in naming.all() {
        let (f, l, _) = hits[h];
        if !keep[f][l] {
            keep[f][l] = true;
            per_file[f] += 1;
            named += 1;
        }
    }
    // Best first; ties in order of appearance, so the output is deterministic.
    let mut order: Vec<usize> = (0..hits.len()).collect();
    order.sort_by(|&a, &b| hits[b].2.total_cmp(&hits[a].2).then(a.cmp(&b)));
    for &h in &order {
        let (f, l, _) = hits[h];
        if per_file[f] == 0 {
            keep[f][l] = true;
            per_file[f] = 1;
        }
    }
    let mut kept = files.len() + named;
    for &h in &order {
        let (f, l, _) = hits[h];
        if kept >= config.search_max_hits {
            break;
        }
        if !keep[f][l] && per_file[f] < config.search_max_per_file {
            keep[f][l] = true;
            per_file[f] += 1;
            kept += 1;
        }
    }
    // Context lines next to a kept hit stay with it.
    for (file, keep) in files.iter().zip(keep.iter_mut()) {
        let kept_numbers: Vec<usize> = file
            .lines
            .iter()
            .zip(keep.iter())
            .filter(|(_, k)| **k)
            .map(|(l, _)| l.number)
            .collect();
        for (line, k) in file.lines.iter().zip(keep.iter_mut()) {
            if !line.is_hit
                && kept_numbers
                    .iter()
                    .any(|n| n.abs_diff(line.number) <= config.search_context_lines)
            {
                *k = true;
            }
        }
    }
    keep
}

/// The literal words (3+ characters) of the search pattern in a tool call's arguments, lowercased.
fn pattern_literals(arguments: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(arguments)
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for key in [
        "pattern", "query", "regex", "q", "search", "term", "needle", "text",
    ] {
        if let Some(serde_json::Value::String(p)) = map.get(key) {
            for word in p
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| w.len() >= 3)
            {
                let word = word.to_ascii_lowercase();
                if !out.contains(&word) {
                    out.push(word);
                }
            }
        }
    }
    out
}

/// Definitions rank above uses when scores tie: `fn x`, `struct X`, `def x`, `class X`.
fn is_definition(text: &str) -> bool {
    let t = text.trim_start();
    let t = t
        .strip_prefix("pub ")
        .or_else(|| t.strip_prefix("export "))
        .unwrap_or(t);
    [
        "fn ",
        "struct ",
        "enum ",
        "trait ",
        "impl ",
        "def ",
        "class ",
        "func ",
        "function ",
        "interface ",
        "type ",
    ]
    .iter()
    .any(|k| t.starts_with(k))
}

/// `text` cut at a space before `max` characters with a marker, or whole when there is no such space
/// (an identifier, path or URL is never split).
fn shorten<'t>(text: &'t str, max: usize, hash: &str) -> std::borrow::Cow<'t, str> {
    if text.chars().count() <= max {
        return text.into();
    }
    let limit = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    match text[..limit].rfind(' ').filter(|&cut| cut > max / 2) {
        Some(cut) => {
            let total = text.chars().count();
            let omitted = text[cut..].chars().count();
            format!(
                "{} {}",
                &text[..cut],
                Marker::new(omitted, Some(total), "chars", hash).to_text()
            )
            .into()
        }
        None => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_lines_and_separators_parse() {
        let (files, other) = parse("a.rs-1-ctx\na.rs:2:hit\n--\nb.rs:9:x\nBinary file c matches\n");
        assert_eq!(files.len(), 2);
        assert!(!files[0].lines[0].is_hit && files[0].lines[1].is_hit);
        assert_eq!(other, vec!["Binary file c matches"]);
    }

    #[test]
    fn regrouping_alone_is_lossless() {
        let ctx = SegmentContext::for_tests("gpt-4o").with_hash("0123456789abcdef01234567");
        let hits: String = (1..=12)
            .map(|i| format!("src/f{i}.rs:{i}:let a = {i};\n"))
            .collect();
        let out = SearchHitsCompressor.compress(&hits, &ctx).unwrap();
        assert!(!out.lossy);
        assert!(out
            .text
            .starts_with("src/f1.rs\n1:let a = 1;\n\nsrc/f2.rs\n2:let a = 2;"));
    }

    #[test]
    fn long_lines_are_cut_between_words_only() {
        let hash = "0".repeat(24);
        let long = "word ".repeat(100);
        let cut = shorten(&long, 50, &hash);
        assert!(cut.starts_with("word word") && cut.contains("chars omitted"));
        let identifier = "x".repeat(400);
        assert_eq!(shorten(&identifier, 50, &hash), identifier);
    }

    #[test]
    fn pattern_words_come_from_the_arguments() {
        assert_eq!(
            pattern_literals(r#"{"pattern":"unsafe fn\\s+find_raw","path":"src"}"#),
            vec!["unsafe", "find_raw"]
        );
    }
}
