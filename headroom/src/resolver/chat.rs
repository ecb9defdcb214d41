//! The chat-completions side of the resolver's protocol: which tool calls of a reply are ours, and
//! the reply with them taken out (`protocol.rs` dispatches between this and `responses.rs`).

use crate::marker::RETRIEVE_TOOL_NAME;
use serde_json::{json, Value};

/// Whether a chat tool call is a `headroom_retrieve` call.
pub(super) fn is_ours(call: &Value) -> bool {
    call["function"]["name"] == RETRIEVE_TOOL_NAME
}

/// The first choice's tool calls.
pub(super) fn tool_calls(response: &Value) -> Vec<Value> {
    response["choices"][0]["message"]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Whether any choice of the reply calls `headroom_retrieve`.
pub(super) fn has_our_calls(response: &Value) -> bool {
    response["choices"].as_array().is_some_and(|choices| {
        choices.iter().any(|c| {
            c["message"]["tool_calls"]
                .as_array()
                .is_some_and(|calls| calls.iter().any(is_ours))
        })
    })
}

/// Removes our calls from every choice; a message left with no calls loses its `tool_calls` and,
/// if it stopped only to call tools, now simply stops.
pub(super) fn strip_our_calls(mut response: Value) -> Value {
    let Some(choices) = response["choices"].as_array_mut() else {
        return response;
    };
    for choice in choices {
        let Some(message) = choice.get_mut("message").and_then(Value::as_object_mut) else {
            continue;
        };
        let Some(Value::Array(calls)) = message.get_mut("tool_calls") else {
            continue;
        };
        calls.retain(|c| !is_ours(c));
        if calls.is_empty() {
            message.remove("tool_calls");
            if choice["finish_reason"] == "tool_calls" {
                choice["finish_reason"] = json!("stop");
            }
        }
    }
    response
}
