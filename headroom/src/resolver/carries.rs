//! Retrieve answers a door keeps between an agent's requests, for the Responses API's stored state.
//!
//! When one reply calls `headroom_retrieve` *and* the agent's own tools, the resolver answers ours
//! and hands the agent the reply without them (a [`Carry`]). For chat completions, and for a
//! Responses request that re-sends its whole history, that is the end of it: the agent's history
//! holds no call it did not see. But OpenAI stores a Responses reply as it was made (`store`
//! defaults to `true`), our calls included. The agent's next request chains on it
//! (`previous_response_id`, or a `conversation` that holds its items) with outputs for its own
//! calls only, and the API rejects it: "No tool output found for function call …". A stateless
//! fix is not possible: the stored reply cannot be changed, and a round that answers ours would
//! need the agent's results too (and a streamed reply's agent calls have already reached it).
//!
//! So a door keeps each Responses carry here, under the caller's namespace and the agent's call
//! ids ([`Carries::keep`]), and [`Carries::apply`] adds our answers after the agent's output for
//! one of those calls in its next request that chains on stored state. A request that re-sends
//! its history is never touched: its earlier turns stay byte-identical whatever this book holds.
//!
//! The book is bounded in bytes (quick_cache's S3-FIFO eviction) and in time (a TTL, default one
//! hour). An entry lost to either, or to a restart, leaves the request as the agent sent it.
//!
//! ```
//! use headroom::resolver::{Carries, Carry};
//! use serde_json::json;
//! let book = Carries::default();
//! book.keep("tenant", &Carry {
//!     agent_call_ids: vec!["call_ls".into()],
//!     calls: vec![json!({"type":"function_call","call_id":"call_hr","name":"headroom_retrieve","arguments":"{}"})],
//!     answers: vec![json!({"type":"function_call_output","call_id":"call_hr","output":"the original"})],
//! });
//! let next = br#"{"previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"call_ls","output":"a b"}]}"#;
//! let sent = book.apply("tenant", next).expect("the reply's call of ours is answered");
//! assert_eq!(
//!     String::from_utf8(sent)?,
//!     r#"{"previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"call_ls","output":"a b"},{"type":"function_call_output","call_id":"call_hr","output":"the original"}]}"#,
//! );
//! assert!(book.apply("another tenant", next).is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::responses::is_agent_action;
use super::Carry;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// The default bound of a [`Carries`] book: bytes of kept answers.
pub const DEFAULT_CARRY_BYTES: usize = 16 * 1024 * 1024;

/// How long a carry is kept by default: an agent's tools rarely take longer to answer.
pub const DEFAULT_CARRY_TTL: Duration = Duration::from_secs(60 * 60);

/// Answers to our calls in stored Responses replies, waiting for the agent's next request. See
/// the [resolver docs](crate::resolver).
pub struct Carries {
    cache: quick_cache::sync::Cache<(String, String), Arc<Kept>, Weight>,
    ttl: Duration,
}

/// One carry as kept: our call ids, the answers' JSON text, when.
struct Kept {
    ours: Vec<String>,
    answers: Vec<String>,
    at: Instant,
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<(String, String), Arc<Kept>> for Weight {
    fn weight(&self, key: &(String, String), kept: &Arc<Kept>) -> u64 {
        let answers: usize = kept.answers.iter().map(String::len).sum();
        (key.0.len() + key.1.len() + answers + 128) as u64
    }
}

impl Default for Carries {
    fn default() -> Self {
        Carries::new(DEFAULT_CARRY_BYTES, DEFAULT_CARRY_TTL)
    }
}

impl std::fmt::Debug for Carries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carries")
            .field("entries", &self.cache.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The book every door of a process shares unless given its own.
static SHARED: LazyLock<Arc<Carries>> = LazyLock::new(Arc::default);

/// The fields of a request [`Carries::apply`] reads.
#[derive(Deserialize)]
struct Top<'a> {
    #[serde(borrow)]
    input: Option<&'a RawValue>,
    #[serde(borrow)]
    previous_response_id: Option<&'a RawValue>,
    #[serde(borrow)]
    conversation: Option<&'a RawValue>,
}

/// The fields of an input item [`Carries::apply`] reads.
#[derive(Deserialize)]
struct Item {
    #[serde(rename = "type")]
    kind: Option<String>,
    call_id: Option<String>,
}

impl Carries {
    /// A book of at most `max_bytes` of answers, each kept at most `ttl`.
    ///
    /// ```
    /// let book = headroom::resolver::Carries::new(1 << 20, std::time::Duration::from_secs(60));
    /// assert!(book.is_empty());
    /// ```
    pub fn new(max_bytes: usize, ttl: Duration) -> Self {
        let items = (max_bytes / 4096).max(16);
        Carries {
            cache: quick_cache::sync::Cache::with_weighter(items, max_bytes as u64, Weight),
            ttl,
        }
    }

