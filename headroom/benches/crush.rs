//! SmartCrusher latency on a 100k-token JSON array of real records (closed GitHub issues recorded by
//! PyGithub, written by `scripts/fixtures.sh`), pretty-printed as a tool would return it.
//!
//! `cargo bench -p headroom --bench crush` (target: under 25 ms).
//!
//! * `json_compressor`: the whole JSON path as the engine runs it on a first sight (memo off):
//!   parse, minify and the table form (tokens counted), then the crusher and its token counts.
//! * `crusher_only`: `SmartCrusher` alone (parse, keep rules, markers, output forms, counts).
//! * `memo_hit`: the whole request again through an engine that has seen it (a re-sent history):
//!   parse, hash, memo look-ups, splice.

use divan::counter::BytesCount;
use divan::Bencher;
use headroom::compress::{Compressor, JsonCompressor, SegmentContext, SmartCrusher};
use headroom::marker::segment_hash;
use headroom::Config;

fn main() {
    divan::main();
}

const TARGET_TOKENS: usize = 100_000;
const QUESTION: &str = "What was #923 about, and who closed it?";

/// Real issues, as many as fit in about 100k tokens, pretty-printed.
fn array_of_100k_tokens() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/fixtures/github-closed-issues.json"
    );
    let text = std::fs::read_to_string(path).ok()?;
    let issues: Vec<serde_json::Value> = serde_json::from_str(&text).ok()?;
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    let mut taken = Vec::new();
    let mut tokens = 0;
    for issue in issues {
        tokens += counter.count(&serde_json::to_string_pretty(&issue).ok()?);
        taken.push(issue);
        if tokens >= TARGET_TOKENS {
            break;
        }
    }
    serde_json::to_string_pretty(&taken).ok()
}

fn run(bencher: Bencher, config: Config, compressor: &dyn Compressor) {
    let Some(text) = array_of_100k_tokens() else {
        eprintln!("fixture missing: run `bash scripts/fixtures.sh`");
        return;
    };
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    eprintln!(
        "input: {} tokens, {} bytes",
        counter.count(&text),
        text.len()
    );
    let hash = segment_hash(&text);
    let ctx = SegmentContext::new(&config, counter)
        .with_question(QUESTION)
        .with_hash(&hash);
    let out = compressor.compress(&text, &ctx).expect("compressed");
    eprintln!("output: {} tokens ({:?})", out.tokens, out.transforms);
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| compressor.compress(divan::black_box(&text), &ctx));
}

fn memo_off() -> Config {
    // Compressors called directly have no memo: the engine memoizes whole segments.
    Config::default()
}

#[divan::bench(sample_count = 20)]
fn json_compressor(bencher: Bencher) {
    run(bencher, memo_off(), &JsonCompressor);
}

#[divan::bench(sample_count = 20)]
fn crusher_only(bencher: Bencher) {
    run(bencher, memo_off(), &SmartCrusher);
}

#[divan::bench(sample_count = 20)]
fn memo_hit(bencher: Bencher) {
    let Some(text) = array_of_100k_tokens() else {
        eprintln!("fixture missing: run `bash scripts/fixtures.sh`");
        return;
    };
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "list_issues", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": text}
        ]
    }))
    .expect("serializes");
    let engine = headroom::Headroom::builder()
        .memo(std::sync::Arc::new(headroom::Memo::new(64 << 20)))
        .build()
        .expect("valid");
    let first = engine.compress_json(&body).expect("compressed");
    bencher.counter(BytesCount::new(body.len())).bench(|| {
        let again = engine
            .compress_json(divan::black_box(&body))
            .expect("compressed");
        assert_eq!(again.body, first.body);
    });
}
