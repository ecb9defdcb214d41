//! Prose cut at its natural joints: blocks (paragraphs, fenced blocks) and, inside a long
//! paragraph, sentences or lines. Every cut falls on whitespace, so no word, number, identifier,
//! path or URL is ever split, and the pieces tile the text exactly.

use std::ops::Range;

/// What a block holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// Paragraph text.
    Prose,
    /// A fenced block (```` ```tag ````): `inner` is the text between the fence lines.
    Fenced { tag: String, inner: Range<usize> },
}

/// A run of non-blank lines (or one fenced block) with the blank lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// The block and its trailing blank lines; blocks tile the text.
    pub(crate) range: Range<usize>,
    /// Where the trailing whitespace starts.
    pub(crate) content_end: usize,
    pub(crate) kind: BlockKind,
}

/// Splits `text` into blocks: fenced blocks whole, paragraphs at blank lines.
/// Leading blank lines belong to the first block.
pub(crate) fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = lines_with_ends(text).peekable();
    let mut start = 0;
    while let Some(line) = lines.next() {
        let content = &text[line.clone()];
        if content.trim().is_empty() {
            continue;
        }
        let kind = match fence(content) {
            Some((marker, tag)) => {
                let inner_start = line.end;
                let mut inner_end = None;
                for next in lines.by_ref() {
                    if closes(&text[next.clone()], marker) {
                        inner_end = Some((next.start, next.end));
                        break;
                    }
                }
                match inner_end {
                    Some((inner_end, fence_end)) => {
                        blocks.push(finish(
                            text,
                            start,
                            fence_end,
                            BlockKind::Fenced {
                                tag: tag.to_string(),
                                inner: inner_start..inner_end,
                            },
                            &mut lines,
                        ));
                        start = blocks.last().map_or(0, |b: &Block| b.range.end);
                        continue;
                    }
                    // An unclosed fence: the rest is one block of its own.
                    None => {
                        blocks.push(Block {
                            range: start..text.len(),
                            content_end: text.trim_end().len().max(start),
                            kind: BlockKind::Prose,
                        });
                        return blocks;
                    }
                }
            }
            None => BlockKind::Prose,
        };
        let mut end = line.end;
        while let Some(next) = lines.peek() {
            let next_text = &text[next.clone()];
            if next_text.trim().is_empty() || fence(next_text).is_some() {
                break;
            }
            end = next.end;
            lines.next();
        }
        blocks.push(finish(text, start, end, kind, &mut lines));
        start = blocks.last().map_or(0, |b| b.range.end);
    }
    if let Some(last) = blocks.last_mut() {
        last.range.end = text.len();
    }
    blocks
}

/// Closes a block at `content_end`, taking the blank lines that follow.
fn finish(
    text: &str,
    start: usize,
    content_end: usize,
    kind: BlockKind,
    lines: &mut std::iter::Peekable<impl Iterator<Item = Range<usize>>>,
) -> Block {
    let mut end = content_end;
    while let Some(next) = lines.peek() {
        if !text[next.clone()].trim().is_empty() {
            break;
        }
        end = next.end;
        lines.next();
    }
    // The content ends before its own line break, which counts as trailing whitespace.
    let content_end = start + text[start..content_end].trim_end().len();
    Block {
        range: start..end,
        content_end,
        kind,
    }
}

/// An opening fence: its marker (``` or ~~~, at least three) and its tag.
fn fence(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.len() - trimmed.trim_start_matches(ch).len();
    if run < 3 {
        return None;
    }
    let tag = trimmed[run..].trim();
    if ch == '`' && tag.contains('`') {
        return None;
    }
    Some((&trimmed[..run], tag))
}

fn closes(line: &str, marker: &str) -> bool {
    let trimmed = line.trim();
    let ch = marker.chars().next().unwrap_or('`');
    trimmed.len() >= marker.len() && trimmed.chars().all(|c| c == ch)
}

/// The byte ranges of the lines of `text`, each with its line break.
pub(crate) fn lines_with_ends(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= text.len() {
            return None;
        }
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
        let line = at..end;
        at = end;
        Some(line)
    })
}

/// How a long paragraph was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A term and its indented definition (man pages), a list item and its continuation lines.
    Entries,
    Sentences,
    Lines,
}

impl Piece {
    /// The unit markers count.
    pub(crate) fn unit(self) -> &'static str {
        match self {
            Piece::Entries => "entries",
            Piece::Sentences => "sentences",
            Piece::Lines => "lines",
        }
    }
}

/// A paragraph is cut into sentences only when they span this many lines or fewer on average.
const MAX_LINES_PER_SENTENCE: usize = 4;

