//! The streaming side of the resolver: reads OpenAI's SSE `data:` lines, decides from the first
//! delta that says anything whether the stream is ours to resolve, and turns a reply back into SSE.

use crate::marker::RETRIEVE_TOOL_NAME;
use serde_json::{json, Map, Value};

/// Bytes held while undecided before the stream is passed through anyway (an error body, not SSE).
const MAX_HELD_BYTES: usize = 256 * 1024;

#[derive(Debug, Default)]
enum Mode {
    /// Nothing said yet (only role or empty deltas): hold the bytes.
    #[default]
    Undecided,
    /// Not ours: every byte goes to the agent as it comes.
    Passthrough,
    /// Ours: read every chunk, forward nothing.
    Capture,
}

/// Reads one streamed reply.
#[derive(Debug, Default)]
pub(super) struct SseTap {
    mode: Mode,
    /// Raw bytes received while undecided.
    held: Vec<u8>,
    /// The incomplete last line.
    line: Vec<u8>,
    /// `data:` payload of the event being read.
    data: String,
    /// Chunks (parsed `data:` JSON) seen while undecided or capturing.
    chunks: Vec<Value>,
}

/// How a stream ended.
pub(super) enum Tapped {
    /// Not ours: the bytes still to forward.
    Passthrough(Vec<u8>),
    /// Ours: the reply, assembled as a non-streamed chat completion.
    Captured(Value),
}

impl SseTap {
    /// Takes a chunk; returns what to forward now.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        match self.mode {
            Mode::Passthrough => return chunk.to_vec(),
            Mode::Undecided => self.held.extend_from_slice(chunk),
            Mode::Capture => {}
        }
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let line = std::mem::take(&mut self.line);
            self.read_line(&line);
            if matches!(self.mode, Mode::Passthrough) {
                return std::mem::take(&mut self.held);
            }
        }
        self.line.extend_from_slice(rest);
        if matches!(self.mode, Mode::Undecided) && self.held.len() > MAX_HELD_BYTES {
            self.mode = Mode::Passthrough;
            return std::mem::take(&mut self.held);
        }
        Vec::new()
    }

    /// The stream ended.
    pub(super) fn finish(mut self) -> Tapped {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.read_line(&line);
        }
        self.dispatch();
        match self.mode {
            Mode::Capture => Tapped::Captured(assemble(&self.chunks)),
            _ => Tapped::Passthrough(self.held),
        }
    }

    fn read_line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            self.dispatch();
        } else if let Some(payload) = line.strip_prefix(b"data:") {
            let payload = payload.strip_prefix(b" ").unwrap_or(payload);
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(&String::from_utf8_lossy(payload));
        }
    }

    /// One whole event has been read.
    fn dispatch(&mut self) {
        if self.data.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.data);
        if matches!(self.mode, Mode::Passthrough) {
            return;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(&data) else {
            // `[DONE]`, or something we do not read: not a stream to take over.
            if matches!(self.mode, Mode::Undecided) {
                self.mode = Mode::Passthrough;
            }
            return;
        };
        if matches!(self.mode, Mode::Undecided) {
            self.mode = decide(&chunk);
        }
        if !matches!(self.mode, Mode::Passthrough) {
            self.chunks.push(chunk);
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

/// The chat completion a stream of chunks adds up to.
pub(super) fn assemble(chunks: &[Value]) -> Value {
    let mut out = Map::new();
    let first = chunks.first().cloned().unwrap_or(Value::Null);
    for key in [
        "id",
        "created",
        "model",
        "service_tier",
        "system_fingerprint",
    ] {
        if let Some(v) = first.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("object".into(), json!("chat.completion"));
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
    let mut base = Map::new();
    for key in [
        "id",
        "created",
        "model",
        "service_tier",
        "system_fingerprint",
    ] {
        if let Some(v) = response.get(key).filter(|v| !v.is_null()) {
            base.insert(key.into(), v.clone());
        }
    }
    base.insert("object".into(), json!("chat.completion.chunk"));
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
