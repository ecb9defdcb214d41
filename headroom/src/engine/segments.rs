//! Steps 2–5 for every segment: protect, detect, compress against its question, keep the original.
//!
//! [`prepare`] reads each segment once (its digest, its tokens, its question); [`Compressing`]
//! then compresses a message at a level (0 as configured, higher for the budget), with every
//! result and token count served from the memo when it was computed before.

use super::protect::protection;
use super::Original;
use crate::budget::{level_config, LEVELS};
use crate::compress::{compressor_for, SegmentContext};
use crate::conversation::{MessageView, RequestView, Segment, SegmentKind};
use crate::deadline::Deadline;
use crate::detect::{detect_with_hints, Hints};
use crate::marker::{hash_of_digest, Marker};
use crate::memo::{Kept, Key, KeyBuilder, Memo, Remembered};
use crate::report::SegmentReport;
use crate::tokens::{count_until, TokenCounter, TOKENS_PER_MESSAGE, TOKENS_PER_NAME};
use crate::Config;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// The tool call a tool message answers: (function name, arguments).
type Call<'a> = (&'a str, &'a str);

/// What every segment of one message shares: who sent it and what it is compressed against.
struct Asked<'r> {
    message: &'r MessageView,
    role: &'r str,
    tool_name: Option<&'r str>,
    call: Option<Call<'r>>,
    question: String,
}

/// A segment read once: what protects it and what it is compressed against. Small on purpose: a
/// message of fifty thousand content parts has one of these each (issue 16's memory bound).
pub(super) struct Prepared<'r> {
    segment: &'r Segment,
    /// Shared by every segment of the message (a million content parts, one question).
    asked: Arc<Asked<'r>>,
    pub tokens: usize,
    /// Why it stays as it is whatever the level (a marker, a frozen message).
    pinned: Option<&'static str>,
}

impl Prepared<'_> {
    /// The bytes of its text.
    pub(super) fn text_len(&self) -> usize {
        self.segment.text.len()
    }

    /// The hash its markers carry (derived from its digest when needed, not kept per segment).
    fn hash(&self) -> String {
        hash_of_digest(&self.segment.digest)
    }

    /// Its span in the body.
    fn span(&self) -> Range<usize> {
        self.asked.message.segment_span(self.segment)
    }
}

/// A message read once.
pub(super) struct PreparedMessage<'r> {
    pub index: usize,
    /// Tokens outside its segments (overhead, role, name, tool-call names).
    pub fixed: usize,
    pub segments: Vec<Prepared<'r>>,
}

impl PreparedMessage<'_> {
    /// Tokens of the message as it came.
    pub fn tokens_before(&self) -> usize {
        self.fixed + self.segments.iter().map(|s| s.tokens).sum::<usize>()
    }
}

