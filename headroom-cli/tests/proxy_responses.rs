//! `headroom proxy` and the Responses API (`POST /v1/responses`) end to end: the real binary in
//! front of a fake Responses upstream on loopback, raw HTTP and the official Python client.
//! Compressed content is a real 20k-token `cargo build -vv` log shipped with the engine's fixtures.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../headroom/tests/support/extras.rs"]
mod extras;
#[path = "../../headroom/tests/support/responses_upstream.rs"]
mod responses_upstream;
use responses_upstream::{marker_hash, ResponsesUpstream, STORED_RESPONSE};
mod support;
use support::{start_proxy, Proxy};

const BUILD_LOG: &str =
    include_str!("../../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt");

fn agent_tool() -> Value {
    json!({"type":"function","name":"cargo_build","parameters":{"type":"object","properties":{}}})
}

/// An item type no SDK knows yet: it must reach the upstream exactly as sent.
fn future_item() -> Value {
    json!({"type":"future_item","payload":{"kept":[1,2.50,{"x":null}]}})
}

fn build_request(stream: bool) -> Value {
    json!({"model":"gpt-4o","stream":stream,"instructions":"You are a build assistant.",
        "input":[
            {"role":"user","content":"Why did the build fail?"},
            {"type":"function_call","call_id":"call_1","name":"cargo_build","arguments":"{}"},
            {"type":"function_call_output","call_id":"call_1","output":BUILD_LOG},
            future_item(),
        ],
        "tools":[agent_tool()]})
}

