//! Steps 2–5 for every segment: protect, detect, compress against its question, keep the original.

use super::protect::protection;
use super::Original;
use crate::compress::{compressor_for, Compression, SegmentContext};
use crate::conversation::{MessageView, RequestView, Segment, SegmentKind};
use crate::deadline::Deadline;
use crate::detect::{detect_with_hints, Hints};
use crate::marker::{segment_hash, Marker};
use crate::report::{Report, SegmentReport};
use crate::tokens::{
    count_until, TokenCounter, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, TOKENS_PER_REPLY,
};
use crate::Config;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// What the walk over a request's messages found and rewrote.
#[derive(Default)]
pub(super) struct Walk {
    /// Tokens of the messages as they came (overheads included, `tools` not).
    pub tokens_before: usize,
    /// Tokens the rewrites save.
    pub saved: usize,
    /// (span of a JSON string, its replacement literal).
    pub edits: Vec<(Range<usize>, String)>,
    /// Originals of the lossy rewrites, one per hash.
    pub originals: Vec<Original>,
    /// Some message already carries a marker (so the retrieve tool must stay offered).
    pub has_marker: bool,
    /// The time budget ran out: the request must go out as it came.
    pub out_of_time: bool,
    /// Bytes of segment text counted after the time budget ran out.
    pub counted_late: usize,
    /// Segments not even counted (out of time): `tokens_before` leaves them out.
    pub uncounted: usize,
}

/// Why a string with a lone surrogate escape is left alone.
pub(super) const UNDECODABLE: &str =
    "not valid Unicode (a lone surrogate escape such as \\ud800): left as it came";

/// Once out of time, a request is still measured for at most this many more bytes of text (a few
/// milliseconds of counting), so small requests keep a full report and huge ones stop at once.
const COUNT_AFTER_DEADLINE_BYTES: usize = 1 << 20;

/// The tool call a tool message answers: (function name, arguments).
type Call<'a> = (&'a str, &'a str);