/// Reads every message of `request`: the first `frozen` messages are forwarded as they are.
/// Counting stops with the time budget: a huge segment's count stops within a mebibyte of the
/// deadline, and once out of time a request is still measured for [`COUNT_AFTER_DEADLINE_BYTES`]
/// more, then its segments count as 0 (the request then goes out as it came anyway).
pub(super) fn prepare<'r>(
    request: &'r RequestView,
    counter: &dyn TokenCounter,
    memo: &Memo,
    config: &Config,
    frozen: usize,
    deadline: Deadline,
) -> (Vec<PreparedMessage<'r>>, bool) {
    let mut has_marker = false;
    let mut counted_late = 0usize;
    let mut last_user_text = String::new();
    let mut calls: HashMap<&str, Call<'_>> = HashMap::new();
    let mut messages = Vec::with_capacity(request.messages.len());
    for (index, message) in request.messages.iter().enumerate() {
        let role = message.role.as_deref().unwrap_or("");
        if role == "tool" {
            // A hosted call that carries its own output (a Responses `mcp_call`) answers itself.
            for (id, name, arguments) in &message.tool_calls {
                calls.insert(id, (name, arguments));
            }
        }
        let call = message
            .tool_call_id
            .as_deref()
            .and_then(|id| calls.get(id))
            .copied();
        let tool_name = call
            .map(|(name, _)| name)
            .or(message.name.as_deref().filter(|_| role == "function"));
        let mut segments = Vec::with_capacity(message.segments.len());
        let asked = Arc::new(Asked {
            message,
            role,
            tool_name,
            call,
            question: question(&last_user_text, call, config),
        });
        for segment in &message.segments {
            let (tokens, marked) = facts(memo, counter, segment, deadline, &mut counted_late);
            let pinned = if segment.undecodable {
                Some(UNDECODABLE)
            } else if marked {
                has_marker = true;
                Some(ALREADY_COMPRESSED)
            } else if index < frozen {
                Some("frozen (before frozen_message_count)")
            } else {
                None
            };
            segments.push(Prepared {
                segment,
                asked: asked.clone(),
                tokens,
                pinned,
            });
        }
        messages.push(PreparedMessage {
            index,
            fixed: fixed_tokens(message, counter),
            segments,
        });
        match role {
            "user" => {
                last_user_text = message
                    .segments
                    .iter()
                    .map(|s| &*s.text)
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
    (messages, has_marker)
}

/// A segment's tokens and whether it holds a marker, remembered together by its digest and
/// tokenizer (a re-sent segment is neither counted nor scanned again). Counting stops with the
/// time budget (see [`prepare`]): a count cut short is 0 and never remembered.
fn facts(
    memo: &Memo,
    counter: &dyn TokenCounter,
    segment: &Segment,
    deadline: Deadline,
    counted_late: &mut usize,
) -> (usize, bool) {
    let text = &*segment.text;
    if text.len() <= UNREMEMBERED_FACTS_BYTES {
        // Counting a few hundred bytes costs less than a memo look-up, and a memo entry per tiny
        // content part would outweigh the part itself.
        return (counter.count(text), Marker::is_in(text));
    }
    let key = KeyBuilder::new(b"segment facts")
        .part(&segment.digest)
        .part(counter.name().as_bytes())
        .finish();
    // The memo keeps one number: the tokens, and in the lowest bit whether a marker is in it.
    let pack = |tokens: usize| tokens << 1 | usize::from(Marker::is_in(text));
    let packed = if deadline.passed() {
        *counted_late += text.len();
        if *counted_late <= COUNT_AFTER_DEADLINE_BYTES {
            Some(memo.tokens(key, || pack(counter.count(text))))
        } else {
            None
        }
    } else {
        memo.try_tokens(key, || count_until(counter, text, deadline).map(pack))
    };
    match packed {
        Some(packed) => (packed >> 1, packed & 1 == 1),
        None => (0, Marker::is_in(text)),
    }
}

/// Segments of at most this many bytes are counted and scanned afresh each time, not through the
/// memo (see [`facts`]).
const UNREMEMBERED_FACTS_BYTES: usize = 256;

/// Why a segment that already holds a marker is left as it is.
const ALREADY_COMPRESSED: &str = "already compressed";

/// Once out of time, a request is still measured for at most this many more bytes of text (a few
/// milliseconds of counting), so small requests keep a full report and huge ones stop at once.
const COUNT_AFTER_DEADLINE_BYTES: usize = 1 << 20;

/// Why a string with a lone surrogate escape is left alone.
pub(super) const UNDECODABLE: &str =
    "not valid Unicode (a lone surrogate escape such as \\ud800): left as it came";

/// A message compressed at one level.
#[derive(Debug, Clone, Default)]
pub(super) struct MessageOutcome {
    pub tokens_after: usize,
    /// (span of a JSON string, its replacement literal).
    pub edits: Vec<(Range<usize>, String)>,
    /// Originals of the lossy rewrites.
    pub originals: Vec<Original>,
    pub segments: Vec<SegmentReport>,
    /// The time budget ran out while compressing it: nothing of the request may be used.
    pub out_of_time: bool,
}

/// The settings of one level and its fingerprint (part of every memo key).
struct Level {
    config: Config,
    fingerprint: [u8; 32],
}

/// Compresses prepared messages at any level, through the memo.
pub(super) struct Compressing<'a> {
    levels: Vec<Level>,
    counter: &'a Arc<dyn TokenCounter>,
    memo: &'a Memo,
    deadline: Deadline,
}

/// One segment's result at one level, after the engine's own checks.
struct SegmentOutcome {
    content_type: &'static str,
    /// The rewrite to use, when there is one.
    kept: Option<Arc<Kept>>,
    skipped: Option<Cow<'static, str>>,
}

impl<'a> Compressing<'a> {
    pub(super) fn new(
        config: &Config,
        counter: &'a Arc<dyn TokenCounter>,
        memo: &'a Memo,
        deadline: Deadline,
    ) -> Self {
        let levels = (0..LEVELS)
            .map(|level| {
                let config = level_config(config, level);
                Level {
                    fingerprint: super::fingerprint::fingerprint(&config),
                    config,
                }
            })
            .collect();
        Compressing {
            levels,
            counter,
            memo,
            deadline,
        }
    }

    /// `message` compressed at `level`: each segment gets the smaller of its result at this level
    /// and at the levels below (so a higher level never costs more tokens).
    pub(super) fn message(&self, message: &PreparedMessage<'_>, level: usize) -> MessageOutcome {
        let mut out = MessageOutcome {
            tokens_after: message.fixed,
            segments: Vec::with_capacity(message.segments.len()),
            ..MessageOutcome::default()
        };
        for p in &message.segments {
            let mut report = SegmentReport {
                message_index: message.index,
                role: p.asked.role.to_string(),
                kind: p.segment.kind.name(),
                tokens_before: p.tokens,
                tokens_after: p.tokens,
                ..SegmentReport::default()
            };
            match self.best(p, level) {
                None => {
                    out.out_of_time = true;
                    report.skipped = Some("time budget exhausted".into());
                }
                Some(best) if !out.out_of_time => {
                    report.content_type = best.content_type.to_string();
                    report.skipped = best.skipped;
                    if let Some(kept) = best.kept {
                        let c = &kept.compression;
                        report.tokens_after = c.tokens;
                        report.transforms = c.transforms.clone();
                        if c.lossy {
                            let hash = p.hash();
                            report.hash = Some(hash.clone());
                            if !out.originals.iter().any(|o| o.hash == hash) {
                                out.originals.push(Original {
                                    hash,
                                    text: p.segment.text.to_string(),
                                });
                            }
                        }
                        out.edits.push((p.span(), kept.literal.clone()));
                    }
                }
                Some(_) => {}
            }
            out.tokens_after += report.tokens_after;
            out.segments.push(report);
        }
        out
    }

    /// The tokens of `message` at `level`: what [`Compressing::message`] gives as `tokens_after`,
    /// without writing its edits, originals and reports (the budget's plan prices every message at
    /// several levels and keeps one). Work cut short by the time budget counts as unchanged; the
    /// run then sends the request as it came anyway.
    pub(super) fn tokens(&self, message: &PreparedMessage<'_>, level: usize) -> usize {
        message.fixed
            + message
                .segments
                .iter()
                .map(|p| {
                    self.best(p, level)
                        .and_then(|best| best.kept)
                        .map_or(p.tokens, |kept| kept.compression.tokens)
                })
                .sum::<usize>()
    }

    /// The smallest of a segment's results at `level` and the levels below (the lowest level that
    /// reaches the fewest tokens), or `None` when the time budget ran out.
    fn best(&self, p: &Prepared<'_>, level: usize) -> Option<SegmentOutcome> {
        let mut best: Option<SegmentOutcome> = None;
        for l in 0..=level {
            let outcome = self.segment(p, l);
            if self.deadline.passed() {
                return None;
            }
            let better = match (&best, &outcome.kept) {
                (None, _) => true,
                (Some(b), Some(new)) => b
                    .kept
                    .as_ref()
                    .is_none_or(|old| new.compression.tokens < old.compression.tokens),
                (Some(_), None) => false,
            };
            if better {
                best = Some(outcome);
            }
        }
        best
    }

    /// One segment at one level: protected, or its compressor's result if it may and should be used.
    fn segment(&self, p: &Prepared<'_>, level: usize) -> SegmentOutcome {
        let Level {
            config,
            fingerprint,
        } = &self.levels[level];
        let Asked {
            role, tool_name, ..
        } = *p.asked;
        let skip = p
            .pinned
            .map(Cow::Borrowed)
            .or_else(|| protection(config, role, tool_name, p.tokens));
        if let Some(reason) = skip {
            return SegmentOutcome {
                content_type: "",
                kept: None,
                skipped: Some(reason),
            };
        }
        let (content_type, result) = self.compress(p, config, fingerprint);
        let skipped = match &result {
            None => Some(format!("nothing to compress in {content_type}").into()),
            Some(kept) if kept.compression.lossy && config.lossless_only => {
                Some("lossy result refused (lossless_only)".into())
            }
            Some(kept) if kept.compression.tokens >= p.tokens => Some("no smaller form".into()),
            Some(_) => None,
        };
        SegmentOutcome {
            content_type,
            kept: result.filter(|_| skipped.is_none()),
            skipped,
        }
    }

    /// The compressor's result for a segment, from the memo when it was computed before.
    fn compress(&self, p: &Prepared<'_>, config: &Config, fingerprint: &[u8; 32]) -> Remembered {
        let json_only = p.segment.kind == SegmentKind::ToolCallArguments;
        let key = self.key(p, fingerprint, json_only);
        if let Some(hit) = self.memo.compression(key) {
            return hit;
        }
        let asked = &*p.asked;
        let mut ctx = SegmentContext::new(config, self.counter.clone())
            .with_question(&asked.question)
            .with_hash(&p.hash());
        ctx.tool_name = asked.tool_name.map(str::to_string);
        ctx.tool_arguments = asked.call.map(|(_, arguments)| arguments.to_string());
        ctx.json_only = json_only;
        ctx.deadline = self.deadline;
        let content_type = detect_with_hints(
            &p.segment.text,
            &Hints::default()
                .with_tool_name(asked.tool_name)
                .with_tool_arguments(asked.call.map(|(_, arguments)| arguments)),
        );
        let result = compressor_for(&content_type)
            .and_then(|c| c.compress(&p.segment.text, &ctx))
            .map(|c| Arc::new(Kept::new(c)));
        let remembered = (content_type.name(), result);
        if !self.deadline.passed() {
            // Work cut short by the deadline is never remembered.
            self.memo.remember(key, remembered.clone());
        }
        remembered
    }

    /// Everything a segment's result depends on: its text, the settings, the question, the
    /// tokenizer, the hash its markers carry (derived from the text), the tool call, the output kind.
    fn key(&self, p: &Prepared<'_>, fingerprint: &[u8; 32], json_only: bool) -> Key {
        let asked = &*p.asked;
        let (name, arguments) = asked.call.unwrap_or(("", ""));
        KeyBuilder::new(b"segment")
            .part(&p.segment.digest)
            .part(fingerprint)
            .part(asked.question.as_bytes())
            .part(self.counter.name().as_bytes())
            .part(asked.tool_name.unwrap_or(name).as_bytes())
            .part(arguments.as_bytes())
            .part(&[u8::from(json_only)])
            .finish()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::LEVELS;
    use crate::conversation::parse;
    use crate::tokens::counter_for_model;

    /// A request whose tool results are the crate's real fixtures, one per compressor, each answering
    /// its own call, and a marker already in the history.
    fn fixture_request() -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut messages =
            vec![serde_json::json!({"role": "system", "content": "You are an agent."})];
        // The first file (by name) of each kind of fixture, and the GitHub listing.
        let mut files = vec!["github-issues.json".to_string()];
        for kind in ["code", "diff", "json", "logs", "prose", "search"] {
            let mut names: Vec<String> = std::fs::read_dir(format!("{dir}/{kind}"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains('.'))
                .collect();
            names.sort();
            files.push(format!("{kind}/{}", names[0]));
        }
        for (i, file) in files.iter().enumerate() {
            let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            messages.push(
                serde_json::json!({"role": "user", "content": format!("What is in {file}?")}),
            );
            messages.push(serde_json::json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": format!("c{i}"), "type": "function",
                 "function": {"name": "read_file", "arguments": format!("{{\"path\":\"{file}\"}}")}}]}));
            messages.push(serde_json::json!({"role": "tool", "tool_call_id": format!("c{i}"), "content": text}));
        }
        let marker = Marker::new(3, None, "lines", &crate::marker::segment_hash("x")).to_text();
        messages.push(
            serde_json::json!({"role": "assistant", "content": format!("Earlier: {marker}")}),
        );
        serde_json::json!({"model": "gpt-4o", "messages": messages}).to_string()
    }

    /// The budget plans with [`Compressing::tokens`] and keeps [`Compressing::message`]: at every
    /// level, with the memo cold and warm, they must agree, or the plan is priced on other bytes
    /// than those sent.
    #[test]
    fn tokens_equal_the_tokens_of_the_message_at_every_level() {
        let body = fixture_request();
        let request = parse(&body).unwrap();
        let counter = counter_for_model("gpt-4o");
        let config = Config::default();
        for memo in [Memo::new(64 << 20), Memo::disabled()] {
            for pass in ["cold", "warm"] {
                let (messages, _) = prepare(
                    &request,
                    counter.as_ref(),
                    &memo,
                    &config,
                    0,
                    Deadline::none(),
                );
                let compressing = Compressing::new(&config, &counter, &memo, Deadline::none());
                let mut harder = 0;
                for m in &messages {
                    for level in 0..LEVELS {
                        let outcome = compressing.message(m, level);
                        assert_eq!(
                            compressing.tokens(m, level),
                            outcome.tokens_after,
                            "message {} at level {level} ({pass})",
                            m.index
                        );
                        if level > 0 && outcome.tokens_after < compressing.tokens(m, 0) {
                            harder += 1;
                        }
                    }
                }
                assert!(
                    harder > 0,
                    "the higher levels must compress some result harder"
                );
            }
        }
    }

    /// A segment's remembered facts are its exact count and whether it holds a marker.
    #[test]
    fn remembered_counts_and_markers_equal_exact_ones() {
        let body = fixture_request();
        let request = parse(&body).unwrap();
        let counter = counter_for_model("gpt-4o");
        let memo = Memo::new(64 << 20);
        let config = Config::default();
        for _ in 0..2 {
            let (messages, has_marker) = prepare(
                &request,
                counter.as_ref(),
                &memo,
                &config,
                0,
                Deadline::none(),
            );
            assert!(has_marker, "the last message holds a marker");
            for (m, view) in messages.iter().zip(&request.messages) {
                for (p, segment) in m.segments.iter().zip(&view.segments) {
                    assert_eq!(
                        p.tokens,
                        counter.count(&segment.text),
                        "message {}",
                        m.index
                    );
                    assert_eq!(
                        p.pinned == Some(ALREADY_COMPRESSED),
                        Marker::is_in(&segment.text)
                    );
                }
            }
        }
    }
}
