//! One engine run over a raw body: the steps of DESIGN.md in order, each a function of its own
//! (view, protect/detect/compress, add the retrieve tool, fit), then the report and "never worse"
//! ([`super::finish`]).

use super::context::{Context, ToolOffer};
use super::finish::{assemble, out_of_time, passthrough, within_budget};
use super::fit::{fit, LimitsWithoutMarker};
use super::retrieve_tool::{
    added_tokens, definitions_tokens, retrieve_unavailable, tool_edit, tools_have_retrieve,
};
use super::segments::{prepare, Compressing, MessageOutcome, PreparedMessage};
use super::{CompressOptions, CompressedJson, DEFAULT_MODEL};
use crate::budget::target_tokens;
use crate::conversation::{self, RequestView};
use crate::deadline::Deadline;
use crate::memo::{KeyBuilder, Memo};
use crate::report::{FitReport, LosslessFallback, Report};
use crate::tokens::{counter_for_model, TOKENS_PER_REPLY};
use crate::{Config, Error, Result};
use std::borrow::Cow;

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

/// The messages after steps 2–5, at level 0.
struct Messages<'r> {
    prepared: Vec<PreparedMessage<'r>>,
    outcomes: Vec<MessageOutcome>,
    /// A marker is in the conversation already.
    has_marker: bool,
    /// Tokens of the request's function definitions.
    tools_tokens: usize,
}

impl Messages<'_> {
    /// Tokens of the request with these outcomes, the tool included when a marker needs it.
    fn tokens_after(&self, tool: &ToolOffer) -> usize {
        let lossy = self.outcomes.iter().any(|o| !o.originals.is_empty());
        let messages = self.outcomes.iter().map(|o| o.tokens_after).sum::<usize>();
        let tool = if self.has_marker || lossy {
            tool.tokens
        } else {
            0
        };
        TOKENS_PER_REPLY + self.tools_tokens + messages + tool
    }
}

/// The steps of DESIGN.md on `body`: view, protect, detect, compress, add the retrieve tool, fit,
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
        let reason = format!(
            "body of {} bytes exceeds max_body_bytes ({})",
            body.len(),
            config.max_body_bytes
        );
        return Ok(passthrough(body, Report::default(), reason));
    }
    // 1. The request as segments, and the settings its tools allow.
    let (text, request) = view(body, memo)?;
    let model = model_of(config, &request);
    let counter = counter_for_model(&model);
    let mut report = Report {
        model: model.clone(),
        ..Report::default()
    };
    let config = settings(config, &request, &mut report);
    let cx = Context {
        body,
        text,
        request: &request,
        model: &model,
        counter: &counter,
        config: &config,
        memo,
        deadline,
        options,
    };
    // 2–5. Protect, detect, compress each message; originals of lossy rewrites kept.
    let compressing = Compressing::new(cx.config, &counter, memo, deadline);
    let messages = compress_messages(&cx, &compressing, &mut report);
    if messages.outcomes.iter().any(|o| o.out_of_time) || deadline.passed() {
        return Ok(out_of_time(body, report, cx.config));
    }
    // 7. The retrieve tool goes in whenever a marker is in the conversation: markers already in the
    // history need it even when nothing new is compressed.
    let tool = offer_tool(&cx);
    let after = messages.tokens_after(&tool);
    // 6. Fit the budget: only a request over it is touched.
    let (target, explicit) = budget(&cx);
    match target.filter(|t| after > *t) {
        Some(target) => {
            let over = Over {
                after,
                target,
                explicit,
            };
            fit_budget(&cx, messages, &compressing, tool, report, over)
        }
        None => Ok(within_budget(
            &cx,
            messages.outcomes,
            tool,
            messages.has_marker,
            &mut report,
        )),
    }
}

/// Step 1: the body as text and the request as segments.
fn view<'b>(body: &'b [u8], memo: &Memo) -> Result<(&'b str, RequestView)> {
    let text = std::str::from_utf8(body).map_err(|e| Error::InvalidUtf8(e.valid_up_to()))?;
    Ok((text, conversation::parse_with(text, Some(memo))?))
}

/// The model the run counts for: the config's, else the request's, else [`DEFAULT_MODEL`].
fn model_of(config: &Config, request: &RequestView) -> String {
    config
        .model
        .clone()
        .or_else(|| request.model.clone())
        .unwrap_or_else(|| DEFAULT_MODEL.to_string())
}

/// Markers only where the model can retrieve: otherwise lossless transforms only (nothing
/// elided, nothing evicted) for the whole run, and the report says why.
fn settings<'c>(config: &'c Config, request: &RequestView, report: &mut Report) -> Cow<'c, Config> {
    let unavailable = retrieve_unavailable(request, config).filter(|_| !config.lossless_only);
    let settings = match &unavailable {
        Some(_) => Cow::Owned(Config {
            lossless_only: true,
            ..config.clone()
        }),
        None => Cow::Borrowed(config),
    };
    report.lossless_fallback = unavailable.map(LosslessFallback::RetrieveUnavailable);
    settings
}

