//! One engine run over a raw body: the steps of DESIGN.md in order, and "never worse" at the end.

use super::fit::{fit, run_span, Fitted, LimitsWithoutMarker};
use super::retrieve_tool::{
    added_tokens, definitions_tokens, retrieve_unavailable, tool_edit, tools_have_retrieve,
};
use super::segments::{prepare, Compressing, MessageOutcome};
use super::{CompressOptions, CompressedJson, DEFAULT_MODEL};
use crate::budget::target_tokens;
use crate::conversation::{self, RequestView};
use crate::deadline::Deadline;
use crate::memo::{KeyBuilder, Memo};
use crate::report::{FitReport, LosslessFallback, Report, SegmentReport};
use crate::tokens::{counter_for_model, TokenCounter, TOKENS_PER_REPLY};
use crate::{Config, Error, Result};
use std::ops::Range;

/// Compresses `body` with `config`. A panic (a bug) is caught here, for every door: it is logged at
/// `error` and becomes [`Error::CompressionPanicked`], so the door sends the request as it came.
pub(super) fn run(
    body: &[u8],
    config: &Config,
    memo: &Memo,
    options: &CompressOptions,
) -> Result<CompressedJson> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        steps(body, config, memo, options)
    }))
    .unwrap_or_else(|panic| {
        let error = Error::from_panic(panic.as_ref());
        tracing::error!(target: "headroom", %error, "the request goes out as it came");
        Err(error)
    })
}

