//! The streaming side of the resolver: reads OpenAI's SSE `data:` lines (cut into events by
//! [`EventReader`], the WHATWG rules), decides from the first delta that says anything whether
//! the stream is ours to resolve, and turns a reply back into SSE.

use super::events::{Event, EventReader};
use super::filter::{CallFilter, Removed};
use crate::marker::RETRIEVE_TOOL_NAME;
use serde_json::{json, Map, Value};

/// Bytes held while undecided before the stream is passed through anyway (an error body, not SSE).
const MAX_HELD_BYTES: usize = 256 * 1024;

#[derive(Debug, Default)]
enum Mode {
    /// Nothing said yet (only role or empty deltas): hold the events.
    #[default]
    Undecided,
    /// Not ours: every event goes to the agent as it comes, byte for byte, except that a
    /// `headroom_retrieve` call further on is taken out (see [`CallFilter`]).
    Passthrough,
    /// Not SSE as we know it (an error body, say), or too large to capture: every byte goes to the
    /// agent untouched.
    Raw,
    /// Ours: read every chunk, forward nothing.
    Capture,
}

/// Reads one streamed reply, one whole event at a time.
#[derive(Debug)]
pub(super) struct SseTap {
    mode: Mode,
    reader: EventReader,
    /// Raw events read while undecided or capturing (what the agent gets if we give up).
    held: Vec<u8>,
    /// Chunks (parsed `data:` JSON) seen while undecided or capturing.
    chunks: Vec<Value>,
    filter: CallFilter,
    /// Most bytes a captured stream may hold before it is passed through as it came.
    max_capture_bytes: usize,
}

impl Default for SseTap {
    fn default() -> Self {
        SseTap::new(super::DEFAULT_MAX_REPLY_BYTES)
    }
}

/// How a stream ended.
pub(super) enum Tapped {
    /// Not ours: the bytes still to forward, and any retrieve calls taken out of the stream.
    Passthrough(Vec<u8>, Removed),
    /// Ours: the reply, assembled as a non-streamed chat completion.
    Captured(Value),
}

impl SseTap {
    /// A tap that passes a stream through as it came once capturing it would hold more than
    /// `max_capture_bytes`.
    pub(super) fn new(max_capture_bytes: usize) -> Self {
        SseTap {
            mode: Mode::Undecided,
            reader: EventReader::default(),
            held: Vec::new(),
            chunks: Vec::new(),
            filter: CallFilter::default(),
            max_capture_bytes,
        }
    }

    /// Takes a chunk; returns what to forward now.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        if matches!(self.mode, Mode::Raw) {
            return chunk.to_vec();
        }
        let mut events = Vec::new();
        self.reader.feed(chunk, &mut events);
        let mut out = Vec::new();
        for event in events {
            self.read_event(event, &mut out);
        }
        let limit = match self.mode {
            Mode::Undecided => MAX_HELD_BYTES,
            Mode::Capture => self.max_capture_bytes,
            _ => usize::MAX,
        };
        if self.reader.spill(&mut self.held, limit, &mut out) {
            // Fail open: the agent gets the stream as it came (our call included, unanswered).
            self.mode = Mode::Raw;
            self.chunks.clear();
        }
        out
    }

    /// The stream ended. An event cut off by the end is not read (WHATWG); its bytes are forwarded
    /// unless the stream was captured.
    pub(super) fn finish(mut self) -> Tapped {
        let tail = self.reader.take_pending();
        match self.mode {
            Mode::Capture => Tapped::Captured(assemble(&self.chunks)),
            _ => {
                let mut out = std::mem::take(&mut self.held);
                out.extend(tail);
                Tapped::Passthrough(out, self.filter.finish())
            }
        }
    }

    /// One whole event.
    fn read_event(&mut self, event: Event, out: &mut Vec<u8>) {
        let Event { raw, data } = event;
        let chunk = data
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok());
        match self.mode {
            Mode::Raw => out.extend(raw),
            Mode::Passthrough => out.extend(self.filter.pass(raw, chunk)),
            Mode::Capture => {
                self.held.extend(raw);
                self.chunks.extend(chunk);
            }
            Mode::Undecided => {
                self.mode = match (&data, &chunk) {
                    (None, _) => Mode::Undecided,         // a comment or a blank event
                    (Some(_), None) => Mode::Passthrough, // `[DONE]`, or data we do not read
                    (Some(_), Some(chunk)) => decide(chunk),
                };
                match self.mode {
                    Mode::Undecided | Mode::Capture => {
                        self.held.extend(raw);
                        self.chunks.extend(chunk);
                    }
                    _ => {
                        out.append(&mut self.held);
                        self.chunks.clear();
                        out.extend(self.filter.pass(raw, chunk));
                    }
                }
            }
        }
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
