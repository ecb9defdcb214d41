//! Retrieval round trip per store: put an original, then answer a `headroom_retrieve` call for it
//! (store lookup + the answer the model gets), as the resolver's doors do.
//!
//! `cargo bench -p headroom --all-features --bench retrieval`

use headroom::retrieve::{answer_with, parse_args, DEFAULT_ANSWER_TOKENS};
use headroom::store::{AsyncStore, MemoryStore};
use headroom::tokens::{counter_for_model, TokenCounter};
use std::sync::{Arc, OnceLock};

fn main() {
    divan::main();
}

/// A real original: this crate's own retrieve module, as an agent's `cat` would return it.
fn original() -> &'static str {
    include_str!("../src/retrieve.rs")
}

const HASH: &str = "0123456789abcdef01234567";

fn counter() -> &'static Arc<dyn TokenCounter> {
    static COUNTER: OnceLock<Arc<dyn TokenCounter>> = OnceLock::new();
    COUNTER.get_or_init(|| counter_for_model("gpt-4o"))
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// One retrieval: parse the call, read the store, build the answer.
async fn round_trip(store: &dyn AsyncStore, arguments: &str) -> String {
    let args = parse_args(arguments).expect("valid arguments");
    let found = store.get("bench", &args.hash).await;
    answer_with(&args, found, counter().as_ref(), DEFAULT_ANSWER_TOKENS)
}

/// What is measured: the store lookup alone, or the whole retrieval for the whole original or a query.
const CASES: [&str; 3] = ["lookup", "whole", "query"];

fn bench_store(bencher: divan::Bencher, store: &dyn AsyncStore, case: &str) {
    runtime()
        .block_on(store.put("bench", HASH, original()))
        .expect("put");
    let arguments = match case {
        "whole" => format!(r#"{{"hash":"{HASH}"}}"#),
        "query" => format!(r#"{{"hash":"{HASH}","query":"offset limit"}}"#),
        _ => {
            bencher.bench_local(|| runtime().block_on(store.get("bench", divan::black_box(HASH))));
            return;
        }
    };
    bencher.bench_local(|| runtime().block_on(round_trip(store, divan::black_box(&arguments))));
}

#[divan::bench(args = CASES)]
fn memory(bencher: divan::Bencher, case: &str) {
    bench_store(bencher, &MemoryStore::default(), case);
}

#[cfg(feature = "sqlite")]
#[divan::bench(args = CASES)]
fn sqlite(bencher: divan::Bencher, case: &str) {
    let dir = std::env::temp_dir().join(format!("headroom-bench-{}", std::process::id()));
    let store = headroom::store::SqliteStore::open(dir.join("store.sqlite3"), Default::default())
        .expect("sqlite opens");
    bench_store(bencher, &store, case);
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(feature = "redis")]
#[path = "../tests/support/redis_server.rs"]
mod redis_server;

#[cfg(feature = "redis")]
#[divan::bench(args = CASES)]
fn redis(bencher: divan::Bencher, case: &str) {
    let server = redis_server::RedisServer::start();
    let store = runtime()
        .block_on(headroom::store::RedisStore::connect(
            &server.url(None),
            Default::default(),
        ))
        .expect("redis answers");
    bench_store(bencher, &store, case);
}
