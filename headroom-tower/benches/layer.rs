//! What `HeadroomLayer` adds to a request.
//!
//! - `passthrough`: a request the layer forwards unread (another path), against the same inner
//!   service without the layer (`baseline`): the difference is the layer's cost (target < 20 µs).
//! - `compress_100k_tokens`: a chat-completions body whose tool result is ~100k tokens of real GitHub
//!   issues (`target/fixtures/github-closed-issues.json`, written by `scripts/fixtures.sh`), through
//!   the layer on a multi-thread runtime (the body is over 64 KiB, so compression runs on the
//!   blocking pool), against `engine_only`, the engine's `compress_json` on the same bytes.
//!
//! Run with `cargo bench -p headroom-tower --bench layer`.

use bytes::Bytes;
use headroom_tower::HeadroomLayer;
use http::{Request, Response};
use http_body_util::Full;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tower::{Layer, Service};

fn main() {
    divan::main();
}

/// An inner service that answers at once, so only the layer's own work is timed.
#[derive(Clone)]
struct Immediate;

impl Service<Request<Full<Bytes>>> for Immediate {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Full<Bytes>>) -> Self::Future {
        ready(Ok(Response::new(())))
    }
}

/// Polls a future that completes without waiting.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future was expected to complete at once"),
    }
}

fn embeddings_request() -> Request<Full<Bytes>> {
    Request::post("http://localhost/v1/embeddings")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(
            br#"{"model":"text-embedding-3-small","input":"The food was delicious and the waiter was kind."}"#,
        )))
        .unwrap()
}

#[divan::bench]
fn baseline(bencher: divan::Bencher) {
    let mut service = Immediate;
    bencher
        .with_inputs(embeddings_request)
        .bench_local_values(|request| run(service.call(request)).unwrap());
}

#[divan::bench]
fn passthrough(bencher: divan::Bencher) {
    let mut service = HeadroomLayer.layer(Immediate);
    bencher
        .with_inputs(embeddings_request)
        .bench_local_values(|request| run(service.call(request)).unwrap());
}

/// ~100k tokens of real issues as one tool result.
fn big_body() -> Bytes {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/fixtures/github-closed-issues.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run scripts/fixtures.sh first"));
    let issues: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    let mut taken = Vec::new();
    let mut content = String::new();
    for issue in issues {
        taken.push(issue);
        content = serde_json::to_string_pretty(&taken).unwrap();
        if counter.count(&content) >= 100_000 {
            break;
        }
    }
    let body = serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which closed issues were about the video player?"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "list_issues", "arguments": "{\"state\":\"closed\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": content}
        ]
    });
    Bytes::from(serde_json::to_vec(&body).unwrap())
}

fn chat_request(body: &Bytes) -> Request<Full<Bytes>> {
    Request::post("http://localhost/v1/chat/completions")
        .header("content-type", "application/json")
        .body(Full::new(body.clone()))
        .unwrap()
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn compress_100k_tokens(bencher: divan::Bencher) {
    let body = big_body();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let mut service = HeadroomLayer.layer(Immediate);
    bencher
        .with_inputs(|| chat_request(&body))
        .bench_local_values(|request| {
            let response = runtime.block_on(service.call(request)).unwrap();
            assert!(response.extensions().get::<headroom::Report>().is_some());
        });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn engine_only(bencher: divan::Bencher) {
    let body = big_body();
    let engine = headroom::Headroom::default();
    let report = engine.compress_json(&body).unwrap().report;
    eprintln!(
        "100k-token body: {} bytes, {} → {} tokens ({:.1}% saved, {})",
        body.len(),
        report.tokens_before,
        report.tokens_after,
        100.0 * report.savings_ratio,
        report.transforms_applied.join(", ")
    );
    bencher.bench_local(|| engine.compress_json(&body).unwrap());
}
