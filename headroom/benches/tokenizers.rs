//! Which exact tokenizer to count with: tiktoken-rs, bpe-openai and the `tiktoken` crate on the
//! same real tool output (JSON, logs, grep hits, a diff, source, prose), o200k_base, and the
//! counter Headroom uses (the `tiktoken` crate, bpe-openai for text with kilobyte-long runs).
//! Their counts are asserted equal before anything is timed (and in `tokens.rs`'s tests).
//!
//! `cargo bench -p headroom --bench tokenizers`

use divan::counter::BytesCount;
use divan::Bencher;
use headroom::tokens::counter_for_model;

fn main() {
    divan::main();
}

const FIXTURES: &[&str] = &[
    "json/npm-view-octokit-rest.json",
    "logs/cargo-build-vv-deps-type-error.txt",
    "search/grep-memchr-unsafe-fn.txt",
    "diff/foldhash-0.1.5-0.2.0.diff",
    "code/serde_json-map.rs",
    "prose/serde_json-README.md",
];

fn text(fixture: &str) -> String {
    let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("fixture");
    let want = tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(&text)
        .len();
    assert_eq!(bpe_openai::o200k_base().count(&text), want, "{fixture}");
    assert_eq!(
        tiktoken::get_encoding("o200k_base").unwrap().count(&text),
        want
    );
    assert_eq!(counter_for_model("gpt-4o").count(&text), want);
    text
}

/// Times `count` over `fixture`'s text, in bytes per second.
fn measure(bencher: Bencher, fixture: &str, count: impl Fn(&str) -> usize + Sync) {
    let text = text(fixture);
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| count(divan::black_box(&text)));
}

#[divan::bench(args = FIXTURES)]
fn tiktoken_rs(bencher: Bencher, fixture: &str) {
    let bpe = tiktoken_rs::o200k_base_singleton();
    measure(bencher, fixture, |t| bpe.encode_ordinary(t).len());
}

#[divan::bench(args = FIXTURES)]
fn bpe_openai(bencher: Bencher, fixture: &str) {
    let tokenizer = bpe_openai::o200k_base();
    measure(bencher, fixture, |t| tokenizer.count(t));
}

#[divan::bench(args = FIXTURES)]
fn tiktoken_crate(bencher: Bencher, fixture: &str) {
    let bpe = tiktoken::get_encoding("o200k_base").unwrap();
    measure(bencher, fixture, |t| bpe.count(t));
}

#[divan::bench(args = FIXTURES)]
fn headroom_counter(bencher: Bencher, fixture: &str) {
    let counter = counter_for_model("gpt-4o");
    measure(bencher, fixture, |t| counter.count(t));
}
