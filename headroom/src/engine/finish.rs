//! Step 8 and "never worse": the body to send and the report, from the messages' outcomes (within
//! the budget) or a fitted plan (over it); and the pass-through forms (out of time, audit, nothing
//! gained).

use super::context::{Context, ToolOffer};
use super::fit::{run_span, Fitted};
use super::segments::MessageOutcome;
use super::{CompressedJson, Original};
use crate::conversation;
use crate::report::{FitReport, Report, SegmentReport};
use crate::Config;
use std::ops::Range;

/// A request within its budget: its compressed segments, unless that is not smaller (never worse).
pub(super) fn within_budget(
    cx: &Context<'_>,
    outcomes: Vec<MessageOutcome>,
    tool: ToolOffer,
    has_marker: bool,
    report: &mut Report,
) -> CompressedJson {
    let (body, text, config) = (cx.body, cx.text, cx.config);
    let ToolOffer {
        edit: tool,
        tokens: tool_tokens,
    } = tool;
    let tokens_before = report.tokens_before;
    let mut saved = 0;
    let mut edits = Vec::new();
    let mut originals = Vec::new();
    let mut outcomes = outcomes;
    for outcome in &mut outcomes {
        saved += outcome
            .segments
            .iter()
            .map(|s| s.tokens_before - s.tokens_after)
            .sum::<usize>();
        collect(report, outcome, &mut edits, &mut originals);
    }
    report.segments = gather_segments(&mut outcomes);
    let history_needs_tool = tool.is_some() && has_marker;
    let tool = tool.filter(|_| has_marker || !originals.is_empty());
    let tool_tokens = if tool.is_some() { tool_tokens } else { 0 };
    let baseline = tokens_before + if history_needs_tool { tool_tokens } else { 0 };
    let after = tokens_before - saved + tool_tokens;
    // Never worse: nothing beats the request as it came (plus the tool its history needs).
    if saved == 0 || after >= baseline {
        if saved > 0 {
            report.passthrough_reason = Some("compressed form was not smaller".into());
        }
        unchanged(report);
        return match tool.filter(|_| history_needs_tool && !config.audit) {
            Some(edit) => {
                report.tokens_after = tokens_before + tool_tokens;
                report.retrieve_tool_added = true;
                report.finish();
                CompressedJson {
                    body: conversation::splice(text, vec![edit]),
                    report: std::mem::take(report),
                    originals: Vec::new(),
                }
            }
            None => {
                report.tokens_after = tokens_before;
                report.finish();
                passthrough(body, std::mem::take(report), String::new())
            }
        };
    }
    // 8. Report.
    report.tokens_after = after;
    if let Some(edit) = tool {
        report.retrieve_tool_added = true;
        edits.push(edit);
    }
    report.finish();
    if config.audit {
        return passthrough(
            body,
            std::mem::take(report),
            "audit mode: report only".into(),
        );
    }
    CompressedJson {
        body: conversation::splice(text, edits),
        report: std::mem::take(report),
        originals,
    }
}

