//! Unified diffs (`git diff`, `git show`, `diff -ru`): every file and hunk header, the asked-about
//! changes in full, the rest trimmed.
//!
//! Files and hunks the question or the tool call names stay whole. Elsewhere unchanged context is
//! cut to [`Config::diff_context_lines`](crate::Config) around each change and a hunk keeps its
//! first and last changed lines up to [`Config::diff_max_changed_lines`](crate::Config). Lock files
//! and binary patches become one line (`Cargo.lock: +120 −80 lines`). Every cut leaves a marker.

use super::{Compression, Compressor, SegmentContext};
use crate::marker::Marker;
use crate::question::Question;

/// A named hunk longer than this that adds a whole source file goes through the code compressor
/// (which keeps what the question names in it) rather than staying whole.
const NAMED_HUNK_MAX_LINES: usize = 200;

/// Compresses unified diffs hunk by hunk.
///
/// ```
/// use headroom::compress::{Compressor, DiffCompressor, SegmentContext};
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
///     .with_hash("0123456789abcdef01234567");
/// let mut diff = String::from("diff --git a/Cargo.lock b/Cargo.lock\n--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -1,40 +1,40 @@\n");
/// for i in 0..40 { diff.push_str(&format!("-version = \"0.{i}.0\"\n+version = \"0.{i}.1\"\n")); }
/// let out = DiffCompressor.compress(&diff, &ctx).unwrap();
/// assert!(out.text.starts_with("diff --git a/Cargo.lock b/Cargo.lock\n--- a/Cargo.lock\n+++ b/Cargo.lock\n"));
/// assert!(out.text.contains("Cargo.lock: +40 −40 lines [… 81 of 81 lines omitted · headroom_retrieve hash=0123456789abcdef01234567]"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffCompressor;

/// One hunk: its `@@` header and body lines.
struct Hunk<'t> {
    header: &'t str,
    body: Vec<&'t str>,
}

/// One file of the diff: its header lines (`diff --git`, `index`, `---`, `+++`, …) and hunks.
struct FileDiff<'t> {
    path: String,
    header: Vec<&'t str>,
    hunks: Vec<Hunk<'t>>,
    /// Lines of a `GIT binary patch` (kept only as a count).
    binary: Vec<&'t str>,
}

