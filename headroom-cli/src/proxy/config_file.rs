//! `--config FILE`: engine settings for the proxy, as a JSON object.
//!
//! ```json
//! {"model": "gpt-4o", "min_segment_tokens": 250, "compress_user_messages": false,
//!  "exclude_tools": ["secrets_*"], "lossless_only": false, "retrieve_tool": true,
//!  "retrieve_answer_tokens": 8000, "retrieve_max_rounds": 3, "max_reply_bytes": 16777216,
//!  "store_ttl_secs": 86400, "store_max_bytes": 536870912,
//!  "token_budget": 100000, "fit_to_window": true, "protect_recent_units": 3,
//!  "eviction_low_water": 0.75, "parallel_messages": true}
//! ```
//! Unknown keys are an error, so a typo does not go unnoticed.

use headroom::{Config, Headroom, HeadroomBuilder};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// Every key a config file may hold: the one list the `--config` help and the README quote (a
/// test checks it against the fields of [`EngineFile`]).
pub const KEYS: &[&str] = &[
    "model",
    "min_segment_tokens",
    "compress_user_messages",
    "exclude_tools",
    "lossless_only",
    "retrieve_tool",
    "retrieve_answer_tokens",
    "retrieve_max_rounds",
    "max_reply_bytes",
    "store_ttl_secs",
    "store_max_bytes",
    "token_budget",
    "fit_to_window",
    "protect_recent_units",
    "eviction_low_water",
    "parallel_messages",
];

/// The `--config` help.
pub fn help() -> String {
    format!(
        "Engine settings as a JSON object in a file, every key optional: {}. Unknown keys are an error",
        KEYS.join(", ")
    )
}

/// The settings a config file may hold; every one is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineFile {
    model: Option<String>,
    min_segment_tokens: Option<usize>,
    compress_user_messages: Option<bool>,
    exclude_tools: Option<Vec<String>>,
    lossless_only: Option<bool>,
    retrieve_tool: Option<bool>,
    retrieve_answer_tokens: Option<usize>,
    retrieve_max_rounds: Option<usize>,
    max_reply_bytes: Option<usize>,
    store_ttl_secs: Option<u64>,
    store_max_bytes: Option<usize>,
    token_budget: Option<usize>,
    fit_to_window: Option<bool>,
    protect_recent_units: Option<usize>,
    eviction_low_water: Option<f64>,
    parallel_messages: Option<bool>,
}

impl EngineFile {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))
    }

    /// The engine's defaults with these settings applied.
    pub fn config(&self) -> Config {
        let mut c = Config::default();
        if let Some(m) = &self.model {
            c.model = Some(m.clone());
        }
        set(&mut c.min_segment_tokens, self.min_segment_tokens);
        set(&mut c.compress_user_messages, self.compress_user_messages);
        set(&mut c.exclude_tools, self.exclude_tools.clone());
        set(&mut c.lossless_only, self.lossless_only);
        set(&mut c.retrieve_tool, self.retrieve_tool);
        set(&mut c.retrieve_answer_tokens, self.retrieve_answer_tokens);
        set(&mut c.retrieve_max_rounds, self.retrieve_max_rounds);
        set(&mut c.max_reply_bytes, self.max_reply_bytes);
        set(
            &mut c.store_ttl,
            self.store_ttl_secs.map(Duration::from_secs),
        );
        set(&mut c.store_max_bytes, self.store_max_bytes);
        if self.token_budget.is_some() {
            c.token_budget = self.token_budget;
        }
        set(&mut c.fit_to_window, self.fit_to_window);
        set(&mut c.protect_recent_units, self.protect_recent_units);
        set(&mut c.eviction_low_water, self.eviction_low_water);
        // On in the proxy unless the file says otherwise: a request with several large tool
        // results is compressed ~1.3× sooner on two cores (bench example `parallel_messages`).
        c.parallel_messages = self.parallel_messages.unwrap_or(true);
        c
    }

    /// A builder with these settings.
    pub fn builder(&self) -> HeadroomBuilder {
        Headroom::builder().config(self.config())
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_and_typos_are_errors() {
        let file: EngineFile = serde_json::from_str(
            r#"{"min_segment_tokens": 40, "lossless_only": true, "retrieve_max_rounds": 1, "store_ttl_secs": 60}"#,
        )
        .unwrap();
        let engine = file.builder().build().unwrap();
        assert_eq!(engine.config().min_segment_tokens, 40);
        assert!(engine.config().lossless_only);
        assert_eq!(engine.config().retrieve_max_rounds, 1);
        assert_eq!(engine.config().store_limits().ttl, Duration::from_secs(60));
        assert_eq!(
            engine.config().crush,
            Config::default().crush,
            "the rest stays default"
        );
        assert!(serde_json::from_str::<EngineFile>(r#"{"min_segment_token": 40}"#).is_err());
        // Two threads per request in the proxy unless the file turns them off.
        assert!(engine.config().parallel_messages);
        let off: EngineFile = serde_json::from_str(r#"{"parallel_messages": false}"#).unwrap();
        assert!(!off.config().parallel_messages);
    }

    #[test]
    fn keys_are_the_fields_of_the_file() {
        // serde names every field it expects when it meets an unknown one.
        let err = serde_json::from_str::<EngineFile>(r#"{"no_such_key": 1}"#).unwrap_err();
        let message = err.to_string();
        let expected = message
            .split_once("expected one of ")
            .map(|(_, list)| list)
            .unwrap_or_else(|| panic!("{message}"));
        let fields: Vec<&str> = expected
            .split(", ")
            .map(|f| f.split('`').nth(1).unwrap_or(f))
            .collect();
        assert_eq!(fields, KEYS);
    }
}
