//! Throughput of the lossless path (minify + table form, tokens counted) and of token counting alone,
//! on real JSON: recorded GitHub API responses, and `cargo metadata` / `pip inspect` output when
//! `scripts/fixtures.sh` has made them.
//!
//! `cargo bench -p headroom --bench lossless`

use divan::counter::BytesCount;
use divan::Bencher;
use headroom::Headroom;

fn main() {
    divan::main();
}

/// (name, request body) for every fixture available.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let files = [
        (
            "github-issues",
            format!("{root}/headroom/tests/fixtures/github-issues.json"),
        ),
        (
            "cargo-metadata",
            format!("{root}/target/fixtures/cargo-metadata.json"),
        ),
        (
            "pip-inspect",
            format!("{root}/target/fixtures/pip-inspect.json"),
        ),
    ];
    files
        .into_iter()
        .filter_map(|(name, path)| {
            let text = std::fs::read_to_string(&path).ok()?;
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            let pretty = serde_json::to_string_pretty(&value).ok()?;
            let body = serde_json::json!({"model": "gpt-4o", "messages": [
                {"role": "user", "content": "What is in this output?"},
                {"role": "tool", "tool_call_id": "c1", "content": pretty}
            ]});
            Some((name, serde_json::to_vec(&body).ok()?))
        })
        .collect()
}

const NAMES: &[&str] = &["github-issues", "cargo-metadata", "pip-inspect"];

#[divan::bench(args = NAMES)]
fn lossless_compress(bencher: Bencher, name: &str) {
    let Some((_, body)) = fixtures().into_iter().find(|(n, _)| *n == name) else {
        eprintln!("{name}: fixture missing, run scripts/fixtures.sh");
        return;
    };
    let hr = Headroom::builder().lossless_only(true).build().unwrap();
    hr.compress_json(&body).unwrap();
    bencher
        .counter(BytesCount::new(body.len()))
        .bench(|| hr.compress_json(divan::black_box(&body)).unwrap());
}

#[divan::bench(args = NAMES)]
fn count_tokens_only(bencher: Bencher, name: &str) {
    let Some((_, body)) = fixtures().into_iter().find(|(n, _)| *n == name) else {
        return;
    };
    let text = String::from_utf8(body).unwrap();
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    counter.count("warm");
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| counter.count(divan::black_box(&text)));
}