/// Cuts `range` of `text` into entries, else into sentences (each with the whitespace after it)
/// when it has several and they span a few lines each, else into lines. A sentence ends at `.`,
/// `!` or `?` (and closing quotes or brackets) followed by whitespace and then a character that is
/// not a lowercase letter, except after a short abbreviation.
pub(crate) fn pieces(text: &str, range: Range<usize>) -> (Piece, Vec<Range<usize>>) {
    let entries = entries(text, range.clone());
    if entries.len() > 1 {
        return (Piece::Entries, entries);
    }
    let sentences = sentences(text, range.clone());
    let lines: Vec<Range<usize>> = lines_with_ends(&text[range.clone()])
        .map(|r| r.start + range.start..r.end + range.start)
        .collect();
    // Flowing prose ends a sentence every few lines; records one per line (`ls -l`, a table)
    // end one now and then by chance (a `.` entry), which would make a few huge "sentences".
    if sentences.len() > 1 && lines.len() <= sentences.len() * MAX_LINES_PER_SENTENCE {
        return (Piece::Sentences, sentences);
    }
    (Piece::Lines, lines)
}

/// Entries: each line at the block's smallest indentation starts one, the more indented lines
/// after it belong to it. Only when some entry has such lines (else these are plain lines).
fn entries(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let indent = |r: &Range<usize>| {
        let line = &text[r.clone()];
        line.len() - line.trim_start().len()
    };
    let lines: Vec<Range<usize>> = lines_with_ends(&text[range.clone()])
        .map(|r| r.start + range.start..r.end + range.start)
        .filter(|r| !text[r.clone()].trim().is_empty())
        .collect();
    let Some(least) = lines.iter().map(indent).min() else {
        return Vec::new();
    };
    let starts: Vec<usize> = lines
        .iter()
        .filter(|r| indent(r) == least)
        .map(|r| r.start)
        .collect();
    if starts.len() < 2 || starts.len() == lines.len() || starts[0] != lines[0].start {
        return Vec::new();
    }
    let mut out: Vec<Range<usize>> = starts.windows(2).map(|w| w[0]..w[1]).collect();
    out.push(starts[starts.len() - 1]..range.end);
    out[0].start = range.start;
    out
}

fn sentences(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let slice = &text[range.clone()];
    let bytes = slice.as_bytes();
    let mut cuts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'.' | b'!' | b'?') {
            let mut end = i + 1;
            while end < bytes.len() && matches!(bytes[end], b'"' | b'\'' | b')' | b']') {
                end += 1;
            }
            let mut next = end;
            while next < bytes.len() && bytes[next].is_ascii_whitespace() {
                next += 1;
            }
            let followed = next > end && next < bytes.len();
            if followed
                && !slice[next..].starts_with(|c: char| c.is_lowercase())
                && !abbreviation(&slice[..i])
            {
                cuts.push(range.start + next);
            }
            i = next.max(i + 1);
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = range.start;
    for cut in cuts {
        out.push(start..cut);
        start = cut;
    }
    out.push(start..range.end);
    out
}

/// Whether the word before a period is an abbreviation (`e.g`, `Dr`, a single letter), not a sentence end.
fn abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    const SHORT: &[&str] = &[
        "e.g", "i.e", "etc", "vs", "cf", "Dr", "Mr", "Mrs", "Ms", "No", "Fig", "approx",
    ];
    word.chars().count() == 1 || SHORT.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_tile_the_text_and_keep_fences_whole() {
        let text = "\n# Title\n\nSome words here.\nMore words.\n\n\n```rust\nfn a() {}\n\nfn b() {}\n```\nTail.\n";
        let blocks = blocks(text);
        assert_eq!(blocks.len(), 4, "{blocks:?}");
        assert_eq!(blocks[0].range.start, 0);
        for pair in blocks.windows(2) {
            assert_eq!(pair[0].range.end, pair[1].range.start);
        }
        assert_eq!(blocks[3].range.end, text.len());
        assert_eq!(
            &text[blocks[1].range.start..blocks[1].content_end],
            "Some words here.\nMore words."
        );
        match &blocks[2].kind {
            BlockKind::Fenced { tag, inner } => {
                assert_eq!(tag, "rust");
                assert_eq!(&text[inner.clone()], "fn a() {}\n\nfn b() {}\n");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sentences_end_at_punctuation_not_inside_tokens() {
        let text =
            "See https://example.com/a.b?x=1 for v1.2.3 details. It works, e.g. here. Done!\n";
        let (piece, parts) = pieces(text, 0..text.len());
        assert_eq!(piece, Piece::Sentences);
        let parts: Vec<&str> = parts.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            parts,
            vec![
                "See https://example.com/a.b?x=1 for v1.2.3 details. ",
                "It works, e.g. here. ",
                "Done!\n"
            ]
        );
    }

    #[test]
    fn a_definition_list_is_cut_into_entries() {
        let text =
            "  HISTSIZE\n    The number of commands.\n  HISTFILE\n    The name.\n    More.\n\n";
        let (piece, parts) = pieces(text, 0..text.len());
        assert_eq!(piece, Piece::Entries);
        let parts: Vec<&str> = parts.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            parts,
            vec![
                "  HISTSIZE\n    The number of commands.\n",
                "  HISTFILE\n    The name.\n    More.\n\n"
            ]
        );
    }

    #[test]
    fn a_paragraph_without_sentences_or_entries_is_cut_into_lines() {
        let text = "-a, --all\n-l\n-t\n";
        let (piece, parts) = pieces(text, 0..text.len());
        assert_eq!(piece, Piece::Lines);
        assert_eq!(parts.len(), 3);
    }
}
