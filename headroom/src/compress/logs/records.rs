//! Records in logs: lines that belong together under a header line whose shape repeats.
//!
//! `git log` prints a commit as `commit <hash>`, `Author:`, `Date:`, its message and `--stat`
//! lines; `apt-cache show` and `dpkg -s` a stanza per package from `Package:`; `cargo test` a
//! failure block per test from `---- name stdout ----`; Go's runner a block per `=== RUN`. The
//! header is found by shape, not by name: the first word of lines at the left margin (digits and
//! hex ids read as placeholders) that repeats, differs in the rest of its line from one record to
//! the next, and opens records of more than one line. Of several, the one seen first wins: the
//! outermost (`commit` before `Author:`, and before the `diff` and `@@` of a `git log -p`).

use crate::question::Question;
use std::collections::HashMap;
use std::ops::Range;

/// A named record longer than this keeps its head, its anchor lines and its last line only.
pub(super) const RECORD_MAX_LINES: usize = 60;
/// Lines at the head of a long named record that are kept.
pub(super) const RECORD_HEAD_LINES: usize = 16;

/// The records of a log: where each starts, and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Records {
    /// The first line of each record, ascending.
    starts: Vec<usize>,
    /// Where the last record ends (exclusive): the end of the text.
    end: usize,
    /// What a marker calls them: `commits` or `records`.
    kind: &'static str,
}

/// What the scan knows of one header key.
struct Seen {
    positions: Vec<usize>,
    varies: bool,
}

impl Records {
    /// The records of `lines`, if a header shape repeats three times or more (see the module
    /// docs). Lines for which `diagnostic` holds (a compiler's `warning:` and `error:` blocks and
    /// summaries, kept by their own rules) head no record.
    pub(super) fn find(lines: &[&str], diagnostic: impl Fn(usize) -> bool) -> Option<Records> {
        let end = lines.len() - usize::from(lines.last() == Some(&""));
        let mut keys: HashMap<String, Seen> = HashMap::new();
        for (i, line) in lines[..end].iter().enumerate() {
            let Some(key) = header_key(line).filter(|_| !diagnostic(i)) else {
                continue;
            };
            let seen = keys.entry(key).or_insert_with(|| Seen {
                positions: Vec::new(),
                varies: false,
            });
            if let Some(&first) = seen.positions.first() {
                seen.varies |= lines[first] != *line;
            }
            seen.positions.push(i);
        }
        let (key, seen) = keys
            .into_iter()
            .filter(|(_, s)| s.positions.len() >= 3 && s.varies && multi_line(&s.positions, end))
            .min_by_key(|(_, s)| (s.positions[0], std::cmp::Reverse(s.positions.len())))?;
        let commits = key == "commit"
            && seen
                .positions
                .iter()
                .all(|&i| lines[i].split_whitespace().nth(1).is_some_and(is_hash));
        Some(Records {
            starts: seen.positions,
            end,
            kind: if commits { "commits" } else { "records" },
        })
    }

    /// What a marker calls them: `commits` or `records`.
    pub(super) fn kind(&self) -> &'static str {
        self.kind
    }

    /// How many records there are.
    pub(super) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The line range of each record, in order.
    pub(super) fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.starts.iter().enumerate().map(|(r, &start)| {
            let end = self.starts.get(r + 1).copied().unwrap_or(self.end);
            start..end
        })
    }

    /// How many whole records the line range `run` is, if it is whole records only.
    pub(super) fn whole_records_in(&self, run: Range<usize>) -> Option<usize> {
        let end = run.end.min(self.end);
        let first = self.starts.binary_search(&run.start).ok()?;
        let ends_on_boundary = end == self.end || self.starts.binary_search(&end).is_ok();
        (ends_on_boundary && end > run.start).then(|| {
            self.starts[first..]
                .iter()
                .take_while(|&&s| s < end)
                .count()
        })
    }

    /// Which records the question names (see [`Question::naming`]): every record an anchor picks
    /// out (a hash prefix, a quoted subject, a path in `--stat` lines, a version, a date), or when
    /// none does, the few best records holding a rare question word (a long one too: it keeps
    /// its head and the lines holding the word), or short ones scoring best by the words.
    ///
    /// Words count only when no anchor names a record (a common word such as `commit` would pick
    /// any), and only the words of `asked`, the user's turn: the tool call's own words (`cargo
    /// build`, the packages `apt-cache show` was given) run through its whole output.
    pub(super) fn named(&self, lines: &[&str], question: &Question, asked: &Question) -> Vec<bool> {
        let texts: Vec<String> = self.ranges().map(|r| lines[r].join("\n")).collect();
        let units: Vec<&str> = texts.iter().map(String::as_str).collect();
        let strong = question.naming(&units).strong;
        let picked = if strong.is_empty() {
            // A word names a record if the record is short enough to keep whole, or if it is a
            // rare word (the record then keeps its head and the lines holding it).
            let ranges: Vec<Range<usize>> = self.ranges().collect();
            let naming = asked.naming(&units);
            naming
                .weak
                .iter()
                .enumerate()
                .filter(|&(rank, &r)| {
                    rank < naming.rare_asked || ranges[r].len() <= RECORD_MAX_LINES
                })
                .map(|(_, &r)| r)
                .collect()
        } else {
            strong
        };
        let mut named = vec![false; units.len()];
        picked.into_iter().for_each(|r| named[r] = true);
        named
    }
}

