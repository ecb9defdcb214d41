//! The one async driver of the engine's [`Resolver`] over an [`AsyncStore`]: every door that
//! answers `headroom_retrieve` (the tower layer's [`retrieval`](crate::retrieval), `with_headroom`,
//! the `headroom proxy`) runs its rounds here, whole replies and Server-Sent Event streams alike.
//! A door brings only its transport: how to send the next round, how to read a reply's chunks.
//!
//! ```
//! use headroom::resolver::Resolver;
//! use headroom::store::{AsyncStore, MemoryStore};
//! use headroom_tower::rounds::{Reply, Rounds, Whole};
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(MemoryStore::default());
//! AsyncStore::put(store.as_ref(), "tenant", "0123456789abcdef01234567", "the original").await?;
//! let request = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
//! let asks = br#"{"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",
//!     "content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"headroom_retrieve",
//!     "arguments":"{\"hash\":\"0123456789abcdef01234567\"}"}}]}}]}"#;
//! let answers = br#"{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"done"}}]}"#;
//!
//! let mut rounds = Rounds::new(Resolver::new(request)?, store, "tenant");
//! let outcome = rounds
//!     .whole(asks.to_vec(), |next_request: Vec<u8>| async move {
//!         // The door's transport: send the next round upstream, read its reply whole.
//!         assert!(String::from_utf8_lossy(&next_request).contains("the original"));
//!         Ok::<_, std::io::Error>(Reply::<(), ()>::Read((), answers.to_vec()))
//!     })
//!     .await?;
//! let Whole::Answer { body, .. } = outcome else { unreachable!() };
//! assert!(String::from_utf8_lossy(&body).contains("done"));
//! # Ok(()) }
//! ```

use bytes::Bytes;
use futures_util::Stream;
use headroom::resolver::{Carries, Resolver, Step};
use headroom::store::{lookup_all, AsyncStore};
use std::future::Future;
use std::sync::Arc;

/// One agent request's retrieval rounds: the resolver, the store it reads, the caller's namespace.
pub struct Rounds {
    resolver: Resolver,
    store: Arc<dyn AsyncStore>,
    namespace: String,
    carries: Option<Arc<Carries>>,
}

/// What the resolver wants after its lookups are answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send this body upstream as the next round.
    Send(Vec<u8>),
    /// Give these bytes to the agent (for a stream: its last bytes); the exchange is over.
    Done(Vec<u8>),
}

/// A round's reply as the door's transport read it.
#[derive(Debug)]
pub enum Reply<H, R> {
    /// Read whole: its head (status, headers…) and body.
    Read(H, Vec<u8>),
    /// Not read (over [`Rounds::reply_limit`], say): hand it to the agent as it came.
    AsItCame(R),
}

/// How an exchange of whole replies ended.
#[derive(Debug)]
pub enum Whole<H, R> {
    /// The agent's answer: the head of the last round's reply (`None` when no round was sent),
    /// and the body the resolver made.
    Answer {
        /// The last round's head.
        head: Option<H>,
        /// What the agent gets.
        body: Vec<u8>,
    },
    /// A round's reply goes to the agent as it came ([`Reply::AsItCame`]).
    AsItCame(R),
}

/// The chunks of one reply body, as a door's transport reads them.
pub trait ChunkSource: Send {
    /// Why reading failed.
    type Error;
    /// The next chunk; `None` at the end.
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, Self::Error>> + Send;
}

/// A whole reply read within a limit, or the bytes read before it was passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capped {
    /// The whole body.
    Whole(Vec<u8>),
    /// The body is larger than the limit: the bytes read so far (the rest is still in the source).
    Over(Vec<u8>),
}

/// Reads `source` to its end, or until more than `limit` bytes have come.
///
/// ```
/// use headroom_tower::rounds::{read_capped, Capped, ChunkSource};
/// struct Two(Vec<bytes::Bytes>);
/// impl ChunkSource for Two {
///     type Error = ();
///     async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, ()> { Ok(self.0.pop()) }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut source = Two(vec!["cd".into(), "ab".into()]);
/// assert_eq!(read_capped(&mut source, 3).await, Ok(Capped::Over(b"abcd".to_vec())));
/// let mut source = Two(vec!["cd".into(), "ab".into()]);
/// assert_eq!(read_capped(&mut source, 4).await, Ok(Capped::Whole(b"abcd".to_vec())));
/// # }
/// ```
pub async fn read_capped<S: ChunkSource>(source: &mut S, limit: usize) -> Result<Capped, S::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = source.next_chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Ok(Capped::Over(body));
        }
    }
    Ok(Capped::Whole(body))
}

/// A reply body again: the bytes already read, then the rest of `source` — how a reply over the
/// limit is handed to the agent as it came.
pub fn replay<S: ChunkSource>(
    read: Vec<u8>,
    source: S,
) -> impl Stream<Item = Result<Bytes, S::Error>> + Send {
    let read = (!read.is_empty()).then(|| Bytes::from(read));
    futures_util::stream::unfold(Some((read, source)), |state| async move {
        let (read, mut source) = state?;
        if let Some(read) = read {
            return Some((Ok(read), Some((None, source))));
        }
        match source.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some((None, source)))),
            Ok(None) => None,
            Err(error) => Some((Err(error), None)),
        }
    })
}

