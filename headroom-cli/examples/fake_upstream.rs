//! A fast stand-in for the OpenAI API, for `scripts/load.sh`: answers every chat completion with
//! one short completion and every embeddings call with one short vector, after reading the body.
//!
//! `cargo run --release -p headroom-cli --example fake_upstream -- [PORT]` prints
//! `fake upstream listening on http://127.0.0.1:PORT` (PORT 0: any free port).

use axum::body::Bytes;
use axum::routing::post;
use axum::Router;

const COMPLETION: &str = r#"{"id":"chatcmpl-load","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
const EMBEDDING: &str = r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292]}],"model":"text-embedding-3-small"}"#;

async fn json(body: &'static str) -> ([(&'static str, &'static str); 1], &'static str) {
    ([("content-type", "application/json")], body)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "0".into());
    let app = Router::new()
        .route("/v1/chat/completions", post(|_: Bytes| json(COMPLETION)))
        .route("/v1/embeddings", post(|_: Bytes| json(EMBEDDING)))
        // The stress probes send bodies of tens of megabytes.
        .layer(axum::extract::DefaultBodyLimit::disable());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .expect("a free port");
    println!(
        "fake upstream listening on http://{}",
        listener.local_addr().expect("bound")
    );
    axum::serve(listener, app).await.expect("the server runs");
}
