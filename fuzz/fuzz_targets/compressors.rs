//! Each compressor on its own (picked by the first byte), with a question (the second line):
//! no panic; markers carry the segment's hash; JSON stays JSON where it must; the same bytes twice.
#![no_main]
use headroom::compress::{
    Compressor, DiffCompressor, JsonCompressor, LogsCompressor, SearchHitsCompressor,
    SegmentContext, SmartCrusher, TextCompressor,
};
use headroom::marker::Marker;
use libfuzzer_sys::fuzz_target;

const HASH: &str = "0123456789abcdef01234567";

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (question, text) = text.split_once('\n').unwrap_or(("", &text));
    let mut config = headroom::Config::default();
    config.min_segment_tokens = 10;
    config.logs_min_lines = 3;
    config.search_min_hits = 2;
    config.diff_min_lines = 3;
    config.text_min_units = 2;
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    let mut ctx = SegmentContext::new(&config, counter.clone())
        .with_question(question)
        .with_hash(HASH);
    ctx.json_only = pick & 0x80 != 0;
    let code: headroom::compress::code::CodeCompressor;
    let compressor: &dyn Compressor = match pick % 8 {
        0 => &JsonCompressor,
        1 => &SmartCrusher,
        2 => &LogsCompressor,
        3 => &SearchHitsCompressor,
        4 => &DiffCompressor,
        5 => &TextCompressor,
        n => {
            use headroom::detect::Language::*;
            let language = [Rust, Python, JavaScript, TypeScript, Go, Java, C, Cpp]
                [(n as usize + (pick as usize >> 3)) % 8];
            code = headroom::compress::code::CodeCompressor::new(language);
            &code
        }
    };
    let Some(out) = compressor.compress(text, &ctx) else {
        return;
    };
    assert_eq!(out.tokens, counter.count(&out.text), "tokens miscounted");
    for marker in Marker::parse_all(&out.text) {
        if !Marker::parse_all(text).contains(&marker) {
            assert_eq!(marker.hash, HASH, "a marker under another hash");
        }
    }
    if !out.lossy {
        assert!(!out.text.is_empty() || text.trim().is_empty());
    }
    if ctx.json_only && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(&out.text).is_ok(),
            "JSON-only output is not JSON: {:?}",
            out.text
        );
    }
    assert_eq!(
        compressor.compress(text, &ctx),
        Some(out),
        "not deterministic"
    );
});
