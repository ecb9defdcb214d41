//! The retrieval resolver: answers the model's `headroom_retrieve` calls between the model and the
//! agent, so the agent never sees them. A state machine with no I/O: the door that drives it sends
//! the requests and reads the store.
//!
//! One [`Resolver`] per agent request. Feed it the model's reply ([`Resolver::on_response`], or
//! [`Resolver::on_sse`] chunk by chunk then [`Resolver::on_sse_end`] for a stream); it answers with a
//! [`Step`]:
//! - [`Step::Lookup`]: read these hashes from the store, hand the results to [`Resolver::resume`];
//! - [`Step::Send`]: send this body upstream (the next round) and feed its reply back;
//! - [`Step::Done`]: give these bytes to the agent; the exchange is over.
//!
//! ```
//! use headroom::resolver::{Resolver, Step};
//! use headroom::store::{MemoryStore, Store};
//!
//! let store = MemoryStore::default();
//! store.put("default", "0123456789abcdef01234567", "the elided original")?;
//! // The (compressed) request the agent's call became, and a fake upstream that first asks for
//! // the original, then answers.
//! let request = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
//! let mut upstream = vec![
//!     br#"{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"done"}}]}"#.to_vec(),
//!     br#"{"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
//!         "tool_calls":[{"id":"c1","type":"function","function":{"name":"headroom_retrieve",
//!         "arguments":"{\"hash\":\"0123456789abcdef01234567\"}"}}]}}]}"#.to_vec(),
//! ];
//! let mut send = |body: &[u8]| { let _ = body; upstream.pop().unwrap() };
//!
//! let mut resolver = Resolver::new(request)?;
//! let mut step = resolver.on_response(&send(request));
//! let to_agent = loop {
//!     step = match step {
//!         Step::Lookup(hashes) => {
//!             let found = hashes.iter().map(|h| store.get("default", h)).collect();
//!             resolver.resume(found)
//!         }
//!         Step::Send(body) => {
//!             // The next request carries the original in a tool message.
//!             assert!(String::from_utf8_lossy(&body).contains("the elided original"));
//!             resolver.on_response(&send(&body))
//!         }
//!         Step::Done(bytes) => break bytes,
//!     };
//! };
//! assert!(String::from_utf8_lossy(&to_agent).contains("done"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Async doors read the store with [`crate::store::AsyncStore`]; see [`crate::store::lookup_all`].
//!
//! When the model calls `headroom_retrieve` *and* the agent's own tools in one reply, the agent must
//! run its tools before the model can go on. The resolver then answers ours, removes them from the
//! reply handed back (so the agent's next request pairs every tool call with a result), and keeps
//! the answers as a [`Carry`]. A Responses reply is stored upstream with our calls in it, so the
//! doors keep Responses carries in a [`Carries`] book and answer those calls in the agent's next
//! request that chains on the reply (see [`Carries`]).

mod carries;
mod chat;
mod events;
mod filter;
pub(crate) mod limits;
mod protocol;
mod responses;
mod responses_sse;
mod sse;
mod tap;

pub use limits::{DEFAULT_MAX_REPLY_BYTES, DEFAULT_MAX_ROUNDS};

use crate::marker::RETRIEVE_TOOL_NAME;
use crate::retrieve::{self, RetrieveArgs};
use crate::store::StoreError;
use crate::tokens::{counter_for_model, TokenCounter};
use crate::Protocol;
pub use carries::{Carries, DEFAULT_CARRY_BYTES, DEFAULT_CARRY_TTL};
use protocol::Tap;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tap::Tapped;

/// Whether a request body offers the `headroom_retrieve` tool: only then can the model call it,
/// so a door needs a [`Resolver`] only for such requests. A quick byte search (a false positive
/// only costs a resolver that passes the reply through).
///
/// ```
/// assert!(!headroom::resolver::offers_retrieve(br#"{"messages":[]}"#));
/// let def = headroom::retrieve::tool_definition();
/// let body = serde_json::json!({"messages": [], "tools": [def]}).to_string();
/// assert!(headroom::resolver::offers_retrieve(body.as_bytes()));
/// ```
pub fn offers_retrieve(request: &[u8]) -> bool {
    let needle = RETRIEVE_TOOL_NAME.as_bytes();
    request.windows(needle.len()).any(|w| w == needle)
}

/// What the door does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Read these hashes (unique, in the caller's namespace) and pass the results, in the same
    /// order, to [`Resolver::resume`].
    Lookup(Vec<String>),
    /// Send this request body upstream and feed the reply back to the resolver.
    Send(Vec<u8>),
    /// Give these bytes to the agent: the whole body, or for a stream the rest of it.
    Done(Vec<u8>),
}

