//! Compresses every case of a built corpus with a cold engine, over and over: the workload to put
//! under a profiler, with nothing of the benchmark's own scoring in it.
//!
//! ```sh
//! cargo build --release -p headroom-bench --example profile_corpus
//! perf record -g target/release/examples/profile_corpus target/bench/corpus 20 code
//! perf report --no-children --sort symbol
//! ```
//!
//! Arguments: the corpus directory (`headroom-bench corpus` writes it), repeats (default 10), and
//! optionally one content type (`json`, `logs`, `search`, `diff`, `code`, `text`) or one case id.
//! Prints each type's CPU time per pass and MB/s (and each case's, for one type or case, with its
//! ratio to one token count of its messages and its first call timed apart).

use headroom::{Headroom, Memo};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: profile_corpus CORPUS_DIR [REPEATS] [TYPE|CASE]");
        std::process::exit(2);
    };
    let repeats: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(10);
    let only = args.get(2).map(String::as_str);
    let cases = read_cases(Path::new(dir), only);
    // Cold: no memo, so each pass does the work a first sight does.
    let engine = Headroom::builder()
        .memo(Arc::new(Memo::disabled()))
        .build()
        .expect("a valid config");
    engine.warm_up();
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    let mut per_kind: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let mut first_over_rest = Vec::new();
    for (id, kind, body, input_bytes) in &cases {
        // The first call on an input is timed apart: the tokenizer has not met its pieces yet.
        let start = headroom_bench::clock::cpu_time();
        let _ = std::hint::black_box(engine.compress_json(body));
        let first = headroom_bench::clock::cpu_time()
            .saturating_sub(start)
            .as_secs_f64();
        let start = headroom_bench::clock::cpu_time();
        for _ in 0..repeats {
            let _ = std::hint::black_box(engine.compress_json(body));
        }
        let seconds = headroom_bench::clock::cpu_time()
            .saturating_sub(start)
            .as_secs_f64();
        first_over_rest.push(first / (seconds / repeats as f64));
        if only.is_some() {
            let per_pass = seconds / repeats as f64;
            let mb_s = *input_bytes as f64 / per_pass / 1e6;
            let count = count_seconds(&*counter, body, repeats);
            println!(
                "{id:40} {:8.2} ms  {mb_s:6.1} MB/s  {:5.1}x one count  first call {:.2} ms",
                per_pass * 1e3,
                per_pass / count,
                first * 1e3
            );
        }
        let entry = per_kind.entry(kind.clone()).or_default();
        entry.0 += input_bytes;
        entry.1 += seconds / repeats as f64;
    }
    first_over_rest.sort_by(f64::total_cmp);
    if let Some(median) = first_over_rest.get(first_over_rest.len() / 2) {
        println!("first call on an input / a later call (median over cases): {median:.2}");
    }
    for (kind, (bytes, seconds)) in &per_kind {
        println!(
            "{kind:8} {:8.2} ms per pass  {:6.1} MB/s",
            seconds * 1e3,
            *bytes as f64 / seconds / 1e6
        );
    }
}

/// CPU seconds to count the tokens of every message's content in `body` once (the mean of
/// `repeats` counts): the one thing compression cannot avoid.
fn count_seconds(counter: &dyn headroom::tokens::TokenCounter, body: &[u8], repeats: usize) -> f64 {
    let request: serde_json::Value = serde_json::from_slice(body).expect("a JSON body");
    let texts: Vec<&str> = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect();
    let start = headroom_bench::clock::cpu_time();
    for _ in 0..repeats {
        std::hint::black_box(texts.iter().map(|t| counter.count(t)).sum::<usize>());
    }
    headroom_bench::clock::cpu_time()
        .saturating_sub(start)
        .as_secs_f64()
        / repeats as f64
}

/// (case id, content type, request body, tool-result bytes) of each case in `dir`, or of one type
/// or case.
fn read_cases(dir: &Path, only: Option<&str>) -> Vec<(String, String, Vec<u8>, usize)> {
    headroom_bench::corpus::built_requests(dir)
        .into_iter()
        .filter(|(id, kind, _)| only.is_none_or(|o| o == kind || o == id))
        .map(|(id, kind, request)| {
            let input_bytes = headroom_bench::corpus::last_content(&request).map_or(0, str::len);
            let body = serde_json::to_vec(&request).expect("a Value serializes");
            (id, kind, body, input_bytes)
        })
        .collect()
}
