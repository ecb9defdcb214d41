//! `headroom proxy` end to end: the real binary on an ephemeral port in front of a fake OpenAI
//! upstream on loopback (axum), a real redis-server, and the real Python and TypeScript clients.
//! Compressed content is a real 20k-token `cargo build -vv` log shipped with the engine's fixtures.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[path = "../../headroom/tests/support/redis_server.rs"]
mod redis_server;
mod support;
use redis_server::extras;
use redis_server::RedisServer;
use support::{start_proxy, start_proxy_logging, Proxy};

const BUILD_LOG: &str =
    include_str!("../../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt");

// ---------------------------------------------------------------- the fake upstream

#[derive(Clone, Default)]
struct Upstream {
    /// Every chat-completions body it received, in order.
    seen: Arc<Mutex<Vec<Value>>>,
    /// Released by a test to let the `gated` stream finish.
    gate: Arc<Notify>,
}

impl Upstream {
    fn seen(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }
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

/// The bytes an embeddings call returns: odd spacing, so re-serialising would show.
const EMBEDDINGS_REPLY: &str = "{ \"object\" : \"list\",\n  \"data\": [{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.0023064255,-0.009327292,1e-7]}],\"model\":\"text-embedding-3-small\"}";

async fn embeddings(request: Request) -> Response {
    let query = request.uri().query().unwrap_or("").to_string();
    let org = request.headers().get("openai-organization").cloned();
    let hop = request.headers().contains_key("x-hop-secret");
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut response = Response::new(Body::from(EMBEDDINGS_REPLY));
    let h = response.headers_mut();
    h.insert("content-type", "application/json".parse().unwrap());
    h.insert("x-seen-query", query.parse().unwrap());
    h.insert("x-seen-body-len", body.len().into());
    h.insert(
        "x-seen-hop-header",
        if hop { "yes" } else { "no" }.parse().unwrap(),
    );
    if let Some(org) = org {
        h.insert("x-seen-org", org);
    }
    *response.status_mut() = http::StatusCode::CREATED;
    response
}

/// The 24-hex hash of the first marker in a request.
fn marker_hash(body: &str) -> Option<String> {
    let at = body.find("headroom_retrieve hash=")? + "headroom_retrieve hash=".len();
    Some(body[at..at + 24].to_string())
}

async fn chat(State(up): State<Upstream>, request: Request) -> Response {
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let value: Value = serde_json::from_slice(&body).unwrap();
    up.seen.lock().unwrap().push(value.clone());
    let model = value["model"].as_str().unwrap_or("").to_string();
    let stream = value["stream"] == true;
    let last = value["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    let offers = value["tools"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["function"]["name"] == "headroom_retrieve")
    });
    if model == "slow" {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    // `retrieve-me`: ask for the original first; once a tool message answers, say what it got.
    let call = (model == "retrieve-me" && offers && last["tool_call_id"] != "call_r1")
        .then(|| marker_hash(&value["messages"].to_string()))
        .flatten();
    let answer = if last["tool_call_id"] == "call_r1" {
        let content = last["content"].as_str().unwrap_or("");
        format!(
            "retrieved error[E0308]: {}",
            content.contains("error[E0308]: mismatched types")
        )
    } else {
        "Hello from upstream".to_string()
    };
    if !stream {
        let message = match &call {
            Some(hash) => {
                json!({"role":"assistant","content":null,"tool_calls":[{"id":"call_r1","type":"function",
                "function":{"name":"headroom_retrieve","arguments":json!({"hash":hash,"query":"E0308"}).to_string()}}]})
            }
            None => json!({"role":"assistant","content":answer}),
        };
        let finish = if call.is_some() { "tool_calls" } else { "stop" };
        let reply = json!({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",
            "choices":[{"index":0,"message":message,"finish_reason":finish}],
            "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}});
        return axum::Json(reply).into_response_for_test();
    }
    let chunk = |delta: Value, finish: Value| {
        let c = json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",
            "choices":[{"index":0,"delta":delta,"finish_reason":finish}]});
        Bytes::from(format!("data: {c}\n\n"))
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let gate = up.gate.clone();
    tokio::spawn(async move {
        let _ = tx
            .send(Ok(chunk(
                json!({"role":"assistant","content":""}),
                Value::Null,
            )))
            .await;
        if let Some(hash) = call {
            let start = json!({"tool_calls":[{"index":0,"id":"call_r1","type":"function","function":{"name":"headroom_retrieve","arguments":""}}]});
            let args = json!({"tool_calls":[{"index":0,"function":{"arguments":json!({"hash":hash,"query":"E0308"}).to_string()}}]});
            for c in [
                chunk(start, Value::Null),
                chunk(args, Value::Null),
                chunk(json!({}), json!("tool_calls")),
            ] {
                let _ = tx.send(Ok(c)).await;
            }
        } else {
            let (first, rest) = answer.split_at(5);
            let _ = tx
                .send(Ok(chunk(json!({"content":first}), Value::Null)))
                .await;
            match model.as_str() {
                "gated" => gate.notified().await,
                "stall" => tokio::time::sleep(Duration::from_secs(20)).await,
                _ => {}
            }
            let _ = tx
                .send(Ok(chunk(json!({"content":rest}), Value::Null)))
                .await;
            let _ = tx.send(Ok(chunk(json!({}), json!("stop")))).await;
        }
        let _ = tx.send(Ok(Bytes::from_static(b"data: [DONE]\n\n"))).await;
    });
    let body =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let mut response = Response::new(Body::from_stream(body));
    response
        .headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    response
}

trait IntoTestResponse {
    fn into_response_for_test(self) -> Response;
}
impl<T: serde::Serialize> IntoTestResponse for axum::Json<T> {
    fn into_response_for_test(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}

// ---------------------------------------------------------------- the real proxy

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

fn build_log_request(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [
        {"role":"user","content":"Why did the build fail?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"cargo_build","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":BUILD_LOG}
    ]})
}

/// POSTs `body` as JSON to `path` of `base`, with a bearer token when given.
async fn send_json(base: &str, path: &str, auth: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = client().post(format!("{base}{path}")).json(body);
    if let Some(token) = auth {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// [`send_json`], and the JSON reply.
async fn post_json(base: &str, path: &str, auth: Option<&str>, body: &Value) -> Value {
    send_json(base, path, auth, body)
        .await
        .json()
        .await
        .unwrap()
}

/// `GET /metrics`: the Prometheus text.
async fn metrics(proxy: &Proxy) -> String {
    client()
        .get(format!("{}/metrics", proxy.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn stats(proxy: &Proxy) -> Value {
    client()
        .get(format!("{}/stats", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_is_compressed_and_forwarded() {
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let response = send_json(
        &proxy.url,
        "/v1/chat/completions",
        Some("sk-test"),
        &build_log_request("gpt-4o", false),
    )
    .await;
    assert_eq!(response.status(), 200);
    let before: usize = response.headers()["x-headroom-tokens-before"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let saved: usize = response.headers()["x-headroom-tokens-saved"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let reply: Value = response.json().await.unwrap();
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "Hello from upstream"
    );
    assert!(
        before > 15_000 && saved > before / 2,
        "before {before}, saved {saved}"
    );
    let sent = &up.seen()[0];
    let tool = sent["messages"][2]["content"].as_str().unwrap();
    assert!(
        tool.len() < BUILD_LOG.len() / 3,
        "the upstream got the compressed log"
    );
    assert!(
        tool.contains("error[E0308]"),
        "the error survives compression"
    );
    assert!(marker_hash(tool).is_some(), "elisions are marked");
    assert_eq!(sent["tools"][0]["function"]["name"], "headroom_retrieve");
    let s = stats(&proxy).await;
    assert_eq!(s["requests"]["by_route"]["chat_completions"], 1);
    assert_eq!(s["requests"]["by_model"]["gpt-4o"], 1);
    assert_eq!(s["tokens"]["total_before_compression"], before);
    assert_eq!(s["tokens"]["saved"], saved);

    // Bypass: sent byte for byte.
    let raw = serde_json::to_vec(&build_log_request("gpt-4o", false)).unwrap();
    let response = client()
        .post(format!("{}/v1/chat/completions", proxy.url))
        .header("content-type", "application/json")
        .header("x-headroom-bypass", "true")
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("x-headroom-tokens-before"));
    assert_eq!(serde_json::to_vec(&up.seen()[1]).unwrap(), raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_originals_are_kept_in_the_callers_namespace() {
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    // curl-style: JSON with no Content-Type is compressed all the same.
    let raw = serde_json::to_vec(&build_log_request("gpt-4o", false)).unwrap();
    let response = client()
        .post(format!("{}/v1/chat/completions", proxy.url))
        .bearer_auth("sk-alpha")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-headroom-tokens-saved"));
    let sent = up.seen()[0]["messages"][2]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = marker_hash(&sent).expect("the log was elided with a marker");
    let own = send_json(
        &proxy.url,
        "/v1/retrieve",
        Some("sk-alpha"),
        &json!({"hash": hash}),
    )
    .await;
    assert_eq!(own.status(), 200);
    let own: Value = own.json().await.unwrap();
    assert_eq!(own["original_content"], BUILD_LOG);
    for other in [Some("sk-beta"), None] {
        let seen = send_json(&proxy.url, "/v1/retrieve", other, &json!({"hash": hash})).await;
        assert_eq!(
            seen.status(),
            404,
            "{other:?} must not see sk-alpha's originals"
        );
    }
    let metrics = metrics(&proxy).await;
    assert!(
        metrics.contains("headroom_compression_seconds_count 1\n"),
        "{metrics}"
    );
    assert!(stats(&proxy).await["compression"]["ccr_entries"].as_u64() >= Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_request_ids_and_never_credentials() {
    let (up_url, _up) = start_upstream().await;
    let log = std::env::temp_dir().join(format!("headroom-proxy-log-{}.txt", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    let mut proxy = start_proxy_logging(&up_url, &[], "trace", Stdio::from(file));
    let secret = "sk-proj-never-in-logs-4242";
    let response = client()
        .post(format!("{}/v1/chat/completions", proxy.url))
        .bearer_auth(secret)
        .header("x-request-id", "req-from-client-7")
        .json(&build_log_request("gpt-4o", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-from-client-7");
    let _ = response.bytes().await.unwrap();
    let _ = proxy.child.kill();
    let _ = proxy.child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        text.contains("req-from-client-7") && text.contains("compressed"),
        "{text}"
    );
    assert!(
        !text.contains(secret) && !text.contains("never-in-logs"),
        "a credential was logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_relayed_chunk_by_chunk() {
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let response = send_json(
        &proxy.url,
        "/v1/chat/completions",
        None,
        &build_log_request("gated", true),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut body = response.bytes_stream();
    let mut got = String::new();
    // The upstream holds its stream open until released: the first content must arrive before.
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        while !got.contains("\"content\":\"Hello\"") {
            got.push_str(&String::from_utf8_lossy(
                &body.next().await.unwrap().unwrap(),
            ));
        }
    })
    .await;
    assert!(
        first.is_ok(),
        "the first chunk did not arrive while the upstream was still streaming: {got}"
    );
    assert!(!got.contains("[DONE]"));
    up.gate.notify_one();
    while let Some(chunk) = body.next().await {
        got.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(got.ends_with("data: [DONE]\n\n"), "{got}");
    assert!(got.contains("\"finish_reason\":\"stop\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_paths_pass_through_byte_identical() {
    let (up_url, _up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let body = r#"{"input": "The food was delicious",  "model":"text-embedding-3-small"}"#;
    let send = |base: String| {
        client()
            .post(format!(
                "{base}/v1/embeddings?api-version=2024-02-01&x=%20y"
            ))
            .header("content-type", "application/json")
            .header("openai-organization", "org-123")
            .header("connection", "x-hop-secret")
            .header("x-hop-secret", "must not cross")
            .body(body)
            .send()
    };
    let direct = send(up_url.clone()).await.unwrap();
    let proxied = send(proxy.url.clone()).await.unwrap();
    assert_eq!(proxied.status(), 201);
    for name in [
        "x-seen-query",
        "x-seen-body-len",
        "x-seen-org",
        "content-type",
    ] {
        assert_eq!(
            proxied.headers().get(name),
            direct.headers().get(name),
            "{name}"
        );
    }
    assert_eq!(
        proxied.headers()["x-seen-query"],
        "api-version=2024-02-01&x=%20y"
    );
    assert_eq!(
        proxied.headers()["x-seen-hop-header"],
        "no",
        "hop-by-hop headers are dropped"
    );
    assert_eq!(
        proxied.bytes().await.unwrap(),
        direct.bytes().await.unwrap()
    );

    // /v1/responses goes through the Responses door (nothing to compress here) and is counted.
    let r = send_json(&proxy.url, "/v1/responses", None, &json!({"input":"hi"})).await;
    assert_eq!(
        r.status(),
        404,
        "the fake upstream has no /v1/responses: its 404 comes back"
    );
    let s = stats(&proxy).await;
    assert_eq!(s["requests"]["by_route"]["responses"], 1);
    assert_eq!(s["requests"]["by_route"]["passthrough"], 1);
    let metrics = metrics(&proxy).await;
    assert!(
        metrics.contains("headroom_requests_total{route=\"responses\"} 1"),
        "{metrics}"
    );
    let health: Value = client()
        .get(format!("{}/health", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compress_endpoint_speaks_the_sdk_protocol() {
    let (up_url, _up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let messages = build_log_request("gpt-4o", false)["messages"].clone();
    let reply: Value = post_json(
        &proxy.url,
        "/v1/compress",
        None,
        &json!({"messages": messages, "model": "gpt-4o", "token_budget": 4000}),
    )
    .await;
    let before = reply["tokens_before"].as_u64().unwrap();
    let after = reply["tokens_after"].as_u64().unwrap();
    assert_eq!(reply["tokens_saved"].as_u64().unwrap(), before - after);
    let ratio = reply["compression_ratio"].as_f64().unwrap();
    assert!(
        (ratio - after as f64 / before as f64).abs() < 1e-9,
        "ratio is after/before"
    );
    assert!(reply["transforms_applied"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t.as_str().unwrap().starts_with("logs:")));
    let hash = reply["ccr_hashes"][0].as_str().unwrap().to_string();
    assert_eq!(reply["messages"].as_array().unwrap().len(), 3);
    assert_eq!(
        reply["messages"][0], messages[0],
        "the user turn is untouched"
    );

    // Anonymous retrieve of what anonymous compress stored; another tenant cannot see it.
    let got: Value = post_json(&proxy.url, "/v1/retrieve", None, &json!({"hash": hash})).await;
    assert_eq!(got["original_content"], BUILD_LOG);
    let other = send_json(
        &proxy.url,
        "/v1/retrieve",
        Some("sk-other"),
        &json!({"hash": hash}),
    )
    .await;
    assert_eq!(other.status(), 404);
    let searched: Value = post_json(
        &proxy.url,
        "/v1/retrieve",
        None,
        &json!({"hash": hash, "query": "E0308"}),
    )
    .await;
    assert!(searched["count"].as_u64().unwrap() >= 1);
    assert!(
        searched["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l.as_str().unwrap().contains("E0308")),
        "{searched}"
    );
    let call = json!({"tool_call": {"id": "call_9", "type": "function", "function": {"name": "headroom_retrieve", "arguments": json!({"hash": hash, "query": "E0308"}).to_string()}}});
    let answered: Value = post_json(&proxy.url, "/v1/retrieve/tool_call", None, &call).await;
    assert_eq!(answered["tool_result"]["tool_call_id"], "call_9");
    assert!(answered["tool_result"]["content"]
        .as_str()
        .unwrap()
        .contains("error[E0308]"));

    // Not a compress request: 400 (the SDK reports it); an empty conversation: 200 unchanged.
    let bad = send_json(
        &proxy.url,
        "/v1/compress",
        None,
        &json!({"model": "gpt-4o"}),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let empty: Value = post_json(
        &proxy.url,
        "/v1/compress",
        None,
        &json!({"messages": [], "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(empty["messages"], json!([]));
    assert_eq!(empty["tokens_saved"], 0);
    assert_eq!(
        stats(&proxy).await["compression"]["token_budget_requests"],
        1
    );
}

/// A gateway's session through `/v1/compress`: the budget is applied (old tool units evicted
/// behind a marker whose hash retrieves them), the reply says what was evicted and how many
/// leading messages stayed byte-identical, the counters see it, and what cannot fit is a 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compress_sessions_fit_the_budget_and_count_the_stable_prefix() {
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let mut messages = vec![json!({"role": "system", "content": "You are a build assistant."})];
    let mut last = Value::Null;
    for turn in 1..=8 {
        messages.push(
            json!({"role": "user", "content": format!("Turn {turn}: why did the build fail?")}),
        );
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": format!("call_{turn}"), "type": "function", "function": {"name": "cargo_build", "arguments": "{}"}}]}));
        messages.push(
            json!({"role": "tool", "tool_call_id": format!("call_{turn}"),
            "content": format!("build #{turn}\n{BUILD_LOG}")}),
        );
        let body = json!({"messages": messages, "model": "gpt-4o", "token_budget": 6000, "session_id": "s1"});
        let reply = post_json(&proxy.url, "/v1/compress", Some("sk-team"), &body).await;
        assert!(
            reply["tokens_after"].as_u64().unwrap() <= 6000,
            "turn {turn}: {}",
            reply["tokens_after"]
        );
        assert_eq!(reply["session_id"], "s1");
        if turn == 1 {
            assert!(reply.get("prefix_stable_messages").is_none());
        } else {
            assert!(reply["prefix_stable_messages"].as_u64().unwrap() >= 1);
        }
        messages.push(
            json!({"role": "assistant", "content": format!("Build {turn} failed on E0308.")}),
        );
        last = reply;
    }
    let evictions = last["evictions"].as_array().unwrap();
    assert!(!evictions.is_empty(), "{last}");
    assert!(!last["evicted_messages"].as_array().unwrap().is_empty());
    let first = &evictions[0];
    let start = first["messages"]["start"].as_u64().unwrap() as usize;
    let got: Value = post_json(
        &proxy.url,
        "/v1/retrieve",
        Some("sk-team"),
        &json!({"hash": first["hash"]}),
    )
    .await;
    let evicted: Vec<Value> =
        serde_json::from_str(got["original_content"].as_str().unwrap()).unwrap();
    assert_eq!(
        evicted[0], messages[start],
        "the evicted messages come back"
    );
    let sent = last["messages"].as_array().unwrap();
    assert!(sent.iter().any(|m| m["role"] == "user"
        && m["content"]
            .as_str()
            .unwrap()
            .contains(first["hash"].as_str().unwrap())));
    let stats = stats(&proxy).await;
    let evictions = stats["compression"]["evictions"].as_u64().unwrap();
    assert!(evictions >= 1);
    assert_eq!(stats["sessions"]["calls"], 7);
    let share = stats["sessions"]["prefix_stable_share"].as_f64().unwrap();
    assert!(share > 0.0 && share <= 1.0, "{share}");
    // /metrics says the same numbers.
    let text = metrics(&proxy).await;
    let sample = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} sample in {text}"))
    };
    assert_eq!(sample("headroom_evictions_total"), evictions as f64);
    assert!((sample("headroom_prefix_stable_share") - share).abs() < 1e-9);

    // A gateway sends back what it got, frozen, plus a new turn: the frozen part comes back as it went.
    let mut again = sent.clone();
    again.push(json!({"role": "user", "content": "And now?"}));
    let frozen = sent.len();
    let body = json!({"messages": again, "model": "gpt-4o", "token_budget": 6000, "frozen_message_count": frozen});
    let reply = post_json(&proxy.url, "/v1/compress", None, &body).await;
    assert_eq!(reply["messages"].as_array().unwrap()[..frozen], sent[..]);

    // What cannot fit: a 400 in OpenAI's shape, on both routes, and nothing sent upstream.
    let body = json!({"messages": messages, "model": "gpt-4o", "token_budget": 50});
    let refused = send_json(&proxy.url, "/v1/compress", None, &body).await;
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "context_length_exceeded");
    let huge = "word ".repeat(12_000);
    let chat = json!({"model": "gpt-4", "messages": [{"role": "user", "content": huge}]});
    let seen = up.seen().len();
    let refused = send_json(&proxy.url, "/v1/chat/completions", Some("sk-test"), &chat).await;
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("budget"),
        "{error}"
    );
    assert_eq!(
        up.seen().len(),
        seen,
        "a request the provider would refuse is not sent"
    );
}

/// `/v1/compress` copies every byte outside the strings it compresses, as the chat route does:
/// number text, escapes (a lone surrogate too) and spacing come back as they went.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compress_endpoint_is_byte_faithful() {
    let (up_url, _up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let log = serde_json::to_string(BUILD_LOG).unwrap();
    let untouched = r#"{"role": "user", "content": "Why did the build fail? \ud800", "n": 123456789012345678901234567890, "f": 1.0e2 }"#;
    let body = format!(
        r#"{{"model":"gpt-4o", "messages": [{untouched},
        {{"role":"assistant","content":null,"tool_calls":[{{"id":"call_1","type":"function","function":{{"name":"cargo_build","arguments":"{{}}"}}}}]}},
        {{"role":"tool","tool_call_id":"call_1","content":{log}}}], "token_budget": 4000}}"#
    );
    let reply = client()
        .post(format!("{}/v1/compress", proxy.url))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let text = reply.text().await.unwrap();
    assert!(
        text.contains(untouched),
        "untouched message rewritten: {}",
        &text[..400.min(text.len())]
    );
    // serde_json's Value refuses lone surrogates; the reply is read without it.
    let readable = text.replace("\\ud800", "?");
    let reply: Value = serde_json::from_str(&readable).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(
        reply["tokens_saved"].as_u64().unwrap() > 0,
        "the log is compressed"
    );
    assert_eq!(reply["ccr_hashes"].as_array().unwrap().len(), 1);

    // Nothing to compress: the messages come back byte for byte.
    let small = format!(r#"{{"messages": [{untouched}] , "model" : "gpt-4o"}}"#);
    let reply = client()
        .post(format!("{}/v1/compress", proxy.url))
        .body(small)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        reply.starts_with(&format!(r#"{{"messages":[{untouched}],"#)),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrieval_rounds_are_resolved_inside_the_proxy() {
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    // Non-streaming: the model asks for the original, gets it, answers; the client sees the answer.
    let reply: Value = post_json(
        &proxy.url,
        "/v1/chat/completions",
        Some("sk-tenant"),
        &build_log_request("retrieve-me", false),
    )
    .await;
    let expected = "retrieved error[E0308]: true";
    assert_eq!(reply["choices"][0]["message"]["content"], expected);
    let seen = up.seen();
    assert_eq!(seen.len(), 2, "one retrieval round");
    let answer = seen[1]["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    let kept = seen[0]["messages"][2]["content"].as_str().unwrap();
    assert!(
        answer.contains("E0308") && answer != kept,
        "the round carried the retrieved original: {answer}"
    );
    assert!(
        answer.lines().skip(1).all(|l| l.contains("E0308")),
        "filtered by the model's query"
    );

    // Streaming: the same, as SSE.
    let text = send_json(
        &proxy.url,
        "/v1/chat/completions",
        Some("sk-tenant"),
        &build_log_request("retrieve-me", true),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        !text.contains("headroom_retrieve"),
        "the client never sees our tool call: {text}"
    );
    let streamed: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(streamed, expected);
    assert_eq!(up.seen().len(), 4);
    assert_eq!(stats(&proxy).await["compression"]["retrieval_rounds"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_max_reply_bytes_is_relayed_as_it_came() {
    let (up_url, up) = start_upstream().await;
    let dir = std::env::temp_dir().join(format!("headroom-proxy-reply-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("engine.json");
    std::fs::write(&config, r#"{"max_reply_bytes": 64}"#).unwrap();
    let proxy = start_proxy(&up_url, &["--config", config.to_str().unwrap()]);
    for stream in [false, true] {
        let before = up.seen().len();
        let text = send_json(
            &proxy.url,
            "/v1/chat/completions",
            Some("sk-tenant"),
            &build_log_request("retrieve-me", stream),
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(
            text.contains("headroom_retrieve"),
            "stream {stream}: the model's reply as it came: {text}"
        );
        assert_eq!(
            up.seen().len(),
            before + 1,
            "no round sent for a reply not read"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_are_openai_style_errors() {
    let (up_url, _up) = start_upstream().await;
    // Nothing listens on the port of a listener we close.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let down = start_proxy(&dead, &[]);
    let r = send_json(
        &down.url,
        "/v1/chat/completions",
        None,
        &build_log_request("gpt-4o", false),
    )
    .await;
    assert_eq!(r.status(), 502);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "upstream_unreachable");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot reach"));

    let proxy = start_proxy(
        &up_url,
        &[
            "--upstream-timeout",
            "1s",
            "--stream-idle-timeout",
            "700ms",
            "--max-body-bytes",
            "100000",
        ],
    );
    let started = Instant::now();
    let r = send_json(
        &proxy.url,
        "/v1/chat/completions",
        None,
        &json!({"model":"slow","messages":[]}),
    )
    .await;
    assert_eq!(r.status(), 504);
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "upstream_timeout"
    );

    // A stream that goes silent: what came is relayed, then an error event, then the end.
    let started = Instant::now();
    let text = send_json(
        &proxy.url,
        "/v1/chat/completions",
        None,
        &json!({"model":"stall","stream":true,"messages":[]}),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(text.contains("\"content\":\"Hello\""), "{text}");
    assert!(text.contains("stream idle timeout"), "{text}");
    assert!(!text.contains("[DONE]"));

    // Over the body limit: 413, announced or chunked.
    let big = json!({"model":"gpt-4o","messages":[{"role":"user","content":"x".repeat(200_000)}]});
    let r = send_json(&proxy.url, "/v1/chat/completions", None, &big).await;
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "body_too_large"
    );
    let r = send_json(&proxy.url, "/v1/embeddings", None, &big).await;
    assert_eq!(r.status(), 413);
    let s = stats(&proxy).await;
    assert!(
        s["errors"]["upstream_timeout"].as_u64().unwrap() >= 2,
        "{s}"
    );
    assert_eq!(s["errors"]["body_too_large"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_streams_finish() {
    let (up_url, up) = start_upstream().await;
    let mut proxy = start_proxy(&up_url, &[]);
    let response = send_json(
        &proxy.url,
        "/v1/chat/completions",
        None,
        &build_log_request("gated", true),
    )
    .await;
    let mut body = response.bytes_stream();
    let mut got = String::new();
    while !got.contains("\"content\":\"Hello\"") {
        got.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    let pid = proxy.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = client()
        .get(format!("{}/health", proxy.url))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "no new requests once shutting down");
    up.gate.notify_one();
    while let Some(chunk) = body.next().await {
        got.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(
        got.ends_with("data: [DONE]\n\n"),
        "the in-flight stream finished: {got}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = proxy.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the proxy did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}

// ---------------------------------------------------------------- Redis shared by two proxies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_share_one_redis() {
    let (up_url, _up) = start_upstream().await;
    let Some(redis) = RedisServer::start_if_installed() else {
        return;
    };
    let store = redis.url(None);
    let a = start_proxy(&up_url, &["--store", &store]);
    let b = start_proxy(&up_url, &["--store", &store]);
    let messages = build_log_request("gpt-4o", false)["messages"].clone();
    let reply: Value = post_json(
        &a.url,
        "/v1/compress",
        Some("sk-team"),
        &json!({"messages": messages, "model": "gpt-4o"}),
    )
    .await;
    let hash = reply["ccr_hashes"][0]
        .as_str()
        .expect("a lossy compression")
        .to_string();
    let got: Value = post_json(
        &b.url,
        "/v1/retrieve",
        Some("sk-team"),
        &json!({"hash": hash}),
    )
    .await;
    assert_eq!(got["original_content"], BUILD_LOG);
    let anonymous = send_json(&b.url, "/v1/retrieve", None, &json!({"hash": hash})).await;
    assert_eq!(anonymous.status(), 404, "another namespace");
}

// ---------------------------------------------------------------- real clients

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/proxy-clients")
}

fn fixture_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt")
}

fn run_client(mut command: Command, what: &str) -> Value {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run ({e}); run scripts/setup.sh"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_create_and_stream() {
    let python = clients_dir().join("venv/bin/python");
    if !extras::available(
        "the Python openai client",
        python.exists(),
        &format!(
            "run `bash scripts/setup.sh` (a venv at {} with openai)",
            python.display()
        ),
    ) {
        return;
    }
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/openai_client.py");
    let mut command = Command::new(python);
    command.arg(script).arg(&proxy.url).arg(fixture_file());
    let got = tokio::task::spawn_blocking(move || run_client(command, "the Python openai client"))
        .await
        .unwrap();
    assert_eq!(got["content"], "Hello from upstream");
    assert_eq!(got["streamed"], "Hello from upstream");
    assert!(got["chunks"].as_u64().unwrap() >= 2);
    assert!(
        got["tokens_saved"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 10_000
    );
    assert!(up
        .seen()
        .iter()
        .all(|b| b["messages"][2]["content"].as_str().unwrap().len() < BUILD_LOG.len() / 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_with_headroom_uses_compress() {
    let node_dir = clients_dir().join("node");
    if !extras::available(
        "node with headroom-ai@0.37.0 and openai@4",
        extras::on_path("node")
            && node_dir
                .join("node_modules/headroom-ai/package.json")
                .exists()
            && node_dir.join("node_modules/openai/package.json").exists(),
        &format!(
            "run `bash scripts/setup.sh` (npm installs them under {})",
            node_dir.display()
        ),
    ) {
        return;
    }
    let (up_url, up) = start_upstream().await;
    let proxy = start_proxy(&up_url, &[]);
    let script = node_dir.join("with_headroom.mjs");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/with_headroom.mjs"),
        &script,
    )
    .unwrap();
    let mut command = Command::new("node");
    command
        .current_dir(&node_dir)
        .arg(&script)
        .arg(&proxy.url)
        .arg(&up_url)
        .arg(fixture_file());
    let got =
        tokio::task::spawn_blocking(move || run_client(command, "withHeadroom (headroom-ai 0.37)"))
            .await
            .unwrap();
    assert_eq!(got["content"], "Hello from upstream");
    assert_eq!(got["health"]["status"], "healthy");
    assert!(
        got["stats"]["totalTokensSaved"].as_u64().unwrap() > 10_000,
        "{got}"
    );
    // The OpenAI client sent the messages /v1/compress returned: compressed, marked.
    let sent = &up.seen()[0];
    let tool = sent["messages"][2]["content"].as_str().unwrap();
    assert!(tool.len() < BUILD_LOG.len() / 3 && marker_hash(tool).is_some());
    assert_eq!(stats(&proxy).await["requests"]["by_route"]["compress"], 1);
}
