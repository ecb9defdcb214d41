//! `Headroom`: the one engine behind every door.

use crate::compress::{compressor_for, SegmentContext};
use crate::conversation::{self, MessageView, SegmentKind};
use crate::detect::{detect_with_hints, Hints};
use crate::marker::{segment_hash, Marker, RETRIEVE_TOOL_NAME};
use crate::report::{Report, SegmentReport};
use crate::retrieve;
use crate::store::{MemoryStore, Store, DEFAULT_NAMESPACE};
use crate::tokens::{
    counter_for_model, TokenCounter, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, TOKENS_PER_REPLY,
};
use crate::{Config, Error, Result};
use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionRequestToolMessage,
    ChatCompletionRequestToolMessageContent, CreateChatCompletionRequest,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// The report's `passthrough_reason` when the store failed and only lossless transforms were used.
///
/// ```
/// assert!(headroom::STORE_UNAVAILABLE.starts_with("store unavailable"));
/// ```
pub const STORE_UNAVAILABLE: &str = "store unavailable: lossless transforms only";

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

/// An original the compressed request refers to: persist it so `headroom_retrieve` can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// The hash its markers carry.
    pub hash: String,
    /// The segment's full text.
    pub text: String,
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
    /// Replace the whole configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }
    /// Checks the configuration and builds the engine.
    pub fn build(self) -> Result<Headroom> {
        for glob in &self.config.exclude_tools {
            glob::Pattern::new(glob)
                .map_err(|e| Error::Config(format!("exclude_tools: bad glob {glob:?}: {e}")))?;
        }
        if self.config.max_body_bytes == 0 {
            return Err(Error::Config("max_body_bytes must be above 0".into()));
        }
        Ok(Headroom {
            config: self.config,
            store: self.store.unwrap_or_else(process_store),
        })
    }
}