    /// The process-wide book ([`DEFAULT_CARRY_BYTES`], [`DEFAULT_CARRY_TTL`]) the doors use.
    ///
    /// ```
    /// let book = headroom::resolver::Carries::shared();
    /// assert!(std::sync::Arc::ptr_eq(&book, &headroom::resolver::Carries::shared()));
    /// ```
    pub fn shared() -> Arc<Carries> {
        SHARED.clone()
    }

    /// Entries kept (one per agent call id).
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.cache.len() == 0
    }

    /// Keeps a Responses `carry` under each of the agent's call ids in `namespace`. A chat carry
    /// (its answers are `tool` messages) is not kept: chat has no stored replies to answer.
    pub fn keep(&self, namespace: &str, carry: &Carry) {
        let responses = !carry.answers.is_empty()
            && carry
                .answers
                .iter()
                .all(|a| a["type"] == "function_call_output" && a["call_id"].is_string());
        if !responses || carry.agent_call_ids.is_empty() {
            return;
        }
        let kept = Arc::new(Kept {
            ours: carry
                .answers
                .iter()
                .filter_map(|a| a["call_id"].as_str().map(str::to_string))
                .collect(),
            answers: carry.answers.iter().map(|a| a.to_string()).collect(),
            at: Instant::now(),
        });
        for id in &carry.agent_call_ids {
            self.cache
                .insert((namespace.to_string(), id.clone()), kept.clone());
        }
    }

    /// The agent's next request with the kept answers added, when it chains on stored state
    /// (`previous_response_id` or `conversation`) and its `input` answers one of the agent's calls
    /// of a kept carry whose calls of ours it does not answer yet: each carry's answers go right
    /// after the first such output, every other byte as it came. `None`: send it as it is.
    pub fn apply(&self, namespace: &str, request: &[u8]) -> Option<Vec<u8>> {
        if self.is_empty() {
            return None;
        }
        let body = std::str::from_utf8(request).ok()?;
        let top: Top = serde_json::from_str(body).ok()?;
        let chained = top
            .previous_response_id
            .is_some_and(|r| r.get().starts_with('"'));
        let in_conversation = top.conversation.is_some_and(|c| c.get() != "null");
        if !(chained || in_conversation) {
            return None;
        }
        let input = top.input?;
        let items: Vec<&RawValue> = serde_json::from_str(input.get()).ok()?;
        let read: Vec<(Option<Item>, &RawValue)> = items
            .into_iter()
            .map(|raw| (serde_json::from_str::<Item>(raw.get()).ok(), raw))
            .collect();
        let answered = |id: &str| {
            read.iter()
                .any(|(item, _)| item.as_ref().and_then(|i| i.call_id.as_deref()) == Some(id))
        };
        let mut splices: Vec<(usize, Arc<Kept>)> = Vec::new();
        for (item, raw) in &read {
            let Some(Item {
                kind,
                call_id: Some(id),
            }) = item
            else {
                continue;
            };
            if kind.as_deref().is_some_and(is_agent_action) {
                continue;
            }
            let Some(kept) = self.fresh(namespace, id) else {
                continue;
            };
            let done = splices.iter().any(|(_, k)| Arc::ptr_eq(k, &kept));
            if done || kept.ours.iter().any(|ours| answered(ours)) {
                continue;
            }
            let end = raw.get().as_ptr() as usize - body.as_ptr() as usize + raw.get().len();
            splices.push((end, kept));
        }
        if splices.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(request.len() + 1024);
        let mut at = 0;
        for (end, kept) in &splices {
            out.extend_from_slice(&request[at..*end]);
            for answer in &kept.answers {
                out.push(b',');
                out.extend_from_slice(answer.as_bytes());
            }
            at = *end;
        }
        out.extend_from_slice(&request[at..]);
        Some(out)
    }