/// Walks every message of `request`, filling `report` with one entry per segment.
pub(super) fn walk(
    request_text: &str,
    request: &RequestView,
    config: &Config,
    counter: &Arc<dyn TokenCounter>,
    deadline: Deadline,
    report: &mut Report,
) -> Walk {
    let mut walk = Walk {
        tokens_before: TOKENS_PER_REPLY,
        ..Walk::default()
    };
    let mut last_user_text = String::new();
    let mut calls: HashMap<&str, Call<'_>> = HashMap::new();
    for (index, message) in request.messages.iter().enumerate() {
        walk.tokens_before += fixed_tokens(message, counter.as_ref());
        let role = message.role.as_deref().unwrap_or("");
        let call = message
            .tool_call_id
            .as_deref()
            .and_then(|id| calls.get(id))
            .copied();
        let tool_name = call
            .map(|(name, _)| name)
            .or(message.name.as_deref().filter(|_| role == "function"));
        for segment in &message.segments {
            if segment.undecodable {
                // Its bytes are counted as they stand (the escape), and it goes as it came.
                let tokens = counter.count(&request_text[segment.span.clone()]);
                walk.tokens_before += tokens;
                report.segments.push(SegmentReport {
                    message_index: index,
                    role: role.to_string(),
                    kind: segment.kind.name(),
                    tokens_before: tokens,
                    tokens_after: tokens,
                    skipped: Some(UNDECODABLE.into()),
                    ..SegmentReport::default()
                });
                continue;
            }
            let counted = if walk.out_of_time {
                None
            } else {
                count_until(counter.as_ref(), &segment.text, deadline)
            };
            let tokens = match counted {
                Some(tokens) => tokens,
                None => {
                    // Out of time: still measured while that stays cheap, then no more.
                    walk.out_of_time = true;
                    walk.counted_late += segment.text.len();
                    if walk.counted_late > COUNT_AFTER_DEADLINE_BYTES {
                        walk.uncounted += 1;
                        continue;
                    }
                    counter.count(&segment.text)
                }
            };
            walk.tokens_before += tokens;
            let mut seg_report = SegmentReport {
                message_index: index,
                role: role.to_string(),
                kind: segment.kind.name(),
                tokens_before: tokens,
                tokens_after: tokens,
                ..SegmentReport::default()
            };
            let skip = if Marker::is_in(&segment.text) {
                walk.has_marker = true;
                Some("already compressed".to_string())
            } else if walk.out_of_time {
                Some("time budget exhausted".to_string())
            } else {
                protection(config, role, tool_name, tokens)
            };
            if let Some(reason) = skip {
                seg_report.skipped = Some(reason);
                report.segments.push(seg_report);
                continue;
            }
            let question = question(&last_user_text, call, config);
            let hash = segment_hash(&segment.text);
            let mut ctx = SegmentContext::new(config, counter.clone())
                .with_question(&question)
                .with_hash(&hash);
            ctx.tool_name = tool_name.map(str::to_string);
            ctx.tool_arguments = call.map(|(_, arguments)| arguments.to_string());
            ctx.json_only = segment.kind == SegmentKind::ToolCallArguments;
            ctx.deadline = deadline;
            let content_type = detect_with_hints(
                &segment.text,
                &Hints::default()
                    .with_tool_name(tool_name)
                    .with_tool_arguments(call.map(|(_, arguments)| arguments)),
            );
            seg_report.content_type = content_type.name().to_string();
            let result =
                compressor_for(&content_type).and_then(|c| c.compress(&segment.text, &ctx));
            if deadline.passed() {
                // Whatever the compressor returned may be cut short: none of it is used.
                walk.out_of_time = true;
                seg_report.skipped = Some("time budget exhausted".into());
            } else {
                seg_report.skipped = match result {
                    Some(c) => walk.keep(segment, hash, c, config, report, &mut seg_report),
                    None => Some(format!("nothing to compress in {}", content_type.name())),
                };
            }
            report.segments.push(seg_report);
        }
        match role {
            "user" => {
                last_user_text = message
                    .segments
                    .iter()
                    .map(|s| s.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            "assistant" => {
                for (id, name, arguments) in &message.tool_calls {
                    calls.insert(id, (name, arguments));
                }
            }
            _ => {}
        }
    }
    walk
}

impl Walk {
    /// Keeps a compressor's rewrite when it may and should be used; else says why it was not.
    fn keep(
        &mut self,
        segment: &Segment,
        hash: String,
        c: Compression,
        config: &Config,
        report: &mut Report,
        seg_report: &mut SegmentReport,
    ) -> Option<String> {
        if c.lossy && config.lossless_only {
            return Some("lossy result refused (lossless_only)".into());
        }
        if c.tokens >= seg_report.tokens_before {
            return Some("no smaller form".into());
        }
        self.saved += seg_report.tokens_before - c.tokens;
        seg_report.tokens_after = c.tokens;
        for t in &c.transforms {
            if !report.transforms_applied.contains(t) {
                report.transforms_applied.push(t.clone());
            }
        }
        seg_report.transforms = c.transforms;
        if c.lossy {
            if !self.originals.iter().any(|o| o.hash == hash) {
                self.originals.push(Original {
                    hash: hash.clone(),
                    text: segment.text.clone(),
                });
                report.ccr_hashes.push(hash.clone());
            }
            seg_report.hash = Some(hash);
        }
        self.edits.push((
            segment.span.clone(),
            serde_json::to_string(&c.text).expect("strings serialize"),
        ));
        None
    }
}

/// What a segment is compressed against: the user turn before it, the arguments of the tool call
/// it answers, and the configured extra query — never a later turn (so earlier compressed messages
/// stay byte-identical when the conversation grows).
fn question(last_user_text: &str, call: Option<Call<'_>>, config: &Config) -> String {
    let mut question = last_user_text.to_string();
    if let Some((_, arguments)) = call {
        question.push('\n');
        question.push_str(arguments);
    }
    if let Some(extra) = &config.query {
        question.push('\n');
        question.push_str(extra);
    }
    question
}

/// Tokens of a message outside its segments: overhead, role, name, tool-call names.
fn fixed_tokens(message: &MessageView, counter: &dyn TokenCounter) -> usize {
    let mut tokens = TOKENS_PER_MESSAGE + message.role.as_deref().map_or(0, |r| counter.count(r));
    if let Some(name) = &message.name {
        tokens += TOKENS_PER_NAME + counter.count(name);
    }
    tokens
        + message
            .tool_calls
            .iter()
            .map(|(_, name, _)| counter.count(name))
            .sum::<usize>()
}
