//! A Responses body (`POST /v1/responses`) as segments, seen as the messages of a chat request:
//!
//! - `instructions` is a `system` message (protected like a system prompt);
//! - `input` as a string is one `user` message; as a list, each `message` item is a message of
//!   its role (its `input_text`/`output_text` parts are segments);
//! - a run of call items (`function_call`, `custom_tool_call`, `local_shell_call`,
//!   `computer_call`, with the `reasoning` items among them) is one `assistant` message with those
//!   tool calls (`arguments` and custom `input` are segments), so a call and its reasoning stay
//!   together when the window is fitted;
//! - each tool output item (`function_call_output`, `custom_tool_call_output`,
//!   `local_shell_call_output`, `computer_call_output`, `apply_patch_call_output`,
//!   `shell_call_output`) is a `tool` message answering its `call_id`; its `output` string, the
//!   text parts of it, or a shell output's `stdout`/`stderr` chunks, are segments (`shell_call`
//!   and `apply_patch_call` are calls: the commands, the patch operation);
//! - an `mcp_call` (a hosted MCP tool run, its `output` in the same item) is a `tool` message that
//!   is its own call: its `output` is compressed against its `name` and `arguments`.
//!
//! Every other item (`item_reference`, hosted tool calls, …) is a message without a role: nothing
//! in it is read, and its bytes go out as they came.

use super::{
    content_segments, invalid, object_end, read_through, reserve, segment, span, string, Fields,
    MessageView, Protocol, RequestView, Segment, SegmentKind,
};
use crate::memo::{KeyBuilder, Memo};
use crate::Result;
use serde_json::value::RawValue;
use std::ops::Range;

/// The part types whose `text` is read, in messages and in tool outputs.
const TEXT_PARTS: &[&str] = &["input_text", "output_text", "text"];

/// Reads a Responses body whose top-level fields are `top`. With a memo, an input item whose exact
/// bytes were read before is not read again.
pub(super) fn parse(body: &str, top: &Fields, memo: Option<&Memo>) -> Result<RequestView> {
    let mut messages = Vec::new();
    if let Some(raw) = top.get("instructions").filter(|r| r.get().starts_with('"')) {
        messages.push(text_message(body, "system", raw));
    }
    let not_items = || invalid("`input` must be a string or an array of input items".into());
    if let Some(input) = top.get("input") {
        match input.get().as_bytes().first() {
            Some(b'"') => messages.push(text_message(body, "user", input)),
            Some(b'[') => {
                let items: Vec<&RawValue> =
                    serde_json::from_str(input.get()).map_err(|_| not_items())?;
                read_items(body, &items, &mut messages, memo)?;
            }
            _ if input.get() == "null" => {}
            _ => return Err(not_items()),
        }
    }
    Ok(RequestView {
        protocol: Protocol::Responses,
        model: string(top.get("model")),
        messages,
        tools: top
            .get("tools")
            .map(|raw| (span(body, raw), raw.get().to_string())),
        functions: None,
        tool_choice: top.get("tool_choice").map(|raw| raw.get().to_string()),
        object_end: object_end(body),
        max_completion_tokens: reserve(top, &["max_output_tokens"]),
    })
}

/// A message of `role` whose content is the string `raw`.
fn text_message(body: &str, role: &str, raw: &RawValue) -> MessageView {
    MessageView {
        role: Some(role.to_string()),
        segments: vec![segment(body, SegmentKind::Content, raw)].into(),
        ..MessageView::empty(span(body, raw))
    }
}

/// A run of call and reasoning items becoming one message. Its key (with a memo) is made of its
/// items' keys and the bytes between them, so the run's exact bytes decide it.
struct CallRun {
    view: MessageView,
    key: Option<KeyBuilder>,
}

impl CallRun {
    /// Adds the next item of the run (read on its own, then moved to its place).
    fn push(&mut self, body: &str, item: MessageView) {
        let between = &body[self.view.span.end..item.span.start];
        self.key = self
            .key
            .take()
            .zip(item.key)
            .map(|(key, k)| key.part(between.as_bytes()).part(k.as_bytes()));
        self.view.span.end = item.span.end;
        if item.role.is_some() {
            self.view.role = item.role;
        }
        // Each item's segment spans count from its own base: re-counted from the run's.
        let shift = item.base - self.view.base;
        self.view
            .segments
            .extend(item.segments.iter().map(|segment| Segment {
                span: segment.span.start + shift..segment.span.end + shift,
                ..segment.clone()
            }));
        self.view.tool_calls.extend(item.tool_calls);
    }

