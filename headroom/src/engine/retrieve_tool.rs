//! Step 7: the `headroom_retrieve` tool, appended to `tools` when a marker is in the conversation;
//! and, before any step, whether the model could call it at all (if not, nothing lossy is done).

use crate::conversation::{Protocol, RequestView};
use crate::marker::RETRIEVE_TOOL_NAME;
use crate::report::RetrieveUnavailable;
use crate::retrieve;
use crate::tokens::{count_tools, TokenCounter, ToolTokens, TOOL_LIST_TOKENS};
use crate::Config;
use serde_json::Value;
use std::ops::Range;

/// Why the model could not call `headroom_retrieve` in this request, if it could not: then a
/// marker would be unanswerable, and the engine stays lossless.
pub(super) fn retrieve_unavailable(
    request: &RequestView,
    config: &Config,
) -> Option<RetrieveUnavailable> {
    if request.functions.is_some() {
        return Some(RetrieveUnavailable::LegacyFunctions);
    }
    let offered = tools_have_retrieve(&request.tools);
    match &request.tools {
        Some((_, raw)) if !offered && !raw.starts_with('[') && raw != "null" => {
            return Some(RetrieveUnavailable::ToolsNotAnArray)
        }
        _ => {}
    }
    if !offered && !config.retrieve_tool {
        return Some(RetrieveUnavailable::RetrieveToolOff);
    }
    let choice: Value = request
        .tool_choice
        .as_deref()
        .and_then(|raw| serde_json::from_str(raw).ok())
        .unwrap_or(Value::Null);
    match &choice {
        Value::String(mode) if mode == "none" => Some(RetrieveUnavailable::ToolChoiceNone),
        Value::Object(choice) => {
            let kind = choice.get("type").and_then(Value::as_str).unwrap_or("");
            // Chat nests the forced tool's name under its type; Responses puts it beside it.
            let forced = choice
                .get(kind)
                .and_then(|tool| tool.get("name"))
                .or_else(|| choice.get("name"))
                .and_then(Value::as_str);
            match (kind, forced) {
                (_, Some(RETRIEVE_TOOL_NAME)) => None,
                (_, Some(name)) => Some(RetrieveUnavailable::ToolChoiceForces(name.to_string())),
                ("allowed_tools", None) => {
                    // Chat: `{"allowed_tools": {"tools": […]}}`; Responses: `{"tools": […]}`.
                    let tools = choice
                        .get("allowed_tools")
                        .unwrap_or(&Value::Null)
                        .get("tools")
                        .or_else(|| choice.get("tools"))
                        .unwrap_or(&Value::Null);
                    let allowed = tools
                        .as_array()
                        .is_some_and(|tools| tools.iter().any(is_retrieve_tool));
                    (!allowed).then_some(RetrieveUnavailable::ToolChoiceExcludes)
                }
                // A choice we do not know may rule our tool out: assume it does.
                (kind, None) => Some(RetrieveUnavailable::ToolChoiceForces(format!(
                    "a {kind:?} tool choice"
                ))),
            }
        }
        _ => None,
    }
}

fn is_retrieve_tool(tool: &Value) -> bool {
    tool["function"]["name"] == RETRIEVE_TOOL_NAME || tool["name"] == RETRIEVE_TOOL_NAME
}

/// Tokens of the request's function definitions (`tools` and legacy `functions`).
pub(super) fn definitions_tokens(
    request: &RequestView,
    model: &str,
    counter: &dyn TokenCounter,
) -> ToolTokens {
    let mut total = ToolTokens::default();
    for raw in [
        request.tools.as_ref().map(|(_, raw)| raw),
        request.functions.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let value: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
        let counted = count_tools(&value, model, counter);
        total.tokens += counted.tokens;
        total.estimated |= counted.estimated;
    }
    total
}

/// Tokens appending the retrieve tool adds to the request's `tools`: its definition, and the
/// list's own fixed cost when it starts the list.
pub(super) fn added_tokens(request: &RequestView, counter: &dyn TokenCounter) -> usize {
    let listed = request
        .tools
        .as_ref()
        .is_some_and(|(_, raw)| raw.starts_with('[') && !raw[1..raw.len() - 1].trim().is_empty());
    let definition = crate::tool::definition_tokens(counter);
    if listed {
        definition.saturating_sub(TOOL_LIST_TOKENS)
    } else {
        definition
    }
}

/// Whether the request already offers a tool named `headroom_retrieve`.
pub(super) fn tools_have_retrieve(tools: &Option<(Range<usize>, String)>) -> bool {
    tools.as_ref().is_some_and(|(_, raw)| {
        serde_json::from_str::<Vec<serde_json::Value>>(raw)
            .is_ok_and(|tools| tools.iter().any(is_retrieve_tool))
    })
}

/// The splice that appends the retrieve tool to `tools` (or adds `tools`), leaving the caller's tools as they are.
pub(super) fn tool_edit(body: &str, request: &RequestView) -> Option<(Range<usize>, String)> {
    let def = match request.protocol {
        Protocol::ChatCompletions => retrieve::tool_definition(),
        Protocol::Responses => retrieve::responses_tool_definition(),
    }
    .to_string();
    match &request.tools {
        Some((span, raw)) if raw.starts_with('[') => {
            let inner = &raw[1..raw.len() - 1];
            if inner.trim().is_empty() {
                Some((span.start + 1..span.end - 1, def))
            } else {
                Some((span.end - 1..span.end - 1, format!(",{def}")))
            }
        }
        Some((span, raw)) if raw == "null" => Some((span.clone(), format!("[{def}]"))),
        Some(_) => None,
        None => {
            let end = request.object_end;
            debug_assert_eq!(&body[end..=end], "}");
            Some((end..end, format!(",\"tools\":[{def}]")))
        }
    }
}