impl Rounds {
    /// Rounds driven by `resolver`, reading originals from `store` under `namespace`.
    pub fn new(
        resolver: Resolver,
        store: Arc<dyn AsyncStore>,
        namespace: impl Into<String>,
    ) -> Self {
        Rounds {
            resolver,
            store,
            namespace: namespace.into(),
            carries: None,
        }
    }

    /// Keeps the exchange's [`Carry`](headroom::resolver::Carry) (answers to our calls in a reply
    /// that also called the agent's tools) in `carries`, under the caller's namespace, once the
    /// exchange is done; the door answers them in the agent's next request with
    /// [`Carries::apply`]. Without it the carry is dropped.
    ///
    /// ```
    /// use headroom::resolver::{Carries, Resolver};
    /// use headroom::store::MemoryStore;
    /// let resolver = Resolver::new(br#"{"model":"gpt-4o","input":"hi"}"#)?;
    /// let rounds = headroom_tower::rounds::Rounds::new(resolver, std::sync::Arc::new(MemoryStore::default()), "tenant")
    ///     .carrying(Carries::shared());
    /// # let _ = rounds;
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn carrying(mut self, carries: Arc<Carries>) -> Self {
        self.carries = Some(carries);
        self
    }

    /// Whether the request asked for a stream (drive it with [`Rounds::stream`]).
    pub fn is_streaming(&self) -> bool {
        self.resolver.is_streaming()
    }

    /// The most bytes of one reply to read whole ([`headroom::Config::max_reply_bytes`]); a
    /// larger reply goes to the agent as it came.
    pub fn reply_limit(&self) -> usize {
        self.resolver.reply_limit()
    }

    /// The resolver (its rounds so far, its carry, its hidden usage).
    pub fn resolver(&mut self) -> &mut Resolver {
        &mut self.resolver
    }

    /// Answers the resolver's lookups from the store, starting at `step`, until it wants a round
    /// sent or is done.
    pub async fn advance(&mut self, mut step: Step) -> Next {
        loop {
            step = match step {
                Step::Lookup(hashes) => {
                    let found = lookup_all(self.store.as_ref(), &self.namespace, &hashes).await;
                    self.resolver.resume(found)
                }
                Step::Send(body) => return Next::Send(body),
                Step::Done(bytes) => {
                    if let (Some(carries), Some(carry)) =
                        (&self.carries, self.resolver.take_carry())
                    {
                        carries.keep(&self.namespace, &carry);
                    }
                    return Next::Done(bytes);
                }
            }
        }
    }

    /// A non-streamed exchange: `first` is the first reply's body; each further round is sent by
    /// `send`, which reads its reply whole (or hands it back as it came).
    pub async fn whole<H, R, E, F, Fut>(
        &mut self,
        first: Vec<u8>,
        mut send: F,
    ) -> Result<Whole<H, R>, E>
    where
        F: FnMut(Vec<u8>) -> Fut,
        Fut: Future<Output = Result<Reply<H, R>, E>>,
    {
        let mut head = None;
        let step = self.resolver.on_response(&first);
        let mut next = self.advance(step).await;
        loop {
            match next {
                Next::Done(body) => return Ok(Whole::Answer { head, body }),
                Next::Send(body) => match send(body).await? {
                    Reply::Read(h, reply) => {
                        head = Some(h);
                        let step = self.resolver.on_response(&reply);
                        next = self.advance(step).await;
                    }
                    Reply::AsItCame(reply) => return Ok(Whole::AsItCame(reply)),
                },
            }
        }
    }

    /// A streamed exchange starting with the reply `first`: call [`RoundStream::next`] for the
    /// agent's bytes. `open` sends a round and gives its reply's chunks.
    pub fn stream<S, F, Fut>(self, first: S, open: F) -> RoundStream<S, F>
    where
        S: ChunkSource,
        F: FnMut(Vec<u8>) -> Fut,
        Fut: Future<Output = Result<S, S::Error>>,
    {
        RoundStream {
            rounds: self,
            current: Some(first),
            open,
        }
    }
}

/// A streamed exchange: the agent's bytes, released as the resolver decides, rounds sent when a
/// stream ends in our tool call and their streams continuing the same answer.
pub struct RoundStream<S, F> {
    rounds: Rounds,
    current: Option<S>,
    open: F,
}

