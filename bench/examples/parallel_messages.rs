//! Wall-clock and CPU time of one request that carries several large tool results, its messages
//! compressed on one thread and on two (`Config::parallel_messages`): the measurement behind the
//! proxy's default.
//!
//! ```sh
//! cargo build --release -p headroom-bench --example parallel_messages
//! target/release/examples/parallel_messages target/bench/corpus 4 20
//! ```
//!
//! Arguments: the corpus directory, how many tool results (the corpus's largest, default 4) and
//! repeats (default 20). Prints the median of each and checks that both send the same bytes.

use headroom::{Config, Headroom, Memo};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: parallel_messages CORPUS_DIR [RESULTS] [REPEATS]");
        std::process::exit(2);
    };
    let results: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(4);
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(20);
    let body = request(Path::new(dir), results);
    let engine = |parallel: bool| {
        let mut config = Config::default();
        config.parallel_messages = parallel;
        let engine = Headroom::builder()
            .config(config)
            .memo(Arc::new(Memo::disabled()))
            .build()
            .expect("a valid config");
        engine.warm_up();
        engine
    };
    let (one, two) = (engine(false), engine(true));
    let sent = |e: &Headroom| e.compress_json(&body).expect("compresses").body;
    assert_eq!(sent(&one), sent(&two), "two threads send other bytes");
    println!(
        "{results} tool results, {} KB: median of {repeats}",
        body.len() / 1024
    );
    for (name, e) in [("one thread", &one), ("two threads", &two)] {
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..repeats {
            let (start, start_cpu) = (Instant::now(), headroom_bench::clock::cpu_time());
            std::hint::black_box(e.compress_json(&body).expect("compresses"));
            wall.push(start.elapsed().as_secs_f64() * 1e3);
            cpu.push(
                headroom_bench::clock::cpu_time()
                    .saturating_sub(start_cpu)
                    .as_secs_f64()
                    * 1e3,
            );
        }
        println!(
            "{name:12} wall {:6.2} ms  cpu {:6.2} ms",
            median(&mut wall),
            median(&mut cpu)
        );
    }
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One request whose tool messages are the `n` largest tool results of the corpus.
fn request(dir: &Path, n: usize) -> Vec<u8> {
    let mut contents: Vec<String> = headroom_bench::corpus::built_requests(dir)
        .iter()
        .filter_map(|(_, _, request)| headroom_bench::corpus::last_content(request))
        .map(str::to_string)
        .collect();
    contents.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let mut messages = vec![json!({"role": "user", "content": "What failed, and where?"})];
    for (i, content) in contents.into_iter().take(n).enumerate() {
        let id = format!("call_{i}");
        messages.push(
            json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": id, "type": "function",
            "function": {"name": "read", "arguments": "{}"}}]}),
        );
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
    }
    serde_json::to_vec(&json!({"model": "gpt-4o", "messages": messages})).expect("serializes")
}
