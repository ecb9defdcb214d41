//! `Headroom`: the one engine behind every door.
//!
//! The steps of one run (DESIGN.md) each have a file: `segments` walks the request (protect,
//! detect, compress, keep originals), `protect` says what must stay, `retrieve_tool` offers the
//! tool, `fit` fits the window, `run` puts the steps in order (one function each), `finish` writes
//! the body and the report and keeps "never worse"; this file is the public API.

mod builder;
mod context;
mod fingerprint;
mod finish;
mod fit;
mod parallel;
mod protect;
mod retrieve_tool;
mod run;
mod segments;
mod warm_up;

pub use builder::HeadroomBuilder;

use crate::marker::RETRIEVE_TOOL_NAME;
use crate::memo::Memo;
pub use crate::original::Original;
use crate::report::{LosslessFallback, Report};
use crate::retrieve;
use crate::store::{persist_all, AsyncStore, MemoryStore, Store, StoreError, DEFAULT_NAMESPACE};
use crate::tokens::counter_for_model;
use crate::{Config, Error, Result};
use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionRequestToolMessage,
    ChatCompletionRequestToolMessageContent, CreateChatCompletionRequest,
};
use async_openai::types::responses::{
    CreateResponse, FunctionCallOutput, FunctionCallOutputItemParam, FunctionToolCall,
};
use std::sync::Arc;

/// The model assumed when neither the config nor the request names one.
pub const DEFAULT_MODEL: &str = "gpt-4o";

/// The compression engine: pure CPU work, shareable across threads (`Arc<Headroom>`).
///
/// ```
/// use headroom::Headroom;
/// let hr = Headroom::builder().model("gpt-4o").min_segment_tokens(10).build()?;
/// let rows: Vec<_> = (0..40).map(|i| serde_json::json!({"id": i, "name": format!("pkg-{i}"), "ok": true})).collect();
/// let body = serde_json::json!({
///     "model": "gpt-4o",
///     "messages": [
///         {"role": "user", "content": "list packages"},
///         {"role": "tool", "tool_call_id": "c1", "content": serde_json::to_string_pretty(&rows)?}
///     ]
/// });
/// let out = hr.compress_json(&serde_json::to_vec(&body)?)?;
/// assert!(out.report.tokens_after < out.report.tokens_before);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Headroom {
    config: Config,
    store: Arc<dyn Store>,
    memo: Arc<Memo>,
}

/// Per-request settings, for doors that know more about a request than its body says.
///
/// ```
/// let options = headroom::CompressOptions::default().token_budget(16_000).frozen_message_count(4);
/// assert_eq!(options.token_budget, Some(16_000));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompressOptions {
    /// The most tokens this request may have (over the config's `token_budget` and the window).
    pub token_budget: Option<usize>,
    /// Messages before this index are forwarded byte for byte: never recompressed or evicted.
    pub frozen_message_count: usize,
}

impl CompressOptions {
    /// The same options with a token budget.
    pub fn token_budget(mut self, tokens: usize) -> Self {
        self.token_budget = Some(tokens);
        self
    }
    /// The same options with the first `count` messages frozen.
    pub fn frozen_message_count(mut self, count: usize) -> Self {
        self.frozen_message_count = count;
        self
    }
}

impl std::fmt::Debug for Headroom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headroom")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for Headroom {
    fn default() -> Self {
        Headroom {
            config: Config::default(),
            store: process_store(),
            memo: Memo::process(),
        }
    }
}

/// The store of every engine built without one: one per process, so any engine (a macro's, a layer's,
/// the agent's own `Headroom::default()`) can answer a retrieval of what another one elided.
fn process_store() -> Arc<dyn Store> {
    static STORE: std::sync::LazyLock<Arc<dyn Store>> =
        std::sync::LazyLock::new(|| Arc::new(MemoryStore::default()));
    STORE.clone()
}

/// The result of compressing a typed request in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compressed {
    /// What happened.
    pub report: Report,
    /// Originals to persist (already persisted by `compress_into`).
    pub originals: Vec<Original>,
}

