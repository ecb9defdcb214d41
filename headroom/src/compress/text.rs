//! Prose and mixed content, compressed by extraction: paragraphs (and the sentences of long ones)
//! are kept or elided whole, never cut inside a word, number, identifier, path or URL.
//!
//! What stays: the opening and closing, the units that name the question's exact terms or score
//! best by BM25 against it, the headings above them, then each block's first unit while the budget
//! (`Config::text_keep_ratio` of the tokens) lasts. Exact and near duplicates go first. Fenced code
//! and JSON blocks are routed to their own compressors. Kept text is byte-for-byte the original.

mod dedup;
mod select;
mod units;

use super::{Compression, Compressor, JsonCompressor, SegmentContext};
use crate::detect::{detect_with_hints, ContentType, Hints};
use crate::marker::Marker;
use crate::question::Question;
use select::Candidate;
use std::ops::Range;
use units::{Block, BlockKind, Piece};

/// Compresses prose by keeping its most relevant paragraphs and sentences in original order.
///
/// ```
/// use headroom::compress::{text::TextCompressor, Compressor, SegmentContext};
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
///     .with_question("How do I rotate the signing keys?")
///     .with_hash("0123456789abcdef01234567");
/// let filler = "This paragraph talks about something unrelated to the question, at some length, so that it costs tokens.";
/// let mut text = String::from("Operations guide.\n\n");
/// for i in 0..12 {
///     text.push_str(&format!("Section {i}. {filler}\n\n"));
///     if i == 6 {
///         text.push_str("To rotate the signing keys, run `keys rotate --all` and restart the gateway.\n\n");
///     }
/// }
/// text.push_str("End of guide.\n");
/// let out = TextCompressor.compress(&text, &ctx).unwrap();
/// assert!(out.text.contains("To rotate the signing keys, run `keys rotate --all` and restart the gateway.\n"));
/// assert!(out.text.contains("paragraphs omitted · headroom_retrieve hash=0123456789abcdef01234567]"));
/// assert!(out.tokens < ctx.counter.count(&text) * 7 / 10);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TextCompressor;

/// One selectable piece: a whole block, or a sentence or line of a long paragraph.
struct Unit {
    range: Range<usize>,
    /// Where the trailing whitespace starts (it survives the unit's elision).
    content_end: usize,
    block: usize,
    tokens: usize,
}

/// A block as it will be written: its replacement (a compressed fenced or JSON block) and how it was cut.
struct Section {
    block: Block,
    /// Its tokens (of the replacement, once there is one).
    tokens: usize,
    replacement: Option<String>,
    /// Compressed by its own compressor and kept whatever the selection.
    forced: bool,
    piece: Option<Piece>,
    units: Range<usize>,
}