/// A diff: free lines before the first file (a commit message) and between files (`Only in …`).
enum Part<'t> {
    Line(&'t str),
    File(FileDiff<'t>),
}

impl Compressor for DiffCompressor {
    fn name(&self) -> &'static str {
        "diff"
    }

    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
        let config = ctx.config;
        if text.lines().count() < config.diff_min_lines {
            return None;
        }
        let parts = parse(text);
        if ctx.out_of_time() {
            return None;
        }
        let question = Question::of(ctx);
        let asked = asked_hunks(&parts, &question);
        let paths: Vec<&str> = parts
            .iter()
            .filter_map(|p| match p {
                Part::File(f) => Some(f.path.as_str()),
                Part::Line(_) => None,
            })
            .collect();
        let named_files = question.naming(&paths).strong;
        let mut out = Vec::new();
        let mut transforms: Vec<String> = Vec::new();
        let mut add = |t: &str| {
            if !transforms.iter().any(|x| x == t) {
                transforms.push(t.to_string());
            }
        };
        let mut hunk_index = 0;
        let mut file_index = 0;
        for (n, part) in parts.iter().enumerate() {
            if n % 4096 == 4095 && ctx.out_of_time() {
                return None;
            }
            let file = match part {
                Part::Line(line) => {
                    out.push(line.to_string());
                    continue;
                }
                Part::File(file) => file,
            };
            out.extend(file.header.iter().map(|l| l.to_string()));
            let named = named_files.contains(&file_index);
            file_index += 1;
            if !file.binary.is_empty() {
                let n = file.binary.len();
                let marker = Marker::new(n, Some(n), "lines", &ctx.hash).to_text();
                out.push(format!("{}: binary patch {marker}", file.path));
                add("diff:binary");
            }
            if !named
                && is_summarised(&file.path, &config.diff_summary_files)
                && !file.hunks.is_empty()
            {
                let (added, removed) =
                    file.hunks
                        .iter()
                        .flat_map(|h| &h.body)
                        .fold((0, 0), |(a, r), l| {
                            (
                                a + usize::from(l.starts_with('+')),
                                r + usize::from(l.starts_with('-')),
                            )
                        });
                let lines: usize = file.hunks.iter().map(|h| h.body.len() + 1).sum();
                let marker = Marker::new(lines, Some(lines), "lines", &ctx.hash).to_text();
                out.push(format!(
                    "{}: +{added} −{removed} lines {marker}",
                    base_name(&file.path)
                ));
                hunk_index += file.hunks.len();
                add("diff:summary");
                continue;
            }
            for hunk in &file.hunks {
                out.push(hunk.header.to_string());
                let large_new_code = || {
                    (hunk.body.len() > NAMED_HUNK_MAX_LINES)
                        .then(|| new_file_as_code(file, hunk, ctx))
                        .flatten()
                };
                if named || asked.contains(&hunk_index) {
                    // A large new source file keeps what the question names in it and its
                    // structure (signatures), not every line.
                    match large_new_code() {
                        Some(lines) => {
                            out.extend(lines);
                            add("diff:code");
                        }
                        None => out.extend(hunk.body.iter().map(|l| l.to_string())),
                    }
                } else if let Some(lines) = new_file_as_code(file, hunk, ctx) {
                    out.extend(lines);
                    add("diff:code");
                } else if trim_hunk(hunk, config, &ctx.hash, &mut out) {
                    add("diff:trim");
                }
                hunk_index += 1;
            }
        }
        let mut text_out = out.join("\n");
        if text.ends_with('\n') {
            text_out.push('\n');
        }
        if transforms.is_empty() {
            return None;
        }
        Some(Compression::lossy(text_out, transforms, ctx))
    }
}

