//! Throughput of the source-code compressor (tree-sitter parse, body elision, re-parse check,
//! tokens counted) and of the prose compressor, on real files: the sources and man pages that
//! `scripts/fixtures.sh` writes to `target/fixtures/`, and a real README committed with the tests.
//!
//! `cargo bench -p headroom --features code --bench code`

use divan::counter::BytesCount;
use divan::Bencher;
use headroom::compress::code::CodeCompressor;
use headroom::compress::text::TextCompressor;
use headroom::compress::{Compressor, SegmentContext};
use headroom::detect::Language;

fn main() {
    divan::main();
}

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

const SOURCES: &[&str] = &[
    "serde_json-de.rs",
    "argparse.py",
    "lodash.js",
    "rxjs-Observable.ts",
    "pflag-flag.go",
    "ArrayList.java",
    "tree-sitter-subtree.c",
    "gtest.cc",
];

fn language(file: &str) -> Language {
    match file.rsplit('.').next() {
        Some("rs") => Language::Rust,
        Some("py") => Language::Python,
        Some("js") => Language::JavaScript,
        Some("ts") => Language::TypeScript,
        Some("go") => Language::Go,
        Some("java") => Language::Java,
        Some("c") => Language::C,
        _ => Language::Cpp,
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run `bash scripts/fixtures.sh` first)"))
}

#[divan::bench(args = SOURCES)]
fn code(bencher: Bencher, file: &str) {
    let source = read(&format!("{ROOT}/target/fixtures/code/{file}"));
    let config = headroom::Config::default();
    let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
        .with_question("How is the input parsed?")
        .with_hash(&headroom::marker::segment_hash(&source));
    let compressor = CodeCompressor::new(language(file));
    bencher
        .counter(BytesCount::of_str(&source))
        .bench(|| compressor.compress(divan::black_box(&source), &ctx));
}

const PROSE: &[&str] = &[
    "target/fixtures/prose/man-bash.txt",
    "target/fixtures/prose/man-git.txt",
    "target/fixtures/prose/man-tar.txt",
    "headroom/tests/fixtures/prose/serde_json-README.md",
];

#[divan::bench(args = PROSE)]
fn prose(bencher: Bencher, file: &str) {
    let text = read(&format!("{ROOT}/{file}"));
    let config = headroom::Config::default();
    let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
        .with_question("How do I follow symbolic links and exclude files?")
        .with_hash(&headroom::marker::segment_hash(&text));
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| TextCompressor.compress(divan::black_box(&text), &ctx));
}