impl Compressor for TextCompressor {
    fn name(&self) -> &'static str {
        "text"
    }

    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
        if ctx.json_only || text.trim().is_empty() {
            return None;
        }
        let keep_ratio = ctx.config.text_keep_ratio.clamp(0.0, 1.0);
        let mut sections: Vec<Section> = units::blocks(text)
            .into_iter()
            .map(|block| Section {
                tokens: ctx.count(&text[block.range.clone()]),
                block,
                replacement: None,
                forced: false,
                piece: None,
                units: 0..0,
            })
            .collect();
        if ctx.out_of_time() {
            return None;
        }
        let total: usize = sections.iter().map(|s| s.tokens).sum();
        // A unit larger than this is cut into smaller ones (or, for a fenced block, compressed).
        let max_unit = ((total as f64 * keep_ratio) as usize / 4).max(64);

        // Large fenced or JSON blocks go through their own compressor and stay; small ones are
        // units like paragraphs (a JSON one minified first).
        let mut transforms: Vec<String> = Vec::new();
        let mut lossy = false;
        for section in &mut sections {
            if ctx.out_of_time() {
                return None;
            }
            let large = section.tokens > max_unit;
            let Some(c) = route(text, &section.block, large, ctx) else {
                continue;
            };
            lossy |= c.lossy;
            for t in c.transforms {
                if !transforms.contains(&t) {
                    transforms.push(t);
                }
            }
            section.tokens = c.tokens;
            section.forced = large;
            section.replacement = Some(c.text);
        }

        let mut units: Vec<Unit> = Vec::new();
        for (index, section) in sections.iter_mut().enumerate() {
            let start = units.len();
            let block = &section.block;
            if section.replacement.is_none()
                && block.kind == BlockKind::Prose
                && section.tokens > max_unit
            {
                let (piece, ranges) = units::pieces(text, block.range.clone());
                section.piece = Some(piece);
                for range in ranges {
                    let content_end = range.start + text[range.clone()].trim_end().len();
                    units.push(Unit {
                        tokens: ctx.counter.count(&text[range.clone()]),
                        range,
                        content_end,
                        block: index,
                    });
                }
            } else {
                units.push(Unit {
                    range: block.range.clone(),
                    content_end: block.content_end,
                    block: index,
                    tokens: section.tokens,
                });
            }
            section.units = start..units.len();
        }
        if units.len() < ctx.config.text_min_units {
            return (!transforms.is_empty())
                .then(|| assemble(text, &sections, &units, &vec![true; units.len()], ctx))
                .map(|out| finish(out, transforms, lossy, ctx));
        }

        let question = Question::of(ctx);
        let contents: Vec<&str> = units
            .iter()
            .map(|u| &text[u.range.start..u.content_end])
            .collect();
        let naming = question.naming(&contents);
        let scores = &naming.scores;
        let mut duplicates = dedup::duplicates(&contents);
        // A unit an anchor names is no copy of a unit that lacks the anchor (`$first_ts` in a line
        // otherwise like the one before): it repeats only a named unit of the same text.
        let mut named_texts = std::collections::HashSet::new();
        for &i in &naming.strong {
            duplicates[i] = !named_texts.insert(contents[i]);
        }
        let candidates: Vec<Candidate> = units
            .iter()
            .enumerate()
            .map(|(i, unit)| {
                let section = &sections[unit.block];
                Candidate {
                    tokens: unit.tokens,
                    score: scores[i],
                    mentioned: naming.strong.binary_search(&i).is_ok(),
                    weak: naming.weak.contains(&i),
                    duplicate: duplicates[i],
                    heading: section.piece.is_none() && is_heading(contents[i]),
                    lead: i == section.units.start,
                    forced: section.forced,
                }
            })
            .collect();
        let selectable: usize = candidates
            .iter()
            .filter(|c| !c.forced)
            .map(|c| c.tokens)
            .sum();
        let budget = (selectable as f64 * keep_ratio) as usize;
        let marker_tokens = ctx
            .counter
            .count(&Marker::new(99, Some(999), "paragraphs", &ctx.hash).to_text());
        let keep = select::select(&candidates, budget, marker_tokens);
        if keep.iter().any(|k| !k) {
            lossy = true;
            transforms.push("text:extract".to_string());
        } else if transforms.is_empty() {
            return None;
        }
        let out = assemble(text, &sections, &units, &keep, ctx);
        Some(finish(out, transforms, lossy, ctx))
    }
}

fn finish(
    text: String,
    transforms: Vec<String>,
    lossy: bool,
    ctx: &SegmentContext<'_>,
) -> Compression {
    if lossy {
        Compression::lossy(text, transforms, ctx)
    } else {
        let mut c = Compression::lossless(text, "", ctx);
        c.transforms = transforms;
        c
    }
}