/// Whether the records from `positions` on look like records: most run over more than one line,
/// and none holds half of their lines.
fn multi_line(positions: &[usize], end: usize) -> bool {
    let mut gaps: Vec<usize> = positions
        .windows(2)
        .map(|w| w[1] - w[0])
        .chain(std::iter::once(end - positions[positions.len() - 1]))
        .collect();
    gaps.sort_unstable();
    let covered = end - positions[0];
    gaps[gaps.len() / 2] >= 2 && gaps[gaps.len() - 1] * 2 <= covered
}

/// The shape of a line's first word, if the line is at the left margin: digits become `0`, hex ids
/// `#`, and runs of one punctuation mark shrink to three (`-----` and `----` are one shape).
fn header_key(line: &str) -> Option<String> {
    // A header names its record: it starts at the margin and holds a word.
    if line.starts_with(char::is_whitespace) || !line.contains(char::is_alphabetic) {
        return None;
    }
    let word = line.split_whitespace().next()?;
    // A word, or a rule of one mark (`----`, `===`, `___`), opens a header; a lone quote or
    // bracket continues something.
    let mut chars = word.chars();
    let first = chars.next()?;
    if !first.is_alphanumeric() && chars.next() != Some(first) {
        return None;
    }
    // A number, a date or a clock time heads a line, not a record (`136 |` in a compiler's
    // snippet, `2024-05-01 10:00:01` in a service log).
    if word.contains(|c: char| c.is_ascii_digit()) && !word.contains(char::is_alphabetic) {
        return None;
    }
    if is_hash(word) {
        return Some("#".into());
    }
    let mut key = String::with_capacity(word.len());
    let mut run = 0;
    let mut last = None;
    for c in word.chars().take(64) {
        let c = if c.is_ascii_digit() { '0' } else { c };
        run = if Some(c) == last { run + 1 } else { 1 };
        last = Some(c);
        if c.is_alphanumeric() || run <= 3 {
            key.push(c);
        }
    }
    Some(key)
}

/// A commit hash or other hex id: seven or more hex digits, at least one a digit.
fn is_hash(word: &str) -> bool {
    word.len() >= 7
        && word.bytes().all(|b| b.is_ascii_hexdigit())
        && word.bytes().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four commits of `git log --stat`, the shape git prints.
    fn git_log() -> String {
        let commits = [
            (
                "3f9ac0d1e2b4a5c6d7e8f90112233445566778899",
                "Fix the parser",
                "src/parse.rs",
            ),
            (
                "00aa11bb22cc33dd44ee55ff66778899aabbccdd",
                "Add the tokenizer",
                "src/token.rs",
            ),
            (
                "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
                "Document the lexer",
                "README.md",
            ),
            (
                "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
                "Bump the version",
                "Cargo.toml",
            ),
        ];
        commits
            .iter()
            .map(|(hash, subject, file)| {
                format!("commit {hash}\nAuthor: A <a@x>\nDate:   Mon Nov 25 07:21:00 2024 +0000\n\n    {subject}\n\n {file} | 3 +-\n 1 file changed\n\n")
            })
            .collect()
    }

    #[test]
    fn commits_are_records_from_their_header() {
        let log = git_log();
        let lines: Vec<&str> = log.split('\n').collect();
        let records = Records::find(&lines, |_| false).unwrap();
        assert_eq!(records.kind(), "commits");
        assert_eq!(records.len(), 4);
        assert_eq!(records.ranges().nth(1), Some(9..18));
        assert_eq!(records.whole_records_in(9..27), Some(2));
        assert_eq!(records.whole_records_in(9..37), Some(3));
        assert_eq!(records.whole_records_in(2..9), None);
        let named = |question: &str| {
            let question = Question::parse(question);
            records.named(&lines, &question, &question)
        };
        assert_eq!(
            named("what did commit 00aa11b change?"),
            [false, true, false, false]
        );
        assert_eq!(
            named("which commit touched src/parse.rs?"),
            [true, false, false, false]
        );
        assert_eq!(
            named("when was the tokenizer added?"),
            [false, true, false, false]
        );
    }

    #[test]
    fn one_line_entries_are_not_records() {
        let log =
            "2024-05-01 10:00:01 INFO a\n2024-05-01 10:00:02 INFO b\n2024-05-01 10:00:03 WARN c\n";
        let lines: Vec<&str> = log.split('\n').collect();
        assert_eq!(Records::find(&lines, |_| false), None);
        assert_eq!(header_key("-------- x ----"), Some("---".into()));
        assert_eq!(header_key("136 |     impl_from! {"), None);
        assert_eq!(header_key("...   |"), None);
        assert_eq!(header_key("' CARGO_PKG_NAME=memchr"), None);
        assert_eq!(header_key("Package: dpkg"), Some("Package:".into()));
    }
}
