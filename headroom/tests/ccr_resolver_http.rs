//! Compress-cache-retrieve end to end over loopback HTTP: a minimal door around the resolver, a fake
//! OpenAI upstream, and real stores (memory, SQLite, a real redis-server).
//!
//! The fake model behaves as a model does with Headroom: when its request carries a marker it calls
//! `headroom_retrieve` with the marker's hash (paging on while the answer says more remains); once it
//! has the retrieved text it answers from it.

#[path = "support/fake_openai.rs"]
mod fake_openai;
#[path = "support/redis_server.rs"]
mod redis_server;

use axum::body::Bytes;
use fake_openai::{sse_body, FakeOpenAi, Reply, Script};
use headroom::marker::{segment_hash, Marker, RETRIEVE_TOOL_NAME};
use headroom::resolver::{Carry, Resolver, Step};
use headroom::store::{lookup_all, persist_all, AsyncStore, MemoryStore, StoreLimits};
use headroom::Headroom;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use redis_server::RedisServer;
use serde_json::{json, Value};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// The door: compress, persist, send, resolve — the loop every real door runs with its own I/O.

struct Door {
    hr: Headroom,
    store: Arc<dyn AsyncStore>,
    namespace: String,
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    max_rounds: usize,
}

/// What the agent got back, and the carry of a mixed reply.
struct AgentReply {
    bytes: Vec<u8>,
    carry: Option<Carry>,
}

impl Door {
    fn new(store: Arc<dyn AsyncStore>, upstream: &FakeOpenAi) -> Door {
        Door {
            hr: Headroom::default(),
            store,
            namespace: "tenant-a".into(),
            upstream: upstream.url.clone(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            max_rounds: headroom::resolver::DEFAULT_MAX_ROUNDS,
        }
    }

    async fn call(&self, agent_body: &[u8], carry: Option<&Carry>) -> AgentReply {
        let out = self.hr.compress_json(agent_body).expect("a valid request");
        persist_all(self.store.as_ref(), &self.namespace, &out.originals)
            .await
            .expect("originals stored");
        let mut body = out.body;
        if let Some(carried) = carry.and_then(|c| c.apply(&body)) {
            body = carried;
        }
        let mut resolver = Resolver::new(&body).unwrap().max_rounds(self.max_rounds);
        let mut to_agent = Vec::new();
        loop {
            let request = axum::http::Request::post(&self.upstream)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let mut response = self
                .client
                .request(request)
                .await
                .expect("the upstream answers")
                .into_body();
            let mut step = if resolver.is_streaming() {
                // Chunk by chunk, as the network delivers them.
                while let Some(frame) = response.frame().await {
                    if let Some(chunk) = frame.unwrap().data_ref() {
                        to_agent.extend(resolver.on_sse(chunk));
                    }
                }
                resolver.on_sse_end()
            } else {
                resolver.on_response(&response.collect().await.unwrap().to_bytes())
            };
            body = loop {
                step = match step {
                    Step::Lookup(hashes) => resolver
                        .resume(lookup_all(self.store.as_ref(), &self.namespace, &hashes).await),
                    Step::Send(next) => break next,
                    Step::Done(rest) => {
                        to_agent.extend(rest);
                        return AgentReply {
                            bytes: to_agent,
                            carry: resolver.take_carry(),
                        };
                    }
                }
            };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fake model.

/// What the model does next, given its request.
enum Move {
    Retrieve(Value),
    Answer(String),
    RetrieveAndCallAgentTool(Value, Value),
    CallAgentToolThenRetrieve(Value, Value),
}

/// The retrieve results in `request` (tool messages answering `headroom_retrieve` calls), in order.
fn retrieved(request: &Value) -> Vec<String> {
    let messages = request["messages"].as_array().unwrap();
    let ours: Vec<&str> = messages
        .iter()
        .flat_map(|m| m["tool_calls"].as_array().into_iter().flatten())
        .filter(|c| c["function"]["name"] == RETRIEVE_TOOL_NAME)
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    messages
        .iter()
        .filter(|m| m["role"] == "tool" && ours.contains(&m["tool_call_id"].as_str().unwrap()))
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

fn marker_hash(request: &Value) -> Option<String> {
    request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"].as_str())
        .flat_map(Marker::parse_all)
        .map(|m| m.hash)
        .next()
}

fn offers_retrieve(request: &Value) -> bool {
    request["tools"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["function"]["name"] == RETRIEVE_TOOL_NAME)
    })
}

/// Where the last answer says to go on from: `… more: call headroom_retrieve with offset=N`.
fn next_offset(answer: &str) -> Option<usize> {
    let header = answer.lines().next()?;
    let at = header.find("with offset=")? + "with offset=".len();
    header[at..].trim_end_matches(']').parse().ok()
}

/// A model that reads everything it is pointed at, page by page, then answers from it.
fn reading_model(request: &Value, answer: fn(&[String]) -> String) -> Move {
    let got = retrieved(request);
    match (marker_hash(request), got.last()) {
        (Some(hash), None) if offers_retrieve(request) => Move::Retrieve(json!({"hash": hash})),
        (Some(hash), Some(last)) if offers_retrieve(request) => match next_offset(last) {
            Some(offset) => Move::Retrieve(json!({"hash": hash, "offset": offset})),
            None => Move::Answer(answer(&got)),
        },
        _ => Move::Answer(answer(&got)),
    }
}

fn tool_call(id: &str, name: &str, arguments: &Value) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}})
}

