//! The streaming side of the Responses protocol: reads the typed events of a Responses stream
//! (`response.output_item.added`, `response.function_call_arguments.delta`/`.done`,
//! `response.completed`, …), decides from the first output item that is a message or a call
//! whether the stream is ours to resolve, and turns a reply back into such events.
//!
//! Held while undecided: the events before that item (`response.created`, reasoning, hosted
//! tool calls). Ours (the first call is `headroom_retrieve`): the stream is consumed and the
//! reply is the `response` of its `response.completed` event. Not ours: every event goes through
//! in order, byte for byte, except the events of a later `headroom_retrieve` item, which are
//! dropped (the items after it renumbered and the final response without it).

use super::filter::Removed;
use super::responses::{call_id, is_agent_action, is_ours};
use super::tap::{Mode, Stream, Tap};
use serde_json::{json, Value};

/// Reads one streamed Responses reply, one whole event at a time.
pub(super) type ResponsesTap = Tap<ResponsesStream>;

impl ResponsesTap {
    /// A Responses tap that passes a stream through once capturing would hold more than
    /// `max_capture_bytes`.
    pub(super) fn responses(max_capture_bytes: usize) -> Self {
        Tap::new(ResponsesStream::default(), max_capture_bytes)
    }
}

/// What the Responses protocol makes of its events.
#[derive(Debug, Default)]
pub(super) struct ResponsesStream {
    /// The reply of the `response.completed` (or `.incomplete`) event, once seen while capturing.
    completed: Option<Value>,
    /// Output indexes of our items taken out of a passed-through stream.
    dropped: Vec<u64>,
    removed: Removed,
}

impl Stream for ResponsesStream {
    fn decide(&self, event: &Value) -> Mode {
        decide(event)
    }

    fn keep(&mut self, event: Option<Value>) {
        if let Some(response) = event.as_ref().and_then(final_response) {
            self.completed = Some(response.clone());
        }
    }

    fn forget(&mut self) {
        self.completed = None;
    }

    /// The bytes to forward for one event of a passed-through stream.
    fn pass(&mut self, raw: Vec<u8>, event: Option<Value>) -> Vec<u8> {
        let Some(mut event) = event else {
            return raw;
        };
        let kind = event["type"].as_str().unwrap_or("").to_string();
        if let Some(index) = event["output_index"].as_u64() {
            let item = &event["item"];
            if kind == "response.output_item.added" && is_ours(item) {
                self.dropped.push(index);
            }
            if self.dropped.contains(&index) {
                if kind == "response.output_item.done" {
                    self.removed.calls.push(item.clone());
                }
                return Vec::new();
            }
            if kind == "response.output_item.done"
                && item["type"].as_str().is_some_and(is_agent_action)
            {
                self.removed.agent_call_ids.extend(call_id(item));
            }
            let before = self.dropped.iter().filter(|d| **d < index).count() as u64;
            if before == 0 {
                return raw;
            }
            event["output_index"] = json!(index - before);
            return render_event(&event);
        }
        if self.dropped.is_empty() {
            return raw;
        }
        if let Some(items) = event["response"]["output"].as_array_mut() {
            items.retain(|item| !is_ours(item));
            return render_event(&event);
        }
        raw
    }

    fn reply(&mut self) -> Option<Value> {
        self.completed.take()
    }

    fn removed(self) -> Removed {
        self.removed
    }
}

/// The reply a final event carries.
fn final_response(event: &Value) -> Option<&Value> {
    match event["type"].as_str()? {
        "response.completed" | "response.incomplete" | "response.failed" => {
            Some(&event["response"])
        }
        _ => None,
    }
}

/// Whether this event settles the stream: the first message or call item, or the end.
fn decide(event: &Value) -> Mode {
    let Some(kind) = event["type"].as_str() else {
        return Mode::Passthrough;
    };
    match kind {
        "response.output_item.added" => {
            let item = &event["item"];
            match item["type"].as_str().unwrap_or("") {
                _ if is_ours(item) => Mode::Capture,
                "reasoning" => Mode::Undecided,
                // Hosted tools (web search, file search, code interpreter…) run upstream.
                t if t.ends_with("_call") && !is_agent_action(t) => Mode::Undecided,
                _ => Mode::Passthrough,
            }
        }
        k if k.starts_with("response.") && final_response(event).is_none() => Mode::Undecided,
        _ => Mode::Passthrough,
    }
}

/// One event as SSE, named by its type.
fn render_event(event: &Value) -> Vec<u8> {
    let kind = event["type"].as_str().unwrap_or("message");
    format!("event: {kind}\ndata: {event}\n\n").into_bytes()
}

/// A Responses reply as a stream: `response.created`, each output item (a message's text as one
/// delta), then `response.completed`.
pub(super) fn render(response: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut sequence = 0u64;
    let mut emit = |mut event: Value| {
        event["sequence_number"] = json!(sequence);
        sequence += 1;
        out.extend(render_event(&event));
    };
    let mut created = response.clone();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    emit(json!({"type": "response.created", "response": created}));
    let items = response["output"].as_array().cloned().unwrap_or_default();
    for (index, item) in items.iter().enumerate() {
        let is_message = item["type"] == "message";
        let mut opened = item.clone();
        if is_message {
            opened["content"] = json!([]);
            opened["status"] = json!("in_progress");
        }
        emit(json!({"type": "response.output_item.added", "output_index": index, "item": opened}));
        if is_message {
            let parts = item["content"].as_array().cloned().unwrap_or_default();
            for (part_index, part) in parts.iter().enumerate() {
                let at = json!({"item_id": item["id"], "output_index": index, "content_index": part_index});
                let with = |kind: &str, key: &str, value: Value| {
                    let mut e = at.clone();
                    e["type"] = json!(kind);
                    e[key] = value;
                    e
                };
                let mut empty = part.clone();
                if part["type"] == "output_text" {
                    empty["text"] = json!("");
                }
                emit(with("response.content_part.added", "part", empty));
                if part["type"] == "output_text" {
                    emit(with(
                        "response.output_text.delta",
                        "delta",
                        part["text"].clone(),
                    ));
                    emit(with(
                        "response.output_text.done",
                        "text",
                        part["text"].clone(),
                    ));
                }
                emit(with("response.content_part.done", "part", part.clone()));
            }
        }
        emit(json!({"type": "response.output_item.done", "output_index": index, "item": item}));
    }
    emit(json!({"type": "response.completed", "response": response}));
    out
}
