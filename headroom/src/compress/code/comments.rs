//! Long comments shortened to their first paragraph: doc comments, license headers and docstrings
//! keep their summary lines, and the rest becomes a marker inside the same comment (or string),
//! so the file still parses.
//!
//! ```text
//! /// Parses a header line.
//! /// [… 14 lines omitted · headroom_retrieve hash=…]
//! ```

use super::grammar::Kinds;
use crate::marker::Marker;
use crate::question::{Question, WEAK_MAX_UNITS};
use std::ops::Range;
use tree_sitter::Node;

/// Where lines start, to turn rows into byte offsets.
pub(crate) struct Lines<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

impl<'s> Lines<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Lines { source, starts }
    }

    /// The text of `row`, without its line break.
    fn text(&self, row: usize) -> &'s str {
        let start = self.starts[row];
        let end = self
            .starts
            .get(row + 1)
            .map_or(self.source.len(), |&e| e - 1);
        self.source[start..end].trim_end_matches('\r')
    }

    /// Bytes from the start of row `first` to the end of row `last` (its line break excluded).
    fn span(&self, first: usize, last: usize) -> Range<usize> {
        self.starts[first]..self.starts[first] + self.text_span_len(first, last)
    }

    fn text_span_len(&self, first: usize, last: usize) -> usize {
        let end = self.starts[last] + self.text(last).len();
        end - self.starts[first]
    }
}

/// One comment to shorten: its rows and how its lines are written.
struct Group {
    first: usize,
    last: usize,
    style: Style,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// A run of `//`, `///`, `#` lines: the marker line gets the same prefix.
    Lines,
    /// `/* … */`: the marker line sits inside, the closing line stays.
    Block,
    /// A Python docstring: the marker sits inside the string, the closing quotes stay.
    Docstring,
}

/// How comments are shortened: which nodes are comments, how many lines of each stay, and the
/// hash its markers carry.
pub(crate) struct Shortening<'a> {
    /// The grammar's node kinds (comments, strings) by id.
    pub(crate) kinds: &'a Kinds,
    /// Long comments keep their first paragraph, at most this many lines (0: comments stay whole).
    pub(crate) keep_lines: usize,
    /// The segment hash the markers carry.
    pub(crate) hash: &'a str,
}

