//! Build output, test runs and service logs: keep what explains the outcome, fold the repetition.
//!
//! Kept verbatim: every error, fatal and panic line (with a few lines of context and the rest of its
//! diagnostic block), the first occurrence of each warning, summary lines (`test result:`,
//! `error: could not compile`, `4 passed`), stack traces (first and last frames), lines the question
//! names, and the first and last lines. Runs of lines that differ only in numbers, timestamps or ids
//! fold into one line with a count (`… ×37`). Everything else is elided behind markers.
//!
//! Logs made of multi-line records (a `git log` commit, an `apt-cache show` stanza, a
//! test's failure block) are read by record too: a record the question names stays whole (a long
//! one its head, the lines that name it and its last line), a record with an error keeps its
//! header line, and a run of whole records elided is one marker that counts them
//! (`[… 37 of 40 commits omitted · …]`).

mod line_kind;
mod records;

use super::{Compression, Compressor, SegmentContext};
use crate::marker::Marker;
use crate::question::Question;
use line_kind::{classify, template, Kind};
use records::{Records, RECORD_HEAD_LINES, RECORD_MAX_LINES};

/// Compresses log output line by line.
///
/// ```
/// use headroom::compress::{Compressor, LogsCompressor, SegmentContext};
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
///     .with_hash("0123456789abcdef01234567");
/// let mut log = String::new();
/// for i in 0..200 { log.push_str(&format!("   Compiling crate-{i} v1.0.{i}\n")); }
/// log.push_str("error: could not compile `app` (bin \"app\") due to 1 previous error\n");
/// let out = LogsCompressor.compress(&log, &ctx).unwrap();
/// assert!(out.text.contains("error: could not compile `app`"));
/// assert!(out.text.contains("lines omitted · headroom_retrieve hash=0123456789abcdef01234567"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogsCompressor;

impl Compressor for LogsCompressor {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.len() < ctx.config.logs_min_lines {
            return None;
        }
        let plan = Plan::new(&lines, ctx);
        if ctx.out_of_time() {
            return None;
        }
        let (out, transforms) = plan.render(&lines, ctx);
        (out.len() < text.len()).then(|| Compression::lossy(out, transforms, ctx))
    }
}

/// Words a question uses for the kinds of line the rules keep (`which errors does it report?`).
const KIND_WORDS: &[&str] = &[
    "error",
    "errors",
    "warning",
    "warnings",
    "fail",
    "fails",
    "failed",
    "failure",
    "failures",
    "fatal",
    "panic",
    "panics",
    "exception",
    "exceptions",
];

/// Which lines to keep, and which consecutive runs fold into one line.
struct Plan {
    keep: Vec<bool>,
    /// `fold[i] = n` when lines `i..i + n` fold into line `i`.
    fold: Vec<usize>,
    traces_capped: bool,
    records: Option<Records>,
}

