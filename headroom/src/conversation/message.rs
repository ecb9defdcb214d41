//! What the engine reads of one message: its segments (the strings it may rewrite, with their
//! byte spans, text and digest) and the fields that pair tool calls with their results. A leaf of
//! its own, so the memo can hold views without depending on the parsers that fill it.

use crate::memo::Key;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;

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
    pub segments: Segments,
    /// Where in the body its segments' spans count from (see [`MessageView::segment_span`]).
    pub base: usize,
    /// The memo's key of the message's exact bytes, when read through a memo.
    pub key: Option<Key>,
    /// A Responses call or `reasoning` item read on its own: it joins the run of such items around
    /// it, which is one `assistant` message (never set on a whole message).
    pub call_item: bool,
}

impl MessageView {
    /// A message at `span` with nothing read yet.
    pub(crate) fn empty(span: Range<usize>) -> MessageView {
        MessageView {
            span,
            role: None,
            name: None,
            tool_call_id: None,
            tool_calls: Vec::new(),
            segments: Segments::default(),
            base: 0,
            key: None,
            call_item: false,
        }
    }

    /// This view of a message read on its own, moved to where the message starts in the body. Its
    /// segments are shared, not copied: their spans count from [`MessageView::base`].
    pub(crate) fn rebased(&self, start: usize) -> MessageView {
        let mut view = self.clone();
        view.span = view.span.start + start..view.span.end + start;
        view.base = self.base + start;
        view
    }

    /// The span of `segment` (one of this message's) in the body.
    pub(crate) fn segment_span(&self, segment: &Segment) -> Range<usize> {
        segment.span.start + self.base..segment.span.end + self.base
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

/// A message's segments, shared by the memo's view and every request holding the message, so a
/// re-sent message of fifty thousand content parts is not copied. Written only while the message is
/// read (a view being built is not shared yet, so writing never copies).
#[derive(Clone, Default)]
pub(crate) struct Segments(Arc<Vec<Segment>>);

impl std::ops::Deref for Segments {
    type Target = Vec<Segment>;
    fn deref(&self) -> &Vec<Segment> {
        &self.0
    }
}

impl std::ops::DerefMut for Segments {
    fn deref_mut(&mut self) -> &mut Vec<Segment> {
        Arc::make_mut(&mut self.0)
    }
}

impl<'a> IntoIterator for &'a Segments {
    type Item = &'a Segment;
    type IntoIter = std::slice::Iter<'a, Segment>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<Vec<Segment>> for Segments {
    fn from(segments: Vec<Segment>) -> Segments {
        Segments(Arc::new(segments))
    }
}

/// A string the engine may rewrite.
#[derive(Clone)]
pub(crate) struct Segment {
    pub kind: SegmentKind,
    /// Span of the JSON string literal, quotes included, from its message's
    /// [`MessageView::base`] (use [`MessageView::segment_span`] for the span in the body).
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
pub(crate) fn segment(body: &str, kind: SegmentKind, raw: &RawValue) -> Segment {
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

/// The span of `raw` (borrowed from `body`) in `body`.
pub(crate) fn span(body: &str, raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - body.as_ptr() as usize;
    start..start + raw.get().len()
}