async fn post(proxy: &Proxy, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/responses", proxy.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn get_text(url: String) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

async fn stats(proxy: &Proxy) -> Value {
    reqwest::get(format!("{}/stats", proxy.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What the upstream's first request looked like: compressed, marked, the flat tool appended.
fn assert_compressed_first_request(first: &Value) {
    let output = first["input"][2]["output"].as_str().unwrap();
    assert!(output.len() < BUILD_LOG.len() / 3, "{} bytes", output.len());
    assert!(output.contains("error[E0308]"), "the error line stays");
    assert!(marker_hash(output).is_some());
    assert_eq!(first["input"][3], future_item(), "unknown items kept");
    assert_eq!(first["instructions"], "You are a build assistant.");
    let tools = first["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0], agent_tool(), "the caller's tool untouched");
    assert_eq!(tools[1]["type"], "function");
    assert_eq!(tools[1]["name"], "headroom_retrieve");
    assert!(
        tools[1]["function"].is_null(),
        "the Responses shape is flat"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_and_the_retrieval_round_stays_upstream() {
    let up = ResponsesUpstream::start().await;
    let proxy = start_proxy(&up.url, &[]);
    let response = post(&proxy, build_request(false).to_string().into_bytes()).await;
    assert_eq!(response.status(), 200);
    let saved: u64 = response.headers()["x-headroom-tokens-saved"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(saved > 10_000, "saved {saved}");
    let got: Value = response.json().await.unwrap();
    assert_eq!(
        got["output"][0]["content"][0]["text"],
        "retrieved error[E0308]: true"
    );
    assert_eq!(got["output"].as_array().unwrap().len(), 1);
    let seen = up.seen();
    assert_eq!(seen.len(), 2, "one retrieval round, answered by the proxy");
    assert_compressed_first_request(&seen[0]);
    // The round: the request again, with the model's call and our answer appended.
    let input = seen[1]["input"].as_array().unwrap();
    assert_eq!(input.len(), 6);
    assert_eq!(input[..4], seen[0]["input"].as_array().unwrap()[..]);
    assert_eq!(input[4]["type"], "function_call");
    assert_eq!(input[4]["name"], "headroom_retrieve");
    assert_eq!(input[5]["type"], "function_call_output");
    assert_eq!(input[5]["call_id"], "call_hr1");
    assert!(input[5]["output"]
        .as_str()
        .unwrap()
        .contains("error[E0308]: mismatched types"));
    let stats = stats(&proxy).await;
    assert_eq!(stats["requests"]["by_route"]["responses"], 1);
    assert_eq!(stats["requests"]["by_route"]["chat_completions"], 0);
    // Tokens counted per route: all of them on `responses`, and the same in /metrics.
    let tokens = &stats["tokens"]["by_route"];
    assert_eq!(tokens["responses"]["saved"], saved);
    assert_eq!(
        tokens["responses"]["before"],
        stats["tokens"]["total_before_compression"]
    );
    assert_eq!(
        tokens["chat_completions"],
        json!({"before":0,"after":0,"saved":0})
    );
    assert_eq!(tokens["compress"]["saved"], 0);
    let metrics = get_text(format!("{}/metrics", proxy.url)).await;
    let line = format!("headroom_route_tokens_saved_total{{route=\"responses\"}} {saved}\n");
    assert!(metrics.contains(&line), "{metrics}");
    assert!(metrics.contains("headroom_route_tokens_before_total{route=\"chat_completions\"} 0\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_responses_resolve_the_round_and_stream_the_final_reply() {
    let up = ResponsesUpstream::start().await;
    let proxy = start_proxy(&up.url, &[]);
    let response = post(&proxy, build_request(true).to_string().into_bytes()).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("headroom_retrieve"),
        "the client never sees our call"
    );
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "response.created");
    assert_eq!(events.last().unwrap()["type"], "response.completed");
    let streamed: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, "retrieved error[E0308]: true");
    let seen = up.seen();
    assert_eq!(seen.len(), 2);
    assert_compressed_first_request(&seen[0]);
    assert_eq!(seen[1]["stream"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chained_request_chains_its_retrieval_round_on_the_reply() {
    let up = ResponsesUpstream::start().await;
    let proxy = start_proxy(&up.url, &[]);
    let body = json!({"model":"gpt-4o","previous_response_id":"resp_prev",
        "input":[{"type":"function_call_output","call_id":"call_1","output":BUILD_LOG}],
        "tools":[agent_tool()]});
    let got: Value = post(&proxy, body.to_string().into_bytes())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["output"][0]["content"][0]["text"],
        "retrieved error[E0308]: true"
    );
    let seen = up.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["previous_response_id"], "resp_prev");
    assert!(seen[0]["input"][0]["output"].as_str().unwrap().len() < BUILD_LOG.len() / 3);
    // Chained on the reply that called us, carrying only our answer.
    assert_eq!(seen[1]["previous_response_id"], "resp_1");
    let input = seen[1]["input"].as_array().unwrap();
    assert_eq!(input.len(), 1);
    assert_eq!(input[0]["type"], "function_call_output");
    assert_eq!(input[0]["call_id"], "call_hr1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_to_compress_goes_upstream_byte_for_byte_and_other_routes_are_forwarded() {
    let up = ResponsesUpstream::start().await;
    let proxy = start_proxy(&up.url, &[]);
    let body =
        "{ \"model\" : \"gpt-4o\",\n \"input\" : [ {\"type\":\"future_item\" , \"x\": 1.50 },\
        {\"role\":\"user\",\"content\":\"hi \\u00e9\"} ], \"store\": false }";
    let response = post(&proxy, body.as_bytes().to_vec()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(up.seen_bytes(), vec![body.as_bytes().to_vec()]);
    let stored = get_text(format!("{}/v1/responses/resp_stored", proxy.url)).await;
    assert_eq!(stored, STORED_RESPONSE);
    assert_eq!(stats(&proxy).await["requests"]["by_route"]["responses"], 2);
}

fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/proxy-clients/venv/bin/python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_responses_create_and_stream() {
    let python = python();
    if !extras::available(
        "the Python openai client",
        python.exists(),
        "run `bash scripts/setup.sh` (a venv under target/proxy-clients with openai)",
    ) {
        return;
    }
    let up = ResponsesUpstream::start().await;
    let proxy = start_proxy(&up.url, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/responses_client.py");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt");
    let mut command = Command::new(python);
    command.arg(script).arg(&proxy.url).arg(fixture);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(got["text"], "retrieved error[E0308]: true");
    assert_eq!(got["output_types"], json!(["message"]));
    assert_eq!(got["streamed"], "retrieved error[E0308]: true");
    assert_eq!(got["final_text"], "retrieved error[E0308]: true");
    let saved: u64 = got["tokens_saved"].as_str().unwrap().parse().unwrap();
    assert!(saved > 10_000);
    let seen = up.seen();
    assert_eq!(seen.len(), 4, "two client calls, one hidden round each");
    for first in [&seen[0], &seen[2]] {
        let output = first["input"][2]["output"].as_str().unwrap();
        assert!(output.len() < BUILD_LOG.len() / 3 && marker_hash(output).is_some());
    }
}

/// The agent's next request after a reply that called `run_tests` (the agent's tool): chained on
/// that reply, answering only the agent's call.
fn chained_on(reply_id: &str, agent_call: &str) -> Vec<u8> {
    json!({"model":"gpt-4o","previous_response_id":reply_id,
        "input":[{"type":"function_call_output","call_id":agent_call,"output":"all tests pass"}],
        "tools":[agent_tool()]})
    .to_string()
    .into_bytes()
}

/// A mixed reply (our call and the agent's) is stored upstream with our call in it; the agent's
/// next request, chained on it, gets our answer added by the proxy, or the upstream rejects it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_chained_on_a_mixed_reply_carries_our_answer() {
    for (stream, order) in [(false, "ours_first"), (true, "agent_first")] {
        let up = ResponsesUpstream::start().await;
        let proxy = start_proxy(&up.url, &[]);
        let mut first = build_request(stream);
        first["metadata"] = json!({"mixed": order});
        let response = post(&proxy, first.to_string().into_bytes()).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        assert!(!text.contains("headroom_retrieve"), "{order}: {text}");
        let reply: Value = match stream {
            false => serde_json::from_str(&text).unwrap(),
            true => text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|d| serde_json::from_str::<Value>(d).unwrap())
                .find(|e| e["type"] == "response.completed")
                .unwrap()["response"]
                .clone(),
        };
        let output = reply["output"].as_array().unwrap();
        assert_eq!(output.len(), 1, "{order}: only the agent's call");
        assert_eq!(output[0]["name"], "run_tests");
        let (id, agent) = (reply["id"].as_str().unwrap(), &output[0]["call_id"]);
        let next = chained_on(id, agent.as_str().unwrap());
        // As the agent sent it, the upstream refuses it: the stored reply holds our call.
        let direct = reqwest::Client::new()
            .post(format!("{}/v1/responses", up.url))
            .header("content-type", "application/json")
            .body(next.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(direct.status(), 400);
        let refused: Value = direct.json().await.unwrap();
        assert_eq!(
            refused["error"]["message"],
            "No tool output found for function call call_hr1."
        );
        let response = post(&proxy, next).await;
        assert_eq!(response.status(), 200, "{order}");
        let got: Value = response.json().await.unwrap();
        assert_eq!(
            got["output"][0]["content"][0]["text"],
            "retrieved error[E0308]: true"
        );
        let seen = up.seen();
        let input = seen.last().unwrap()["input"].as_array().unwrap().clone();
        assert_eq!(input.len(), 2, "{order}: the agent's output, then ours");
        assert_eq!(&input[0]["call_id"], agent);
        assert_eq!(input[1]["call_id"], "call_hr1");
        assert!(input[1]["output"]
            .as_str()
            .unwrap()
            .contains("error[E0308]: mismatched types"));
    }
}