/// The result of compressing a raw body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompressedJson {
    /// The body to send: the input bytes, with only compressed strings (and the retrieve tool) spliced in.
    pub body: Vec<u8>,
    /// What happened.
    pub report: Report,
    /// Originals to persist.
    pub originals: Vec<Original>,
}

impl Headroom {
    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The memo of segment results and token counts this engine reads and fills.
    pub fn memo(&self) -> &Arc<Memo> {
        &self.memo
    }

    /// The engine's own store (used by `compress_into_own_store` and `answer_tool_call`).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Compresses a typed request in place. Originals are returned, not stored: see [`Headroom::compress_into`].
    ///
    /// ```
    /// use async_openai::types::chat::CreateChatCompletionRequestArgs;
    /// let mut req = CreateChatCompletionRequestArgs::default().model("gpt-4o").messages(vec![]).build().unwrap();
    /// let out = headroom::Headroom::default().compress(&mut req)?;
    /// assert_eq!(out.report.tokens_saved, 0);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn compress(&self, request: &mut CreateChatCompletionRequest) -> Result<Compressed> {
        self.compress_typed(request, &self.config)
    }

    /// Compresses a typed request in place and persists its originals in `store`.
    /// If the store fails, the request is compressed with lossless transforms only (see
    /// [`Headroom::settle`]).
    pub fn compress_into(
        &self,
        request: &mut CreateChatCompletionRequest,
        store: &dyn Store,
    ) -> Result<Compressed> {
        self.compress_typed_into(request, store)
    }

    /// Compresses a typed Responses request (`client.responses().create(…)`) in place, as
    /// [`Headroom::compress`] does a chat request: tool outputs (`function_call_output` and the
    /// other `*_output` items) compressed against the input before them, `instructions` and
    /// system/developer messages kept, the flat `headroom_retrieve` tool appended when a marker is
    /// in the input. Originals are returned, not stored: see [`Headroom::compress_response_into`].
    ///
    /// ```
    /// use async_openai::types::responses::{CreateResponse, InputParam};
    /// let mut req = CreateResponse {
    ///     model: Some("gpt-4o".into()),
    ///     input: InputParam::Text("hello".into()),
    ///     ..Default::default()
    /// };
    /// let out = headroom::Headroom::default().compress_response(&mut req)?;
    /// assert_eq!(out.report.tokens_saved, 0);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn compress_response(&self, request: &mut CreateResponse) -> Result<Compressed> {
        self.compress_typed(request, &self.config)
    }

    /// [`Headroom::compress_response`], persisting its originals in `store` (lossless only if the
    /// store fails, as [`Headroom::compress_into`]).
    pub fn compress_response_into(
        &self,
        request: &mut CreateResponse,
        store: &dyn Store,
    ) -> Result<Compressed> {
        self.compress_typed_into(request, store)
    }

    /// Compresses a raw body: a chat-completions request, or a Responses request (its shape says
    /// which: see [`Protocol::of_body`](crate::Protocol::of_body)). Unknown fields, unknown input
    /// items and every untouched byte are kept.
    /// A request over its token budget (the config's, or the model's window) is fitted, or refused
    /// with [`Error::OverBudget`] when it cannot fit.
    pub fn compress_json(&self, body: &[u8]) -> Result<CompressedJson> {
        self.compress_json_with(body, &CompressOptions::default())
    }

    /// [`Headroom::compress_json`] with per-request options (a budget, frozen messages).
    ///
    /// ```
    /// let hr = headroom::Headroom::default();
    /// let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}"#;
    /// let err = hr.compress_json_with(body, &headroom::CompressOptions::default().token_budget(3)).unwrap_err();
    /// assert!(matches!(err, headroom::Error::OverBudget { budget: 3, .. }));
    /// ```
    pub fn compress_json_with(
        &self,
        body: &[u8],
        options: &CompressOptions,
    ) -> Result<CompressedJson> {
        run::run(body, &self.config, &self.memo, options)
    }

    /// Compresses a raw body and persists its originals in `store` under `namespace`;
    /// lossless only if the store fails (see [`Headroom::settle`]).
    pub fn compress_json_into(
        &self,
        body: &[u8],
        store: &dyn Store,
        namespace: &str,
    ) -> Result<CompressedJson> {
        self.compress_json_into_with(body, store, namespace, &CompressOptions::default())
    }

    /// [`Headroom::compress_json_into`] with per-request options.
    pub fn compress_json_into_with(
        &self,
        body: &[u8],
        store: &dyn Store,
        namespace: &str,
        options: &CompressOptions,
    ) -> Result<CompressedJson> {
        let out = self.compress_json_with(body, options)?;
        let persisted = persist(store, namespace, &out.originals);
        self.settle(body, options, out, persisted)
    }

    /// [`Headroom::compress_json_into`] for an async store (Redis, or any [`Store`] through its
    /// blanket [`AsyncStore`]): the same policy, the originals persisted with `.await`.
    /// Compression runs inline; a door that moves CPU work off its runtime calls
    /// [`Headroom::compress_json_with`], [`persist_all`] and [`Headroom::settle`] itself.
    ///
    /// ```
    /// use headroom::store::{AsyncStore, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), headroom::Error> {
    /// let store = MemoryStore::default();
    /// let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
    /// let out = headroom::Headroom::default().compress_json_into_async(body, &store, "tenant").await?;
    /// assert!(out.report.lossless_fallback.is_none());
    /// # Ok(()) }
    /// ```
    pub async fn compress_json_into_async(
        &self,
        body: &[u8],
        store: &(impl AsyncStore + ?Sized),
        namespace: &str,
    ) -> Result<CompressedJson> {
        let options = CompressOptions::default();
        let out = self.compress_json_with(body, &options)?;
        let persisted = persist_all(store, namespace, &out.originals).await;
        self.settle(body, &options, out, persisted)
    }

    /// The one policy of every store-backed door: `out` (the compression of `body` with `options`)
    /// stands when its originals were persisted; when the store failed, `body` is compressed again
    /// with lossless transforms only — nothing elided, nothing to retrieve — and the report's
    /// [`Report::lossless_fallback`] says why ([`LosslessFallback::StoreUnavailable`]).
    ///
    /// ```
    /// use headroom::store::StoreError;
    /// use headroom::CompressOptions;
    /// let hr = headroom::Headroom::default();
    /// let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
    /// let options = CompressOptions::default();
    /// let out = hr.compress_json_with(body, &options)?;
    /// let out = hr.settle(body, &options, out, Err(StoreError::new("connection refused")))?;
    /// assert!(matches!(out.report.lossless_fallback, Some(headroom::LosslessFallback::StoreUnavailable(_))));
    /// assert!(out.originals.is_empty());
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn settle(
        &self,
        body: &[u8],
        options: &CompressOptions,
        out: CompressedJson,
        persisted: std::result::Result<(), StoreError>,
    ) -> Result<CompressedJson> {
        let Err(error) = persisted else {
            return Ok(out);
        };
        let mut out = run::run(body, &self.lossless_config(), &self.memo, options)?;
        store_failed(&mut out.report, error);
        Ok(out)
    }

    /// Answers a `headroom_retrieve` tool call from the engine's store, as the tool message to send back.
    ///
    /// ```
    /// use async_openai::types::chat::{ChatCompletionMessageToolCall, FunctionCall};
    /// let hr = headroom::Headroom::default();
    /// hr.store().put("default", "0123456789abcdef01234567", "the original")?;
    /// let call = ChatCompletionMessageToolCall {
    ///     id: "call_1".into(),
    ///     function: FunctionCall { name: "headroom_retrieve".into(), arguments: r#"{"hash":"0123456789abcdef01234567"}"#.into() },
    /// };
    /// let msg = hr.answer_tool_call(&call);
    /// assert_eq!(msg.tool_call_id, "call_1");
    /// # Ok::<(), headroom::store::StoreError>(())
    /// ```
    pub fn answer_tool_call(
        &self,
        call: &ChatCompletionMessageToolCall,
    ) -> ChatCompletionRequestToolMessage {
        let text = self.answer_text(&call.function.name, &call.function.arguments);
        ChatCompletionRequestToolMessage {
            content: ChatCompletionRequestToolMessageContent::Text(text),
            tool_call_id: call.id.clone(),
        }
    }

    /// [`Headroom::answer_tool_call`] for a Responses agent running its own loop: answers a
    /// `function_call` output item named `headroom_retrieve` with the `function_call_output`
    /// input item to send back.
    ///
    /// ```
    /// use async_openai::types::responses::{FunctionCallOutput, FunctionToolCall};
    /// let hr = headroom::Headroom::default();
    /// hr.store().put("default", "0123456789abcdef01234567", "the original")?;
    /// let call = FunctionToolCall {
    ///     call_id: "call_1".into(),
    ///     name: "headroom_retrieve".into(),
    ///     arguments: r#"{"hash":"0123456789abcdef01234567"}"#.into(),
    ///     ..Default::default()
    /// };
    /// let item = hr.answer_function_call(&call);
    /// assert_eq!(item.call_id.as_deref(), Some("call_1"));
    /// assert_eq!(item.output, FunctionCallOutput::Text("the original".into()));
    /// # Ok::<(), headroom::store::StoreError>(())
    /// ```
    pub fn answer_function_call(&self, call: &FunctionToolCall) -> FunctionCallOutputItemParam {
        FunctionCallOutputItemParam {
            call_id: Some(call.call_id.clone()),
            output: FunctionCallOutput::Text(self.answer_text(&call.name, &call.arguments)),
            id: None,
            status: None,
            name: None,
            namespace: None,
            caller: None,
        }
    }

    /// The answer to a call of the tool `name`: ours from the store, any other a plain refusal.
    fn answer_text(&self, name: &str, arguments: &str) -> String {
        if name != RETRIEVE_TOOL_NAME {
            return format!(
                "{name} is not a Headroom tool; only {RETRIEVE_TOOL_NAME} is answered here."
            );
        }
        let model = self.config.model.as_deref().unwrap_or(DEFAULT_MODEL);
        retrieve::answer(
            arguments,
            self.store.as_ref(),
            DEFAULT_NAMESPACE,
            counter_for_model(model).as_ref(),
            self.config.retrieve_answer_tokens,
        )
    }

    fn lossless_config(&self) -> Config {
        Config {
            lossless_only: true,
            ..self.config.clone()
        }
    }

    /// A typed request compressed and its originals persisted; lossless only if the store fails.
    fn compress_typed_into<T>(&self, request: &mut T, store: &dyn Store) -> Result<Compressed>
    where
        T: Clone + serde::Serialize + serde::de::DeserializeOwned,
    {
        let before = request.clone();
        let out = self.compress_typed(request, &self.config)?;
        let Err(error) = persist(store, DEFAULT_NAMESPACE, &out.originals) else {
            return Ok(out);
        };
        *request = before;
        let mut out = self.compress_typed(request, &self.lossless_config())?;
        store_failed(&mut out.report, error);
        Ok(out)
    }

    fn compress_typed<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        request: &mut T,
        config: &Config,
    ) -> Result<Compressed> {
        let body = serde_json::to_vec(request).map_err(Error::Serialize)?;
        let out = run::run(&body, config, &self.memo, &CompressOptions::default())?;
        let CompressedJson {
            body: new_body,
            mut report,
            mut originals,
        } = out;
        if new_body != body {
            match serde_json::from_slice(&new_body) {
                Ok(new_request) => *request = new_request,
                Err(e) => {
                    report.passthrough_reason = Some(format!(
                        "compressed request did not map back to the typed request: {e}"
                    ));
                    report.tokens_after = report.tokens_before;
                    report.finish();
                    originals.clear();
                }
            }
        }
        Ok(Compressed { report, originals })
    }
}

/// Records in `report` that the store refused the originals (and logs it once, here).
fn store_failed(report: &mut Report, error: StoreError) {
    tracing::warn!(target: "headroom", %error, "store unavailable: lossless transforms only");
    report.lossless_fallback = Some(LosslessFallback::StoreUnavailable(error.to_string()));
}

fn persist(
    store: &dyn Store,
    namespace: &str,
    originals: &[Original],
) -> std::result::Result<(), crate::store::StoreError> {
    originals
        .iter()
        .try_for_each(|o| store.put(namespace, &o.hash, &o.text))
}
