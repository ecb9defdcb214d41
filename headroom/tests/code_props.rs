//! Properties of the code compressor over damaged real source: cut at any point or with a span
//! removed, it never panics, is deterministic, and never hands back code with more syntax errors
//! than it was given (or it takes the prose path, whose markers carry the segment hash).
#![cfg(feature = "code")]

mod content_support;

use content_support::large_fixture;
use headroom::compress::{code::CodeCompressor, Compressor, SegmentContext};
use headroom::detect::Language;
use headroom::marker::{segment_hash, Marker};
use proptest::prelude::*;

fn errors(text: &str, grammar: tree_sitter::Language) -> usize {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&grammar).unwrap();
    let tree = parser.parse(text, None).unwrap();
    let mut count = 0;
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        count += usize::from(node.is_error() || node.is_missing());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return count;
            }
        }
    }
}

fn check(
    source: &str,
    language: Language,
    grammar: fn() -> tree_sitter::Language,
    cut: (f64, f64),
) -> Result<(), TestCaseError> {
    let mut a = (cut.0 * source.len() as f64) as usize;
    let mut b = (cut.1 * source.len() as f64) as usize;
    while !source.is_char_boundary(a) {
        a -= 1;
    }
    while !source.is_char_boundary(b) {
        b -= 1;
    }
    let (a, b) = (a.min(b), a.max(b));
    // The text without the span a..b: a file cut short, or with a piece missing.
    let text = format!("{}{}", &source[..a], &source[b..]);
    let config = headroom::Config::default();
    let hash = segment_hash(&text);
    let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
        .with_question("how does parse work?")
        .with_hash(&hash);
    let compressor = CodeCompressor::new(language);
    let out = compressor.compress(&text, &ctx);
    prop_assert_eq!(&out, &compressor.compress(&text, &ctx));
    if let Some(out) = out {
        for marker in Marker::parse_all(&out.text) {
            prop_assert_eq!(&marker.hash, &hash);
        }
        if out.transforms.iter().any(|t| t.starts_with("code:")) {
            prop_assert!(errors(&out.text, grammar()) <= errors(&text, grammar()));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn damaged_rust(cut in (0.0..1.0f64, 0.0..1.0f64)) {
        let source = large_fixture("code/serde_json-de.rs");
        check(&source, Language::Rust, || tree_sitter_rust::LANGUAGE.into(), cut)?;
    }

    #[test]
    fn damaged_python(cut in (0.0..1.0f64, 0.0..1.0f64)) {
        let source = large_fixture("code/argparse.py");
        check(&source, Language::Python, || tree_sitter_python::LANGUAGE.into(), cut)?;
    }

    #[test]
    fn damaged_go(cut in (0.0..1.0f64, 0.0..1.0f64)) {
        let source = large_fixture("code/pflag-flag.go");
        check(&source, Language::Go, || tree_sitter_go::LANGUAGE.into(), cut)?;
    }
}
