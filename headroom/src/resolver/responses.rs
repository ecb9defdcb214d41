//! The Responses protocol of the resolver (`POST /v1/responses`): where a reply holds our calls,
//! how they are answered, and what the next round's request is.
//!
//! A reply's `output` is a list of items; ours are `function_call` items named
//! `headroom_retrieve`. The next round's request carries, after the request's own `input`, the
//! reply's output items and one `function_call_output` per call of ours; or, when the request
//! chains on a stored response (`previous_response_id`, `store` not `false`), it chains on this
//! reply instead and carries only the new outputs.

use crate::marker::RETRIEVE_TOOL_NAME;
use serde_json::{json, Map, Value};

/// Output item types the agent must act on: their calls need the agent's results.
const AGENT_ACTIONS: &[&str] = &[
    "function_call",
    "custom_tool_call",
    "local_shell_call",
    "computer_call",
    "shell_call",
    "apply_patch_call",
    "mcp_approval_request",
];

/// Whether output items of type `kind` wait for the agent.
pub(super) fn is_agent_action(kind: &str) -> bool {
    AGENT_ACTIONS.contains(&kind)
}

/// Whether an output item is a call of ours.
pub(super) fn is_ours(item: &Value) -> bool {
    item["type"] == "function_call" && item["name"] == RETRIEVE_TOOL_NAME
}

/// The reply's output items.
fn output(response: &Value) -> &[Value] {
    response["output"].as_array().map_or(&[], Vec::as_slice)
}

/// Whether the reply calls `headroom_retrieve`.
pub(super) fn has_our_calls(response: &Value) -> bool {
    output(response).iter().any(is_ours)
}

/// The items the agent must act on (its calls) and ours, in order.
pub(super) fn calls(response: &Value) -> Vec<Value> {
    output(response)
        .iter()
        .filter(|item| item["type"].as_str().is_some_and(is_agent_action))
        .cloned()
        .collect()
}

/// The call id of an output item (`call_id`; an approval request answers by `id`).
pub(super) fn call_id(item: &Value) -> Option<String> {
    item["call_id"]
        .as_str()
        .or_else(|| item["id"].as_str())
        .map(str::to_string)
}

/// The input item answering our call with `text`.
pub(super) fn answer(call: &Value, text: String) -> Value {
    json!({"type": "function_call_output", "call_id": call["call_id"], "output": text})
}

/// The reply without our calls (the agent must not see a call it cannot answer).
pub(super) fn strip_our_calls(mut response: Value) -> Value {
    if let Some(items) = response["output"].as_array_mut() {
        items.retain(|item| !is_ours(item));
    }
    response
}

/// (input, output) tokens the reply was billed for.
pub(super) fn usage(response: &Value) -> (u64, u64) {
    let usage = &response["usage"];
    (
        usage["input_tokens"].as_u64().unwrap_or(0),
        usage["output_tokens"].as_u64().unwrap_or(0),
    )
}

/// Turns `request` into the next round's: it chains on `response` when the request chained on a
/// stored response; in a conversation (`conversation`, which already holds the reply's items) it
/// sends only the answers; else it carries the whole exchange so far.
pub(super) fn next_round(request: &mut Map<String, Value>, response: &Value, answers: Vec<Value>) {
    if request.get("conversation").is_some_and(|c| !c.is_null()) {
        request.insert("input".into(), Value::Array(answers));
        return;
    }
    let chained = request
        .get("previous_response_id")
        .is_some_and(Value::is_string)
        && request.get("store") != Some(&Value::Bool(false));
    if let (true, Some(id)) = (chained, response["id"].as_str()) {
        request.insert("previous_response_id".into(), json!(id));
        request.insert("input".into(), Value::Array(answers));
        return;
    }
    let mut input = match request.remove("input") {
        Some(Value::Array(items)) => items,
        Some(Value::String(text)) => vec![json!({"role": "user", "content": text})],
        _ => Vec::new(),
    };
    input.extend(output(response).iter().cloned());
    input.extend(answers);
    request.insert("input".into(), Value::Array(input));
}

/// Puts retrieve calls and their answers back into the agent's next Responses request: after the
/// agent's call item when the input has it, else (a request chained on the reply) the answers
/// after the first output for one of the agent's calls. `None` when neither is there.
pub(super) fn apply_carry(
    body: &mut Value,
    agent_call_ids: &[String],
    calls: &[Value],
    answers: &[Value],
) -> Option<()> {
    let input = body.get_mut("input")?.as_array_mut()?;
    let agent = |item: &Value| {
        item["call_id"]
            .as_str()
            .is_some_and(|id| agent_call_ids.iter().any(|a| a == id))
    };
    let is_call = |item: &Value| item["type"].as_str().is_some_and(is_agent_action);
    if let Some(at) = input.iter().position(|i| is_call(i) && agent(i)) {
        let items = calls.iter().chain(answers).cloned();
        input.splice(at + 1..at + 1, items);
        return Some(());
    }
    let at = input.iter().position(agent)?;
    input.splice(at + 1..at + 1, answers.iter().cloned());
    Some(())
}
