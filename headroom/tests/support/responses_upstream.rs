//! A fake OpenAI Responses upstream on loopback (axum), shared by the doors' tests.
//!
//! `POST /v1/responses`: when the request offers `headroom_retrieve` and its input holds a marker
//! that no `function_call_output` answers yet, the reply calls `headroom_retrieve` with that
//! marker's hash; otherwise it is one message — `Hello from upstream`, or, once our call was
//! answered, `retrieved error[E0308]: true` when the answer held the original's error line.
//! JSON or, with `"stream": true`, the typed SSE events. `GET /v1/responses/{id}` returns fixed
//! bytes. Every request body is kept, byte for byte.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

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

#[allow(dead_code)]
impl ResponsesUpstream {
    /// Starts it on an ephemeral port.
    pub async fn start() -> Self {
        let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let app = Router::new()
            .route("/v1/responses", post(create))
            .route("/v1/responses/{id}", get(stored))
            .with_state(seen.clone());
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

async fn create(State(seen): State<Arc<Mutex<Vec<Vec<u8>>>>>, request: Request) -> Response {
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(body.to_vec());
        seen.len()
    };
    let value: Value = serde_json::from_slice(&body).unwrap();
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
    let item = match (&answer, hash) {
        (None, Some(hash)) if offers => json!({"type":"function_call","id":format!("fc_hr{n}"),
            "call_id":format!("call_hr{n}"),"name":"headroom_retrieve","status":"completed",
            "arguments":json!({"hash":hash,"query":"E0308"}).to_string()}),
        _ => {
            let text = match &answer {
                Some(a) => format!(
                    "retrieved error[E0308]: {}",
                    a.contains("error[E0308]: mismatched types")
                ),
                None => "Hello from upstream".to_string(),
            };
            json!({"type":"message","id":format!("msg_{n}"),"role":"assistant","status":"completed",
                "content":[{"type":"output_text","text":text,"annotations":[],"logprobs":[]}]})
        }
    };
    let reply = json!({"id":format!("resp_{n}"),"object":"response","created_at":1,"model":"gpt-4o",
        "status":"completed","output":[item],
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
