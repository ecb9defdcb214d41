//! `HeadroomBuilder`: every engine setting with its default, checked once at `build()`.

use super::{process_store, Headroom};
use crate::memo::Memo;
use crate::store::Store;
use crate::{Config, Error, Result};
use std::sync::Arc;

/// Builds a [`Headroom`]; every setting has a sensible default.
///
/// ```
/// let hr = headroom::Headroom::builder().lossless_only(true).exclude_tool("read_*").build()?;
/// assert!(hr.config().lossless_only);
/// # Ok::<(), headroom::Error>(())
/// ```
#[derive(Default)]
pub struct HeadroomBuilder {
    config: Config,
    store: Option<Arc<dyn Store>>,
    memo: Option<Arc<Memo>>,
}

impl Headroom {
    /// A builder starting from the defaults.
    ///
    /// ```
    /// let hr = headroom::Headroom::builder().model("gpt-4o").build()?;
    /// assert_eq!(hr.config().model.as_deref(), Some("gpt-4o"));
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn builder() -> HeadroomBuilder {
        HeadroomBuilder::default()
    }
}

impl HeadroomBuilder {
    /// Count tokens for this model (default: the request's `model`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.config.model = Some(model.into());
        self
    }
    /// Leave segments under this many tokens alone (default 250).
    pub fn min_segment_tokens(mut self, tokens: usize) -> Self {
        self.config.min_segment_tokens = tokens;
        self
    }
    /// Also compress user messages (default off).
    pub fn compress_user_messages(mut self, on: bool) -> Self {
        self.config.compress_user_messages = on;
        self
    }
    /// Never compress results of tools whose name matches `glob`.
    pub fn exclude_tool(mut self, glob: impl Into<String>) -> Self {
        self.config.exclude_tools.push(glob.into());
        self
    }
    /// Only lossless transforms: nothing elided, nothing to retrieve.
    pub fn lossless_only(mut self, on: bool) -> Self {
        self.config.lossless_only = on;
        self
    }
    /// Compute reports but send requests unchanged.
    pub fn audit(mut self, on: bool) -> Self {
        self.config.audit = on;
        self
    }
    /// Add the `headroom_retrieve` tool when markers are present (default on).
    pub fn retrieve_tool(mut self, on: bool) -> Self {
        self.config.retrieve_tool = on;
        self
    }
    /// Extra question text that content is compressed against.
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.config.query = Some(query.into());
        self
    }
    /// The store `compress_into` and `answer_tool_call` use by default (default: one in-memory store
    /// shared by every engine of the process).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }
    /// The most tokens a request may have after compression (default: the model's context window
    /// minus the completion it reserves). Over it, old tool results are compressed harder and old
    /// tool units evicted behind a marker; a request that still cannot fit is refused.
    ///
    /// ```
    /// let hr = headroom::Headroom::builder().token_budget(16_000).build()?;
    /// assert_eq!(hr.config().token_budget, Some(16_000));
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn token_budget(mut self, tokens: usize) -> Self {
        self.config.token_budget = Some(tokens);
        self
    }
    /// Fit requests to their model's context window when no `token_budget` is set (default on;
    /// off for deployments whose window differs from the model's).
    pub fn fit_to_window(mut self, on: bool) -> Self {
        self.config.fit_to_window = on;
        self
    }
    /// The memo of segment results and token counts (default: the one every engine of the process
    /// shares, [`Memo::process`]); give an engine its own to keep its results apart.
    pub fn memo(mut self, memo: Arc<Memo>) -> Self {
        self.memo = Some(memo);
        self
    }
    /// Replace the whole configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }
    /// Checks the configuration and builds the engine.
    pub fn build(self) -> Result<Headroom> {
        for glob in &self.config.exclude_tools {
            glob::Pattern::new(glob).map_err(|source| Error::InvalidGlob {
                glob: glob.clone(),
                source,
            })?;
        }
        if self.config.max_body_bytes == 0 {
            return Err(Error::Config("max_body_bytes must be above 0".into()));
        }
        if !(0.0..=1.0).contains(&self.config.eviction_low_water) {
            return Err(Error::Config(
                "eviction_low_water must be between 0.0 and 1.0".into(),
            ));
        }
        Ok(Headroom {
            config: self.config,
            store: self.store.unwrap_or_else(process_store),
            memo: self.memo.unwrap_or_else(Memo::process),
        })
    }
}
