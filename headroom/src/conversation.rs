//! A view of a chat-completions body as segments: the strings we may rewrite, with their byte spans.
//!
//! The walk borrows `RawValue`s from the body, so each segment knows exactly which bytes hold its
//! JSON string; rewriting splices those bytes and copies every other byte untouched.

use crate::memo::{Key, Memo};
use crate::{Error, Result};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// The parts of a request body the engine reads.
pub(crate) struct RequestView {
    pub model: Option<String>,
    pub messages: Vec<MessageView>,
    /// The `tools` value's span and text, when present.
    pub tools: Option<(Range<usize>, String)>,
    /// The legacy `functions` value's text, when present (we then never add tools).
    pub functions: Option<String>,
    /// The `tool_choice` value's text, when present.
    pub tool_choice: Option<String>,
    /// Byte index of the body's closing `}`.
    pub object_end: usize,
    /// The completion the request reserves room for: `max_completion_tokens`, else `max_tokens`.
    pub max_completion_tokens: Option<usize>,
}

/// One message.
#[derive(Clone)]
pub(crate) struct MessageView {
    /// Span of the whole message object in the body.
    pub span: Range<usize>,
    pub role: Option<String>,
    pub name: Option<String>,
    pub tool_call_id: Option<String>,
    /// (id, function name, arguments) of each tool call.
    pub tool_calls: Vec<(String, String, String)>,
    pub segments: Vec<Segment>,
    /// The memo's key of the message's exact bytes, when read through a memo.
    pub key: Option<Key>,
}

/// A string the engine may rewrite.
#[derive(Clone)]
pub(crate) struct Segment {
    pub kind: SegmentKind,
    /// Span of the JSON string literal, quotes included.
    pub span: Range<usize>,
    /// The decoded text (for an undecodable string, the literal as written).
    /// Shared, so a view remembered by the memo and the request's view hold one copy.
    pub text: Arc<str>,
    /// The string holds an escape that is not Unicode (a lone surrogate such as `\ud800`): it
    /// cannot be read as text, so it is left as it came (the report says why).
    pub undecodable: bool,
    /// SHA-256 of `text` (what its markers' hash and the memo's keys are made from).
    pub digest: [u8; 32],
}

/// A segment for the string literal `raw`: decoded, or marked undecodable (its text then the
/// literal as written, escapes and all, so it is still measured).
fn segment(body: &str, kind: SegmentKind, raw: &RawValue) -> Segment {
    let decoded: Option<String> = serde_json::from_str(raw.get()).ok();
    let literal = raw.get();
    let text: Arc<str> = decoded
        .as_deref()
        .unwrap_or(&literal[1..literal.len() - 1])
        .into();
    Segment {
        kind,
        span: span(body, raw),
        undecodable: decoded.is_none(),
        digest: Sha256::digest(text.as_bytes()).into(),
        text,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegmentKind {
    Content,
    ContentPart,
    ToolCallArguments,
}

impl SegmentKind {
    pub fn name(self) -> &'static str {
        match self {
            SegmentKind::Content => "content",
            SegmentKind::ContentPart => "content_part",
            SegmentKind::ToolCallArguments => "tool_call_arguments",
        }
    }
}

type Fields<'a> = HashMap<String, &'a RawValue>;

fn span(body: &str, raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - body.as_ptr() as usize;
    start..start + raw.get().len()
}

fn string(raw: Option<&&RawValue>) -> Option<String> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

fn invalid(msg: String) -> Error {
    Error::InvalidRequest(msg)
}

/// Parses `body` (already UTF-8) into segments.
#[cfg(test)]
pub(crate) fn parse(body: &str) -> Result<RequestView> {
    parse_with(body, None)
}

/// Parses `body` (already UTF-8) into segments; with a memo, a message whose exact bytes were read
/// before is not read again (a re-sent history costs one hash per message).
pub(crate) fn parse_with(body: &str, memo: Option<&Memo>) -> Result<RequestView> {
    let top: Top = serde_json::from_str(body).map_err(|e| {
        if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() {
            invalid("the body must be a JSON object with a `messages` array".into())
        } else {
            Error::InvalidJson(e.to_string())
        }
    })?;
    let object_end = body.trim_end().len() - 1;
    let raw_messages = top
        .messages
        .ok_or_else(|| invalid("missing `messages` (an array of message objects)".into()))?
        .0
        .ok_or_else(|| invalid("`messages` must be an array of message objects".into()))?;
    let top = top.fields;
    let mut messages = Vec::with_capacity(raw_messages.len());
    for (i, raw) in raw_messages.into_iter().enumerate() {
        let not_an_object = || invalid(format!("messages[{i}] must be an object with a `role`"));
        let span = span(body, raw);
        let view = match memo {
            Some(memo) => memo
                .message(raw.get(), || read_message(raw.get()).map(Arc::new))
                .ok_or_else(not_an_object)?
                .rebased(span.start),
            None => read_message(raw.get())
                .ok_or_else(not_an_object)?
                .rebased(span.start),
        };
        messages.push(view);
    }
    let tools = top
        .get("tools")
        .map(|raw| (span(body, raw), raw.get().to_string()));
    Ok(RequestView {
        model: string(top.get("model")),
        messages,
        tools,
        functions: top.get("functions").map(|raw| raw.get().to_string()),
        tool_choice: top.get("tool_choice").map(|raw| raw.get().to_string()),
        object_end,
        max_completion_tokens: ["max_completion_tokens", "max_tokens"]
            .iter()
            .find_map(|k| top.get(*k).and_then(|r| r.get().parse().ok())),
    })
}

/// One message read on its own: its spans count from its first byte.
fn read_message(raw: &str) -> Option<MessageView> {
    let fields: Fields = serde_json::from_str(raw).ok()?;
    Some(message(raw, 0..raw.len(), &fields))
}

impl MessageView {
    /// This view of a message read on its own, moved to where the message starts in the body.
    fn rebased(&self, start: usize) -> MessageView {
        let at = |r: &Range<usize>| r.start + start..r.end + start;
        let mut view = self.clone();
        view.span = at(&view.span);
        for segment in &mut view.segments {
            segment.span = at(&segment.span);
        }
        view
    }

    /// Bytes of text it holds (what the memo weighs it by).
    pub(crate) fn text_bytes(&self) -> usize {
        self.segments.iter().map(|s| s.text.len()).sum::<usize>()
            + self
                .tool_calls
                .iter()
                .map(|(id, name, arguments)| id.len() + name.len() + arguments.len())
                .sum::<usize>()
    }
}

/// The body's top-level object: every field's raw value, and `messages` read as its elements in
/// the same pass (a long session's history is walked once here, not once per level of nesting).
struct Top<'a> {
    fields: Fields<'a>,
    /// The last `messages` field, when there is one.
    messages: Option<Elements<'a>>,
}