/// An over-budget request, fitted: kept messages at their levels, evicted runs as marker messages.
/// `Err(tokens)` when the exact count is still over `target`.
pub(super) fn assemble(
    cx: &Context<'_>,
    fitted: Fitted,
    fixed: usize,
    tool: ToolOffer,
    report: &mut Report,
    tokens_before_fit: usize,
    target: usize,
) -> Result<CompressedJson, usize> {
    let (text, request) = (cx.text, cx.request);
    let ToolOffer {
        edit: tool,
        tokens: tool_tokens,
    } = tool;
    let Fitted {
        plan,
        outcomes,
        runs,
    } = fitted;
    let mut evicted = vec![false; outcomes.len()];
    for run in &runs {
        evicted[run.messages.clone()]
            .iter_mut()
            .for_each(|e| *e = true);
    }
    let mut edits = Vec::new();
    let mut originals = Vec::new();
    let mut tokens = fixed + runs.iter().map(|r| r.tokens).sum::<usize>();
    let mut outcomes = outcomes;
    for (i, outcome) in outcomes.iter_mut().enumerate() {
        if evicted[i] {
            for seg in &mut outcome.segments {
                seg.tokens_after = 0;
                seg.hash = None;
                seg.transforms.clear();
                seg.skipped = Some("evicted to fit the token budget".into());
            }
            continue;
        }
        tokens += outcome.tokens_after;
        collect(report, outcome, &mut edits, &mut originals);
    }
    report.segments = gather_segments(&mut outcomes);
    for run in runs.iter() {
        edits.push((run_span(request, run), run.message_json.clone()));
        if !originals
            .iter()
            .any(|o: &Original| o.hash == run.original.hash)
        {
            originals.push(run.original.clone());
        }
        report.ccr_hashes.push(run.original.hash.clone());
    }
    if let Some(edit) = tool.filter(|_| !originals.is_empty() || !runs.is_empty()) {
        tokens += tool_tokens;
        report.retrieve_tool_added = true;
        edits.push(edit);
    }
    report.fit = Some(FitReport {
        target,
        tokens_before_fit,
        harder_messages: plan.levels.iter().filter(|l| **l > 0).count(),
        evictions: runs.iter().map(|r| r.eviction.clone()).collect(),
        last_step_at: plan.last_step,
        newest_harder: plan.newest_harder,
        left_over: None,
    });
    if tokens > target {
        return Err(tokens);
    }
    report.tokens_after = tokens;
    report.finish();
    Ok(CompressedJson {
        body: conversation::splice(text, edits),
        report: std::mem::take(report),
        originals,
    })
}

/// Moves a message's rewrites and originals into the request's, and its transforms into `report`
/// (its segment reports stay for [`gather_segments`]).
fn collect(
    report: &mut Report,
    outcome: &mut MessageOutcome,
    edits: &mut Vec<(Range<usize>, String)>,
    originals: &mut Vec<Original>,
) {
    for seg in &outcome.segments {
        for t in &seg.transforms {
            if !report.transforms_applied.contains(t) {
                report.transforms_applied.push(t.clone());
            }
        }
    }
    for original in outcome.originals.drain(..) {
        if !originals.iter().any(|o| o.hash == original.hash) {
            report.ccr_hashes.push(original.hash.clone());
            originals.push(original);
        }
    }
    edits.append(&mut outcome.edits);
}

/// Every message's segment reports, in message order, built around the largest message's own
/// vector: one message of a million parts holds its reports once, not twice (issue 16's bound).
fn gather_segments(outcomes: &mut [MessageOutcome]) -> Vec<SegmentReport> {
    let Some(largest) = (0..outcomes.len()).max_by_key(|&i| outcomes[i].segments.len()) else {
        return Vec::new();
    };
    let total = outcomes.iter().map(|o| o.segments.len()).sum::<usize>();
    let mut all = std::mem::take(&mut outcomes[largest].segments);
    all.reserve_exact(total - all.len());
    let before: Vec<SegmentReport> = outcomes[..largest]
        .iter_mut()
        .flat_map(|o| std::mem::take(&mut o.segments))
        .collect();
    all.splice(0..0, before);
    for outcome in &mut outcomes[largest + 1..] {
        all.append(&mut outcome.segments);
    }
    all
}

/// The time budget ran out: the whole request goes out as it came.
pub(super) fn out_of_time(body: &[u8], mut report: Report, config: &Config) -> CompressedJson {
    report.tokens_after = report.tokens_before;
    unchanged(&mut report);
    report.finish();
    let reason = format!(
        "time budget of {} ms exhausted: the request is sent as it came",
        config.time_budget.as_millis()
    );
    passthrough(body, report, reason)
}

/// Clears what the report says was rewritten: the request goes out as it came.
fn unchanged(report: &mut Report) {
    for seg in &mut report.segments {
        seg.tokens_after = seg.tokens_before;
        seg.hash = None;
        seg.transforms.clear();
    }
    report.transforms_applied.clear();
    report.ccr_hashes.clear();
}

/// Leaves `body` unchanged, recording why (an empty reason records none).
pub(super) fn passthrough(body: &[u8], mut report: Report, reason: String) -> CompressedJson {
    if !reason.is_empty() {
        report.passthrough_reason = Some(reason);
    }
    if report.tokens_before == 0 && report.tokens_after == 0 {
        report.finish();
    }
    CompressedJson {
        body: body.to_vec(),
        report,
        originals: Vec::new(),
    }
}