    fn start(item: MessageView) -> CallRun {
        let key = item
            .key
            .map(|k| KeyBuilder::new(b"responses call run").part(k.as_bytes()));
        CallRun {
            view: MessageView {
                call_item: false,
                key: None,
                ..item
            },
            key,
        }
    }

    fn finish(self) -> MessageView {
        MessageView {
            key: self.key.map(KeyBuilder::finish),
            ..self.view
        }
    }
}

/// Reads the items of `input`, grouping each run of calls (and reasoning) into one message.
fn read_items(
    body: &str,
    items: &[&RawValue],
    messages: &mut Vec<MessageView>,
    memo: Option<&Memo>,
) -> Result<()> {
    let mut run: Option<CallRun> = None;
    for (i, raw) in items.iter().enumerate() {
        let item = read_through(memo, b"responses item", body, raw, read_item)
            .ok_or_else(|| invalid(format!("input[{i}] must be an object")))?;
        if !item.call_item {
            messages.extend(run.take().map(CallRun::finish));
            messages.push(item);
            continue;
        }
        match &mut run {
            Some(run) => run.push(body, item),
            None => run = Some(CallRun::start(item)),
        }
    }
    messages.extend(run.map(CallRun::finish));
    Ok(())
}

/// One item read on its own: its spans count from its first byte.
fn read_item(raw: &str) -> Option<MessageView> {
    let fields: Fields = serde_json::from_str(raw).ok()?;
    Some(item(raw, 0..raw.len(), &fields))
}

/// What one input item is to the engine: a message of its own, or (`call_item`) a call or a
/// `reasoning` item, which joins the run of calls around it.
fn item(body: &str, item_span: Range<usize>, fields: &Fields<'_>) -> MessageView {
    let kind = string(fields.get("type"))
        .or_else(|| fields.contains_key("role").then(|| "message".to_string()))
        .unwrap_or_default();
    let call_id = || string(fields.get("call_id")).unwrap_or_default();
    let text_of = |key: &str| {
        fields
            .get(key)
            .copied()
            .filter(|r| r.get().starts_with('"'))
    };
    let raw_text = |key: &str| {
        fields
            .get(key)
            .map_or(String::new(), |r| r.get().to_string())
    };
    let mut message = MessageView::empty(item_span);
    let mut call = |id: String, name: String, arguments: String, raw: Option<&RawValue>| {
        message.call_item = true;
        message.role = Some("assistant".into());
        if let Some(raw) = raw {
            message
                .segments
                .push(segment(body, SegmentKind::ToolCallArguments, raw));
        }
        message.tool_calls.push((id, name, arguments));
    };
    match kind.as_str() {
        "reasoning" => message.call_item = true,
        "function_call" | "custom_tool_call" => {
            let key = if kind == "function_call" {
                "arguments"
            } else {
                "input"
            };
            let raw = text_of(key);
            let arguments = raw
                .and_then(|r| serde_json::from_str(r.get()).ok())
                .unwrap_or_default();
            let name = string(fields.get("name")).unwrap_or_default();
            call(call_id(), name, arguments, raw);
        }
        "local_shell_call" => call(call_id(), "local_shell".into(), raw_text("action"), None),
        "shell_call" => call(call_id(), "shell".into(), shell_command(fields), None),
        "apply_patch_call" => call(call_id(), "apply_patch".into(), raw_text("operation"), None),
        "computer_call" => call(call_id(), "computer".into(), raw_text("action"), None),
        "message" => {
            message.role = string(fields.get("role"));
            if let Some(content) = fields.get("content") {
                content_segments(body, content, TEXT_PARTS, &mut message.segments);
            }
        }
        "function_call_output"
        | "custom_tool_call_output"
        | "local_shell_call_output"
        | "computer_call_output" => {
            message.role = Some("tool".into());
            // A local shell output names its call by `id` in the API reference, `call_id` in SDKs.
            message.tool_call_id = string(fields.get("call_id")).or_else(|| {
                (kind == "local_shell_call_output")
                    .then(|| string(fields.get("id")))
                    .flatten()
            });
            if let Some(output) = fields.get("output") {
                content_segments(body, output, TEXT_PARTS, &mut message.segments);
            }
        }
        "apply_patch_call_output" => {
            message.role = Some("tool".into());
            message.tool_call_id = Some(call_id());
            if let Some(output) = text_of("output") {
                message
                    .segments
                    .push(segment(body, SegmentKind::Content, output));
            }
        }
        "shell_call_output" => {
            message.role = Some("tool".into());
            message.tool_call_id = Some(call_id());
            if let Some(output) = fields.get("output") {
                shell_segments(body, output, &mut message.segments);
            }
        }
        // A hosted MCP call carries its own output: a tool message that is its own call.
        "mcp_call" => {
            message.role = Some("tool".into());
            let id = string(fields.get("id")).unwrap_or_default();
            let name = string(fields.get("name")).unwrap_or_default();
            let arguments = string(fields.get("arguments")).unwrap_or_default();
            message.tool_call_id = Some(id.clone());
            message.tool_calls.push((id, name, arguments));
            if let Some(output) = text_of("output") {
                message
                    .segments
                    .push(segment(body, SegmentKind::Content, output));
            }
        }
        _ => {}
    }
    message
}