/// Steps 2–5: protect, detect and compress each message at level 0, and count the request as it
/// came (`report.tokens_before`).
fn compress_messages<'r>(
    cx: &Context<'r>,
    compressing: &Compressing<'_>,
    report: &mut Report,
) -> Messages<'r> {
    let frozen = cx.options.frozen_message_count;
    let (prepared, has_marker) = prepare(
        cx.request,
        cx.counter.as_ref(),
        cx.memo,
        cx.config,
        frozen,
        cx.deadline,
    );
    let outcomes: Vec<MessageOutcome> =
        super::parallel::outcomes(compressing, &prepared, cx.config.parallel_messages);
    let tools_tokens = definitions(cx, report);
    report.tokens_before =
        TOKENS_PER_REPLY + tools_tokens + prepared.iter().map(|m| m.tokens_before()).sum::<usize>();
    Messages {
        prepared,
        outcomes,
        has_marker,
        tools_tokens,
    }
}

/// Tokens of the request's function definitions (through the memo), recorded in the report.
fn definitions(cx: &Context<'_>, report: &mut Report) -> usize {
    let (request, counter) = (cx.request, cx.counter.as_ref());
    let mut key = KeyBuilder::new(b"definitions")
        .part(counter.name().as_bytes())
        .part(cx.model.as_bytes());
    for raw in [
        request.tools.as_ref().map(|(_, raw)| raw),
        request.functions.as_ref(),
    ] {
        key = key.part(raw.map_or(&b""[..], |raw| raw.as_bytes()));
    }
    // The memo keeps one number: the tokens, and in the lowest bit whether they are estimated.
    let packed = cx.memo.tokens(key.finish(), || {
        let counted = definitions_tokens(request, cx.model, counter);
        counted.tokens << 1 | usize::from(counted.estimated)
    });
    report.tools_tokens = packed >> 1;
    report.tools_tokens_estimated = packed & 1 == 1;
    report.tools_tokens
}

/// Step 7: the retrieve tool this request may get (not when it has legacy `functions` or offers
/// the tool already).
fn offer_tool(cx: &Context<'_>) -> ToolOffer {
    let request = cx.request;
    let allowed = cx.config.retrieve_tool
        && request.functions.is_none()
        && !tools_have_retrieve(&request.tools);
    let edit = if allowed {
        tool_edit(cx.text, request)
    } else {
        None
    };
    let tokens = match &edit {
        Some(_) => added_tokens(request, cx.counter.as_ref()),
        None => 0,
    };
    ToolOffer { edit, tokens }
}

/// The most tokens the request may have (the per-request budget, the config's, or the model's
/// window less the completion reserve), and whether a user set it.
fn budget(cx: &Context<'_>) -> (Option<usize>, bool) {
    let config = Config {
        token_budget: cx.options.token_budget.or(cx.config.token_budget),
        ..cx.config.clone()
    };
    let target = target_tokens(&config, cx.model, cx.request.max_completion_tokens);
    (target, config.token_budget.is_some())
}

/// A request over its budget: its tokens, the budget, and whether a user set the budget.
struct Over {
    after: usize,
    target: usize,
    explicit: bool,
}

/// Step 6: fits a request over its budget (harder compression, then eviction), or refuses it
/// with [`Error::OverBudget`].
fn fit_budget(
    cx: &Context<'_>,
    messages: Messages<'_>,
    compressing: &Compressing<'_>,
    tool: ToolOffer,
    mut report: Report,
    over: Over,
) -> Result<CompressedJson> {
    let config = cx.config;
    let Over {
        after,
        target,
        explicit,
    } = over;
    if config.lossless_only && !explicit {
        // Nothing may be evicted, and no user set this limit: the provider decides.
        let has_marker = messages.has_marker;
        let mut out = within_budget(cx, messages.outcomes, tool, has_marker, &mut report);
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
        fixed: TOKENS_PER_REPLY + messages.tools_tokens + tool.tokens,
    };
    let fitted = fit(
        cx.text,
        cx.request,
        &messages.prepared,
        messages.outcomes,
        compressing,
        cx.counter.as_ref(),
        cx.memo,
        limits,
        cx.options.frozen_message_count,
        !config.lossless_only && !config.audit,
    );
    if cx.deadline.passed() {
        return Ok(out_of_time(cx.body, report, config));
    }
    let refused = |tokens| Error::OverBudget {
        tokens,
        budget: target,
    };
    match fitted {
        Ok(fitted) => {
            let fixed = TOKENS_PER_REPLY + messages.tools_tokens;
            let fitted = assemble(cx, fitted, fixed, tool, &mut report, after, target);
            let fitted = fitted.map_err(refused)?;
            if config.audit {
                let reason = "audit mode: report only".into();
                return Ok(passthrough(cx.body, fitted.report, reason));
            }
            Ok(fitted)
        }
        Err(_) if config.audit => {
            let reason = format!("audit mode: report only ({})", refused(after));
            Ok(passthrough(cx.body, report, reason))
        }
        Err(tokens) => Err(refused(tokens)),
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