impl<'de> serde::Deserialize<'de> for Top<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Top<'de>, A::Error> {
                let mut top = Top {
                    fields: HashMap::new(),
                    messages: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "messages" {
                        top.messages = Some(map.next_value()?);
                    } else {
                        top.fields.insert(key, map.next_value()?);
                    }
                }
                Ok(top)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A value's elements when it is an array (`None` for any other JSON value).
struct Elements<'a>(Option<Vec<&'a RawValue>>);

impl<'de> serde::Deserialize<'de> for Elements<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> serde::de::Visitor<'de> for Any {
            type Value = Elements<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Elements(Some(items)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                use serde::de::IgnoredAny;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Elements(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Elements(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Elements(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Elements(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Elements(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Elements(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Elements(None))
            }
        }
        deserializer.deserialize_any(Any)
    }
}

fn message(body: &str, message_span: Range<usize>, fields: &Fields) -> MessageView {
    let mut segments = Vec::new();
    if let Some(content) = fields.get("content") {
        let text = content.get();
        if text.starts_with('"') {
            segments.push(segment(body, SegmentKind::Content, content));
        } else if text.starts_with('[') {
            // One part at a time: a million parts never hold a million maps at once.
            let mut found = Vec::new();
            let read = serde::Deserializer::deserialize_seq(
                &mut serde_json::Deserializer::from_str(text),
                TextParts {
                    body,
                    segments: &mut found,
                },
            );
            if read.is_ok() {
                segments.append(&mut found);
            }
        }
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
        segments,
        key: None,
    }
}

/// Reads a `content` array part by part, keeping the `text` of each `{"type": "text"}` part.
struct TextParts<'b> {
    body: &'b str,
    segments: &'b mut Vec<Segment>,
}

impl<'de> serde::de::Visitor<'de> for TextParts<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of content parts")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut parts: A) -> Result<(), A::Error> {
        while let Some(part) = parts.next_element::<Fields<'de>>()? {
            let is_text = string(part.get("type")).as_deref() == Some("text");
            if let (true, Some(raw)) = (is_text, part.get("text")) {
                if raw.get().starts_with('"') {
                    self.segments
                        .push(segment(self.body, SegmentKind::ContentPart, raw));
                }
            }
        }
        Ok(())
    }
}

/// Rewrites `body`: each (span, bytes) replaces that span; every other byte is copied.
pub(crate) fn splice(body: &str, mut edits: Vec<(Range<usize>, String)>) -> Vec<u8> {
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    for (range, replacement) in edits {
        out.extend_from_slice(&body.as_bytes()[at..range.start]);
        out.extend_from_slice(replacement.as_bytes());
        at = range.end;
    }
    out.extend_from_slice(&body.as_bytes()[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(&body[seg.span.clone()], r#""q\u00e9""#);
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
        assert_eq!(&body[bad.span.clone()], r#""bad \ud800 half""#);
        assert!(!view.messages[1].segments[0].undecodable);
    }

    #[test]
    fn splice_copies_untouched_bytes() {
        let body = r#"{"messages":[{"role":"tool","content":"aaaa"}],  "z" : 1.50 }"#;
        let view = parse(body).unwrap();
        let seg = &view.messages[0].segments[0];
        let out = splice(body, vec![(seg.span.clone(), "\"b\"".into())]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"messages":[{"role":"tool","content":"b"}],  "z" : 1.50 }"#
        );
    }

    /// What a message reads as, spans and all (a view from the memo must equal a fresh one).
    fn read(view: &RequestView) -> Vec<String> {
        view.messages
            .iter()
            .map(|m| {
                let segments: Vec<_> = m
                    .segments
                    .iter()
                    .map(|s| {
                        (
                            s.kind,
                            s.span.clone(),
                            s.text.clone(),
                            s.undecodable,
                            s.digest,
                        )
                    })
                    .collect();
                format!(
                    "{:?} {:?} {:?} {:?} {:?} {segments:?}",
                    m.span, m.role, m.name, m.tool_call_id, m.tool_calls
                )
            })
            .collect()
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
                    let literal = &body[s.span.clone()];
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