#[cfg(test)]
thread_local! {
    /// Makes the next run on this thread panic (the guard's test).
    pub(super) static PANIC_NEXT_RUN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The steps of DESIGN.md on `body`: view, protect, detect, compress, fit, add the retrieve tool,
/// report.
fn steps(
    body: &[u8],
    config: &Config,
    memo: &Memo,
    options: &CompressOptions,
) -> Result<CompressedJson> {
    #[cfg(test)]
    if PANIC_NEXT_RUN.with(|p| p.replace(false)) {
        panic!("injected for a test");
    }
    let deadline = Deadline::after(config.time_budget);
    if body.len() > config.max_body_bytes {
        return Ok(passthrough(
            body,
            Report::default(),
            format!(
                "body of {} bytes exceeds max_body_bytes ({})",
                body.len(),
                config.max_body_bytes
            ),
        ));
    }
    // 1. The request as segments.
    let text = std::str::from_utf8(body).map_err(|e| Error::InvalidUtf8(e.valid_up_to()))?;
    let request = conversation::parse_with(text, Some(memo))?;
    let model = config
        .model
        .clone()
        .or_else(|| request.model.clone())
        .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let counter = counter_for_model(&model);
    let mut report = Report {
        model: model.clone(),
        ..Report::default()
    };
    // Markers only where the model can retrieve: otherwise lossless transforms only (nothing
    // elided, nothing evicted) for the whole run.
    let unavailable = retrieve_unavailable(&request, config).filter(|_| !config.lossless_only);
    let lossless;
    let config = match &unavailable {
        Some(_) => {
            lossless = Config {
                lossless_only: true,
                ..config.clone()
            };
            &lossless
        }
        None => config,
    };
    report.lossless_fallback = unavailable.map(LosslessFallback::RetrieveUnavailable);
    // 2–5. Protect, detect, compress each message; originals of lossy rewrites kept.
    let frozen = options.frozen_message_count;
    let (messages, has_marker) =
        prepare(&request, counter.as_ref(), memo, config, frozen, deadline);
    let compressing = Compressing::new(config, &counter, memo, deadline);
    let outcomes: Vec<MessageOutcome> =
        messages.iter().map(|m| compressing.message(m, 0)).collect();
    let tools_tokens = definitions(memo, &request, &model, counter.as_ref(), &mut report);
    let tokens_before =
        TOKENS_PER_REPLY + tools_tokens + messages.iter().map(|m| m.tokens_before()).sum::<usize>();
    report.tokens_before = tokens_before;
    if outcomes.iter().any(|o| o.out_of_time) || deadline.passed() {
        return Ok(out_of_time(body, report, config));
    }

    // 7. The retrieve tool goes in whenever a marker is in the conversation: markers already in the
    // history need it even when nothing new is compressed.
    let tool_allowed =
        config.retrieve_tool && request.functions.is_none() && !tools_have_retrieve(&request.tools);
    let lossy = outcomes.iter().any(|o| !o.originals.is_empty());
    let tool = if tool_allowed {
        tool_edit(text, &request)
    } else {
        None
    };
    let tool_tokens = match &tool {
        Some(_) => added_tokens(&request, counter.as_ref()),
        None => 0,
    };
    let after =
        TOKENS_PER_REPLY + tools_tokens + outcomes.iter().map(|o| o.tokens_after).sum::<usize>();
    let after = after + if has_marker || lossy { tool_tokens } else { 0 };

    // 6. Fit the budget: only a request over it is touched.
    let budget_config = Config {
        token_budget: options.token_budget.or(config.token_budget),
        ..config.clone()
    };
    let target = target_tokens(&budget_config, &model, request.max_completion_tokens);
    if let Some(target) = target.filter(|t| after > *t) {
        if config.lossless_only && budget_config.token_budget.is_none() {
            // Nothing may be evicted, and no user set this limit: the provider decides.
            let mut out = within_budget(
                body,
                text,
                outcomes,
                tool,
                tool_tokens,
                has_marker,
                &mut report,
                config,
            );
            out.report.fit = Some(FitReport {
                target,
                tokens_before_fit: after,
                left_over: Some(format!(
                    "over the model's window less the completion reserve ({target} tokens); \
                     lossless_only: nothing evicted"
                )),
                ..FitReport::default()
            });
            return Ok(out);
        }
        let limits = LimitsWithoutMarker {
            target,
            low_water: (target as f64 * config.eviction_low_water.clamp(0.0, 1.0)) as usize,
            protect_recent_units: config.protect_recent_units,
            fixed: TOKENS_PER_REPLY + tools_tokens + tool_tokens,
        };
        let fitted = fit(
            text,
            &request,
            &messages,
            outcomes,
            &compressing,
            counter.as_ref(),
            memo,
            limits,
            frozen,
            !config.lossless_only && !config.audit,
        );
        if deadline.passed() {
            return Ok(out_of_time(body, report, config));
        }
        let over = |tokens| Error::OverBudget {
            tokens,
            budget: target,
        };
        return match fitted {
            Ok(fitted) => {
                let fixed = TOKENS_PER_REPLY + tools_tokens;
                let fitted = assemble(
                    text,
                    &request,
                    fitted,
                    fixed,
                    tool,
                    tool_tokens,
                    &mut report,
                    after,
                    target,
                );
                let fitted = fitted.map_err(over)?;
                if config.audit {
                    let reason = "audit mode: report only".into();
                    return Ok(passthrough(body, fitted.report, reason));
                }
                Ok(fitted)
            }
            Err(_) if config.audit => {
                let reason = format!("audit mode: report only ({})", over(after));
                Ok(passthrough(body, report, reason))
            }
            Err(tokens) => Err(over(tokens)),
        };
    }
    Ok(within_budget(
        body,
        text,
        outcomes,
        tool,
        tool_tokens,
        has_marker,
        &mut report,
        config,
    ))
}

/// Tokens of the request's function definitions (through the memo), recorded in the report.
fn definitions(
    memo: &Memo,
    request: &RequestView,
    model: &str,
    counter: &dyn TokenCounter,
    report: &mut Report,
) -> usize {
    let mut key = KeyBuilder::new(b"definitions")
        .part(counter.name().as_bytes())
        .part(model.as_bytes());
    for raw in [
        request.tools.as_ref().map(|(_, raw)| raw),
        request.functions.as_ref(),
    ] {
        key = key.part(raw.map_or(&b""[..], |raw| raw.as_bytes()));
    }
    // The memo keeps one number: the tokens, and in the lowest bit whether they are estimated.
    let packed = memo.tokens(key.finish(), || {
        let counted = definitions_tokens(request, model, counter);
        counted.tokens << 1 | usize::from(counted.estimated)
    });
    report.tools_tokens = packed >> 1;
    report.tools_tokens_estimated = packed & 1 == 1;
    report.tools_tokens
}

/// A request within its budget: its compressed segments, unless that is not smaller (never worse).
#[allow(clippy::too_many_arguments)]
fn within_budget(
    body: &[u8],
    text: &str,
    outcomes: Vec<MessageOutcome>,
    tool: Option<(Range<usize>, String)>,
    tool_tokens: usize,
    has_marker: bool,
    report: &mut Report,
    config: &Config,
) -> CompressedJson {
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
#[allow(clippy::too_many_arguments)]
fn assemble(
    text: &str,
    request: &RequestView,
    fitted: Fitted,
    fixed: usize,
    tool: Option<(Range<usize>, String)>,
    tool_tokens: usize,
    report: &mut Report,
    tokens_before_fit: usize,
    target: usize,
) -> std::result::Result<CompressedJson, usize> {
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
            .any(|o: &super::Original| o.hash == run.original.hash)
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
    originals: &mut Vec<super::Original>,
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
fn out_of_time(body: &[u8], mut report: Report, config: &Config) -> CompressedJson {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_the_steps_is_an_error_not_an_unwind() {
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
        let (memo, options) = (Memo::new(1 << 20), CompressOptions::default());
        PANIC_NEXT_RUN.with(|p| p.set(true));
        let err = run(body, &Config::default(), &memo, &options).unwrap_err();
        assert!(matches!(err, Error::CompressionPanicked(ref m) if m == "injected for a test"));
        assert!(
            run(body, &Config::default(), &memo, &options).is_ok(),
            "the next run is fine"
        );
        // Every public entry point goes through the guard.
        PANIC_NEXT_RUN.with(|p| p.set(true));
        let hr = crate::Headroom::default();
        assert!(matches!(
            hr.compress_json(body),
            Err(Error::CompressionPanicked(_))
        ));
    }
}
