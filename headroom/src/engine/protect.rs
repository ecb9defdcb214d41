//! Step 2: what must stay as it is — prompts, user turns, small segments, excluded tools.

use crate::marker::RETRIEVE_TOOL_NAME;
use crate::Config;

/// Why a segment must stay as it is, if it must.
pub(super) fn protection(
    config: &Config,
    role: &str,
    tool_name: Option<&str>,
    tokens: usize,
) -> Option<String> {
    match role {
        "system" | "developer" => return Some(format!("{role} prompt")),
        "user" if !config.compress_user_messages => return Some("user message".into()),
        "user" | "assistant" | "tool" | "function" => {}
        "" => return Some("message without a role".into()),
        other => return Some(format!("unknown role {other:?}")),
    }
    if tool_name == Some(RETRIEVE_TOOL_NAME) {
        // The model asked for exactly this text: compressing it again would hand it back a marker.
        return Some("retrieved original".into());
    }
    if tokens < config.min_segment_tokens {
        return Some(format!("small ({tokens} tokens)"));
    }
    if let Some(name) = tool_name {
        if config
            .exclude_tools
            .iter()
            .any(|g| glob::Pattern::new(g).is_ok_and(|p| p.matches(name)))
        {
            return Some(format!("excluded tool {name}"));
        }
    }
    None
}
