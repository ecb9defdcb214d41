//! Takes `headroom_retrieve` calls out of a stream that passes through to the agent.
//!
//! A stream is passed through when its first tool call is the agent's; if the model then also calls
//! `headroom_retrieve`, forwarding that call would leave the agent with a call it cannot answer (and
//! its next request would break OpenAI's pairing rule). So those deltas are dropped, the agent's
//! later calls renumbered, and a finish of `tool_calls` with no call left becomes `stop`. Events
//! without any of that go through byte for byte.

use crate::marker::RETRIEVE_TOOL_NAME;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The calls taken out of a stream, and the agent's calls that stayed (the carry's anchor).
#[derive(Debug, Default)]
pub(super) struct Removed {
    /// Our calls, assembled: `{id, type, function: {name, arguments}}`.
    pub calls: Vec<Value>,
    /// Ids of the agent's calls in the same reply.
    pub agent_call_ids: Vec<String>,
}

/// Per stream: which tool-call index of which choice is ours, and what the agent's become.
#[derive(Debug, Default)]
pub(super) struct CallFilter {
    /// (choice, index in the stream) → the agent call's new index, or `None` for ours.
    calls: HashMap<(u64, u64), Option<u64>>,
    /// Per choice: agent calls seen so far (the next new index).
    agent_calls: HashMap<u64, u64>,
    /// Per choice: whether one of ours was dropped.
    dropped: HashMap<u64, bool>,
    /// Where each of our calls sits in `removed.calls`.
    ours_at: HashMap<(u64, u64), usize>,
    removed: Removed,
}

impl CallFilter {
    /// The bytes to forward for one event.
    pub(super) fn pass(&mut self, raw: Vec<u8>, chunk: Option<Value>) -> Vec<u8> {
        let Some(mut chunk) = chunk else {
            return raw;
        };
        if !self.rewrite(&mut chunk) {
            return raw;
        }
        let empty = chunk["choices"].as_array().is_some_and(Vec::is_empty)
            && chunk.get("usage").is_none_or(Value::is_null);
        if empty {
            return Vec::new();
        }
        format!("data: {chunk}\n\n").into_bytes()
    }

    /// What was taken out, once the stream has ended.
    pub(super) fn finish(self) -> Removed {
        self.removed
    }

    /// Rewrites `chunk` in place; whether anything changed.
    fn rewrite(&mut self, chunk: &mut Value) -> bool {
        let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) else {
            return false;
        };
        let mut changed = false;
        for choice in choices.iter_mut() {
            let c = choice["index"].as_u64().unwrap_or(0);
            if let Some(deltas) = choice["delta"]
                .get_mut("tool_calls")
                .and_then(Value::as_array_mut)
            {
                let before = deltas.len();
                let mut kept = Vec::with_capacity(before);
                for mut delta in deltas.drain(..) {
                    let i = delta["index"].as_u64().unwrap_or(0);
                    match self.classify(c, i, &delta) {
                        None => {
                            self.absorb(c, i, &delta);
                            changed = true;
                        }
                        Some(new) => {
                            if new != i {
                                delta["index"] = json!(new);
                                changed = true;
                            }
                            kept.push(delta);
                        }
                    }
                }
                if kept.is_empty() && before > 0 {
                    if let Some(delta) = choice["delta"].as_object_mut() {
                        delta.remove("tool_calls");
                    }
                } else {
                    choice["delta"]["tool_calls"] = Value::Array(kept);
                }
            }
            let only_ours = self.dropped.get(&c).copied().unwrap_or(false)
                && self.agent_calls.get(&c).copied().unwrap_or(0) == 0;
            if only_ours && choice["finish_reason"] == "tool_calls" {
                choice["finish_reason"] = json!("stop");
                changed = true;
            }
        }
        if changed {
            // A choice left with nothing to say is dropped from the chunk.
            choices.retain(|choice| {
                let delta_empty = choice["delta"].as_object().is_none_or(|d| d.is_empty());
                !(delta_empty && choice["finish_reason"].is_null())
            });
        }
        changed
    }

    /// `Some(new index)` for the agent's call, `None` for ours. A call is known by its first delta,
    /// which carries the name.
    fn classify(&mut self, choice: u64, index: u64, delta: &Value) -> Option<u64> {
        if let Some(known) = self.calls.get(&(choice, index)) {
            return *known;
        }
        let ours = delta["function"]["name"] == RETRIEVE_TOOL_NAME;
        let mapped = if ours {
            self.dropped.insert(choice, true);
            self.ours_at
                .insert((choice, index), self.removed.calls.len());
            self.removed.calls.push(json!({"id": "", "type": "function", "function": {"name": RETRIEVE_TOOL_NAME, "arguments": ""}}));
            None
        } else {
            let next = self.agent_calls.entry(choice).or_insert(0);
            let new = *next;
            *next += 1;
            if let Some(id) = delta["id"].as_str() {
                self.removed.agent_call_ids.push(id.to_string());
            }
            Some(new)
        };
        self.calls.insert((choice, index), mapped);
        mapped
    }

    /// Adds a delta of one of our calls to what was taken out.
    fn absorb(&mut self, choice: u64, index: u64, delta: &Value) {
        let Some(&at) = self.ours_at.get(&(choice, index)) else {
            return;
        };
        let call = &mut self.removed.calls[at];
        if let Some(id) = delta["id"].as_str() {
            call["id"] = json!(id);
        }
        if let Some(part) = delta["function"]["arguments"].as_str() {
            let joined = format!(
                "{}{part}",
                call["function"]["arguments"].as_str().unwrap_or("")
            );
            call["function"]["arguments"] = json!(joined);
        }
    }
}
