//! Throughput of content detection and of the logs, search-hits and diff compressors (output tokens
//! counted, as the engine does) on real command output: the committed fixtures, and the large ones
//! `scripts/fixtures.sh` writes (apt and dpkg logs, `grep -rn` over regex-automata, a base64 release diff).
//!
//! `cargo bench -p headroom --bench content`

use divan::counter::BytesCount;
use divan::Bencher;
use headroom::compress::{
    Compressor, DiffCompressor, LogsCompressor, SearchHitsCompressor, SegmentContext,
};
use headroom::detect::{detect_with_hints, Hints};
use headroom::Config;

fn main() {
    divan::main();
}

/// (name, compressor, question, file) for every fixture; large ones may be missing.
const FIXTURES: &[(&str, &str, &str)] = &[
    (
        "logs/cargo-build",
        "headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt",
        "why does the build fail?",
    ),
    (
        "logs/apt-term",
        "target/fixtures/apt-term.log",
        "did the install work?",
    ),
    (
        "logs/dpkg",
        "target/fixtures/dpkg.log",
        "when was libssl3 installed?",
    ),
    (
        "search/memchr",
        "headroom/tests/fixtures/search/grep-memchr-unsafe-fn.txt",
        "where is count_raw_avx2 defined?",
    ),
    (
        "search/regex-automata",
        "target/fixtures/grep-regex-automata-fn.txt",
        "how does find_fwd work?",
    ),
    (
        "diff/foldhash",
        "headroom/tests/fixtures/diff/foldhash-0.1.5-0.2.0.diff",
        "what changed in with_seed?",
    ),
    (
        "diff/base64",
        "target/fixtures/base64-0.22.1-0.23.1.diff",
        "how is is_valid_b64_symbol used?",
    ),
];

fn names() -> Vec<&'static str> {
    FIXTURES.iter().map(|f| f.0).collect()
}

fn load(name: &str) -> Option<(String, &'static str)> {
    let (_, path, question) = FIXTURES.iter().find(|f| f.0 == name)?;
    let text = std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR")));
    match text {
        Ok(text) => Some((text, question)),
        Err(_) => {
            eprintln!("{name}: fixture missing, run scripts/fixtures.sh");
            None
        }
    }
}

fn compressor(name: &str) -> &'static dyn Compressor {
    match name.split('/').next() {
        Some("logs") => &LogsCompressor,
        Some("search") => &SearchHitsCompressor,
        _ => &DiffCompressor,
    }
}

#[divan::bench(args = names())]
fn compress(bencher: Bencher, name: &str) {
    let Some((text, question)) = load(name) else {
        return;
    };
    let config = Config::default();
    let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
        .with_question(question)
        .with_hash(&headroom::marker::segment_hash(&text));
    let compressor = compressor(name);
    compressor.compress(&text, &ctx);
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| compressor.compress(divan::black_box(&text), &ctx));
}

#[divan::bench(args = names())]
fn detect(bencher: Bencher, name: &str) {
    let Some((text, _)) = load(name) else { return };
    let hints = Hints::default().with_tool_name(Some("bash"));
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| detect_with_hints(divan::black_box(&text), &hints));
}