fn as_json(n: usize, mv: Move) -> Value {
    let message = match &mv {
        Move::Answer(text) => json!({"role": "assistant", "content": text, "refusal": null}),
        Move::Retrieve(args) => json!({"role": "assistant", "content": null,
            "tool_calls": [tool_call(&format!("call_r{n}"), RETRIEVE_TOOL_NAME, args)]}),
        Move::RetrieveAndCallAgentTool(ours, theirs) => {
            json!({"role": "assistant", "content": null,
            "tool_calls": [tool_call(&format!("call_r{n}"), RETRIEVE_TOOL_NAME, ours),
                           tool_call(&format!("call_a{n}"), "get_issue", theirs)]})
        }
        Move::CallAgentToolThenRetrieve(theirs, ours) => {
            json!({"role": "assistant", "content": null,
            "tool_calls": [tool_call(&format!("call_a{n}"), "get_issue", theirs),
                           tool_call(&format!("call_r{n}"), RETRIEVE_TOOL_NAME, ours)]})
        }
    };
    let finish = if matches!(mv, Move::Answer(_)) {
        "stop"
    } else {
        "tool_calls"
    };
    json!({"id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 1_700_000_000 + n,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})
}

/// The same move as OpenAI streams it: role, then content or tool-call pieces, then the finish.
fn as_chunks(n: usize, mv: Move) -> Vec<Value> {
    let base = |delta: Value, finish: Value| {
        json!({"id": format!("chatcmpl-{n}"), "object": "chat.completion.chunk", "created": 1_700_000_000 + n,
            "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_test",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    let whole = as_json(n, mv);
    let message = &whole["choices"][0]["message"];
    let mut chunks = vec![base(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    if let Some(text) = message["content"].as_str() {
        for word in text.split_inclusive(' ') {
            chunks.push(base(json!({"content": word}), Value::Null));
        }
    }
    for (i, call) in message["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        chunks.push(base(
            json!({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""}}]}),
            Value::Null,
        ));
        let args = call["function"]["arguments"].as_str().unwrap();
        for piece in args.as_bytes().chunks(7) {
            chunks.push(base(json!({"tool_calls": [{"index": i, "function": {"arguments": String::from_utf8_lossy(piece)}}]}), Value::Null));
        }
    }
    chunks.push(base(
        json!({}),
        whole["choices"][0]["finish_reason"].clone(),
    ));
    chunks
}

/// A fake model: what it does given its request and the request's number.
type Model = fn(&Value, usize) -> Move;

fn script(model: Model) -> Script {
    Arc::new(move |request: &Value, n: usize| {
        let mv = model(request, n);
        if request["stream"] == true {
            Reply::Sse(as_chunks(n, mv))
        } else {
            Reply::Json(as_json(n, mv))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Conversations.

/// Real GitHub API data (octokit's recorded fixture): the first `n` issues, as a tool returns them.
fn issues(n: usize) -> String {
    let all: Vec<Value> =
        serde_json::from_str(include_str!("fixtures/github-issues.json")).unwrap();
    serde_json::to_string_pretty(&all[..n]).unwrap()
}

/// The answer a model gives from the issues it retrieved: their numbers and states.
fn summarize_issues(got: &[String]) -> String {
    let Some(text) = got.last() else {
        return "I could not see the issues.".into();
    };
    match serde_json::from_str::<Vec<Value>>(text) {
        Ok(items) => items
            .iter()
            .map(|i| format!("#{} is {}", i["number"], i["state"].as_str().unwrap_or("?")))
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => format!("Retrieval said: {}", text.lines().next().unwrap_or("")),
    }
}

/// A conversation whose tool result was compressed in an earlier turn: a preview and a marker, the
/// original kept in the store under the segment hash — what the engine leaves behind.
fn compressed_history(original: &str, stream: bool) -> (Vec<u8>, String) {
    let hash = segment_hash(original);
    let lines: Vec<&str> = original.lines().collect();
    let preview = format!(
        "{}\n{}",
        lines[..8].join("\n"),
        Marker::new(lines.len() - 8, Some(lines.len()), "lines", &hash).to_text()
    );
    let body = json!({
        "model": "gpt-4o",
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You triage GitHub issues."},
            {"role": "user", "content": "Which of the paginate-issues issues are still open?"},
            {"role": "assistant", "content": null, "tool_calls": [tool_call("call_0", "list_issues", &json!({"repo": "octokit-fixture-org/paginate-issues"}))]},
            {"role": "tool", "tool_call_id": "call_0", "content": preview}
        ],
        "tools": [{"type": "function", "function": {"name": "list_issues", "parameters": {"type": "object", "properties": {"repo": {"type": "string"}}}}},
                  {"type": "function", "function": {"name": "get_issue", "parameters": {"type": "object", "properties": {"number": {"type": "integer"}}}}}]
    });
    (serde_json::to_vec(&body).unwrap(), hash)
}

fn expected_summary(original: &str) -> String {
    summarize_issues(&[original.to_string()])
}

/// A fake upstream running `script`, a door over `store`, and an agent request whose history holds
/// `original` compressed, the original already stored (as an earlier turn left it).
async fn scenario(
    original: &str,
    script: Script,
    stream: bool,
    store: Arc<dyn AsyncStore>,
) -> (FakeOpenAi, Door, Vec<u8>) {
    let upstream = FakeOpenAi::start(script).await;
    let (agent_body, hash) = compressed_history(original, stream);
    store.put("tenant-a", &hash, original).await.unwrap();
    let door = Door::new(store, &upstream);
    (upstream, door, agent_body)
}

/// The agent's view of a non-streamed reply (which its SDK's types must read).
fn final_message(bytes: &[u8]) -> Value {
    let _: async_openai::types::chat::CreateChatCompletionResponse =
        serde_json::from_slice(bytes).expect("async-openai reads the reply");
    let reply: Value = serde_json::from_slice(bytes).expect("the agent gets JSON");
    reply["choices"][0]["message"].clone()
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn the_model_retrieves_and_the_agent_sees_only_the_answer() {
    let original = issues(4);
    let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
    let (upstream, door, agent_body) = scenario(
        &original,
        script(|r, _| reading_model(r, summarize_issues)),
        false,
        store,
    )
    .await;

    let reply = door.call(&agent_body, None).await;

    let requests = upstream.requests();
    assert_eq!(requests.len(), 2, "one retrieval round");
    assert!(
        offers_retrieve(&requests[0]),
        "the engine offers the retrieve tool for the marker"
    );
    let second = &requests[1]["messages"].as_array().unwrap();
    let n = second.len();
    assert_eq!(
        second[n - 2]["tool_calls"][0]["function"]["name"],
        RETRIEVE_TOOL_NAME
    );
    assert_eq!(second[n - 1]["role"], "tool");
    assert_eq!(
        second[n - 1]["tool_call_id"],
        second[n - 2]["tool_calls"][0]["id"]
    );
    assert_eq!(
        second[n - 1]["content"].as_str().unwrap(),
        original,
        "the exact original"
    );
    let message = final_message(&reply.bytes);
    assert_eq!(
        message["content"].as_str().unwrap(),
        expected_summary(&original)
    );
    assert!(message.get("tool_calls").is_none());
    assert!(!String::from_utf8_lossy(&reply.bytes).contains(RETRIEVE_TOOL_NAME));
    assert!(reply.carry.is_none());
}

#[tokio::test]
async fn a_streamed_retrieval_is_resolved_and_the_answer_streamed_byte_for_byte() {
    let Some(redis) = RedisServer::start_if_installed() else {
        return;
    };
    let original = issues(4);
    let store = headroom::store::open_async(&redis.url(Some(0)), StoreLimits::default())
        .await
        .expect("redis answers");
    let (upstream, door, agent_body) = scenario(
        &original,
        script(|r, _| reading_model(r, summarize_issues)),
        true,
        store,
    )
    .await;

    let reply = door.call(&agent_body, None).await;

    let requests = upstream.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["stream"], true);
    let last = requests[1]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["content"].as_str().unwrap(),
        original,
        "the exact original, from Redis"
    );
    // The agent gets the final stream exactly as the upstream sent it, and nothing of the first.
    let final_answer = as_chunks(1, reading_model(&requests[1], summarize_issues));
    assert_eq!(
        String::from_utf8(reply.bytes).unwrap(),
        String::from_utf8(sse_body(&final_answer)).unwrap()
    );
}

#[tokio::test]
async fn mixed_calls_reach_the_agent_without_ours_and_the_next_request_pairs() {
    // The model wants the elided issues and, at once, one issue through the agent's own tool.
    // (In either order: a stream whose first call is ours is consumed and replayed; one whose first
    // call is the agent's is forwarded with ours taken out.)
    fn ours_first(request: &Value, n: usize) -> Move {
        if n == 0 {
            let hash = marker_hash(request).unwrap();
            return Move::RetrieveAndCallAgentTool(json!({"hash": hash}), json!({"number": 13}));
        }
        Move::Answer(summarize_issues(&retrieved(request)))
    }
    fn agents_first(request: &Value, n: usize) -> Move {
        if n == 0 {
            let hash = marker_hash(request).unwrap();
            return Move::CallAgentToolThenRetrieve(json!({"number": 13}), json!({"hash": hash}));
        }
        Move::Answer(summarize_issues(&retrieved(request)))
    }
    let cases: [(bool, Model); 4] = [
        (false, ours_first),
        (true, ours_first),
        (false, agents_first),
        (true, agents_first),
    ];
    for (stream, model) in cases {
        let original = issues(4);
        let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
        let (upstream, door, agent_body) = scenario(&original, script(model), stream, store).await;

        let first = door.call(&agent_body, None).await;
        let message = if stream {
            read_stream(&first.bytes)
        } else {
            final_message(&first.bytes)
        };
        let calls = message["tool_calls"].as_array().unwrap();
        assert_eq!(
            calls.len(),
            1,
            "stream={stream}: only the agent's call: {message}"
        );
        assert_eq!(calls[0]["function"]["name"], "get_issue");

        // The agent runs its tool and sends the next request as any agent would.
        let mut next: Value = serde_json::from_slice(&agent_body).unwrap();
        let msgs = next["messages"].as_array_mut().unwrap();
        msgs.push(json!({"role": "assistant", "content": null, "tool_calls": calls}));
        msgs.push(json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": issues(1)}));
        assert_pairs(&next);
        let second = door
            .call(&serde_json::to_vec(&next).unwrap(), first.carry.as_ref())
            .await;

        let requests = upstream.requests();
        assert_eq!(requests.len(), 2);
        assert_pairs(&requests[1]);
        assert_eq!(
            retrieved(&requests[1]),
            vec![original.clone()],
            "the carried answer"
        );
        let answer = if stream {
            read_stream(&second.bytes)
        } else {
            final_message(&second.bytes)
        };
        assert_eq!(
            answer["content"].as_str().unwrap(),
            expected_summary(&original)
        );
    }
}

#[tokio::test]
async fn a_large_original_is_paged_and_every_page_fits_the_cap() {
    // The whole real fixture: too large for one 8k-token answer.
    let original = include_str!("fixtures/github-issues.json").to_string();
    let pages = script(|r, _| reading_model(r, |got| format!("read {} pages", got.len())));
    let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
    let (upstream, mut door, agent_body) = scenario(&original, pages, false, store).await;
    door.max_rounds = 10;

    let reply = door.call(&agent_body, None).await;

    let pages = retrieved(upstream.requests().last().unwrap());
    assert!(pages.len() >= 2, "paged: {} pages", pages.len());
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    let mut items: Vec<Value> = Vec::new();
    for page in &pages {
        assert!(
            counter.count(page) <= headroom::retrieve::DEFAULT_ANSWER_TOKENS + 50,
            "{}",
            counter.count(page)
        );
        let (header, body) = page.split_once('\n').unwrap();
        assert!(header.starts_with("[items "), "{header}");
        items.extend(serde_json::from_str::<Vec<Value>>(body).unwrap());
    }
    assert!(pages
        .last()
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .ends_with("nothing more]"));
    let all: Vec<Value> = serde_json::from_str(&original).unwrap();
    assert_eq!(
        items, all,
        "the pages add up to the whole original, in order"
    );
    assert_eq!(
        final_message(&reply.bytes)["content"],
        format!("read {} pages", pages.len())
    );
}

#[tokio::test]
async fn a_query_returns_the_matching_lines_and_their_count() {
    // A real large text: this workspace's lock file, read with a query.
    fn model(request: &Value, _: usize) -> Move {
        match (marker_hash(request), retrieved(request).pop()) {
            (Some(hash), None) => Move::Retrieve(json!({"hash": hash, "query": "tokio hyper"})),
            (_, got) => Move::Answer(got.unwrap_or_default()),
        }
    }
    let original = include_str!("../../Cargo.lock").to_string();
    let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
    let (_upstream, door, agent_body) = scenario(&original, script(model), false, store).await;

    let reply = door.call(&agent_body, None).await;

    let answer = final_message(&reply.bytes)["content"]
        .as_str()
        .unwrap()
        .to_string();
    let matching: Vec<&str> = original
        .lines()
        .filter(|l| l.to_lowercase().contains("tokio") || l.to_lowercase().contains("hyper"))
        .collect();
    let header = answer.lines().next().unwrap();
    assert!(
        header.starts_with(&format!(
            "[{} of {} lines match",
            matching.len(),
            original.lines().count()
        )),
        "{header}"
    );
    assert!(answer.lines().skip(1).all(|l| matching.contains(&l)));
}

#[tokio::test]
async fn unknown_hashes_other_tenants_and_a_down_store_get_plain_answers() {
    fn model(request: &Value, _: usize) -> Move {
        reading_model(request, |got| got.last().cloned().unwrap_or_default())
    }
    let original = issues(2);
    let upstream = FakeOpenAi::start(script(model)).await;

    // Another tenant's original is not there for this one.
    let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
    let (agent_body, hash) = compressed_history(&original, false);
    store.put("tenant-b", &hash, &original).await.unwrap();
    let reply = Door::new(store, &upstream).call(&agent_body, None).await;
    let text = final_message(&reply.bytes)["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("unknown or expired") && text.contains(&hash),
        "{text}"
    );

    // Redis stopped between the turn that stored the original and the retrieval.
    let Some(mut redis) = RedisServer::start_if_installed() else {
        return;
    };
    let store = headroom::store::open_async(&redis.url(None), StoreLimits::default())
        .await
        .unwrap();
    store.put("tenant-a", &hash, &original).await.unwrap();
    redis.stop();
    let reply = Door::new(store, &upstream).call(&agent_body, None).await;
    let text = final_message(&reply.bytes)["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("temporarily unavailable"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Helpers for checking what the agent got.

/// OpenAI's pairing rule: an assistant message's tool calls are answered by the tool messages right
/// after it, one per call; no tool message answers anything else.
fn assert_pairs(request: &Value) {
    let messages = request["messages"].as_array().unwrap();
    let mut open: Vec<String> = Vec::new();
    for m in messages {
        if m["role"] == "tool" {
            let id = m["tool_call_id"].as_str().unwrap();
            let at = open
                .iter()
                .position(|x| x == id)
                .unwrap_or_else(|| panic!("tool message {id} answers no open call"));
            open.remove(at);
            continue;
        }
        assert!(open.is_empty(), "calls left unanswered: {open:?}");
        open = m["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
    }
    assert!(open.is_empty(), "calls left unanswered: {open:?}");
}

/// Reads an SSE body as a client does: the assistant message it adds up to.
fn read_stream(bytes: &[u8]) -> Value {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let mut content = String::new();
    let mut calls: Vec<Value> = Vec::new();
    for event in text.split("\n\n").filter_map(|e| e.strip_prefix("data: ")) {
        if event == "[DONE]" {
            continue;
        }
        let _: async_openai::types::chat::CreateChatCompletionStreamResponse =
            serde_json::from_str(event).expect("async-openai reads every chunk");
        let chunk: Value = serde_json::from_str(event).unwrap();
        let delta = &chunk["choices"][0]["delta"];
        content.push_str(delta["content"].as_str().unwrap_or(""));
        for d in delta["tool_calls"].as_array().into_iter().flatten() {
            let i = d["index"].as_u64().unwrap() as usize;
            if calls.len() <= i {
                calls.push(json!({"id": d["id"], "type": "function", "function": {"name": d["function"]["name"], "arguments": ""}}));
            }
            let args = format!(
                "{}{}",
                calls[i]["function"]["arguments"].as_str().unwrap(),
                d["function"]["arguments"].as_str().unwrap_or("")
            );
            calls[i]["function"]["arguments"] = json!(args);
        }
    }
    let mut message = json!({"role": "assistant", "content": content});
    if !calls.is_empty() {
        message["tool_calls"] = json!(calls);
    }
    message
}

/// A large real tool output written by `scripts/fixtures.sh`: 500 closed GitHub issues, as a
/// paginating client returns them (PyGithub's recorded API replies).
fn closed_issues() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/fixtures/github-closed-issues.json"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e}; run `bash scripts/fixtures.sh` (scripts/test.sh does)")
    })
}

#[tokio::test]
async fn what_the_engine_elides_comes_back_whole_page_by_page() {
    // No hand-made marker here: the engine crushes a real tool result, the door stores the
    // original, and the model pages through all of it.
    let original = closed_issues();
    let upstream = FakeOpenAi::start(script(|r, _| {
        reading_model(r, |got| format!("read {} pages", got.len()))
    }))
    .await;
    let store: Arc<dyn AsyncStore> = Arc::new(MemoryStore::default());
    let mut door = Door::new(store, &upstream);
    door.max_rounds = 100;
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which closed issues were about the build?"},
            {"role": "assistant", "content": null, "tool_calls": [tool_call("call_0", "list_issues", &json!({"state": "closed"}))]},
            {"role": "tool", "tool_call_id": "call_0", "content": original}
        ]
    });

    let reply = door.call(&serde_json::to_vec(&body).unwrap(), None).await;

    let requests = upstream.requests();
    let sent = requests[0]["messages"][2]["content"].as_str().unwrap();
    assert!(Marker::is_in(sent), "the engine elided part of it");
    assert!(
        sent.len() * 4 < original.len(),
        "{} of {} bytes",
        sent.len(),
        original.len()
    );
    assert_eq!(marker_hash(&requests[0]).unwrap(), segment_hash(&original));
    let pages = retrieved(requests.last().unwrap());
    let mut items: Vec<Value> = Vec::new();
    for page in &pages {
        let (header, body) = page.split_once('\n').unwrap();
        assert!(header.starts_with("[items "), "{header}");
        items.extend(serde_json::from_str::<Vec<Value>>(body).unwrap());
    }
    let all: Vec<Value> = serde_json::from_str(&original).unwrap();
    assert_eq!(items.len(), all.len());
    assert!(items == all, "the pages add up to the original, in order");
    assert_eq!(
        final_message(&reply.bytes)["content"],
        format!("read {} pages", pages.len())
    );
}
