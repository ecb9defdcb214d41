//! Properties of the prose compressor over generated text: it never panics, it is deterministic,
//! every marker carries the segment hash, and whatever it keeps is the original's text, in order,
//! cut only at whitespace.

use headroom::compress::{text::TextCompressor, Compressor, SegmentContext};
use headroom::marker::{segment_hash, Marker};
use proptest::prelude::*;

/// Paragraphs of words, numbers, paths, URLs and non-ASCII text, with fences and lists among them.
fn prose() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        "[a-z]{1,9}",
        "[A-Z][a-z]{2,8}",
        "[0-9]{1,6}(\\.[0-9]{1,3})?",
        "(/[a-z]{2,6}){1,3}\\.rs",
        "https://[a-z]{3,8}\\.org/[a-z]{1,5}\\.html",
        "(é|ß|日本|—|…)[a-z]{0,4}",
    ];
    let sentence = (
        prop::collection::vec(word, 1..14),
        prop::sample::select(vec![". ", "! ", "? ", ", ", "\n", " "]),
    )
        .prop_map(|(words, end)| format!("{}{end}", words.join(" ")));
    let block = prop_oneof![
        4 => prop::collection::vec(sentence, 1..8).prop_map(|s| s.concat()),
        1 => "[a-z ]{0,40}".prop_map(|code| format!("```\n{code}\n```")),
        1 => prop::collection::vec("[a-z ]{1,30}", 1..5).prop_map(|items| items.iter().map(|i| format!("- {i}\n")).collect::<String>()),
        1 => "[A-Z]{3,10}".prop_map(|h| h.to_string()),
    ];
    (
        prop::collection::vec(block, 1..40),
        prop::sample::select(vec!["\n\n", "\n\n\n", "\n"]),
    )
        .prop_map(|(blocks, sep)| blocks.join(sep))
}

/// Where `piece` first occurs in `text` at or after `from` with whitespace (or an edge) on both
/// sides. A plain `find` would match a short kept paragraph such as `ß` inside an earlier word.
fn whole_words_at(text: &str, from: usize, piece: &str) -> Option<usize> {
    text[from..]
        .match_indices(piece)
        .map(|(i, _)| from + i)
        .find(|&start| {
            let end = start + piece.len();
            text[..start]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace)
                && text[end..].chars().next().is_none_or(char::is_whitespace)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn kept_text_is_original_and_whole(text in prose(), question in "[a-z ]{0,30}") {
        let config = headroom::Config::default();
        let hash = segment_hash(&text);
        let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
            .with_question(&question)
            .with_hash(&hash);
        let first = TextCompressor.compress(&text, &ctx);
        prop_assert_eq!(&first, &TextCompressor.compress(&text, &ctx));
        let Some(out) = first else { return Ok(()) };
        for marker in Marker::parse_all(&out.text) {
            prop_assert_eq!(&marker.hash, &hash);
        }
        let mut at = 0;
        let mut rest = out.text.as_str();
        loop {
            let (piece, next) = match rest.find("[… ") {
                Some(open) => {
                    let close = rest[open..].find(']').map_or(rest.len(), |i| open + i + 1);
                    (&rest[..open], Some(&rest[close..]))
                }
                None => (rest, None),
            };
            let piece = piece.trim();
            if !piece.is_empty() {
                let start = whole_words_at(&text, at, piece);
                prop_assert!(start.is_some(), "not in the original, in order, cut at whitespace: {:?}", piece);
                at = start.unwrap() + piece.len();
            }
            match next {
                Some(next) => rest = next,
                None => break,
            }
        }
    }
}
