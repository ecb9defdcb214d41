//! A fake OpenAI Responses upstream on loopback (axum), shared by the doors' tests.
//!
//! `POST /v1/responses`: when the request offers `headroom_retrieve` and its input holds a marker
//! that no `function_call_output` answers yet, the reply calls `headroom_retrieve` with that
//! marker's hash; otherwise it is one message — `Hello from upstream`, or, once our call was
//! answered, `retrieved error[E0308]: true` when the answer held the original's error line.
//! JSON or, with `"stream": true`, the typed SSE events. `GET /v1/responses/{id}` returns fixed
//! bytes. Every request body is kept, byte for byte.
//!
//! Like OpenAI, it keeps its replies: a request chained on one (`previous_response_id`) must
//! answer every `function_call` of it, and answer no call it does not know, or it gets a 400
//! (`No tool output found for function call …`). With `"metadata":{"mixed":"ours_first"}` (or
//! `"agent_first"`) a reply that calls `headroom_retrieve` also calls the agent's `run_tests`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Upstreams started in this process: each names the agent's calls apart.
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// What `GET /v1/responses/{id}` answers: odd spacing, so re-serialising would show.
pub const STORED_RESPONSE: &str =
    "{ \"id\" : \"resp_stored\", \"object\":\"response\" ,\"status\":\"completed\"}";

/// The running upstream.
#[derive(Clone)]
pub struct ResponsesUpstream {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// What the upstream remembers: the bodies it got, its replies by id, its name.
#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
    stored: Arc<Mutex<HashMap<String, Value>>>,
    name: usize,
}

#[allow(dead_code)]
impl ResponsesUpstream {
    /// Starts it on an ephemeral port.
    pub async fn start() -> Self {
        let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let shared = Shared {
            seen: seen.clone(),
            stored: Arc::default(),
            name: STARTED.fetch_add(1, Ordering::Relaxed),
        };
        let app = Router::new()
            .route("/v1/responses", post(create))
            .route("/v1/responses/{id}", get(stored))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        ResponsesUpstream { url, seen }
    }

    /// Every `POST /v1/responses` body, parsed.
    pub fn seen(&self) -> Vec<Value> {
        self.seen_bytes()
            .iter()
            .map(|b| serde_json::from_slice(b).unwrap())
            .collect()
    }

    /// Every `POST /v1/responses` body, as it arrived.
    pub fn seen_bytes(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }
}

/// The 24-hex hash of the first marker in `text`.
pub fn marker_hash(text: &str) -> Option<String> {
    let at = text.find("headroom_retrieve hash=")? + "headroom_retrieve hash=".len();
    Some(text.get(at..at + 24)?.to_string())
}

async fn stored() -> Response {
    let mut response = Response::new(Body::from(STORED_RESPONSE));
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response
}

/// Why OpenAI would refuse a request chained on a reply this upstream made, if it would.
fn refusal(stored: &HashMap<String, Value>, request: &Value) -> Option<String> {
    let previous = stored.get(request["previous_response_id"].as_str()?)?;
    let input = request["input"].as_array().cloned().unwrap_or_default();
    let ids = |items: &[Value], kind: &str| -> Vec<String> {
        items
            .iter()
            .filter(|i| i["type"] == kind)
            .filter_map(|i| i["call_id"].as_str().map(str::to_string))
            .collect()
    };
    let outputs = ids(&input, "function_call_output");
    let mut calls = ids(previous.as_array().unwrap(), "function_call");
    if let Some(call) = calls.iter().find(|c| !outputs.contains(c)) {
        return Some(format!("No tool output found for function call {call}."));
    }
    calls.extend(ids(&input, "function_call"));
    let stray = outputs.iter().find(|o| !calls.contains(o))?;
    Some(format!(
        "No tool call found for function call output with call_id {stray}."
    ))
}

