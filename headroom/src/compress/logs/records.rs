//! Records in logs: lines that belong together under a header line whose shape repeats.
//!
//! `git log` prints a commit as `commit <hash>`, `Author:`, `Date:`, its message and `--stat`
//! lines; `apt-cache show` and `dpkg -s` a stanza per package from `Package:`; `cargo test` a
//! failure block per test from `---- name stdout ----`; Go's runner a block per `=== RUN`. The
//! header is found by shape, not by name: the first word of lines at the left margin (digits and
//! hex ids read as placeholders) that repeats, differs in the rest of its line from one record to
//! the next, and opens records of more than one line. Of several, the most frequent wins, then
//! the one seen first (`commit` before `Author:` and `Date:`).

use crate::compress::relevance::{contains_term, Question};
use std::collections::HashMap;
use std::ops::Range;

/// A named record longer than this keeps its head, its anchor lines and its last line only.
pub(super) const RECORD_MAX_LINES: usize = 60;
/// Lines at the head of a long named record that are kept.
pub(super) const RECORD_HEAD_LINES: usize = 16;
/// Records a weak anchor (a question word found in few records) may name.
const WEAK_RECORDS: usize = 2;
/// A question word names the records it occurs in when it occurs in at most this many.
const RARE_RECORDS: usize = 3;

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
    /// The records of `lines`, if a header shape repeats (see the module docs).
    pub(super) fn find(lines: &[&str]) -> Option<Records> {
        let end = lines.len() - usize::from(lines.last() == Some(&""));
        let mut keys: HashMap<String, Seen> = HashMap::new();
        for (i, line) in lines[..end].iter().enumerate() {
            let Some(key) = header_key(line) else {
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
            .filter(|(_, s)| s.positions.len() >= 2 && s.varies && multi_line(&s.positions, end))
            .max_by_key(|(_, s)| (s.positions.len(), std::cmp::Reverse(s.positions[0])))?;
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

    /// Which records the question names: every record with an exact term of the question (a
    /// number, an identifier or path, a quoted phrase, a hex prefix of a longer hash), and the best
    /// [`WEAK_RECORDS`] of the records holding a question word found in few of them.
    pub(super) fn named(&self, lines: &[&str], question: &Question) -> Vec<bool> {
        let texts: Vec<String> = self
            .ranges()
            .map(|r| lines[r].join("\n").to_lowercase())
            .collect();
        let prefixes: Vec<&String> = question
            .exact_terms()
            .iter()
            .filter(|t| t.len() >= 7 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect();
        let mut named: Vec<bool> = texts
            .iter()
            .map(|text| {
                question
                    .exact_terms()
                    .iter()
                    .any(|t| contains_term(text, t))
                    || prefixes.iter().any(|p| has_prefix_token(text, p))
            })
            .collect();
        // Weak anchors, when no exact term names a record: a question word in at most three
        // records (and at most half of them) names them, the best two kept.
        let mut weak = vec![false; texts.len()];
        let strong = named.iter().any(|n| *n);
        for word in question.words().iter().filter(|_| !strong) {
            let holding: Vec<usize> = (0..texts.len())
                .filter(|&r| contains_term(&texts[r], word))
                .collect();
            if !holding.is_empty()
                && holding.len() <= RARE_RECORDS
                && holding.len() * 2 <= texts.len()
            {
                holding.iter().for_each(|&r| weak[r] = true);
            }
        }
        if weak.iter().any(|w| *w) {
            let units: Vec<&str> = texts.iter().map(String::as_str).collect();
            let scores = question.scores(&units);
            let mut order: Vec<usize> =
                (0..texts.len()).filter(|&r| weak[r] && !named[r]).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            order
                .into_iter()
                .take(WEAK_RECORDS)
                .for_each(|r| named[r] = true);
        }
        named
    }
}

/// Whether most records from `positions` on run over more than one line.
fn multi_line(positions: &[usize], end: usize) -> bool {
    let mut gaps: Vec<usize> = positions
        .windows(2)
        .map(|w| w[1] - w[0])
        .chain(std::iter::once(end - positions[positions.len() - 1]))
        .collect();
    gaps.sort_unstable();
    gaps[gaps.len() / 2] >= 2
}

/// The shape of a line's first word, if the line is at the left margin: digits become `0`, hex ids
/// `#`, and runs of one punctuation mark shrink to three (`-----` and `----` are one shape).
fn header_key(line: &str) -> Option<String> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let word = line.split_whitespace().next()?;
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

/// Whether `text` (lowercased) has a token that starts with the hex `prefix` (`a1b2c3d` names
/// `a1b2c3d4e5f6…`).
fn has_prefix_token(text: &str, prefix: &str) -> bool {
    text.match_indices(prefix).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let rest = &text[at + prefix.len()..];
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && rest
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() || c.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIT_LOG: &str = "commit 3f9ac0d1e2b4a5c6d7e8f90112233445566778899\nAuthor: A <a@x>\nDate:   Mon Nov 25 07:21:00 2024 +0000\n\n    Fix the parser\n\n src/parse.rs | 3 +-\n 1 file changed\n\ncommit 00aa11bb22cc33dd44ee55ff66778899aabbccdd\nAuthor: B <b@x>\nDate:   Sun Nov 24 10:00:00 2024 +0000\n\n    Add the tokenizer\n\n src/token.rs | 40 ++++\n 1 file changed\n";

    #[test]
    fn commits_are_records_from_their_header() {
        let lines: Vec<&str> = GIT_LOG.split('\n').collect();
        let records = Records::find(&lines).unwrap();
        assert_eq!(records.kind(), "commits");
        assert_eq!(records.ranges().collect::<Vec<_>>(), vec![0..9, 9..17]);
        assert_eq!(records.whole_records_in(9..18), Some(1));
        assert_eq!(records.whole_records_in(2..9), None);
        let q = Question::parse("what did commit 00aa11b change?");
        assert_eq!(records.named(&lines, &q), vec![false, true]);
        let q = Question::parse("which commit touched src/parse.rs?");
        assert_eq!(records.named(&lines, &q), vec![true, false]);
        let q = Question::parse("when was the tokenizer added?");
        assert_eq!(records.named(&lines, &q), vec![false, true]);
    }

    #[test]
    fn one_line_entries_are_not_records() {
        let log =
            "2024-05-01 10:00:01 INFO a\n2024-05-01 10:00:02 INFO b\n2024-05-01 10:00:03 WARN c\n";
        let lines: Vec<&str> = log.split('\n').collect();
        assert_eq!(Records::find(&lines), None);
        assert_eq!(header_key("-------- x ----"), Some("---".into()));
    }
}
