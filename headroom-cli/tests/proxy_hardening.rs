//! `headroom proxy` against hostile or careless clients (issue 16): the real binary on an ephemeral
//! port in front of a fake upstream on loopback. Bounded labels, clean logs, the client's statuses
//! for the client's faults, the proxy's own header kept to itself, a bounded drain on SIGTERM, and
//! a start without its Redis.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "../../headroom/tests/support/redis_server.rs"]
mod redis_server;
mod support;
use redis_server::RedisServer;
use support::{start_proxy, start_proxy_logging};

const BUILD_LOG: &str =
    include_str!("../../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt");

/// A fake upstream: records the headers of every request; chat answers at once, or, for the model
/// `stall`, starts a stream and never ends it.
#[derive(Clone, Default)]
struct Upstream {
    headers: Arc<Mutex<Vec<http::HeaderMap>>>,
}

async fn start_upstream() -> (String, Upstream) {
    let state = Upstream::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

async fn embeddings(State(up): State<Upstream>, request: Request) -> Response {
    up.headers.lock().unwrap().push(request.headers().clone());
    let _ = axum::body::to_bytes(request.into_body(), usize::MAX).await;
    Response::new(Body::from(r#"{"object":"list","data":[]}"#))
}

async fn chat(State(up): State<Upstream>, request: Request) -> Response {
    up.headers.lock().unwrap().push(request.headers().clone());
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    if value["model"] == "stall" {
        let first = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"data: {\"choices\":[]}\n\n"))
        });
        let never = futures_util::stream::pending();
        let mut response = Response::new(Body::from_stream(futures_util::StreamExt::chain(
            first, never,
        )));
        response
            .headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        return response;
    }
    let reply = json!({"id":"c","object":"chat.completion","created":1,"model":"gpt-4o",
        "choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]});
    Response::new(Body::from(reply.to_string()))
}

async fn post_json(url: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// One raw HTTP/1.1 exchange over TCP (for bodies no client library would send): the status.
fn raw_status(addr: &str, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_labels_are_bounded() {
    let (up_url, _up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let chat = format!("{}/v1/chat/completions", proxy.url);
    let huge = "m".repeat(1_000_000);
    for _ in 0..3 {
        let body = json!({"model": huge, "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(post_json(&chat, &body).await.status(), 200);
    }
    for i in 0..150 {
        let body =
            json!({"model": format!("model-{i}"), "messages": [{"role": "user", "content": "hi"}]});
        post_json(&chat, &body).await;
    }
    let stats = reqwest::get(format!("{}/stats", proxy.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stats.len() < 20_000, "/stats is {} bytes", stats.len());
    let stats: Value = serde_json::from_str(&stats).unwrap();
    let by_model = stats["requests"]["by_model"].as_object().unwrap();
    assert!(by_model.len() <= 101, "{} model labels", by_model.len());
    assert!(by_model.keys().all(|k| k.chars().count() <= 64));
    let counted: u64 = by_model.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(counted, 153, "every request is still counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrieve_hashes_are_checked_and_logs_stay_clean() {
    let (up_url, _up) = start_upstream().await;
    let log =
        std::env::temp_dir().join(format!("headroom-hardening-log-{}.txt", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    let mut proxy =
        start_proxy_logging(&up_url, &["--store", "memory:"], "info", Stdio::from(file));
    let forged = "0123\n2026-01-01T00:00:00.000000Z  WARN forged line\u{1b}[2J\u{0}";
    let long = format!("{forged}{}", "f".repeat(1_000_000));
    for hash in [forged, long.as_str()] {
        let reply = post_json(
            &format!("{}/v1/retrieve", proxy.url),
            &json!({"hash": hash}),
        )
        .await;
        assert_eq!(reply.status(), 400, "not a hash");
        let text = reply.text().await.unwrap();
        assert!(text.len() < 2_000, "the reply echoes {} bytes", text.len());
        let call = json!({"tool_call": {"id": "c9", "type": "function", "function": {
            "name": "headroom_retrieve", "arguments": json!({"hash": hash}).to_string()}}});
        let answered: Value = post_json(&format!("{}/v1/retrieve/tool_call", proxy.url), &call)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answered["success"], false);
        assert!(answered["tool_result"]["content"]
            .as_str()
            .unwrap()
            .contains("24 hex digits"));
    }
    // A well-formed hash in capitals is read as the lowercase one; unknown: 404.
    let reply = post_json(
        &format!("{}/v1/retrieve", proxy.url),
        &json!({"hash": "0123456789ABCDEF01234567"}),
    )
    .await;
    assert_eq!(reply.status(), 404);
    let _ = proxy.child.kill();
    let _ = proxy.child.wait();
    let bytes = std::fs::read(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("request failed"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.contains("forged line") && !l.contains("request failed")),
        "a client forged a log line:\n{text}"
    );
    assert!(
        !bytes.contains(&0x1b) && !bytes.contains(&0),
        "raw control bytes in the log"
    );
    assert!(
        text.lines().all(|l| l.len() < 4_000),
        "an unbounded log line"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bypass_header_stays_in_the_proxy() {
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let client = reqwest::Client::new();
    for path in ["/v1/chat/completions", "/v1/embeddings"] {
        let reply = client
            .post(format!("{}{path}", proxy.url))
            .header("x-headroom-bypass", "true")
            .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{path}");
    }
    let seen = up.headers.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|h| !h.contains_key("x-headroom-bypass")),
        "x-headroom-bypass reached the upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_broken_body_gets_a_client_status() {
    let (up_url, _up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &["--max-body-bytes", "1000"]);
    let head = "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let chunk = "x".repeat(800);
    let oversize = format!("{head}320\r\n{chunk}\r\n320\r\n{chunk}\r\n0\r\n\r\n");
    assert_eq!(raw_status(&proxy.addr, oversize.as_bytes()), 413);
    let malformed = format!("{head}zz\r\nnot a chunk\r\n0\r\n\r\n");
    assert_eq!(raw_status(&proxy.addr, malformed.as_bytes()), 400);
    let metrics = reqwest::get(format!("{}/metrics", proxy.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("upstream_unreachable"),
        "a client's fault counted as the upstream's:\n{metrics}"
    );
    assert!(metrics.contains("headroom_errors_total{kind=\"body_too_large\"} 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_for_at_most_the_shutdown_timeout() {
    let (up_url, _up) = start_upstream().await;
    let mut proxy = start_proxy(&up_url, &["--shutdown-timeout", "1s"]);
    let response = post_json(
        &format!("{}/v1/chat/completions", proxy.url),
        &json!({"model": "stall", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let pid = proxy.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = proxy.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "the proxy waited on a stream that never ends"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() >= Duration::from_millis(900),
        "in-flight streams get their drain time"
    );
    drop(response);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_starts_without_its_redis_and_uses_it_once_it_answers() {
    let (up_url, _up) = start_upstream().await;
    let Some(mut redis) = RedisServer::start_if_installed() else {
        return;
    };
    let url = redis.url(Some(5));
    redis.stop();
    let proxy = start_proxy(&up_url, &["--store", &url]);
    let body = json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "Why did the build fail?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "cargo_build", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": BUILD_LOG}]});
    let compress = || async {
        let reply: Value = post_json(&format!("{}/v1/compress", proxy.url), &body)
            .await
            .json()
            .await
            .unwrap();
        reply
    };
    let down = compress().await;
    assert_eq!(
        down["ccr_hashes"],
        json!([]),
        "no store, nothing elided: {down}"
    );
    assert!(down["tokens_saved"].as_u64().is_some());
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    let hash = loop {
        let up = compress().await;
        if let Some(hash) = up["ccr_hashes"][0].as_str() {
            break hash.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "never used the Redis that came up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let got: Value = post_json(
        &format!("{}/v1/retrieve", proxy.url),
        &json!({"hash": hash}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(got["original_content"], BUILD_LOG);
}
