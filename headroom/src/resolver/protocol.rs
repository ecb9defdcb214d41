//! The two protocols one resolver speaks: chat completions and Responses. Each place the
//! resolver reads a reply or writes a request asks here which shape to use.

use super::responses_sse::{self, ResponsesTap};
use super::sse::{self, SseTap};
use super::tap::Tapped;
use super::{chat, responses};
use crate::Protocol;
use serde_json::{json, Map, Value};

/// The stream reader of a protocol.
#[derive(Debug)]
pub(super) enum Tap {
    Chat(SseTap),
    Responses(ResponsesTap),
}

impl Tap {
    pub(super) fn new(protocol: Protocol, max_capture_bytes: usize) -> Self {
        match protocol {
            Protocol::ChatCompletions => Tap::Chat(SseTap::chat(max_capture_bytes)),
            Protocol::Responses => Tap::Responses(ResponsesTap::responses(max_capture_bytes)),
        }
    }

    pub(super) fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        match self {
            Tap::Chat(tap) => tap.feed(chunk),
            Tap::Responses(tap) => tap.feed(chunk),
        }
    }

    pub(super) fn finish(self) -> Tapped {
        match self {
            Tap::Chat(tap) => tap.finish(),
            Tap::Responses(tap) => tap.finish(),
        }
    }
}

/// The protocol of a request the resolver is given, or why it cannot resolve it.
pub(super) fn of_request(request: &Map<String, Value>) -> Result<Protocol, &'static str> {
    if request.contains_key("messages") {
        return match request["messages"].is_array() {
            true => Ok(Protocol::ChatCompletions),
            false => Err("the body has no messages array"),
        };
    }
    if request.contains_key("input") || request.contains_key("previous_response_id") {
        return Ok(Protocol::Responses);
    }
    Err("the body has no messages array (nor a Responses input)")
}

/// Whether `call` (a chat tool call or a Responses output item) is ours.
pub(super) fn is_ours(call: &Value) -> bool {
    chat::is_ours(call) || responses::is_ours(call)
}

/// The arguments text of a call of ours.
pub(super) fn arguments(call: &Value) -> &str {
    call["function"]["arguments"]
        .as_str()
        .or_else(|| call["arguments"].as_str())
        .unwrap_or("")
}

/// Whether the reply calls `headroom_retrieve`.
pub(super) fn has_our_calls(protocol: Protocol, response: &Value) -> bool {
    match protocol {
        Protocol::ChatCompletions => chat::has_our_calls(response),
        Protocol::Responses => responses::has_our_calls(response),
    }
}

/// The calls of the reply (the first choice's, for chat): ours and the agent's.
pub(super) fn calls(protocol: Protocol, response: &Value) -> Vec<Value> {
    match protocol {
        Protocol::ChatCompletions => chat::tool_calls(response),
        Protocol::Responses => responses::calls(response),
    }
}

/// The id of a call, as the agent's next request answers it.
pub(super) fn call_id(protocol: Protocol, call: &Value) -> Option<String> {
    match protocol {
        Protocol::ChatCompletions => call["id"].as_str().map(str::to_string),
        Protocol::Responses => responses::call_id(call),
    }
}

/// The message (chat) or input item (Responses) that answers `call` with `text`.
pub(super) fn answer(protocol: Protocol, call: &Value, text: String) -> Value {
    match protocol {
        Protocol::ChatCompletions => {
            json!({"role": "tool", "tool_call_id": call["id"], "content": text})
        }
        Protocol::Responses => responses::answer(call, text),
    }
}

/// The reply without our calls.
pub(super) fn strip_our_calls(protocol: Protocol, response: Value) -> Value {
    match protocol {
        Protocol::ChatCompletions => chat::strip_our_calls(response),
        Protocol::Responses => responses::strip_our_calls(response),
    }
}

/// (prompt, completion) tokens the reply was billed for.
pub(super) fn usage(protocol: Protocol, response: &Value) -> (u64, u64) {
    let usage = &response["usage"];
    match protocol {
        Protocol::ChatCompletions => (
            usage["prompt_tokens"].as_u64().unwrap_or(0),
            usage["completion_tokens"].as_u64().unwrap_or(0),
        ),
        Protocol::Responses => responses::usage(response),
    }
}

/// The bytes of `response` as a stream of the protocol.
pub(super) fn render_stream(protocol: Protocol, response: &Value) -> Vec<u8> {
    match protocol {
        Protocol::ChatCompletions => sse::render(response),
        Protocol::Responses => responses_sse::render(response),
    }
}