/// A `shell_call`'s commands as the arguments the engine reads for a shell command: one script,
/// a command a line (its output has one chunk per command).
fn shell_command(fields: &Fields) -> String {
    let commands: Vec<String> = fields
        .get("action")
        .and_then(|a| serde_json::from_str::<serde_json::Value>(a.get()).ok())
        .and_then(|a| serde_json::from_value(a["commands"].clone()).ok())
        .unwrap_or_default();
    serde_json::json!({ "command": commands.join("\n") }).to_string()
}

/// The `stdout` and `stderr` strings of a `shell_call_output`'s chunks, as segments.
fn shell_segments(body: &str, output: &RawValue, segments: &mut Vec<Segment>) {
    let Ok(chunks) = serde_json::from_str::<Vec<&RawValue>>(output.get()) else {
        return;
    };
    for chunk in chunks {
        let Ok(fields) = serde_json::from_str::<Fields>(chunk.get()) else {
            continue;
        };
        for key in ["stdout", "stderr"] {
            if let Some(text) = fields.get(key).filter(|r| r.get().starts_with('"')) {
                segments.push(segment(body, SegmentKind::ContentPart, text));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn texts(view: &RequestView) -> Vec<(Option<&str>, SegmentKind, &str)> {
        view.messages
            .iter()
            .flat_map(|m| {
                m.segments
                    .iter()
                    .map(|s| (m.role.as_deref(), s.kind, &*s.text))
            })
            .collect()
    }

    #[test]
    fn a_string_input_is_one_user_message_after_the_instructions() {
        let body = r#"{"model":"gpt-4.1","instructions":"be brief","input":"hello","max_output_tokens":500}"#;
        let view = parse(body).unwrap();
        assert_eq!(view.protocol, Protocol::Responses);
        assert_eq!(view.model.as_deref(), Some("gpt-4.1"));
        assert_eq!(view.max_completion_tokens, Some(500));
        assert_eq!(
            texts(&view),
            vec![
                (Some("system"), SegmentKind::Content, "be brief"),
                (Some("user"), SegmentKind::Content, "hello"),
            ]
        );
        assert_eq!(&body[view.messages[1].span.clone()], r#""hello""#);
    }

    #[test]
    fn items_become_messages_and_calls_pair_by_call_id() {
        let body = r#"{"model":"gpt-4o","input":[
            {"role":"developer","content":"rules"},
            {"type":"message","role":"user","content":[{"type":"input_text","text":"find it"},{"type":"input_image","image_url":"u"}]},
            {"type":"reasoning","id":"rs_1","summary":[]},
            {"type":"function_call","id":"fc_1","call_id":"c1","name":"grep","arguments":"{\"q\":\"x\"}"},
            {"type":"custom_tool_call","call_id":"c2","name":"patch","input":"*** Begin"},
            {"type":"function_call_output","call_id":"c1","output":"hits"},
            {"type":"custom_tool_call_output","call_id":"c2","output":[{"type":"input_text","text":"ok"}]},
            {"type":"local_shell_call","call_id":"c3","action":{"type":"exec","command":["ls"]}},
            {"type":"local_shell_call_output","id":"c3","output":"a\nb"},
            {"type":"item_reference","id":"msg_9"},
            {"type":"future_item","payload":{"x":1}}
        ],"tools":[{"type":"web_search"}],"tool_choice":"auto"}"#;
        let view = parse(body).unwrap();
        let roles: Vec<_> = view.messages.iter().map(|m| m.role.as_deref()).collect();
        assert_eq!(
            roles,
            vec![
                Some("developer"),
                Some("user"),
                Some("assistant"),
                Some("tool"),
                Some("tool"),
                Some("assistant"),
                Some("tool"),
                None,
                None
            ]
        );
        let calls = &view.messages[2];
        assert!(body[calls.span.clone()].starts_with(r#"{"type":"reasoning""#));
        assert!(body[calls.span.clone()].ends_with(r#""input":"*** Begin"}"#));
        let ids: Vec<_> = calls
            .tool_calls
            .iter()
            .map(|(id, n, _)| (id.as_str(), n.as_str()))
            .collect();
        assert_eq!(ids, vec![("c1", "grep"), ("c2", "patch")]);
        assert_eq!(view.messages[3].tool_call_id.as_deref(), Some("c1"));
        assert_eq!(view.messages[6].tool_call_id.as_deref(), Some("c3"));
        assert_eq!(
            view.messages[5].tool_calls[0].2,
            r#"{"type":"exec","command":["ls"]}"#
        );
        assert_eq!(
            texts(&view),
            vec![
                (Some("developer"), SegmentKind::Content, "rules"),
                (Some("user"), SegmentKind::ContentPart, "find it"),
                (
                    Some("assistant"),
                    SegmentKind::ToolCallArguments,
                    "{\"q\":\"x\"}"
                ),
                (
                    Some("assistant"),
                    SegmentKind::ToolCallArguments,
                    "*** Begin"
                ),
                (Some("tool"), SegmentKind::Content, "hits"),
                (Some("tool"), SegmentKind::ContentPart, "ok"),
                (Some("tool"), SegmentKind::Content, "a\nb"),
            ]
        );
        assert_eq!(view.tools.as_ref().unwrap().1, r#"[{"type":"web_search"}]"#);
        assert_eq!(view.tool_choice.as_deref(), Some(r#""auto""#));
    }

    #[test]
    fn an_item_read_through_the_memo_reads_as_a_fresh_one_at_its_own_place() {
        use super::super::{described, parse_with};
        let call =
            r#"{"type":"function_call","call_id":"c1","name":"grep","arguments":"{\"q\":1}"}"#;
        let output =
            r#"{"type":"function_call_output","call_id":"c1","output":"line \"one\"\nbad \ud800"}"#;
        let reasoning = r#"{"type":"reasoning","id":"rs_1","summary":[]}"#;
        let body = format!(
            r#"{{"model":"m","instructions":"be brief","input":[{reasoning},{call},{output}, {{"role":"user","content":[{{"type":"input_text","text":"x"}}]}},{reasoning}, {call},{output},{{"type":"item_reference","id":"i"}}]}}"#
        );
        let fresh = described(&parse(&body).unwrap());
        let memo = Memo::new(1 << 20);
        for _ in 0..2 {
            let view = parse_with(&body, Some(&memo)).unwrap();
            assert_eq!(described(&view), fresh);
            let keys: Vec<_> = view.messages.iter().map(|m| m.key).collect();
            assert!(keys[0].is_none(), "instructions are not an item");
            assert!(keys[1..].iter().all(Option::is_some));
            assert_eq!(keys[2], keys[5], "same output bytes, one entry");
            assert_ne!(
                keys[1], keys[4],
                "the runs differ in the bytes between their items"
            );
        }
        // A run's key follows its exact bytes: the same items without the space are another run.
        let tight = body.replace("}, {", "},{");
        let view = parse_with(&tight, Some(&memo)).unwrap();
        assert_eq!(described(&view), described(&parse(&tight).unwrap()));
        assert!(parse_with(r#"{"input":[1]}"#, Some(&memo)).is_err());
    }

    #[test]
    fn wrong_shapes_are_typed_errors() {
        use crate::Error;
        assert!(matches!(
            parse(r#"{"input":3}"#),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            parse(r#"{"input":[1]}"#),
            Err(Error::InvalidRequest(_))
        ));
        assert!(parse(r#"{"input":null,"previous_response_id":"r"}"#)
            .unwrap()
            .messages
            .is_empty());
    }
}