/// Hunks the question names (by index over the whole diff): every hunk an anchor of the question
/// picks out by its header or changed lines, and the one hunk that best matches its words.
fn asked_hunks(parts: &[Part<'_>], question: &Question) -> Vec<usize> {
    if question.is_empty() {
        return Vec::new();
    }
    let hunks: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            Part::File(f) => Some(&f.hunks),
            Part::Line(_) => None,
        })
        .flatten()
        .map(|h| {
            let changed = h.body.iter().filter(|l| l.starts_with(['+', '-']));
            std::iter::once(&h.header)
                .chain(changed)
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let units: Vec<&str> = hunks.iter().map(String::as_str).collect();
    let naming = question.naming(&units);
    let mut named = naming.strong;
    // The best hunk by words too (a rare word names a hunk as surely as a path names a file).
    if let Some(best) = naming.weak.first().filter(|b| !named.contains(b)) {
        named.push(*best);
    }
    named
}

/// Writes a hunk's body with context cut to `diff_context_lines` around changes and its changed
/// lines capped (first two thirds and last third kept). Returns whether anything was cut.
fn trim_hunk(hunk: &Hunk<'_>, config: &crate::Config, hash: &str, out: &mut Vec<String>) -> bool {
    let body = &hunk.body;
    let changed: Vec<usize> = (0..body.len())
        .filter(|&i| body[i].starts_with(['+', '-']))
        .collect();
    let cap = config.diff_max_changed_lines.max(1);
    // The changed lines kept: all, or the first and last of them up to the cap.
    let (head, tail) = if changed.len() > cap {
        (cap - cap / 3, cap / 3)
    } else {
        (changed.len(), 0)
    };
    let mut keep = vec![false; body.len()];
    let kept_changes = changed[..head]
        .iter()
        .chain(&changed[changed.len() - tail..]);
    let context = config.diff_context_lines;
    for &c in kept_changes {
        keep[c] = true;
        // Context next to a kept change, and `\ No newline at end of file` notes.
        for j in c.saturating_sub(context)..(c + context + 1).min(body.len()) {
            keep[j] |= !body[j].starts_with(['+', '-']);
        }
        if body.get(c + 1).is_some_and(|l| l.starts_with('\\')) {
            keep[c + 1] = true;
        }
    }
    let mut cut = false;
    let mut i = 0;
    while i < body.len() {
        if keep[i] {
            out.push(body[i].to_string());
            i += 1;
            continue;
        }
        let start = i;
        while i < body.len() && !keep[i] {
            i += 1;
        }
        let marker = Marker::new(i - start, Some(body.len()), "lines", hash).to_text();
        let run: usize = body[start..i].iter().map(|l| l.len() + 1).sum();
        // A marker (its hex hash is token-dense) costs about what twice its length of text does:
        // a shorter run stays.
        if run <= 2 * marker.len() {
            out.extend(body[start..i].iter().map(|l| l.to_string()));
        } else {
            out.push(marker);
            cut = true;
        }
    }
    cut
}

/// A new source file's content through the code compressor (signatures kept, bodies elided inside
/// comments), each line `+`-prefixed again; `None` when the file is not new source or nothing shrinks.
#[cfg(feature = "code")]
fn new_file_as_code(
    file: &FileDiff<'_>,
    hunk: &Hunk<'_>,
    ctx: &SegmentContext<'_>,
) -> Option<Vec<String>> {
    let is_new = file
        .header
        .iter()
        .any(|h| *h == "--- /dev/null" || h.starts_with("new file mode"));
    let language = crate::detect::Language::from_path(&file.path).filter(|_| is_new)?;
    let mut source = String::new();
    for line in &hunk.body {
        match line.strip_prefix('+') {
            Some(code) => {
                source.push_str(code);
                source.push('\n');
            }
            None if line.starts_with('\\') => {}
            None => return None,
        }
    }
    let compressed = super::code::CodeCompressor::new(language).compress(&source, ctx)?;
    (compressed.lossy && compressed.text.len() < source.len())
        .then(|| compressed.text.lines().map(|l| format!("+{l}")).collect())
}

#[cfg(not(feature = "code"))]
fn new_file_as_code(_: &FileDiff<'_>, _: &Hunk<'_>, _: &SegmentContext<'_>) -> Option<Vec<String>> {
    None
}

/// Whether `path` is a lock file or another generated file the config summarises.
fn is_summarised(path: &str, globs: &[String]) -> bool {
    let name = base_name(path);
    globs
        .iter()
        .any(|g| glob::Pattern::new(g).is_ok_and(|p| p.matches(name)))
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Splits a diff into free lines and files, each file into header lines and hunks (hunk bodies are
/// delimited by the line counts in their `@@` headers, so a removed `--- x` line stays in its hunk).
fn parse(text: &str) -> Vec<Part<'_>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let starts_file = line.starts_with("diff ")
            || (line.starts_with("--- ")
                && lines.get(i + 1).is_some_and(|n| n.starts_with("+++ ")));
        if !starts_file {
            parts.push(Part::Line(line));
            i += 1;
            continue;
        }
        let mut file = FileDiff {
            path: String::new(),
            header: vec![line],
            hunks: Vec::new(),
            binary: Vec::new(),
        };
        i += 1;
        // Header lines up to the first hunk or the next file.
        while i < lines.len() && !lines[i].starts_with("@@ ") && !lines[i].starts_with("diff ") {
            if lines[i] == "GIT binary patch" {
                file.header.push(lines[i]);
                i += 1;
                while i < lines.len() && !lines[i].starts_with("diff ") {
                    file.binary.push(lines[i]);
                    i += 1;
                }
                break;
            }
            // A `--- ` right after a complete header starts the next file (plain `diff -u` output).
            if lines[i].starts_with("--- ") && file.header.iter().any(|h| h.starts_with("+++ ")) {
                break;
            }
            if lines[i].starts_with("Only in ") {
                break;
            }
            file.header.push(lines[i]);
            i += 1;
        }
        while i < lines.len() && lines[i].starts_with("@@ ") {
            let header = lines[i];
            i += 1;
            let (mut old, mut new) = hunk_counts(header).unwrap_or((usize::MAX, usize::MAX));
            let mut body = Vec::new();
            while i < lines.len() && (old > 0 || new > 0) {
                let l = lines[i];
                match l.as_bytes().first() {
                    Some(b' ') | None => {
                        old = old.saturating_sub(1);
                        new = new.saturating_sub(1);
                    }
                    Some(b'-') => old = old.saturating_sub(1),
                    Some(b'+') => new = new.saturating_sub(1),
                    Some(b'\\') => {}
                    _ => break,
                }
                body.push(l);
                i += 1;
            }
            // A trailing `\ No newline at end of file` belongs to the hunk.
            if lines.get(i).is_some_and(|l| l.starts_with('\\')) {
                body.push(lines[i]);
                i += 1;
            }
            file.hunks.push(Hunk { header, body });
        }
        file.path = file_path(&file.header);
        parts.push(Part::File(file));
    }
    parts
}

/// The old and new line counts of `@@ -a,b +c,d @@` (a missing count is 1).
fn hunk_counts(header: &str) -> Option<(usize, usize)> {
    let mut ranges = header.strip_prefix("@@ ")?.split(' ');
    let count = |r: &str| -> Option<usize> {
        match r.split_once(',') {
            Some((_, n)) => n.parse().ok(),
            None => Some(1),
        }
    };
    let old = count(ranges.next()?.strip_prefix('-')?)?;
    let new = count(ranges.next()?.strip_prefix('+')?)?;
    Some((old, new))
}

/// The file a header is about: the `+++` side, else the `---` side, else the `diff` line's last path.
fn file_path(header: &[&str]) -> String {
    let side = |prefix: &str| {
        header.iter().find_map(|h| h.strip_prefix(prefix)).map(|p| {
            let p = p.split('\t').next().unwrap_or(p).trim_end();
            p.strip_prefix("a/")
                .or_else(|| p.strip_prefix("b/"))
                .unwrap_or(p)
                .to_string()
        })
    };
    match side("+++ ").filter(|p| p != "/dev/null") {
        Some(p) => p,
        None => side("--- ")
            .filter(|p| p != "/dev/null")
            .or_else(|| {
                header[0]
                    .rsplit(' ')
                    .next()
                    .map(|p| p.strip_prefix("b/").unwrap_or(p).to_string())
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunk_bodies_follow_their_counts() {
        let diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n--- not a header\n+++ not either\n x\n";
        let parts = parse(diff);
        let Part::File(file) = &parts[0] else {
            panic!("a file")
        };
        assert_eq!(file.path, "x");
        assert_eq!(
            file.hunks[0].body,
            vec!["--- not a header", "+++ not either"]
        );
        assert!(matches!(parts[1], Part::Line(" x")));
    }

    #[test]
    fn paths_come_from_the_new_side() {
        assert_eq!(
            file_path(&[
                "diff -ru a/src/x.rs b/src/x.rs",
                "--- a/src/x.rs\t2020-01-01",
                "+++ b/src/x.rs\t2020-01-02"
            ]),
            "src/x.rs"
        );
        assert_eq!(
            file_path(&[
                "diff --git a/gone.rs b/gone.rs",
                "--- a/gone.rs",
                "+++ /dev/null"
            ]),
            "gone.rs"
        );
        assert_eq!(hunk_counts("@@ -3 +3,7 @@ fn main() {"), Some((1, 7)));
    }
}
