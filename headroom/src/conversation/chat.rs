//! A chat-completions body as segments: each message's `content` (a string, or its text parts)
//! and each tool call's `arguments`.

use super::{
    content_segments, invalid, object_end, read_through, reserve, segment, span, string, Elements,
    Fields, MessageView, Protocol, RequestView, SegmentKind,
};
use crate::memo::Memo;
use crate::Result;
use std::ops::Range;

/// Reads a chat-completions body whose top-level fields other than `messages` are `top`, and
/// whose (last) `messages` value is `messages`. With a memo, a message whose exact bytes were read
/// before is not read again.
pub(super) fn parse(
    body: &str,
    top: &Fields,
    messages: Elements<'_>,
    memo: Option<&Memo>,
) -> Result<RequestView> {
    let raw_messages = messages
        .0
        .ok_or_else(|| invalid("`messages` must be an array of message objects".into()))?;
    let mut messages = Vec::with_capacity(raw_messages.len());
    for (i, raw) in raw_messages.into_iter().enumerate() {
        let not_an_object = || invalid(format!("messages[{i}] must be an object with a `role`"));
        let view = read_through(memo, b"chat message", body, raw, read_message)
            .ok_or_else(not_an_object)?;
        messages.push(view);
    }
    let tools = top
        .get("tools")
        .map(|raw| (span(body, raw), raw.get().to_string()));
    Ok(RequestView {
        protocol: Protocol::ChatCompletions,
        model: string(top.get("model")),
        messages,
        tools,
        functions: top.get("functions").map(|raw| raw.get().to_string()),
        tool_choice: top.get("tool_choice").map(|raw| raw.get().to_string()),
        object_end: object_end(body),
        max_completion_tokens: reserve(top, &["max_completion_tokens", "max_tokens"]),
    })
}

/// One message read on its own: its spans count from its first byte.
fn read_message(raw: &str) -> Option<MessageView> {
    let fields: Fields = serde_json::from_str(raw).ok()?;
    Some(message(raw, 0..raw.len(), &fields))
}

