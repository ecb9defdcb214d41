//! The streaming side of the resolver: reads OpenAI's SSE `data:` lines (cut into events by
//! [`EventReader`], the WHATWG rules), decides from the first delta that says anything whether
//! the stream is ours to resolve, and turns a reply back into SSE.

use super::filter::{CallFilter, Removed};
use super::limits::DEFAULT_MAX_REPLY_BYTES;
use super::tap::{Mode, Stream, Tap};
use crate::marker::RETRIEVE_TOOL_NAME;
use serde_json::{json, Map, Value};

/// Reads one streamed chat reply, one whole event at a time.
pub(super) type SseTap = Tap<ChatStream>;

impl Default for SseTap {
    fn default() -> Self {
        SseTap::chat(DEFAULT_MAX_REPLY_BYTES)
    }
}

impl SseTap {
    /// A chat tap that passes a stream through as it came once capturing it would hold more than
    /// `max_capture_bytes`.
    pub(super) fn chat(max_capture_bytes: usize) -> Self {
        Tap::new(ChatStream::default(), max_capture_bytes)
    }
}

/// What the chat protocol makes of its chunks.
#[derive(Debug, Default)]
pub(super) struct ChatStream {
    /// Chunks (parsed `data:` JSON) seen while undecided or capturing.
    chunks: Vec<Value>,
    filter: CallFilter,
}

impl Stream for ChatStream {
    fn decide(&self, chunk: &Value) -> Mode {
        decide(chunk)
    }

    fn keep(&mut self, chunk: Option<Value>) {
        self.chunks.extend(chunk);
    }

    fn forget(&mut self) {
        self.chunks.clear();
    }

    fn pass(&mut self, raw: Vec<u8>, chunk: Option<Value>) -> Vec<u8> {
        self.filter.pass(raw, chunk)
    }

    fn reply(&mut self) -> Option<Value> {
        Some(assemble(&self.chunks))
    }

    fn removed(self) -> Removed {
        self.filter.finish()
    }
}

/// Whether this chunk settles the stream: its first tool call, or any content, decides.
fn decide(chunk: &Value) -> Mode {
    let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
        // An error object, or a usage-only chunk before any choice: not a reply we resolve.
        return Mode::Passthrough;
    };
    for choice in choices {
        let delta = &choice["delta"];
        if let Some(name) = delta["tool_calls"][0]["function"]["name"].as_str() {
            return if name == RETRIEVE_TOOL_NAME {
                Mode::Capture
            } else {
                Mode::Passthrough
            };
        }
        let said = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
        if said(&delta["content"]) || said(&delta["refusal"]) || !choice["finish_reason"].is_null()
        {
            return Mode::Passthrough;
        }
    }
    Mode::Undecided
}

/// The fields a completion and its chunks share (id, created, model, …), with `object` set.
fn envelope(from: &Value, object: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "id",
        "created",
        "model",
        "service_tier",
        "system_fingerprint",
    ] {
        if let Some(v) = from.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("object".into(), json!(object));
    out
}

/// The chat completion a stream of chunks adds up to.
pub(super) fn assemble(chunks: &[Value]) -> Value {
    let first = chunks.first().cloned().unwrap_or(Value::Null);
    let mut out = envelope(&first, "chat.completion");
    let mut choices: Vec<Value> = Vec::new();
    let mut usage = Value::Null;
    for chunk in chunks {
        if !chunk["usage"].is_null() {
            usage = chunk["usage"].clone();
        }
        for c in chunk["choices"].as_array().into_iter().flatten() {
            let index = c["index"].as_u64().unwrap_or(0);
            let at = match choices.iter().position(|x| x["index"] == index) {
                Some(at) => at,
                None => {
                    choices.push(json!({"index": index, "message": {"role": "assistant", "content": null}, "finish_reason": null}));
                    choices.len() - 1
                }
            };
            let choice = &mut choices[at];
            let delta = &c["delta"];
            for key in ["content", "refusal"] {
                if let Some(text) = delta[key].as_str() {
                    let message = &mut choice["message"];
                    let joined = format!("{}{text}", message[key].as_str().unwrap_or(""));
                    message[key] = json!(joined);
                }
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                add_call_delta(&mut choice["message"], call);
            }
            if !c["finish_reason"].is_null() {
                choice["finish_reason"] = c["finish_reason"].clone();
            }
        }
    }
    choices.sort_by_key(|c| c["index"].as_u64());
    for choice in &mut choices {
        if let Some(calls) = choice["message"]["tool_calls"].as_array_mut() {
            // `_index` is the call's stream position, kept only while assembling.
            calls.sort_by_key(|c| c["_index"].as_u64());
            for call in calls.iter_mut().filter_map(Value::as_object_mut) {
                call.remove("_index");
            }
        }
    }
    out.insert("choices".into(), Value::Array(choices));
    if !usage.is_null() {
        out.insert("usage".into(), usage);
    }
    Value::Object(out)
}

/// Merges one tool-call delta into the message: the first delta of an index opens the call,
/// later ones append to its arguments.
fn add_call_delta(message: &mut Value, delta: &Value) {
    if !message["tool_calls"].is_array() {
        message["tool_calls"] = json!([]);
    }
    let index = delta["index"].as_u64().unwrap_or(0);
    let calls = message["tool_calls"].as_array_mut().expect("just made");
    let at = match calls.iter().position(|c| c["_index"] == index) {
        Some(at) => at,
        None => {
            calls.push(json!({"_index": index, "id": "", "type": "function", "function": {"name": "", "arguments": ""}}));
            calls.len() - 1
        }
    };
    let call = &mut calls[at];
    if let Some(id) = delta["id"].as_str() {
        call["id"] = json!(id);
    }
    if let Some(kind) = delta["type"].as_str() {
        call["type"] = json!(kind);
    }
    for key in ["name", "arguments"] {
        if let Some(part) = delta["function"][key].as_str() {
            let joined = format!("{}{part}", call["function"][key].as_str().unwrap_or(""));
            call["function"][key] = json!(joined);
        }
    }
}

/// A chat completion as an SSE stream: one chunk with the whole message, one with the finish
/// reason, the usage (if any), then `[DONE]`.
pub(super) fn render(response: &Value) -> Vec<u8> {
    let base = envelope(response, "chat.completion.chunk");
    let chunk = |choices: Value, usage: Option<&Value>| {
        let mut c = base.clone();
        c.insert("choices".into(), choices);
        if let Some(u) = usage {
            c.insert("usage".into(), u.clone());
        }
        format!("data: {}\n\n", Value::Object(c))
    };
    let mut out = String::new();
    let choices = response["choices"].as_array().cloned().unwrap_or_default();
    for choice in &choices {
        let message = &choice["message"];
        let mut delta = Map::new();
        delta.insert("role".into(), json!("assistant"));
        for key in ["content", "refusal"] {
            if message[key].is_string() {
                delta.insert(key.into(), message[key].clone());
            }
        }
        if let Some(calls) = message["tool_calls"].as_array() {
            let calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({"index": i, "id": c["id"], "type": c["type"], "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}})
                })
                .collect();
            delta.insert("tool_calls".into(), Value::Array(calls));
        }
        out.push_str(&chunk(
            json!([{"index": choice["index"], "delta": delta, "finish_reason": null}]),
            None,
        ));
        out.push_str(&chunk(
            json!([{"index": choice["index"], "delta": {}, "finish_reason": choice["finish_reason"]}]),
            None,
        ));
    }
    if let Some(usage) = response.get("usage").filter(|u| !u.is_null()) {
        out.push_str(&chunk(json!([]), Some(usage)));
    }
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}