    /// The carry kept for the agent's call `id`, unless it has expired (then it goes).
    fn fresh(&self, namespace: &str, id: &str) -> Option<Arc<Kept>> {
        let key = (namespace.to_string(), id.to_string());
        let kept = self.cache.get(&key)?;
        if kept.at.elapsed() > self.ttl {
            self.cache.remove(&key);
            return None;
        }
        Some(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn carry() -> Carry {
        Carry {
            agent_call_ids: vec!["a1".into(), "a2".into()],
            calls: vec![json!({"type":"function_call","call_id":"h1","name":"headroom_retrieve"})],
            answers: vec![
                json!({"type":"function_call_output","call_id":"h1","output":"ORIGINAL"}),
            ],
        }
    }

    fn apply(book: &Carries, body: Value) -> Option<Value> {
        let out = book.apply("ns", body.to_string().as_bytes())?;
        Some(serde_json::from_slice(&out).unwrap())
    }

    #[test]
    fn only_a_request_on_stored_state_that_answers_the_agent_call_gets_the_answers() {
        let book = Carries::default();
        book.keep("ns", &carry());
        let output = json!({"type":"function_call_output","call_id":"a2","output":"x"});
        let chained = json!({"previous_response_id":"resp_1","input":[output]});
        let got = apply(&book, chained).unwrap();
        assert_eq!(got["input"][1]["call_id"], "h1");
        assert_eq!(got["input"].as_array().unwrap().len(), 2, "once per carry");
        let conversation = json!({"conversation":"conv_1","input":[output]});
        assert_eq!(
            apply(&book, conversation).unwrap()["input"][1]["output"],
            "ORIGINAL"
        );
        // A re-sent history, a request already answering ours, another call: untouched.
        assert!(apply(&book, json!({"input":[output]})).is_none());
        let answered = json!({"previous_response_id":"r","input":[output, got["input"][1]]});
        assert!(apply(&book, answered).is_none());
        let other = json!({"type":"function_call_output","call_id":"zz","output":"x"});
        assert!(apply(&book, json!({"previous_response_id":"r","input":[other]})).is_none());
        assert!(apply(&book, json!({"previous_response_id":"r","input":"text"})).is_none());
    }

    #[test]
    fn chat_carries_are_not_kept_and_old_ones_expire() {
        let book = Carries::new(1 << 20, Duration::ZERO);
        let chat = Carry {
            answers: vec![json!({"role":"tool","tool_call_id":"h1","content":"x"})],
            ..carry()
        };
        book.keep("ns", &chat);
        assert!(book.is_empty());
        book.keep("ns", &carry());
        assert_eq!(book.len(), 2);
        std::thread::sleep(Duration::from_millis(2));
        let output = json!({"type":"function_call_output","call_id":"a1","output":"x"});
        assert!(apply(&book, json!({"previous_response_id":"r","input":[output]})).is_none());
        assert_eq!(book.len(), 1, "the expired entry went");
    }

    #[test]
    fn the_book_is_bounded_in_bytes() {
        let book = Carries::new(64 * 1024, DEFAULT_CARRY_TTL);
        for i in 0..200 {
            let mut c = carry();
            c.agent_call_ids = vec![format!("a{i}")];
            c.answers[0]["output"] = json!("x".repeat(4096));
            book.keep("ns", &c);
        }
        assert!(book.len() < 20, "{} entries", book.len());
    }
}