/// Answers `headroom_retrieve` calls over the rounds of one agent request. See the
/// [module docs](self) for the loop that drives it.
pub struct Resolver {
    request: Map<String, Value>,
    protocol: Protocol,
    streaming: bool,
    rounds: usize,
    max_rounds: usize,
    answer_tokens: usize,
    max_reply_bytes: usize,
    counter: Arc<dyn TokenCounter>,
    pending: Option<Pending>,
    tap: Tap,
    carry: Option<Carry>,
    hidden_usage: Usage,
}

/// Tokens the upstream billed for the replies the agent never saw (the retrieval rounds).
///
/// The agent's final reply carries only its own `usage`; a door that accounts for cost adds this.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens of the consumed replies.
    pub prompt_tokens: u64,
    /// Completion tokens of the consumed replies.
    pub completion_tokens: u64,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("streaming", &self.streaming)
            .field("rounds", &self.rounds)
            .field("max_rounds", &self.max_rounds)
            .finish_non_exhaustive()
    }
}

/// A reply holding our calls, waiting for the store.
struct Pending {
    handback: Handback,
    ours: Vec<(Value, Result<RetrieveArgs, String>)>,
    hashes: Vec<String>,
    mixed: bool,
}

/// What the agent gets once our calls are answered.
enum Handback {
    /// The reply, which goes on to the next round or back to the agent without our calls.
    Reply(Value),
    /// A stream already forwarded without our calls: the last bytes of it, and the agent's call ids.
    Forwarded(Vec<u8>, Vec<String>),
}

/// Retrieve answers the model asked for in a reply that also called the agent's tools.
///
/// The agent gets that reply without our calls. A Responses reply is stored upstream with them, so
/// the doors keep Responses carries in a [`Carries`] book, which answers them in the agent's next
/// request chained on that reply (the API rejects it otherwise). A chat carry may be put back with
/// [`Carry::apply`], so the model sees what it retrieved; the doors drop it (a chat history holds
/// no call the agent did not see) and the model asks again if it still needs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Carry {
    /// Ids of the agent's calls in the same reply: the assistant message that holds them is where
    /// our calls go back.
    pub agent_call_ids: Vec<String>,
    /// Our tool calls, as the model made them.
    pub calls: Vec<Value>,
    /// The tool messages answering them.
    pub answers: Vec<Value>,
}

impl Carry {
    /// Puts the retrieve calls back into the assistant message that holds the agent's calls and
    /// their answers right after it. `None` when the agent's next request no longer has that
    /// message (or is not a chat-completions body): send it as it is. A Responses body gets the
    /// calls and answers after the agent's call item, or (chained on the reply with
    /// `previous_response_id`) the answers after the first output of one of the agent's calls.
    ///
    /// ```
    /// use headroom::resolver::Carry;
    /// use serde_json::json;
    /// let carry = Carry {
    ///     agent_call_ids: vec!["a1".into()],
    ///     calls: vec![json!({"id":"h1","type":"function","function":{"name":"headroom_retrieve","arguments":"{}"}})],
    ///     answers: vec![json!({"role":"tool","tool_call_id":"h1","content":"original"})],
    /// };
    /// let next = br#"{"messages":[{"role":"assistant","tool_calls":[{"id":"a1","type":"function","function":{"name":"ls","arguments":"{}"}}]},{"role":"tool","tool_call_id":"a1","content":"x"}]}"#;
    /// let body: serde_json::Value = serde_json::from_slice(&carry.apply(next).unwrap()).unwrap();
    /// assert_eq!(body["messages"][0]["tool_calls"][1]["id"], "h1");
    /// assert_eq!(body["messages"][1]["tool_call_id"], "h1");
    /// ```
    pub fn apply(&self, next_request: &[u8]) -> Option<Vec<u8>> {
        let mut body: Value = serde_json::from_slice(next_request).ok()?;
        if body.get("messages").is_none() && body.get("input").is_some() {
            let (ids, calls, answers) = (&self.agent_call_ids, &self.calls, &self.answers);
            responses::apply_carry(&mut body, ids, calls, answers)?;
            return serde_json::to_vec(&body).ok();
        }
        let messages = body.get_mut("messages")?.as_array_mut()?;
        let at = messages.iter().position(|m| {
            m["role"] == "assistant"
                && m["tool_calls"].as_array().is_some_and(|calls| {
                    calls.iter().any(|c| {
                        c["id"]
                            .as_str()
                            .is_some_and(|id| self.agent_call_ids.iter().any(|a| a == id))
                    })
                })
        })?;
        messages[at]["tool_calls"]
            .as_array_mut()?
            .extend(self.calls.iter().cloned());
        for (i, answer) in self.answers.iter().enumerate() {
            messages.insert(at + 1 + i, answer.clone());
        }
        serde_json::to_vec(&body).ok()
    }
}