fn message(body: &str, message_span: Range<usize>, fields: &Fields) -> MessageView {
    let mut segments = Vec::new();
    if let Some(content) = fields.get("content") {
        content_segments(body, content, &["text"], &mut segments);
    }
    let mut tool_calls = Vec::new();
    if let Some(raw) = fields.get("tool_calls") {
        let calls: Vec<Fields> = serde_json::from_str(raw.get()).unwrap_or_default();
        for call in &calls {
            let function: Fields = call
                .get("function")
                .and_then(|f| serde_json::from_str(f.get()).ok())
                .unwrap_or_default();
            let name = string(function.get("name")).unwrap_or_default();
            let mut arguments = String::new();
            if let Some(raw) = function
                .get("arguments")
                .filter(|r| r.get().starts_with('"'))
            {
                let segment = segment(body, SegmentKind::ToolCallArguments, raw);
                arguments = segment.text.to_string();
                segments.push(segment);
            }
            tool_calls.push((string(call.get("id")).unwrap_or_default(), name, arguments));
        }
    }
    MessageView {
        span: message_span,
        role: string(fields.get("role")),
        name: string(fields.get("name")),
        tool_call_id: string(fields.get("tool_call_id")),
        tool_calls,
        segments: segments.into(),
        base: 0,
        key: None,
        call_item: false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{described as read, parse, parse_with, splice};
    use super::*;
    use crate::Error;

    #[test]
    fn finds_every_kind_of_segment_with_exact_spans() {
        let body = r#"{ "model":"gpt-4o", "x-unknown": {"a": 1},
          "messages": [
            {"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"text","text":"q\u00e9"},{"type":"image_url","image_url":{"url":"u"}}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"ls","arguments":"{\"p\":1}"}}]},
            {"role":"tool","tool_call_id":"c1","content":"out"}
          ]}"#;
        let view = parse(body).unwrap();
        assert_eq!(view.model.as_deref(), Some("gpt-4o"));
        let texts: Vec<_> = view
            .messages
            .iter()
            .flat_map(|m| m.segments.iter().map(|s| (s.kind, &*s.text)))
            .collect();
        assert_eq!(
            texts,
            vec![
                (SegmentKind::Content, "be brief"),
                (SegmentKind::ContentPart, "qé"),
                (SegmentKind::ToolCallArguments, "{\"p\":1}"),
                (SegmentKind::Content, "out"),
            ]
        );
        let seg = &view.messages[1].segments[0];
        assert_eq!(&body[view.messages[1].segment_span(seg)], r#""q\u00e9""#);
        assert_eq!(view.messages[3].tool_call_id.as_deref(), Some("c1"));
        assert_eq!(&body[view.object_end..], "}");
    }

    #[test]
    fn strings_that_are_not_unicode_are_segments_marked_undecodable() {
        let body = r#"{"messages":[{"role":"tool","content":"bad \ud800 half"},{"role":"user","content":"ok"}]}"#;
        let view = parse(body).unwrap();
        let bad = &view.messages[0].segments[0];
        assert!(bad.undecodable);
        assert_eq!(&*bad.text, r"bad \ud800 half");
        assert_eq!(
            &body[view.messages[0].segment_span(bad)],
            r#""bad \ud800 half""#
        );
        assert!(!view.messages[1].segments[0].undecodable);
    }

    #[test]
    fn splice_copies_untouched_bytes() {
        let body = r#"{"messages":[{"role":"tool","content":"aaaa"}],  "z" : 1.50 }"#;
        let view = parse(body).unwrap();
        let message = &view.messages[0];
        let out = splice(
            body,
            vec![(message.segment_span(&message.segments[0]), "\"b\"".into())],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"messages":[{"role":"tool","content":"b"}],  "z" : 1.50 }"#
        );
    }

    #[test]
    fn a_message_read_through_the_memo_reads_as_a_fresh_one_at_its_own_place() {
        let tool = r#"{"role":"tool","tool_call_id":"a","content":"line \"one\"\nbad \ud800"}"#;
        let call = r#"{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{\"p\":1}"}}]}"#;
        let body = format!(
            r#"{{"model":"m","messages":[{call},{tool}, {{"role":"user","content":[{{"type":"text","text":"x"}}]}},{call},{tool}]}}"#
        );
        let fresh = read(&parse(&body).unwrap());
        let memo = Memo::new(1 << 20);
        for _ in 0..2 {
            let view = parse_with(&body, Some(&memo)).unwrap();
            assert_eq!(read(&view), fresh);
            for m in &view.messages {
                for s in &m.segments {
                    let literal = &body[m.segment_span(s)];
                    assert!(
                        literal.starts_with('"') && literal.ends_with('"'),
                        "{literal}"
                    );
                }
            }
            assert!(view.messages.iter().all(|m| m.key.is_some()));
            assert_eq!(
                view.messages[0].key, view.messages[3].key,
                "same bytes, one entry"
            );
        }
        assert!(parse_with(r#"{"messages":[1]}"#, Some(&memo)).is_err());
    }

    #[test]
    fn wrong_shapes_are_typed_errors() {
        assert!(matches!(parse("[1]"), Err(Error::InvalidRequest(_))));
        assert!(matches!(
            parse("{\"messages\": 3}"),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            parse("{\"messages\": [1]}"),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            parse("{\"messages\": ["),
            Err(Error::InvalidJson(_))
        ));
        assert!(matches!(parse("{}"), Err(Error::InvalidRequest(_))));
        for not_an_array in ["3", "-1", "1.5e3", "\"x\"", "true", "null", "{\"a\": [1]}"] {
            let body = format!("{{\"messages\": {not_an_array}, \"model\": \"m\"}}");
            assert!(
                matches!(parse(&body), Err(Error::InvalidRequest(_))),
                "{body}"
            );
        }
        let last = parse(r#"{"messages": 3, "messages": [{"role": "user", "content": "hi"}]}"#);
        assert_eq!(
            last.unwrap().messages.len(),
            1,
            "the last `messages` counts"
        );
    }
}