async fn create(State(shared): State<Shared>, request: Request) -> Response {
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let n = {
        let mut seen = shared.seen.lock().unwrap();
        seen.push(body.to_vec());
        seen.len()
    };
    let value: Value = serde_json::from_slice(&body).unwrap();
    if let Some(message) = refusal(&shared.stored.lock().unwrap(), &value) {
        let error = json!({"error":{"message":message,"type":"invalid_request_error",
            "param":"input","code":null}});
        let mut r = Response::new(Body::from(error.to_string()));
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        return r;
    }
    let offers = value["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["name"] == "headroom_retrieve"));
    let answer = value["input"].as_array().and_then(|items| {
        items.iter().find_map(|i| {
            let ours = i["type"] == "function_call_output"
                && i["call_id"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("call_hr"));
            ours.then(|| i["output"].as_str().unwrap_or("").to_string())
        })
    });
    let hash = marker_hash(&value["input"].to_string());
    let items = match (&answer, hash) {
        (None, Some(hash)) if offers => {
            let ours = json!({"type":"function_call","id":format!("fc_hr{n}"),
                "call_id":format!("call_hr{n}"),"name":"headroom_retrieve","status":"completed",
                "arguments":json!({"hash":hash,"query":"E0308"}).to_string()});
            let agent = json!({"type":"function_call","id":format!("fc_ag{n}"),
                "call_id":format!("call_ag{}_{n}", shared.name),"name":"run_tests",
                "status":"completed","arguments":"{}"});
            match value["metadata"]["mixed"].as_str() {
                Some("ours_first") => vec![ours, agent],
                Some("agent_first") => vec![agent, ours],
                _ => vec![ours],
            }
        }
        _ => {
            let text = match &answer {
                Some(a) => format!(
                    "retrieved error[E0308]: {}",
                    a.contains("error[E0308]: mismatched types")
                ),
                None => "Hello from upstream".to_string(),
            };
            vec![
                json!({"type":"message","id":format!("msg_{n}"),"role":"assistant","status":"completed",
                "content":[{"type":"output_text","text":text,"annotations":[],"logprobs":[]}]}),
            ]
        }
    };
    let id = format!("resp_{n}");
    if value["store"] != false {
        let mut stored = shared.stored.lock().unwrap();
        stored.insert(id.clone(), json!(items));
    }
    let reply = json!({"id":id,"object":"response","created_at":1,"model":"gpt-4o",
        "status":"completed","output":items,
        "usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,
            "output_tokens_details":{"reasoning_tokens":0},"total_tokens":12}});
    let mut response = if value["stream"] == true {
        let mut r = Response::new(Body::from(events(&reply)));
        r.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        r
    } else {
        let mut r = Response::new(Body::from(reply.to_string()));
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        r
    };
    response
        .headers_mut()
        .insert("x-upstream-request", n.into());
    response
}

/// A reply as the typed events OpenAI streams: each output item opened, its text or arguments in
/// two deltas, closed; then `response.completed`.
pub fn events(reply: &Value) -> String {
    let mut out = String::new();
    let mut seq = 0;
    let mut emit = |mut e: Value| {
        e["sequence_number"] = json!(seq);
        seq += 1;
        out.push_str(&format!(
            "event: {}\ndata: {e}\n\n",
            e["type"].as_str().unwrap()
        ));
    };
    let mut created = reply.clone();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    emit(json!({"type":"response.created","response":created.clone()}));
    emit(json!({"type":"response.in_progress","response":created}));
    for (index, item) in reply["output"].as_array().unwrap().iter().enumerate() {
        let at = |kind: &str| json!({"type":kind,"item_id":item["id"],"output_index":index});
        let mut opened = item.clone();
        if item["type"] == "message" {
            opened["content"] = json!([]);
            emit(json!({"type":"response.output_item.added","output_index":index,"item":opened}));
            let text = item["content"][0]["text"].as_str().unwrap();
            let mut e = at("response.content_part.added");
            e["content_index"] = json!(0);
            e["part"] = json!({"type":"output_text","text":"","annotations":[]});
            emit(e);
            let (first, rest) = text.split_at(text.len().min(5));
            for piece in [first, rest] {
                let mut e = at("response.output_text.delta");
                e["content_index"] = json!(0);
                e["delta"] = json!(piece);
                emit(e);
            }
            let mut e = at("response.output_text.done");
            e["content_index"] = json!(0);
            e["text"] = json!(text);
            emit(e);
            let mut e = at("response.content_part.done");
            e["content_index"] = json!(0);
            e["part"] = item["content"][0].clone();
            emit(e);
        } else {
            opened["arguments"] = json!("");
            emit(json!({"type":"response.output_item.added","output_index":index,"item":opened}));
            let arguments = item["arguments"].as_str().unwrap_or("");
            let (first, rest) = arguments.split_at(arguments.len().min(4));
            for piece in [first, rest] {
                let mut e = at("response.function_call_arguments.delta");
                e["delta"] = json!(piece);
                emit(e);
            }
            let mut e = at("response.function_call_arguments.done");
            e["arguments"] = json!(arguments);
            emit(e);
        }
        emit(json!({"type":"response.output_item.done","output_index":index,"item":item}));
    }
    emit(json!({"type":"response.completed","response":reply}));
    out
}