impl<S, F, Fut> RoundStream<S, F>
where
    S: ChunkSource,
    F: FnMut(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<S, S::Error>>,
{
    /// The agent's bytes as a stream (for a response body).
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, S::Error>> + Send
    where
        F: Send,
        Fut: Send,
        S::Error: Send,
    {
        futures_util::stream::unfold(self, |mut this| async move {
            let item = this.next().await?;
            Some((item, this))
        })
    }

    /// The agent's next bytes; `None` once the exchange is over. After an error there is nothing
    /// more.
    pub async fn next(&mut self) -> Option<Result<Bytes, S::Error>> {
        loop {
            let current = self.current.as_mut()?;
            match current.next_chunk().await {
                Ok(Some(chunk)) => {
                    let out = self.rounds.resolver.on_sse(&chunk);
                    if !out.is_empty() {
                        return Some(Ok(Bytes::from(out)));
                    }
                }
                Ok(None) => {
                    self.current = None;
                    let step = self.rounds.resolver.on_sse_end();
                    match self.rounds.advance(step).await {
                        Next::Send(body) => match (self.open)(body).await {
                            Ok(next) => self.current = Some(next),
                            Err(error) => return Some(Err(error)),
                        },
                        Next::Done(rest) if rest.is_empty() => return None,
                        Next::Done(rest) => return Some(Ok(Bytes::from(rest))),
                    }
                }
                Err(error) => {
                    self.current = None;
                    return Some(Err(error));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom::store::MemoryStore;

    const HASH: &str = "0123456789abcdef01234567";

    /// Chunks served in order.
    struct Chunks(std::collections::VecDeque<Bytes>);

    impl ChunkSource for Chunks {
        type Error = String;
        async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
            Ok(self.0.pop_front())
        }
    }

    fn chunks(text: &str, size: usize) -> Chunks {
        Chunks(
            text.as_bytes()
                .chunks(size)
                .map(Bytes::copy_from_slice)
                .collect(),
        )
    }

    fn sse(events: &[serde_json::Value]) -> String {
        let mut out: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        out.push_str("data: [DONE]\n\n");
        out
    }

    fn delta(delta: serde_json::Value, finish: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o",
            "choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
    }

    async fn rounds() -> Rounds {
        let store = Arc::new(MemoryStore::default());
        AsyncStore::put(store.as_ref(), "ns", HASH, "ORIGINAL")
            .await
            .unwrap();
        let request =
            br#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        Rounds::new(Resolver::new(request).unwrap(), store, "ns")
    }

    #[tokio::test]
    async fn a_stream_that_asks_is_resolved_and_the_next_stream_continues() {
        let asks = sse(&[
            delta(
                serde_json::json!({"role":"assistant","content":null}),
                serde_json::Value::Null,
            ),
            delta(
                serde_json::json!({"tool_calls":[{"index":0,"id":"h1","type":"function","function":{"name":"headroom_retrieve","arguments":format!("{{\"hash\":\"{HASH}\"}}")}}]}),
                serde_json::Value::Null,
            ),
            delta(serde_json::json!({}), serde_json::json!("tool_calls")),
        ]);
        let answer = sse(&[delta(
            serde_json::json!({"role":"assistant","content":"done"}),
            serde_json::json!("stop"),
        )]);
        for size in [1, 9, 4096] {
            let sent = std::sync::Mutex::new(Vec::new());
            let answer = answer.clone();
            let mut stream = rounds().await.stream(chunks(&asks, size), |body: Vec<u8>| {
                sent.lock().unwrap().push(body);
                let next = chunks(&answer, size);
                async move { Ok(next) }
            });
            let mut to_agent = Vec::new();
            while let Some(bytes) = stream.next().await {
                to_agent.extend_from_slice(&bytes.unwrap());
            }
            assert_eq!(
                String::from_utf8(to_agent).unwrap(),
                answer,
                "cut every {size}"
            );
            let sent = sent.lock().unwrap();
            assert_eq!(sent.len(), 1);
            assert!(String::from_utf8_lossy(&sent[0]).contains("ORIGINAL"));
        }
    }

    #[tokio::test]
    async fn an_error_opening_a_round_ends_the_stream_with_it() {
        let asks = sse(&[delta(
            serde_json::json!({"tool_calls":[{"index":0,"id":"h1","type":"function","function":{"name":"headroom_retrieve","arguments":format!("{{\"hash\":\"{HASH}\"}}")}}]}),
            serde_json::Value::Null,
        )]);
        let mut stream = rounds().await.stream(chunks(&asks, 5), |_| async {
            Err("upstream gone".to_string())
        });
        assert_eq!(stream.next().await, Some(Err("upstream gone".to_string())));
        assert_eq!(stream.next().await, None);
    }

    #[tokio::test]
    async fn read_capped_stops_past_the_limit() {
        let mut source = chunks("abcdefgh", 3);
        assert_eq!(
            read_capped(&mut source, 4).await,
            Ok(Capped::Over(b"abcdef".to_vec()))
        );
        assert_eq!(
            source.next_chunk().await,
            Ok(Some(Bytes::from_static(b"gh"))),
            "the rest stays"
        );
        let mut source = chunks("", 3);
        assert_eq!(
            read_capped(&mut source, 0).await,
            Ok(Capped::Whole(Vec::new()))
        );
    }
}