impl Headroom {
    /// A builder starting from the defaults.
    pub fn builder() -> HeadroomBuilder {
        HeadroomBuilder::default()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
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
    /// If the store fails, the request is compressed with lossless transforms only.
    pub fn compress_into(
        &self,
        request: &mut CreateChatCompletionRequest,
        store: &dyn Store,
    ) -> Result<Compressed> {
        let before = request.clone();
        let out = self.compress(request)?;
        if persist(store, DEFAULT_NAMESPACE, &out.originals).is_ok() {
            return Ok(out);
        }
        *request = before;
        let mut out = self.compress_typed(request, &self.lossless_config())?;
        out.report.passthrough_reason = Some(STORE_UNAVAILABLE.into());
        Ok(out)
    }

    /// Compresses a raw chat-completions body. Unknown fields and every untouched byte are kept.
    pub fn compress_json(&self, body: &[u8]) -> Result<CompressedJson> {
        self.run(body, &self.config)
    }

    /// Compresses a raw body and persists its originals in `store` under `namespace`;
    /// lossless only if the store fails.
    pub fn compress_json_into(
        &self,
        body: &[u8],
        store: &dyn Store,
        namespace: &str,
    ) -> Result<CompressedJson> {
        let out = self.compress_json(body)?;
        if persist(store, namespace, &out.originals).is_ok() {
            return Ok(out);
        }
        let mut out = self.run(body, &self.lossless_config())?;
        out.report.passthrough_reason = Some(STORE_UNAVAILABLE.into());
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
        let model = self.config.model.as_deref().unwrap_or(DEFAULT_MODEL);
        let text = if call.function.name == RETRIEVE_TOOL_NAME {
            retrieve::answer(
                &call.function.arguments,
                self.store.as_ref(),
                DEFAULT_NAMESPACE,
                counter_for_model(model).as_ref(),
                self.config.retrieve_answer_tokens,
            )
        } else {
            format!(
                "{} is not a Headroom tool; only {RETRIEVE_TOOL_NAME} is answered here.",
                call.function.name
            )
        };
        ChatCompletionRequestToolMessage {
            content: ChatCompletionRequestToolMessageContent::Text(text),
            tool_call_id: call.id.clone(),
        }
    }

    fn lossless_config(&self) -> Config {
        Config {
            lossless_only: true,
            ..self.config.clone()
        }
    }

    fn compress_typed(
        &self,
        request: &mut CreateChatCompletionRequest,
        config: &Config,
    ) -> Result<Compressed> {
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::InvalidRequest(format!("cannot serialize the request: {e}")))?;
        let out = self.run(&body, config)?;
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

    /// The engine: one walk over the body's segments.
    fn run(&self, body: &[u8], config: &Config) -> Result<CompressedJson> {
        let started = Instant::now();
        if body.len() > config.max_body_bytes {
            return Ok(passthrough(
                body,
                Report::default(),
                format!(
                    "body of {} bytes exceeds max_body_bytes ({})",
                    body.len(),
                    config.max_body_bytes
                ),
            ));
        }
        let text = std::str::from_utf8(body).map_err(|e| Error::InvalidUtf8(e.valid_up_to()))?;
        let request = conversation::parse(text)?;
        let model = config
            .model
            .clone()
            .or_else(|| request.model.clone())
            .unwrap_or_else(|| DEFAULT_MODEL.to_string());
        let counter = counter_for_model(&model);
        let mut report = Report {
            model,
            ..Report::default()
        };
        let mut tokens_before = TOKENS_PER_REPLY;
        let mut saved = 0usize;
        let mut edits = Vec::new();
        let mut originals: Vec<Original> = Vec::new();
        let mut has_marker = false;
        let mut last_user_text = String::new();
        let mut calls: HashMap<&str, (&str, &str)> = HashMap::new();

        for (index, message) in request.messages.iter().enumerate() {
            tokens_before += fixed_tokens(message, counter.as_ref());
            let role = message.role.as_deref().unwrap_or("");
            let call = message
                .tool_call_id
                .as_deref()
                .and_then(|id| calls.get(id))
                .copied();
            let tool_name = call
                .map(|(name, _)| name)
                .or(message.name.as_deref().filter(|_| role == "function"));
            for segment in &message.segments {
                let tokens = counter.count(&segment.text);
                tokens_before += tokens;
                let mut seg_report = SegmentReport {
                    message_index: index,
                    role: role.to_string(),
                    kind: segment.kind.name(),
                    tokens_before: tokens,
                    tokens_after: tokens,
                    ..SegmentReport::default()
                };
                let skip = if Marker::is_in(&segment.text) {
                    has_marker = true;
                    Some("already compressed".to_string())
                } else if started.elapsed() > config.time_budget {
                    Some("time budget exhausted".to_string())
                } else {
                    protection(config, role, tool_name, tokens)
                };
                if let Some(reason) = skip {
                    seg_report.skipped = Some(reason);
                    report.segments.push(seg_report);
                    continue;
                }
                let hints = Hints::default()
                    .with_tool_name(tool_name)
                    .with_tool_arguments(call.map(|(_, arguments)| arguments));
                let content_type = detect_with_hints(&segment.text, &hints);
                seg_report.content_type = content_type.name().to_string();
                let mut question = last_user_text.clone();
                if let Some((_, arguments)) = call {
                    question.push('\n');
                    question.push_str(arguments);
                }
                if let Some(extra) = &config.query {
                    question.push('\n');
                    question.push_str(extra);
                }
                let hash = segment_hash(&segment.text);
                let mut ctx = SegmentContext::new(config, counter.clone())
                    .with_question(&question)
                    .with_hash(&hash);
                ctx.tool_name = tool_name.map(str::to_string);
                ctx.tool_arguments = call.map(|(_, arguments)| arguments.to_string());
                ctx.json_only = segment.kind == SegmentKind::ToolCallArguments;
                let result =
                    compressor_for(&content_type).and_then(|c| c.compress(&segment.text, &ctx));
                match result {
                    Some(c) if c.lossy && config.lossless_only => {
                        seg_report.skipped = Some("lossy result refused (lossless_only)".into())
                    }
                    Some(c) if c.tokens < tokens => {
                        saved += tokens - c.tokens;
                        seg_report.tokens_after = c.tokens;
                        for t in &c.transforms {
                            if !report.transforms_applied.contains(t) {
                                report.transforms_applied.push(t.clone());
                            }
                        }
                        seg_report.transforms = c.transforms;
                        if c.lossy {
                            if !originals.iter().any(|o| o.hash == hash) {
                                originals.push(Original {
                                    hash: hash.clone(),
                                    text: segment.text.clone(),
                                });
                                report.ccr_hashes.push(hash.clone());
                            }
                            seg_report.hash = Some(hash);
                        }
                        edits.push((
                            segment.span.clone(),
                            serde_json::to_string(&c.text).expect("strings serialize"),
                        ));
                    }
                    Some(_) => seg_report.skipped = Some("no smaller form".into()),
                    None => {
                        seg_report.skipped =
                            Some(format!("nothing to compress in {}", content_type.name()))
                    }
                }
                report.segments.push(seg_report);
            }
            match role {
                "user" => {
                    last_user_text = message
                        .segments
                        .iter()
                        .map(|s| s.text.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                }
                "assistant" => {
                    for (id, name, arguments) in &message.tool_calls {
                        calls.insert(id, (name, arguments));
                    }
                }
                _ => {}
            }
        }
        if let Some((_, tools)) = &request.tools {
            tokens_before += counter.count(tools);
        }
        report.tokens_before = tokens_before;

        // The retrieve tool goes in whenever a marker is in the conversation: markers already in the
        // history need it even when nothing new is compressed.
        let tool_allowed = config.retrieve_tool
            && !request.has_legacy_functions
            && !tools_have_retrieve(&request.tools);
        let history_needs_tool = tool_allowed && has_marker;
        let tool = if tool_allowed && (has_marker || !originals.is_empty()) {
            tool_edit(text, &request)
        } else {
            None
        };
        let tool_tokens = tool.as_ref().map_or(0, |(_, def)| counter.count(def));
        let baseline = tokens_before + if history_needs_tool { tool_tokens } else { 0 };
        let after = tokens_before - saved + tool_tokens;

        if saved == 0 || after >= baseline {
            // Never worse: nothing beats the request as it came (plus the tool its history needs).
            if saved > 0 {
                report.passthrough_reason = Some("compressed form was not smaller".into());
            }
            for seg in &mut report.segments {
                seg.tokens_after = seg.tokens_before;
                seg.hash = None;
                seg.transforms.clear();
            }
            report.transforms_applied.clear();
            report.ccr_hashes.clear();
            match tool.filter(|_| history_needs_tool && !config.audit) {
                Some(edit) => {
                    report.tokens_after = tokens_before + tool_tokens;
                    report.retrieve_tool_added = true;
                    report.finish();
                    return Ok(CompressedJson {
                        body: conversation::splice(text, vec![edit]),
                        report,
                        originals: Vec::new(),
                    });
                }
                None => {
                    report.tokens_after = tokens_before;
                    report.finish();
                    return Ok(passthrough(body, report, String::new()));
                }
            }
        }
        report.tokens_after = after;
        if let Some(edit) = tool {
            report.retrieve_tool_added = true;
            edits.push(edit);
        }
        report.finish();
        if config.audit {
            return Ok(passthrough(body, report, "audit mode: report only".into()));
        }
        Ok(CompressedJson {
            body: conversation::splice(text, edits),
            report,
            originals,
        })
    }
}

/// Leaves `body` unchanged, recording why (an empty reason records none).
fn passthrough(body: &[u8], mut report: Report, reason: String) -> CompressedJson {
    if !reason.is_empty() {
        report.passthrough_reason = Some(reason);
    }
    if report.tokens_before == 0 && report.tokens_after == 0 {
        report.finish();
    }
    CompressedJson {
        body: body.to_vec(),
        report,
        originals: Vec::new(),
    }
}

/// Why a segment must stay as it is, if it must.
fn protection(
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

/// Tokens of a message outside its segments: overhead, role, name, tool-call names.
fn fixed_tokens(message: &MessageView, counter: &dyn TokenCounter) -> usize {
    let mut tokens = TOKENS_PER_MESSAGE + message.role.as_deref().map_or(0, |r| counter.count(r));
    if let Some(name) = &message.name {
        tokens += TOKENS_PER_NAME + counter.count(name);
    }
    tokens
        + message
            .tool_calls
            .iter()
            .map(|(_, name, _)| counter.count(name))
            .sum::<usize>()
}

fn tools_have_retrieve(tools: &Option<(std::ops::Range<usize>, String)>) -> bool {
    tools.as_ref().is_some_and(|(_, raw)| {
        serde_json::from_str::<Vec<serde_json::Value>>(raw).is_ok_and(|tools| {
            tools
                .iter()
                .any(|t| t["function"]["name"] == RETRIEVE_TOOL_NAME)
        })
    })
}

/// The splice that appends the retrieve tool to `tools` (or adds `tools`), leaving the caller's tools as they are.
fn tool_edit(
    body: &str,
    request: &conversation::RequestView,
) -> Option<(std::ops::Range<usize>, String)> {
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

fn persist(
    store: &dyn Store,
    namespace: &str,
    originals: &[Original],
) -> std::result::Result<(), crate::store::StoreError> {
    originals
        .iter()
        .try_for_each(|o| store.put(namespace, &o.hash, &o.text))
}