impl Resolver {
    /// A resolver for the request body the door sends upstream (already compressed). Streaming or
    /// not is read from its `stream` field; answers are counted with its `model`'s tokenizer.
    ///
    /// ```
    /// let r = headroom::resolver::Resolver::new(br#"{"model":"gpt-4o","stream":true,"messages":[]}"#)?;
    /// assert!(r.is_streaming());
    /// assert!(headroom::resolver::Resolver::new(b"[1]").is_err());
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn new(request: &[u8]) -> crate::Result<Self> {
        let value: Value = serde_json::from_slice(request).map_err(crate::Error::InvalidJson)?;
        let Value::Object(request) = value else {
            return Err(crate::Error::InvalidRequest(
                "the body is not a JSON object".into(),
            ));
        };
        let protocol = protocol::of_request(&request)
            .map_err(|why| crate::Error::InvalidRequest(why.into()))?;
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(crate::DEFAULT_MODEL);
        Ok(Resolver {
            streaming: request.get("stream").and_then(Value::as_bool) == Some(true),
            counter: counter_for_model(model),
            request,
            protocol,
            rounds: 0,
            max_rounds: DEFAULT_MAX_ROUNDS,
            answer_tokens: retrieve::DEFAULT_ANSWER_TOKENS,
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
            pending: None,
            tap: Tap::new(protocol, DEFAULT_MAX_REPLY_BYTES),
            carry: None,
            hidden_usage: Usage::default(),
        })
    }

