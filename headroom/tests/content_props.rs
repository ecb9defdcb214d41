//! Properties of the logs, search-hits and diff compressors on arbitrary line mixes: no panic,
//! the same output for the same input, and every elision a marker carrying the segment hash.

use headroom::compress::{
    Compressor, DiffCompressor, LogsCompressor, SearchHitsCompressor, SegmentContext,
};
use headroom::detect::detect;
use headroom::marker::{segment_hash, Marker};
use proptest::prelude::*;

/// Line fragments of the shapes the compressors react to, plus odd ones (empty, non-ASCII, colons).
const FRAGMENTS: &[&str] = &[
    "error[E0308]: mismatched types",
    "  --> src/main.rs:13:24",
    "   |",
    "warning: unused variable: `x`",
    "   Compiling foo v1.0.0",
    "test result: FAILED. 1 passed; 1 failed",
    "stack backtrace:",
    "   0: core::panicking::panic",
    "             at /rustc/library/core/src/panicking.rs:80:14",
    "Traceback (most recent call last):",
    "  File \"x.py\", line 3, in <module>",
    "ValueError: bad",
    "src/a.rs:12:fn a() {}",
    "src/a.rs-13-context",
    "--",
    "diff --git a/x.rs b/x.rs",
    "--- a/x.rs",
    "+++ b/x.rs",
    "@@ -1,3 +1,4 @@",
    "@@ -x @@",
    "+added line",
    "-removed line",
    " context line",
    "\\ No newline at end of file",
    "Cargo.lock",
    "",
    "ünïcödé: 12: ∑",
    "2024-05-01 10:00:01 INFO request 17 took 3ms",
    ":::",
    "1:2:3",
];

fn text_of(picks: &[usize]) -> String {
    picks
        .iter()
        .map(|&i| FRAGMENTS[i % FRAGMENTS.len()])
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn compressors_are_total_deterministic_and_marked(
        picks in proptest::collection::vec(0usize..1000, 0..200),
        question in "[a-z_ ]{0,30}",
    ) {
        let text = text_of(&picks);
        let _ = detect(&text);
        let hash = segment_hash(&text);
        let mut config = headroom::Config::default();
        config.logs_min_lines = 0;
        config.search_min_hits = 0;
        config.diff_min_lines = 0;
        let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
            .with_question(&question)
            .with_hash(&hash);
        let compressors: [&dyn Compressor; 3] = [&LogsCompressor, &SearchHitsCompressor, &DiffCompressor];
        for compressor in compressors {
            let first = compressor.compress(&text, &ctx);
            let second = compressor.compress(&text, &ctx);
            prop_assert_eq!(&first, &second);
            if let Some(out) = first {
                for marker in Marker::parse_all(&out.text) {
                    prop_assert_eq!(&marker.hash, &hash);
                    prop_assert!(marker.omitted > 0);
                    prop_assert!(marker.total.is_none_or(|t| t >= marker.omitted));
                }
            }
        }
    }
}