/// A fenced block or a paragraph that is JSON, through its own compressor, when that makes it
/// smaller: any content type when the block is `large`, else only JSON (losslessly minified, so a
/// small example stays whole for the model to read). The fence lines stay as they were.
fn route(text: &str, block: &Block, large: bool, ctx: &SegmentContext<'_>) -> Option<Compression> {
    let (inner, content_type) = match &block.kind {
        BlockKind::Fenced { inner, tag } => {
            let hints =
                Hints::default().with_fence_tag(Some(tag.as_str()).filter(|t| !t.is_empty()));
            (
                inner.clone(),
                detect_with_hints(&text[inner.clone()], &hints),
            )
        }
        BlockKind::Prose => {
            let content = &text[block.range.start..block.content_end];
            let trimmed = content.trim_start();
            if !trimmed.starts_with(['{', '[']) {
                return None;
            }
            (block.range.start..block.content_end, ContentType::Json)
        }
    };
    let compressor: &dyn Compressor = match content_type {
        // Prose inside prose stays one unit: no recursion.
        ContentType::Text => return None,
        ContentType::Json => &JsonCompressor,
        other if large => ctx.nested(&other)?,
        _ => return None,
    };
    let original = &text[inner.clone()];
    let compressed = compressor.compress(original, ctx)?;
    if compressed.tokens >= ctx.counter.count(original) {
        return None;
    }
    let mut body = compressed.text;
    if matches!(block.kind, BlockKind::Fenced { .. })
        && original.ends_with('\n')
        && !body.ends_with('\n')
    {
        body.push('\n');
    }
    Some(Compression {
        text: format!(
            "{}{}{}",
            &text[block.range.start..inner.start],
            body,
            &text[inner.end..block.content_end]
        ),
        ..compressed
    })
}

/// A short line that names a section: a Markdown heading, or a man page's all-caps header.
fn is_heading(content: &str) -> bool {
    if content.contains('\n') || content.len() > 80 {
        return false;
    }
    let line = content.trim_end();
    if line.starts_with('#') {
        return true;
    }
    let has_letters = line.chars().any(char::is_alphabetic);
    has_letters && !line.starts_with(char::is_whitespace) && line.chars().all(|c| !c.is_lowercase())
}

/// Writes the kept units in order, a marker for each elided run: whole blocks as `paragraphs`,
/// pieces of a long paragraph as `sentences` or `lines`. Each run's trailing whitespace stays.
fn assemble(
    text: &str,
    sections: &[Section],
    units: &[Unit],
    keep: &[bool],
    ctx: &SegmentContext<'_>,
) -> String {
    let mut out = String::with_capacity(text.len() / 2);
    let mut dropped_blocks = 0;
    let mut gap_whitespace = "";
    for section in sections {
        let kept = &keep[section.units.clone()];
        if kept.iter().all(|k| !k) {
            dropped_blocks += 1;
            gap_whitespace = &text[section.block.content_end..section.block.range.end];
            continue;
        }
        push_paragraphs_marker(
            &mut out,
            dropped_blocks,
            sections.len(),
            gap_whitespace,
            ctx,
        );
        dropped_blocks = 0;
        match (&section.replacement, section.piece) {
            (Some(replacement), _) => {
                out.push_str(replacement);
                out.push_str(&text[section.block.content_end..section.block.range.end]);
            }
            (None, None) => out.push_str(&text[section.block.range.clone()]),
            (None, Some(piece)) => {
                let pieces = &units[section.units.clone()];
                let mut i = 0;
                while i < pieces.len() {
                    if kept[i] {
                        out.push_str(&text[pieces[i].range.clone()]);
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < pieces.len() && !kept[i] {
                        i += 1;
                    }
                    let last = &pieces[i - 1];
                    let marker =
                        Marker::new(i - start, Some(pieces.len()), piece.unit(), &ctx.hash);
                    out.push_str(&marker.to_text());
                    let trailing = &text[last.content_end..last.range.end];
                    out.push_str(if trailing.is_empty() { " " } else { trailing });
                }
            }
        }
    }
    push_paragraphs_marker(
        &mut out,
        dropped_blocks,
        sections.len(),
        gap_whitespace,
        ctx,
    );
    out
}

/// The marker for a run of `dropped` whole blocks (of `total`), then the run's trailing whitespace.
fn push_paragraphs_marker(
    out: &mut String,
    dropped: usize,
    total: usize,
    whitespace: &str,
    ctx: &SegmentContext<'_>,
) {
    if dropped == 0 {
        return;
    }
    out.push_str(&Marker::new(dropped, Some(total), "paragraphs", &ctx.hash).to_text());
    out.push_str(if whitespace.is_empty() {
        "\n\n"
    } else {
        whitespace
    });
}