    /// At most this many retrieval rounds (default 3); the last round's request no longer offers
    /// the retrieve tool, so the model answers with what it has.
    ///
    /// ```
    /// let r = headroom::resolver::Resolver::new(br#"{"messages":[]}"#)?.max_rounds(1);
    /// assert_eq!(r.rounds(), 0);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// Caps each retrieve answer at this many tokens (default 8k); longer originals are paged.
    ///
    /// ```
    /// let r = headroom::resolver::Resolver::new(br#"{"messages":[]}"#)?.answer_tokens(2_000);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn answer_tokens(mut self, tokens: usize) -> Self {
        self.answer_tokens = tokens;
        self
    }

    /// Captures a streamed reply only up to this many bytes (default
    /// [`DEFAULT_MAX_REPLY_BYTES`]); past it the stream is forwarded to the agent as it came.
    ///
    /// ```
    /// let r = headroom::resolver::Resolver::new(br#"{"messages":[]}"#)?.max_reply_bytes(1 << 20);
    /// assert_eq!(r.reply_limit(), 1 << 20);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn max_reply_bytes(mut self, bytes: usize) -> Self {
        self.max_reply_bytes = bytes;
        self.tap = Tap::new(self.protocol, bytes);
        self
    }

    /// The most bytes of one reply this resolver reads; a door reading a whole reply for
    /// [`Resolver::on_response`] stops there and hands the reply on as it came.
    pub fn reply_limit(&self) -> usize {
        self.max_reply_bytes
    }

    /// Takes the retrieval knobs of `config`: [`Config::retrieve_max_rounds`],
    /// [`Config::retrieve_answer_tokens`], [`Config::max_reply_bytes`], and its `model` for
    /// counting tokens.
    ///
    /// ```
    /// let hr = headroom::Headroom::builder().model("gpt-4").build()?;
    /// let r = headroom::resolver::Resolver::new(br#"{"messages":[]}"#)?.with_config(hr.config());
    /// # Ok::<(), headroom::Error>(())
    /// ```
    ///
    /// [`Config::retrieve_max_rounds`]: crate::Config::retrieve_max_rounds
    /// [`Config::retrieve_answer_tokens`]: crate::Config::retrieve_answer_tokens
    /// [`Config::max_reply_bytes`]: crate::Config::max_reply_bytes
    pub fn with_config(mut self, config: &crate::Config) -> Self {
        self.max_rounds = config.retrieve_max_rounds;
        self.answer_tokens = config.retrieve_answer_tokens;
        self = self.max_reply_bytes(config.max_reply_bytes);
        if let Some(model) = &config.model {
            self.counter = counter_for_model(model);
        }
        self
    }

    /// Whether the request asked for a stream (drive with [`Resolver::on_sse`]).
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// Retrieval rounds sent so far.
    pub fn rounds(&self) -> usize {
        self.rounds
    }

    /// The answers to retrieve calls that came mixed with the agent's own, once the exchange is
    /// done (see [`Carry`]).
    pub fn take_carry(&mut self) -> Option<Carry> {
        self.carry.take()
    }

    /// Tokens billed for the retrieval rounds' replies, which the agent did not see.
    ///
    /// ```
    /// let r = headroom::resolver::Resolver::new(br#"{"messages":[]}"#)?;
    /// assert_eq!(r.hidden_usage().prompt_tokens, 0);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn hidden_usage(&self) -> Usage {
        self.hidden_usage
    }

    /// Reads a whole (non-streamed) reply. A reply without `headroom_retrieve` calls — or one that
    /// is not a chat completion at all, such as an error — comes back as `Done` byte for byte.
    pub fn on_response(&mut self, body: &[u8]) -> Step {
        let Ok(response) = serde_json::from_slice::<Value>(body) else {
            return Step::Done(body.to_vec());
        };
        if !protocol::has_our_calls(self.protocol, &response) {
            return Step::Done(body.to_vec());
        }
        self.take_up(response)
    }

    /// Reads one chunk of a streamed reply; returns the bytes to forward to the agent now (often
    /// none while the resolver decides; then whole events). A stream whose first tool-call delta
    /// is `headroom_retrieve` is consumed; any other is forwarded byte for byte, except that a
    /// `headroom_retrieve` call arriving after the agent's own is taken out of it.
    ///
    /// ```
    /// use headroom::resolver::{Resolver, Step};
    /// let mut r = Resolver::new(br#"{"model":"gpt-4o","stream":true,"messages":[]}"#)?;
    /// let stream = concat!(
    ///     "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",",
    ///     "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n",
    ///     "data: [DONE]\n\n",
    /// );
    /// let mut to_agent = Vec::new();
    /// for piece in stream.as_bytes().chunks(10) {
    ///     to_agent.extend(r.on_sse(piece)); // forward as soon as it is released
    /// }
    /// let Step::Done(rest) = r.on_sse_end() else { unreachable!() };
    /// to_agent.extend(rest);
    /// assert_eq!(to_agent, stream.as_bytes()); // not ours: byte for byte
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn on_sse(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.tap.feed(chunk)
    }

    /// The streamed reply has ended: what next. `Done` carries the last bytes for the agent.
    ///
    /// A retrieve call that came after the agent's own in a forwarded stream was taken out of it;
    /// it is still answered (a `Lookup` first), for the [`Carry`].
    pub fn on_sse_end(&mut self) -> Step {
        let next_tap = Tap::new(self.protocol, self.max_reply_bytes);
        match std::mem::replace(&mut self.tap, next_tap).finish() {
            Tapped::Passthrough(rest, removed) => {
                if removed.calls.is_empty() || self.rounds >= self.max_rounds {
                    return Step::Done(rest);
                }
                let handback = Handback::Forwarded(rest, removed.agent_call_ids);
                self.pend(handback, removed.calls, true)
            }
            Tapped::Captured(response) => self.take_up(response),
        }
    }

    /// Hands over the store's results for the hashes of the last [`Step::Lookup`], in order.
    /// Missing results count as a store failure; the model is told the original is unavailable.
    pub fn resume(&mut self, found: Vec<Result<Option<String>, StoreError>>) -> Step {
        let Some(pending) = self.pending.take() else {
            return Step::Done(Vec::new());
        };
        let mut found = found.into_iter();
        let results: Vec<(String, Result<Option<String>, StoreError>)> = pending
            .hashes
            .iter()
            .map(|h| {
                let r = found.next().unwrap_or_else(|| {
                    Err(StoreError::new("no lookup result was given for this hash"))
                });
                (h.clone(), r)
            })
            .collect();
        let answers: Vec<Value> = pending
            .ours
            .iter()
            .map(|(call, args)| {
                let text = match args {
                    Err(text) => text.clone(),
                    Ok(args) => {
                        let lookup = results
                            .iter()
                            .find(|(h, _)| *h == args.hash)
                            .map(|(_, r)| r.clone())
                            .unwrap_or(Ok(None));
                        retrieve::answer_with(
                            args,
                            lookup,
                            self.counter.as_ref(),
                            self.answer_tokens,
                        )
                    }
                };
                protocol::answer(self.protocol, call, text)
            })
            .collect();
        let calls: Vec<Value> = pending.ours.into_iter().map(|(call, _)| call).collect();
        let response = match pending.handback {
            Handback::Forwarded(rest, agent_call_ids) => {
                self.carry = Some(Carry {
                    agent_call_ids,
                    calls,
                    answers,
                });
                return Step::Done(rest);
            }
            Handback::Reply(response) => response,
        };
        if pending.mixed {
            let response = protocol::strip_our_calls(self.protocol, response);
            self.carry = Some(Carry {
                agent_call_ids: protocol::calls(self.protocol, &response)
                    .iter()
                    .filter_map(|c| protocol::call_id(self.protocol, c))
                    .collect(),
                calls,
                answers,
            });
            return Step::Done(self.render(&response));
        }
        self.rounds += 1;
        let (prompt, completion) = protocol::usage(self.protocol, &response);
        self.hidden_usage.prompt_tokens += prompt;
        self.hidden_usage.completion_tokens += completion;
        if self.protocol == Protocol::Responses {
            responses::next_round(&mut self.request, &response, answers);
            if self.rounds >= self.max_rounds {
                withdraw_retrieve_tool(&mut self.request);
            }
            return Step::Send(serde_json::to_vec(&self.request).expect("a JSON map serializes"));
        }
        let message = &response["choices"][0]["message"];
        let mut assistant =
            json!({"role": "assistant", "content": message["content"], "tool_calls": calls});
        if message["refusal"].is_string() {
            assistant["refusal"] = message["refusal"].clone();
        }
        let messages = self
            .request
            .get_mut("messages")
            .and_then(Value::as_array_mut)
            .expect("checked in new");
        messages.push(assistant);
        messages.extend(answers);
        if self.rounds >= self.max_rounds {
            withdraw_retrieve_tool(&mut self.request);
        }
        Step::Send(serde_json::to_vec(&self.request).expect("a JSON map serializes"))
    }

    /// Our calls are in `response`: look them up, or give up on them once the rounds are spent.
    fn take_up(&mut self, response: Value) -> Step {
        let single = self.protocol == Protocol::Responses
            || response["choices"].as_array().is_some_and(|c| c.len() == 1);
        if !single
            || self.rounds >= self.max_rounds
            || !protocol::has_our_calls(self.protocol, &response)
        {
            // Several choices cannot share one next request; spent rounds cannot take another.
            let response = protocol::strip_our_calls(self.protocol, response);
            return Step::Done(self.render(&response));
        }
        let all = protocol::calls(self.protocol, &response);
        let ours: Vec<Value> = all
            .iter()
            .filter(|c| protocol::is_ours(c))
            .cloned()
            .collect();
        let mixed = ours.len() < all.len();
        self.pend(Handback::Reply(response), ours, mixed)
    }

    /// Waits for the store: the hashes our calls ask for.
    fn pend(&mut self, handback: Handback, ours: Vec<Value>, mixed: bool) -> Step {
        let ours: Vec<(Value, Result<RetrieveArgs, String>)> = ours
            .into_iter()
            .map(|c| {
                let args = retrieve::parse_args(protocol::arguments(&c));
                (c, args)
            })
            .collect();
        let mut hashes: Vec<String> = Vec::new();
        for (_, args) in &ours {
            if let Ok(args) = args {
                if !hashes.contains(&args.hash) {
                    hashes.push(args.hash.clone());
                }
            }
        }
        self.pending = Some(Pending {
            handback,
            ours,
            hashes: hashes.clone(),
            mixed,
        });
        if hashes.is_empty() {
            return self.resume(Vec::new());
        }
        Step::Lookup(hashes)
    }

    /// The bytes the agent gets for `response`: JSON, or an SSE stream when it asked for one.
    fn render(&self, response: &Value) -> Vec<u8> {
        if self.streaming {
            protocol::render_stream(self.protocol, response)
        } else {
            serde_json::to_vec(response).expect("a JSON value serializes")
        }
    }
}

/// Takes `headroom_retrieve` out of the request's tools (and the settings that need tools), in
/// either shape: chat's (`function.name`) or Responses' (flat `name`).
fn withdraw_retrieve_tool(request: &mut Map<String, Value>) {
    let ours =
        |t: &Value| t["function"]["name"] == RETRIEVE_TOOL_NAME || t["name"] == RETRIEVE_TOOL_NAME;
    let Some(Value::Array(tools)) = request.get_mut("tools") else {
        return;
    };
    tools.retain(|t| !ours(t));
    if tools.is_empty() {
        request.remove("tools");
        request.remove("tool_choice");
        request.remove("parallel_tool_calls");
    } else if request.get("tool_choice").is_some_and(ours) {
        request.insert("tool_choice".into(), json!("auto"));
    }
}

#[cfg(test)]
mod tests;
