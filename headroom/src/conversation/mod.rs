//! A view of a request body as segments: the strings we may rewrite, with their byte spans.
//!
//! Two request shapes, one view: a chat-completions body ([`chat`]: `messages`) and a Responses
//! body ([`responses`]: `instructions` and `input` items). Both become the same messages and
//! segments, so every later step of the engine is one code path.
//!
//! The walk borrows `RawValue`s from the body, so each segment knows exactly which bytes hold its
//! JSON string; rewriting splices those bytes and copies every other byte untouched.

mod chat;
mod message;
mod responses;

use crate::memo::Memo;
use crate::{Error, Result};
use message::{segment, span};
pub(crate) use message::{MessageView, Segment, SegmentKind};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// The API a request body is written for.
///
/// ```
/// use headroom::Protocol;
/// assert_eq!(Protocol::from_path("/v1/responses"), Some(Protocol::Responses));
/// assert_eq!(Protocol::from_path("/openai/v1/chat/completions"), Some(Protocol::ChatCompletions));
/// assert_eq!(Protocol::from_path("/v1/embeddings"), None);
/// assert_eq!(Protocol::of_body(br#"{"model":"gpt-4o","input":"hi"}"#), Some(Protocol::Responses));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `POST /v1/chat/completions`: a `messages` array.
    ChatCompletions,
    /// `POST /v1/responses`: `input` (a string or a list of items) and `instructions`.
    Responses,
}

impl Protocol {
    /// The protocol of a request path: one ending in `/chat/completions` or `/responses` (a
    /// `POST` creating a completion or a response); `None` for every other path.
    pub fn from_path(path: &str) -> Option<Protocol> {
        if path.ends_with("/chat/completions") {
            Some(Protocol::ChatCompletions)
        } else if path.ends_with("/responses") {
            Some(Protocol::Responses)
        } else {
            None
        }
    }

    /// The protocol a body's shape says: `messages` makes it chat completions, `input` without
    /// `messages` a Responses request. `None` for a body that is neither (or not a JSON object).
    pub fn of_body(body: &[u8]) -> Option<Protocol> {
        let top: HashMap<&str, serde::de::IgnoredAny> = serde_json::from_slice(body).ok()?;
        shape(&top)
    }
}

/// The protocol of a body's top-level keys.
fn shape<K, V>(top: &HashMap<K, V>) -> Option<Protocol>
where
    K: std::borrow::Borrow<str> + std::hash::Hash + Eq,
{
    if top.contains_key("messages") {
        Some(Protocol::ChatCompletions)
    } else if top.contains_key("input") {
        Some(Protocol::Responses)
    } else {
        None
    }
}

/// The parts of a request body the engine reads.
pub(crate) struct RequestView {
    /// The shape the body is written in (it decides the retrieve tool's shape).
    pub protocol: Protocol,
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
    /// The completion the request reserves room for: `max_completion_tokens`, else `max_tokens`
    /// (Responses: `max_output_tokens`).
    pub max_completion_tokens: Option<usize>,
}

pub(super) type Fields<'a> = HashMap<String, &'a RawValue>;

pub(super) fn string(raw: Option<&&RawValue>) -> Option<String> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

pub(super) fn invalid(msg: String) -> Error {
    Error::InvalidRequest(msg)
}

/// Reads a `content` array part by part, keeping the `text` of each part of one of `types`.
pub(super) struct TextParts<'b> {
    pub body: &'b str,
    pub segments: &'b mut Vec<Segment>,
    /// The part types whose `text` is a segment.
    pub types: &'b [&'b str],
}

impl<'de> serde::de::Visitor<'de> for TextParts<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of content parts")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut parts: A) -> Result<(), A::Error> {
        while let Some(part) = parts.next_element::<Fields<'de>>()? {
            let is_text =
                string(part.get("type")).is_some_and(|t| self.types.contains(&t.as_str()));
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

/// The view of the message (or Responses item) `raw`, borrowed from `body`: read on its own by
/// `read` (spans from its first byte) or, with a memo, taken from it when its exact bytes were read
/// before under `kind`; then moved to where it starts in `body`. `None`: `raw` is not one.
pub(super) fn read_through(
    memo: Option<&Memo>,
    kind: &[u8],
    body: &str,
    raw: &RawValue,
    read: fn(&str) -> Option<MessageView>,
) -> Option<MessageView> {
    let start = span(body, raw).start;
    Some(match memo {
        Some(memo) => memo
            .message(kind, raw.get(), || read(raw.get()).map(Arc::new))?
            .rebased(start),
        None => read(raw.get())?.rebased(start),
    })
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

/// What each message of a view reads as, spans and all (a view from the memo must equal a fresh one).
#[cfg(test)]
pub(super) fn described(view: &RequestView) -> Vec<String> {
    view.messages
        .iter()
        .map(|m| {
            let segments: Vec<_> = m
                .segments
                .iter()
                .map(|s| {
                    (
                        s.kind,
                        m.segment_span(s),
                        s.text.clone(),
                        s.undecodable,
                        s.digest,
                    )
                })
                .collect();
            format!(
                "{:?} {:?} {:?} {:?} {:?} {} {segments:?}",
                m.span, m.role, m.name, m.tool_call_id, m.tool_calls, m.call_item
            )
        })
        .collect()
}

/// Parses `body` (already UTF-8) into segments, in the shape its keys say (see [`Protocol::of_body`]).
#[cfg(test)]
pub(crate) fn parse(body: &str) -> Result<RequestView> {
    parse_with(body, None)
}

/// Parses `body` (already UTF-8) into segments, in the shape its keys say (see
/// [`Protocol::of_body`]); with a memo, a chat message or Responses input item whose exact bytes
/// were read before is not read again (a re-sent history costs one hash per message).
pub(crate) fn parse_with(body: &str, memo: Option<&Memo>) -> Result<RequestView> {
    let top: Top = serde_json::from_str(body).map_err(|e| {
        if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() {
            invalid("the body must be a JSON object with a `messages` array".into())
        } else {
            Error::InvalidJson(e)
        }
    })?;
    match top.messages {
        Some(messages) => chat::parse(body, &top.fields, messages, memo),
        None if shape(&top.fields) == Some(Protocol::Responses) => {
            responses::parse(body, &top.fields, memo)
        }
        None => Err(invalid(
            "missing `messages` (an array of message objects)".into(),
        )),
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
pub(super) struct Elements<'a>(pub Option<Vec<&'a RawValue>>);

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

/// Byte index of the closing `}` of the object `body`.
pub(super) fn object_end(body: &str) -> usize {
    body.trim_end().len() - 1
}

/// `max_completion_tokens`-like field: the first of `keys` that holds a count.
pub(super) fn reserve(top: &Fields, keys: &[&str]) -> Option<usize> {
    keys.iter()
        .find_map(|k| top.get(*k).and_then(|r| r.get().parse().ok()))
}

/// The segments of a `content`-like value: a string is one segment of `kind` `Content`; an array
/// gives the `text` of each part whose type is one of `types`. Anything else gives none.
pub(super) fn content_segments(
    body: &str,
    content: &RawValue,
    types: &[&str],
    segments: &mut Vec<Segment>,
) {
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
                types,
            },
        );
        if read.is_ok() {
            segments.append(&mut found);
        }
    }
}
