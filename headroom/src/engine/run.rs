//! One engine run over a raw body: the steps of DESIGN.md in order, and "never worse" at the end.

use super::retrieve_tool::{tool_edit, tools_have_retrieve};
use super::segments::walk;
use super::{CompressedJson, DEFAULT_MODEL};
use crate::conversation;
use crate::deadline::Deadline;
use crate::report::Report;
use crate::tokens::counter_for_model;
use crate::{Config, Error, Result};

/// Compresses `body` with `config`: view, protect, detect, compress, add the retrieve tool, report.
pub(super) fn run(body: &[u8], config: &Config) -> Result<CompressedJson> {
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
    // 2–5. Protect, detect, compress each segment; originals of lossy rewrites kept.
    let walk = walk(text, &request, config, &counter, deadline, &mut report);
    let mut tokens_before = walk.tokens_before;
    if let Some((_, tools)) = &request.tools {
        tokens_before += counter.count(tools);
    }
    report.tokens_before = tokens_before;
    if walk.out_of_time {
        report.tokens_after = tokens_before;
        unchanged(&mut report);
        report.finish();
        let mut reason = format!(
            "time budget of {} ms exhausted: the request is sent as it came",
            config.time_budget.as_millis()
        );
        if walk.uncounted > 0 {
            reason.push_str(&format!(
                " ({} segments not counted in tokens_before)",
                walk.uncounted
            ));
        }
        return Ok(passthrough(body, report, reason));
    }

    // 7. The retrieve tool goes in whenever a marker is in the conversation: markers already in the
    // history need it even when nothing new is compressed.
    let tool_allowed = config.retrieve_tool
        && !request.has_legacy_functions
        && !tools_have_retrieve(&request.tools);
    let history_needs_tool = tool_allowed && walk.has_marker;
    let tool = if tool_allowed && (walk.has_marker || !walk.originals.is_empty()) {
        tool_edit(text, &request)
    } else {
        None
    };
    let tool_tokens = tool.as_ref().map_or(0, |(_, def)| counter.count(def));
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