/// Shortening edits for the long ones among `comments` (a tree's comments and strings, in
/// document order: see [`super::outline::Outline`]) that lie outside `skip` (elided bodies,
/// functions kept whole), do not end just above a row of `keep_whole_above` (the doc comment
/// of a function kept whole) and are not named by `question` (by an anchor, else the best one by
/// its words). `keep_lines == 0` shortens nothing.
pub(crate) fn shorten(
    comments: &[Node<'_>],
    lines: &Lines<'_>,
    skip: &[Range<usize>],
    keep_whole_above: &[usize],
    question: Option<&Question>,
    how: &Shortening<'_>,
) -> Vec<(Range<usize>, String)> {
    if how.keep_lines == 0 {
        return Vec::new();
    }
    let mut skip = Skip::new(skip);
    let mut groups: Vec<Group> = Vec::new();
    for &node in comments {
        if skip.covers(node.byte_range()) {
            continue;
        }
        let Some(group) = group_of(node, lines, how.kinds) else {
            continue;
        };
        match groups.last_mut() {
            Some(prev)
                if prev.style == Style::Lines
                    && group.style == Style::Lines
                    && prev.last + 1 == group.first =>
            {
                prev.last = group.last;
            }
            _ => groups.push(group),
        }
    }
    // The doc comment right above a function kept whole stays whole too, and so do the comments
    // the question names.
    let texts: Vec<&str> = groups
        .iter()
        .map(|g| &lines.source[lines.span(g.first, g.last)])
        .collect();
    let named: Vec<usize> =
        question.map_or_else(Vec::new, |q| q.naming(&texts).kept_whole(WEAK_MAX_UNITS));
    groups
        .iter()
        .enumerate()
        .filter(|(i, g)| {
            !named.contains(i)
                && !keep_whole_above
                    .iter()
                    .any(|&row| g.last < row && row <= g.last + 4)
        })
        .filter_map(|(_, group)| edit(group, lines, how.keep_lines, how.hash))
        .collect()
}

/// The comment (or docstring) `node` is, if it stands on lines of its own.
fn group_of(node: Node<'_>, lines: &Lines<'_>, kinds: &Kinds) -> Option<Group> {
    let style = if kinds.is_comment(node) {
        if lines.source[node.byte_range()].starts_with("/*") {
            Style::Block
        } else {
            Style::Lines
        }
    } else if kinds.is_string(node) && is_docstring(node) {
        Style::Docstring
    } else {
        return None;
    };
    let first = node.start_position().row;
    let end = node.end_position();
    // Some grammars end a line comment after its line break.
    let last = if end.column == 0 && end.row > first {
        end.row - 1
    } else {
        end.row
    };
    // Tree-sitter's column can fall past our line's text (a line that ends in a lone `\r`) or
    // inside a character: then the comment is not known to stand alone, and is left as it is.
    let alone = lines
        .text(first)
        .get(..node.start_position().column)
        .is_some_and(|before| before.trim().is_empty());
    alone.then_some(Group { first, last, style })
}

/// The byte ranges a walk in document order leaves alone, merged and sorted, with a cursor that
/// only moves forward: one look-up per node instead of a scan of every range.
struct Skip {
    ranges: Vec<Range<usize>>,
    at: usize,
}

impl Skip {
    fn new(ranges: &[Range<usize>]) -> Skip {
        let mut sorted = ranges.to_vec();
        sorted.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(sorted.len());
        for range in sorted {
            match merged.last_mut() {
                // Ranges nest or are disjoint (they are tree nodes and parts of bodies): merging
                // the overlapping ones (not the touching) keeps what one range holds the same.
                Some(last) if range.start < last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        Skip {
            ranges: merged,
            at: 0,
        }
    }

    /// Whether one range holds all of `range`; the ranges asked about start in document order.
    fn covers(&mut self, range: Range<usize>) -> bool {
        while self
            .ranges
            .get(self.at)
            .is_some_and(|r| r.end <= range.start && r.end < range.end)
        {
            self.at += 1;
        }
        self.ranges
            .get(self.at)
            .is_some_and(|r| r.start <= range.start && range.end <= r.end)
    }
}

/// A string that is the first statement of a Python module, class or function body.
fn is_docstring(string: Node<'_>) -> bool {
    let Some(statement) = string
        .parent()
        .filter(|p| p.kind() == "expression_statement")
    else {
        return false;
    };
    statement.named_child_count() == 1
        && statement
            .parent()
            .is_some_and(|p| matches!(p.kind(), "block" | "module"))
        && statement
            .prev_named_sibling()
            .is_none_or(|s| s.kind() == "comment")
}

/// Keeps the group's first paragraph (at most `keep_lines` lines) and marks the rest.
fn edit(
    group: &Group,
    lines: &Lines<'_>,
    keep_lines: usize,
    hash: &str,
) -> Option<(Range<usize>, String)> {
    // The closing line of a block comment or docstring stays when it holds only the delimiter.
    let closing_alone = |row: usize| {
        let t = lines.text(row).trim();
        t.len() <= 4 && (t.ends_with("*/") || t.ends_with("\"\"\"") || t.ends_with("'''"))
    };
    let mut last = group.last;
    let mut close = "";
    if group.style != Style::Lines {
        if closing_alone(last) && last > group.first {
            last -= 1;
        } else if group.style == Style::Block {
            close = " */";
        } else {
            return None;
        }
    }
    let content = |row: usize| {
        !lines
            .text(row)
            .trim_matches(|c: char| c.is_whitespace() || "/*!#\"'".contains(c))
            .is_empty()
    };
    let start = (group.first..=last).find(|&r| content(r))?;
    let mut keep_end = start;
    while keep_end < last && keep_end + 1 - start < keep_lines.max(1) && content(keep_end + 1) {
        keep_end += 1;
    }
    let elided = last - keep_end;
    if elided < 2 {
        return None;
    }
    let from = keep_end + 1;
    let line = lines.text(from);
    let indent = &line[..line.len() - line.trim_start().len()];
    let prefix = match group.style {
        Style::Lines => {
            let body = line.trim_start();
            let end = body
                .find(|c: char| !"/!#;-".contains(c))
                .unwrap_or(body.len());
            format!("{} ", &body[..end])
        }
        Style::Block if line.trim_start().starts_with('*') => "* ".to_string(),
        _ => String::new(),
    };
    let marker = Marker::new(elided, None, "lines", hash).to_text();
    // A marker costs about as much as a line and a half of prose: shorten only what pays for it.
    if lines.span(from, last).len() < 2 * marker.len() {
        return None;
    }
    Some((
        lines.span(from, last),
        format!("{indent}{prefix}{marker}{close}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The forward-only look-up answers as a scan of every range would, for nested, touching
    /// and disjoint ranges and nodes asked in document order.
    #[test]
    fn skip_covers_what_one_range_holds() {
        let ranges = [10..20, 12..15, 20..30, 40..50];
        let nodes = [
            0..5,
            10..20,
            11..14,
            15..25,
            20..20,
            20..30,
            30..30,
            35..45,
            41..49,
            50..50,
            55..60,
        ];
        let mut skip = Skip::new(&ranges);
        for node in nodes {
            let scan = ranges
                .iter()
                .any(|r| r.start <= node.start && node.end <= r.end);
            assert_eq!(skip.covers(node.clone()), scan, "{node:?}");
        }
    }
}
