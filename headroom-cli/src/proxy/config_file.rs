//! `--config FILE`: engine settings for the proxy, as a JSON object.
//!
//! ```json
//! {"model": "gpt-4o", "min_segment_tokens": 250, "compress_user_messages": false,
//!  "exclude_tools": ["secrets_*"], "lossless_only": false, "retrieve_tool": true}
//! ```
//! Unknown keys are an error, so a typo does not go unnoticed.

use headroom::{Headroom, HeadroomBuilder};
use serde::Deserialize;
use std::path::Path;

/// The settings a config file may hold; every one is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineFile {
    model: Option<String>,
    min_segment_tokens: Option<usize>,
    compress_user_messages: Option<bool>,
    #[serde(default)]
    exclude_tools: Vec<String>,
    lossless_only: Option<bool>,
    retrieve_tool: Option<bool>,
}

impl EngineFile {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))
    }

    /// A builder with these settings applied.
    pub fn builder(&self) -> HeadroomBuilder {
        let mut b = Headroom::builder();
        if let Some(m) = &self.model {
            b = b.model(m);
        }
        if let Some(n) = self.min_segment_tokens {
            b = b.min_segment_tokens(n);
        }
        if let Some(on) = self.compress_user_messages {
            b = b.compress_user_messages(on);
        }
        for glob in &self.exclude_tools {
            b = b.exclude_tool(glob);
        }
        if let Some(on) = self.lossless_only {
            b = b.lossless_only(on);
        }
        if let Some(on) = self.retrieve_tool {
            b = b.retrieve_tool(on);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_and_typos_are_errors() {
        let file: EngineFile =
            serde_json::from_str(r#"{"min_segment_tokens": 40, "lossless_only": true}"#).unwrap();
        let engine = file.builder().build().unwrap();
        assert_eq!(engine.config().min_segment_tokens, 40);
        assert!(engine.config().lossless_only);
        assert!(serde_json::from_str::<EngineFile>(r#"{"min_segment_token": 40}"#).is_err());
    }
}
