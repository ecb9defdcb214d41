//! Step 2: what must stay as it is — prompts, user turns, small segments, excluded tools.

use crate::marker::RETRIEVE_TOOL_NAME;
use crate::Config;
use std::borrow::Cow;

/// Why a segment must stay as it is, if it must.
pub(super) fn protection(
    config: &Config,
    role: &str,
    tool_name: Option<&str>,
    tokens: usize,
) -> Option<Cow<'static, str>> {
    match role {
        "system" => return Some("system prompt".into()),
        "developer" => return Some("developer prompt".into()),
        "user" if !config.compress_user_messages => return Some("user message".into()),
        "user" | "assistant" | "tool" | "function" => {}
        "" => return Some("message without a role".into()),
        other => return Some(format!("unknown role {other:?}").into()),
    }
    if tool_name == Some(RETRIEVE_TOOL_NAME) {
        // The model asked for exactly this text: compressing it again would hand it back a marker.
        return Some("retrieved original".into());
    }
    if tokens < config.min_segment_tokens {
        // Its tokens are in the report beside the reason: a static reason costs no allocation
        // (a request may have a million small parts).
        return Some("small (under min_segment_tokens)".into());
    }
    if let Some(name) = tool_name {
        if config
            .exclude_tools
            .iter()
            .any(|g| glob::Pattern::new(g).is_ok_and(|p| p.matches(name)))
        {
            return Some(format!("excluded tool {name}").into());
        }
    }
    None
}
