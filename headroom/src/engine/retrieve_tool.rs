//! Step 7: the `headroom_retrieve` tool, appended to `tools` when a marker is in the conversation.

use crate::conversation::RequestView;
use crate::marker::RETRIEVE_TOOL_NAME;
use crate::retrieve;
use std::ops::Range;

/// Whether the request already offers a tool named `headroom_retrieve`.
pub(super) fn tools_have_retrieve(tools: &Option<(Range<usize>, String)>) -> bool {
    tools.as_ref().is_some_and(|(_, raw)| {
        serde_json::from_str::<Vec<serde_json::Value>>(raw).is_ok_and(|tools| {
            tools
                .iter()
                .any(|t| t["function"]["name"] == RETRIEVE_TOOL_NAME)
        })
    })
}

/// The splice that appends the retrieve tool to `tools` (or adds `tools`), leaving the caller's tools as they are.
pub(super) fn tool_edit(body: &str, request: &RequestView) -> Option<(Range<usize>, String)> {
    let def = retrieve::tool_definition().to_string();
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