impl Plan {
    fn new(lines: &[&str], ctx: &SegmentContext<'_>) -> Plan {
        let config = ctx.config;
        let n = lines.len();
        let kinds: Vec<Kind> = lines.iter().map(|l| classify(l)).collect();
        let mut keep = vec![false; n];
        let mut in_trace = vec![false; n];
        let mut traces_capped = false;
        let question = Question::of(ctx);
        // Lines a rare word of the user's turn names (`manual` on one line of 600), kept as an
        // anchor's are: a word on three lines or fewer names them as surely as a path would.
        // (`errors`, `failed`… ask for what the rules below keep, and name no line.)
        let by_words = question.without_words(KIND_WORDS);
        let mut by_word = vec![false; n];
        if !by_words.words().is_empty() {
            let naming = by_words.naming(lines);
            for &i in naming.weak.iter().take(naming.rare_asked) {
                by_word[i] = true;
            }
        }

        // Stack traces first: they own their lines, so error context never keeps a whole trace.
        let mut i = 0;
        while i < n {
            if matches!(kinds[i], Kind::TraceStart | Kind::Frame) {
                let end = trace_end(lines, &kinds, i);
                if end - i >= 2 {
                    traces_capped |= keep_trace(
                        lines,
                        &kinds,
                        i..end,
                        config.logs_trace_frames,
                        &question,
                        &mut keep,
                    );
                    in_trace[i..end].iter_mut().for_each(|t| *t = true);
                    i = end;
                    continue;
                }
            }
            i += 1;
        }

        let mut seen_warnings = std::collections::HashSet::new();
        for i in 0..n {
            if in_trace[i] && kinds[i] != Kind::Error {
                continue;
            }
            // How far the block may run, and how many lines of it are kept whatever they are.
            let (block, plain_after) = match kinds[i] {
                Kind::Error => {
                    let from = i.saturating_sub(config.logs_context_before);
                    for j in from..i {
                        keep[j] |= !in_trace[j];
                    }
                    (config.logs_block_lines, config.logs_context_after)
                }
                Kind::Warning if seen_warnings.insert(template(lines[i])) => {
                    (config.logs_warning_lines, 0)
                }
                Kind::Summary => (config.logs_warning_lines, 0),
                _ if !question.is_empty()
                    && kinds[i] != Kind::Blank
                    && (by_word[i] || question.mentions(lines[i])) =>
                {
                    (0, 0)
                }
                _ => continue,
            };
            keep[i] = true;
            // The rest of the block: indented or `|`/`=` continuation lines, up to a blank line.
            let mut j = i + 1;
            while j < n && j <= i + block && !in_trace[j] && kinds[j] != Kind::Blank {
                let after = j - i;
                if after > plain_after && !is_continuation(lines[j]) {
                    break;
                }
                keep[j] = true;
                j += 1;
            }
        }
        // Records: the named ones whole, the header of those with an error; never folded inside.
        let records = Records::find(lines, |i| {
            matches!(kinds[i], Kind::Error | Kind::Warning | Kind::Summary)
        });
        let mut whole = vec![false; n];
        if let Some(records) = &records {
            // The question less the tool call's arguments (the engine appends them to the turn).
            let asked = by_words.asked_only();
            let named = records.named(lines, &question, &asked);
            for (range, named) in records.ranges().zip(named) {
                if named {
                    let named_line = |i: usize| by_word[i] || question.mentions(lines[i]);
                    keep_named_record(lines, range.clone(), named_line, &mut keep);
                    whole[range].fill(true);
                } else if range.clone().any(|i| kinds[i] == Kind::Error && keep[i]) {
                    keep[range.start] = true;
                }
            }
        }
        // The last line is the one before a final newline.
        let end = n - usize::from(lines.last() == Some(&""));
        keep[..end.min(config.logs_head_lines)].fill(true);
        keep[end.saturating_sub(config.logs_tail_lines)..end].fill(true);

        // Folds: consecutive lines of one template (errors only when identical).
        let mut fold = vec![1; n];
        let mut i = 0;
        // The template of the line that ended the last run, which starts the next one.
        let mut next_key: Option<(usize, String)> = None;
        while i < n {
            let mut j = i + 1;
            if kinds[i] != Kind::Blank && !in_trace[i] && !whole[i] {
                let key = match next_key.take() {
                    Some((at, key)) if at == i => key,
                    _ => template(lines[i]),
                };
                while j < n && kinds[j] == kinds[i] && !in_trace[j] && !whole[j] {
                    if kinds[i] == Kind::Error {
                        if lines[j] != lines[i] {
                            break;
                        }
                    } else {
                        let other = template(lines[j]);
                        if other != key {
                            next_key = Some((j, other));
                            break;
                        }
                    }
                    j += 1;
                }
            }
            // Kept lines fold from three on; lines that would be elided only from `logs_fold_min`.
            if j - i >= 3 && (keep[i..j].iter().any(|k| *k) || j - i >= config.logs_fold_min) {
                fold[i] = j - i;
                keep[i] = true;
                keep[i + 1..j].fill(false);
            }
            i = j;
        }
        Plan {
            keep,
            fold,
            traces_capped,
            records,
        }
    }

    fn render(&self, lines: &[&str], ctx: &SegmentContext<'_>) -> (String, Vec<String>) {
        let total = lines.len();
        // Lines as a reader counts them: a final newline does not start another line.
        let counted = total - usize::from(lines.last() == Some(&""));
        let mut out = String::new();
        let mut transforms = vec!["logs:keep".to_string()];
        let mut folded = false;
        let mut elided = false;
        let mut i = 0;
        let mut first = true;
        let mut push = |out: &mut String, line: &str| {
            if !first {
                out.push('\n');
            }
            first = false;
            out.push_str(line);
        };
        while i < total {
            if self.fold[i] > 1 {
                let n = self.fold[i];
                let marker = Marker::new(n - 1, Some(n), "similar lines", &ctx.hash).to_text();
                push(
                    &mut out,
                    &format!("{} … ×{n} {marker}", lines[i].trim_end_matches('\r')),
                );
                folded = true;
                i += n;
            } else if self.keep[i] {
                push(&mut out, lines[i]);
                i += 1;
            } else {
                let start = i;
                while i < total && !self.keep[i] && self.fold[i] == 1 {
                    i += 1;
                }
                let marker = match self
                    .records
                    .as_ref()
                    .and_then(|r| Some((r, r.whole_records_in(start..i)?)))
                {
                    Some((records, count)) => {
                        Marker::new(count, Some(records.len()), records.kind(), &ctx.hash)
                    }
                    None => Marker::new(i - start, Some(counted), "lines", &ctx.hash),
                }
                .to_text();
                let run_len: usize = lines[start..i].iter().map(|l| l.len() + 1).sum();
                // A marker (its hex hash is token-dense) costs about what twice its length of text does:
                // a shorter run stays.
                if run_len <= 2 * marker.len() {
                    lines[start..i].iter().for_each(|l| push(&mut out, l));
                } else {
                    push(&mut out, &marker);
                    elided = true;
                }
            }
        }
        if folded {
            transforms.push("logs:fold".into());
        }
        if elided {
            transforms.push("logs:elide".into());
        }
        if self.traces_capped {
            transforms.push("logs:trace".into());
        }
        (out, transforms)
    }
}

