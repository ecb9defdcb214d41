//! The `headroom_retrieve` tool as a request offers it: its definition, and what offering it
//! costs. A leaf: compressors weigh that cost, the engine appends the definition, the resolver
//! answers calls of it.

use crate::marker::RETRIEVE_TOOL_NAME;
use crate::tokens::{count_tools, TokenCounter};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The tool definition appended to `tools` when the conversation carries a marker. Its
/// parameters keep to the form OpenAI documents token counts for, so its cost is exact.
///
/// ```
/// let def = headroom::retrieve::tool_definition();
/// assert_eq!(def["function"]["name"], "headroom_retrieve");
/// assert_eq!(def["function"]["parameters"]["required"][0], "hash");
/// ```
pub fn tool_definition() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": RETRIEVE_TOOL_NAME,
            "description": "Get back content that was omitted from this conversation to save space. Each omission is marked like [… N of M lines omitted · headroom_retrieve hash=H]; call this with that hash when you need the omitted part. Use query to fetch only matching lines or items, offset/limit to page.",
            "parameters": {
                "type": "object",
                "properties": {
                    "hash": {"type": "string", "description": "The hash from the omission marker."},
                    "query": {"type": "string", "description": "Only return lines or items containing these words."},
                    "offset": {"type": "integer", "description": "First line or item to return, from 0."},
                    "limit": {"type": "integer", "description": "How many lines or items to return, at least 1."}
                },
                "required": ["hash"]
            }
        }
    })
}

/// The same tool in the Responses API's shape (`POST /v1/responses`): flat, its name and
/// parameters beside its `type` rather than under `function`.
///
/// ```
/// let def = headroom::retrieve::responses_tool_definition();
/// assert_eq!(def["type"], "function");
/// assert_eq!(def["name"], "headroom_retrieve");
/// assert_eq!(def["parameters"], headroom::retrieve::tool_definition()["function"]["parameters"]);
/// ```
pub fn responses_tool_definition() -> Value {
    let chat = tool_definition();
    let function = &chat["function"];
    json!({
        "type": "function",
        "name": function["name"],
        "description": function["description"],
        "parameters": function["parameters"],
    })
}

/// Tokens the definition adds to a request that offers no other tool (the most it can add: a
/// tool list's own fixed cost included), for `counter`'s encoding.
pub(crate) fn definition_tokens(counter: &dyn TokenCounter) -> usize {
    static O200K: OnceLock<usize> = OnceLock::new();
    static CL100K: OnceLock<usize> = OnceLock::new();
    let cell = if counter.name() == "cl100k_base" {
        &CL100K
    } else {
        &O200K
    };
    *cell.get_or_init(|| count_tools(&json!([tool_definition()]), "", counter).tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::counter_for_model;

    #[test]
    fn the_definition_is_counted_exactly() {
        let counter = counter_for_model("gpt-4o");
        let counted = count_tools(&json!([tool_definition()]), "gpt-4o", counter.as_ref());
        assert!(!counted.estimated, "keeps to the documented form");
        assert_eq!(definition_tokens(counter.as_ref()), counted.tokens);
    }
}
