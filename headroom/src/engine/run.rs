//! One engine run over a raw body: the steps of DESIGN.md in order, and "never worse" at the end.

use super::retrieve_tool::{
    added_tokens, definitions_tokens, retrieve_unavailable, tool_edit, tools_have_retrieve,
};
use super::segments::walk;
use super::{CompressedJson, DEFAULT_MODEL};
use crate::conversation;
use crate::deadline::Deadline;
use crate::report::{LosslessFallback, Report};
use crate::tokens::counter_for_model;
use crate::{Config, Error, Result};

/// Compresses `body` with `config`. A panic (a bug) is caught here, for every door: it is logged at
/// `error` and becomes [`Error::CompressionPanicked`], so the door sends the request as it came.
pub(super) fn run(body: &[u8], config: &Config) -> Result<CompressedJson> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| steps(body, config))).unwrap_or_else(
        |panic| {
            let error = Error::from_panic(panic.as_ref());
            tracing::error!(target: "headroom", %error, "the request goes out as it came");
            Err(error)
        },
    )
}

#[cfg(test)]
thread_local! {
    /// Makes the next run on this thread panic (the guard's test).
    pub(super) static PANIC_NEXT_RUN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The steps of DESIGN.md on `body`: view, protect, detect, compress, add the retrieve tool, report.
fn steps(body: &[u8], config: &Config) -> Result<CompressedJson> {
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
    let request = conversation::parse(text)?;
    let model = config
        .model
        .clone()
        .or_else(|| request.model.clone())
        .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let counter = counter_for_model(&model);
    let mut report = Report {
        model,
        ..Report::default()
    };
    // Markers only where the model can retrieve: otherwise lossless transforms only.
    let unavailable = retrieve_unavailable(&request, config).filter(|_| !config.lossless_only);
    let lossless;
    let walk_config = match &unavailable {
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
    // 2–5. Protect, detect, compress each segment; originals of lossy rewrites kept.
    let walk = walk(&request, walk_config, &counter, deadline, &mut report);
    let definitions = definitions_tokens(&request, &report.model, counter.as_ref());
    report.tools_tokens = definitions.tokens;
    report.tools_tokens_estimated = definitions.estimated;
    let tokens_before = walk.tokens_before + definitions.tokens;
    report.tokens_before = tokens_before;
    if walk.out_of_time {
        report.tokens_after = tokens_before;
        unchanged(&mut report);
        report.finish();
        let reason = format!(
            "time budget of {} ms exhausted: the request is sent as it came",
            config.time_budget.as_millis()
        );
        return Ok(passthrough(body, report, reason));
    }

    // 7. The retrieve tool goes in whenever a marker is in the conversation: markers already in the
    // history need it even when nothing new is compressed.
    let tool_allowed =
        config.retrieve_tool && request.functions.is_none() && !tools_have_retrieve(&request.tools);
    let history_needs_tool = tool_allowed && walk.has_marker;
    let tool = if tool_allowed && (walk.has_marker || !walk.originals.is_empty()) {
        tool_edit(text, &request)
    } else {
        None
    };
    let tool_tokens = match &tool {
        Some(_) => added_tokens(&request, &report.model, counter.as_ref()),
        None => 0,
    };
    let baseline = tokens_before + if history_needs_tool { tool_tokens } else { 0 };
    let after = tokens_before - walk.saved + tool_tokens;

    // Never worse: nothing beats the request as it came (plus the tool its history needs).
    if walk.saved == 0 || after >= baseline {
        if walk.saved > 0 {
            report.passthrough_reason = Some("compressed form was not smaller".into());
        }
        unchanged(&mut report);
        return Ok(match tool.filter(|_| history_needs_tool && !config.audit) {
            Some(edit) => {
                report.tokens_after = tokens_before + tool_tokens;
                report.retrieve_tool_added = true;
                report.finish();
                CompressedJson {
                    body: conversation::splice(text, vec![edit]),
                    report,
                    originals: Vec::new(),
                }
            }
            None => {
                report.tokens_after = tokens_before;
                report.finish();
                passthrough(body, report, String::new())
            }
        });
    }
    // 8. Report.
    report.tokens_after = after;
    let mut edits = walk.edits;
    if let Some(edit) = tool {
        report.retrieve_tool_added = true;
        edits.push(edit);
    }
    report.finish();
    if config.audit {
        return Ok(passthrough(body, report, "audit mode: report only".into()));
    }
    Ok(CompressedJson {
        body: conversation::splice(text, edits),
        report,
        originals: walk.originals,
    })
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
        PANIC_NEXT_RUN.with(|p| p.set(true));
        let err = run(body, &Config::default()).unwrap_err();
        assert!(matches!(err, Error::CompressionPanicked(ref m) if m == "injected for a test"));
        assert!(
            run(body, &Config::default()).is_ok(),
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