/// Keeps a named record: whole, or when longer than [`RECORD_MAX_LINES`] its first
/// [`RECORD_HEAD_LINES`] lines, the lines that name what the question asks (`named_line`) and its
/// last line.
fn keep_named_record(
    lines: &[&str],
    range: std::ops::Range<usize>,
    named_line: impl Fn(usize) -> bool,
    keep: &mut [bool],
) {
    if range.len() <= RECORD_MAX_LINES {
        keep[range].fill(true);
        return;
    }
    keep[range.start..range.start + RECORD_HEAD_LINES].fill(true);
    for i in range.clone() {
        keep[i] |= named_line(i);
    }
    // The last line that says something (a record often ends in a blank line).
    if let Some(last) = range.rev().find(|&i| !lines[i].trim().is_empty()) {
        keep[last] = true;
    }
}

/// Keeps a trace's header, its first and last `frames` frames (a frame with its more indented
/// lines) and the frames the question names. Returns whether frames were left out.
fn keep_trace(
    lines: &[&str],
    kinds: &[Kind],
    range: std::ops::Range<usize>,
    frames: usize,
    question: &Question,
    keep: &mut [bool],
) -> bool {
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut head_indent = usize::MAX;
    for i in range.clone() {
        let indent = indent_of(lines[i]);
        if kinds[i] == Kind::TraceStart && i == range.start {
            keep[i] = true;
            continue;
        }
        match groups.last_mut() {
            Some(group) if indent > head_indent => group.1 = i + 1,
            _ => {
                head_indent = indent;
                groups.push((i, i + 1));
            }
        }
    }
    let cut = groups.len() > 2 * frames;
    for (g, &(from, to)) in groups.iter().enumerate() {
        let named = !question.is_empty() && lines[from..to].iter().any(|l| question.mentions(l));
        if !cut || g < frames || g >= groups.len() - frames || named {
            keep[from..to].iter_mut().for_each(|k| *k = true);
        }
    }
    cut
}

/// Where the trace that starts at `start` ends (exclusive): at a blank line or a line at the left
/// margin that is not itself a frame.
fn trace_end(lines: &[&str], kinds: &[Kind], start: usize) -> usize {
    let go = lines[start].trim_start().starts_with("goroutine ");
    let mut i = start + 1;
    while i < lines.len() {
        let continues = match kinds[i] {
            Kind::Blank => false,
            Kind::Frame | Kind::TraceStart => true,
            _ => go || indent_of(lines[i]) > 0,
        };
        if !continues {
            break;
        }
        i += 1;
    }
    i
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Lines that continue a diagnostic block: indented, or rustc's `|`, `=`, `-->` gutters; not cargo's
/// right-aligned status lines (`   Compiling x`, `     Running …`).
fn is_continuation(line: &str) -> bool {
    (line.starts_with([' ', '\t', '|', '=']) || line.starts_with("...")) && !is_status_line(line)
}

/// `   Compiling foo v1.0`, `    Finished …`: an indented capitalised verb in `-ing` or `-ed`.
fn is_status_line(line: &str) -> bool {
    let word = line.trim_start().split(' ').next().unwrap_or("");
    word.len() > 3
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word[1..].bytes().all(|b| b.is_ascii_lowercase())
        && (word.ends_with("ing") || word.ends_with("ed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_keep_their_ends_and_the_frame_the_question_names() {
        let log = include_str!("../../../tests/fixtures/logs/cargo-test-failure.txt");
        let config = crate::Config {
            logs_trace_frames: 2,
            ..crate::Config::default()
        };
        let ctx = SegmentContext::new(&config, crate::tokens::counter_for_model("gpt-4o"))
            .with_question("why does parses_prerelease_version fail?")
            .with_hash("0123456789abcdef01234567");
        let out = LogsCompressor.compress(log, &ctx).unwrap();
        let kept = |line: &str| out.text.lines().any(|l| l == line);
        assert!(kept("   0: __rustc::rust_begin_unwind"));
        assert!(kept("   4: tinytest::tests::parses_prerelease_version"));
        assert!(kept("   7: <fn() -> core::result::Result<(), alloc::string::String> as core::ops::function::FnOnce<()>>::call_once"));
        assert!(!kept("   2: core::panicking::assert_failed_inner"));
        assert!(!kept("   3: core::panicking::assert_failed"));
        assert!(out.transforms.contains(&"logs:trace".to_string()));
        assert!(out.text.contains(
            "[… 4 of 45 lines omitted · headroom_retrieve hash=0123456789abcdef01234567]"
        ));
    }
}
