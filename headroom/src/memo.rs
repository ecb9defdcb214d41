//! One byte-bounded memo of segment results and token counts, shared by every door of a process.
//!
//! An agent re-sends its whole conversation every turn; almost all of it was seen before. The memo
//! keeps each message as read (by the digest of its exact bytes), and for each segment already
//! compressed the compressor's result and the segment's token count, so a re-sent history costs
//! hashing and look-ups. Keys are BLAKE3 digests of everything a
//! result depends on (the exact text, the config's fingerprint, the question, the tokenizer, the hash
//! its markers carry, the tool call), so two different inputs never share an entry. The bound is in
//! bytes of kept text; the eviction policy is quick_cache's (S3-FIFO, an LRU refinement that keeps
//! entries hit more than once over ones seen once).

mod key;

use crate::compress::Compression;
use crate::conversation::MessageView;
pub(crate) use key::{Key, KeyBuilder};
use std::sync::{Arc, LazyLock};

/// The bound of the process-wide memo every engine uses unless given its own.
pub const DEFAULT_MEMO_BYTES: usize = 64 * 1024 * 1024;

/// A memo of segment results and token counts, bounded in bytes. Engines share the process-wide
/// one ([`Memo::process`]) unless built with their own (`Headroom::builder().memo(…)`), which is
/// how a test keeps its results to itself.
///
/// ```
/// use headroom::{Headroom, Memo};
/// use std::sync::Arc;
/// let memo = Arc::new(Memo::new(1 << 20));
/// let hr = Headroom::builder().memo(memo.clone()).build()?;
/// hr.compress_json(br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)?;
/// assert!(memo.len() > 0, "the token count of the user turn is remembered");
/// memo.clear();
/// assert_eq!(memo.len(), 0);
/// # Ok::<(), headroom::Error>(())
/// ```
pub struct Memo {
    cache: Option<quick_cache::sync::Cache<Key, Entry, Weight>>,
    max_bytes: usize,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("max_bytes", &self.max_bytes)
            .field("entries", &self.len())
            .field("bytes", &self.bytes())
            .finish()
    }
}

#[derive(Clone)]
enum Entry {
    Tokens(usize),
    /// A message read on its own (spans from its first byte).
    Message(Arc<MessageView>),
    /// An evicted run's marker message.
    Run(Arc<RunMarker>),
    /// The detected content type's name and the compressor's result.
    Compression(&'static str, Option<Arc<Kept>>),
}

/// A compressor's result as the engine splices it: the result, and its text as a JSON string
/// literal (written once, so a re-sent segment costs a copy, not an escape).
#[derive(Debug, PartialEq)]
pub(crate) struct Kept {
    pub compression: Compression,
    /// `compression.text` as a JSON string literal, quotes included.
    pub literal: String,
}

impl Kept {
    /// `compression` with its literal.
    pub(crate) fn new(compression: Compression) -> Kept {
        Kept {
            literal: serde_json::to_string(&compression.text).expect("strings serialize"),
            compression,
        }
    }
}

/// A remembered segment result: the detected content type's name, and what its compressor offered.
pub(crate) type Remembered = (&'static str, Option<Arc<Kept>>);

/// An entry's weight: the bytes it holds, plus a fixed overhead for the key and the slot.
#[derive(Clone, Copy)]
struct Weight;

const ENTRY_OVERHEAD: u64 = 64;

impl quick_cache::Weighter<Key, Entry> for Weight {
    fn weight(&self, _: &Key, entry: &Entry) -> u64 {
        ENTRY_OVERHEAD
            + match entry {
                Entry::Tokens(_) => 0,
                Entry::Message(view) => view.text_bytes() as u64,
                Entry::Run(run) => (run.hash.len() + run.message_json.len()) as u64,
                Entry::Compression(_, None) => 0,
                Entry::Compression(_, Some(kept)) => {
                    let c = &kept.compression;
                    (c.text.len()
                        + kept.literal.len()
                        + c.transforms.iter().map(String::len).sum::<usize>())
                        as u64
                }
            }
    }
}

impl Memo {
    /// A memo holding at most `max_bytes` (0: remembers nothing).
    pub fn new(max_bytes: usize) -> Memo {
        let cache = (max_bytes > 0).then(|| {
            // quick_cache sizes its shards from an item estimate: one per ~2 KB is typical here.
            let items = (max_bytes / 2048).clamp(16, 1 << 20);
            quick_cache::sync::Cache::with_weighter(items, max_bytes as u64, Weight)
        });
        Memo { cache, max_bytes }
    }

    /// A memo that remembers nothing (every result computed afresh, e.g. to time cold runs).
    ///
    /// ```
    /// assert_eq!(headroom::Memo::disabled().max_bytes(), 0);
    /// ```
    pub fn disabled() -> Memo {
        Memo::new(0)
    }

    /// The memo of every engine built without one: one per process, [`DEFAULT_MEMO_BYTES`] large.
    ///
    /// ```
    /// use std::sync::Arc;
    /// assert!(Arc::ptr_eq(&headroom::Memo::process(), &headroom::Memo::process()));
    /// ```
    pub fn process() -> Arc<Memo> {
        static MEMO: LazyLock<Arc<Memo>> =
            LazyLock::new(|| Arc::new(Memo::new(DEFAULT_MEMO_BYTES)));
        MEMO.clone()
    }

    /// The bound it was made with.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.len())
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held (kept text plus a fixed overhead per entry); never above [`Memo::max_bytes`].
    pub fn bytes(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.weight() as usize)
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// The token count of a text whose digest is `digest`, counting it on a miss.
    pub(crate) fn tokens(&self, key: Key, count: impl FnOnce() -> usize) -> usize {
        let Some(cache) = &self.cache else {
            return count();
        };
        if let Some(Entry::Tokens(n)) = cache.get(&key) {
            return n;
        }
        let n = count();
        cache.insert(key, Entry::Tokens(n));
        n
    }

    /// Like [`Memo::tokens`] for a count that may give up (the deadline): only a count made is
    /// remembered.
    pub(crate) fn try_tokens(
        &self,
        key: Key,
        count: impl FnOnce() -> Option<usize>,
    ) -> Option<usize> {
        let Some(cache) = &self.cache else {
            return count();
        };
        if let Some(Entry::Tokens(n)) = cache.get(&key) {
            return Some(n);
        }
        let n = count()?;
        cache.insert(key, Entry::Tokens(n));
        Some(n)
    }

    /// The view of a message (`kind`: of which protocol, e.g. `b"chat message"`) whose exact bytes
    /// are `raw`, read by `read` on a miss (`None`: not a message; nothing remembered). The view
    /// carries its key.
    pub(crate) fn message(
        &self,
        kind: &[u8],
        raw: &str,
        read: impl FnOnce() -> Option<Arc<MessageView>>,
    ) -> Option<Arc<MessageView>> {
        let Some(cache) = &self.cache else {
            return read();
        };
        let key = KeyBuilder::new(kind).part(raw.as_bytes()).finish();
        if let Some(Entry::Message(view)) = cache.get(&key) {
            return Some(view);
        }
        let mut view = read()?;
        Arc::make_mut(&mut view).key = Some(key);
        cache.insert(key, Entry::Message(view.clone()));
        Some(view)
    }

    /// The marker message of an evicted run, made by `make` on a miss.
    pub(crate) fn run(&self, key: Key, make: impl FnOnce() -> RunMarker) -> Arc<RunMarker> {
        let Some(cache) = &self.cache else {
            return Arc::new(make());
        };
        if let Some(Entry::Run(run)) = cache.get(&key) {
            return run;
        }
        let run = Arc::new(make());
        cache.insert(key, Entry::Run(run.clone()));
        run
    }

    /// A remembered segment result, if any.
    pub(crate) fn compression(&self, key: Key) -> Option<Remembered> {
        match self.cache.as_ref()?.get(&key) {
            Some(Entry::Compression(kind, c)) => Some((kind, c)),
            _ => None,
        }
    }

    /// Remembers a segment result (callers never remember work cut short by the deadline).
    pub(crate) fn remember(&self, key: Key, result: Remembered) {
        if let Some(cache) = &self.cache {
            cache.insert(key, Entry::Compression(result.0, result.1));
        }
    }
}

/// What an evicted run's marker message is, remembered by the keys of the messages it holds.
#[derive(Debug)]
pub(crate) struct RunMarker {
    /// The hash of the run's original (its messages' exact bytes as a JSON array).
    pub hash: String,
    /// The `user` message that replaces the run.
    pub message_json: String,
    /// Its tokens.
    pub tokens: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compression(text: &str) -> Option<Arc<Kept>> {
        Some(Arc::new(Kept::new(Compression {
            text: text.into(),
            tokens: 1,
            transforms: vec!["t".into()],
            lossy: false,
        })))
    }

    #[test]
    fn keys_of_different_parts_differ() {
        let a = KeyBuilder::new(b"k").part(b"ab").part(b"c").finish();
        let b = KeyBuilder::new(b"k").part(b"a").part(b"bc").finish();
        assert_ne!(a, b);
        assert_eq!(a, KeyBuilder::new(b"k").part(b"ab").part(b"c").finish());
    }

    #[test]
    fn remembers_counts_and_results() {
        let memo = Memo::new(1 << 20);
        let key = KeyBuilder::new(b"tokens").part(b"hello").finish();
        assert_eq!(memo.tokens(key, || 7), 7);
        assert_eq!(memo.tokens(key, || unreachable!("counted twice")), 7);
        let seg = KeyBuilder::new(b"segment").part(b"hello").finish();
        assert!(memo.compression(seg).is_none());
        memo.remember(seg, ("json", compression("h")));
        let kept = memo.compression(seg).unwrap().1.unwrap();
        assert_eq!(kept.compression.text, "h");
        assert_eq!(
            kept.literal, "\"h\"",
            "the literal is the text's JSON string"
        );
        memo.remember(seg, ("text", None));
        assert_eq!(memo.compression(seg), Some(("text", None)));
    }

    #[test]
    fn stays_within_its_byte_bound() {
        let memo = Memo::new(64 * 1024);
        for i in 0..200 {
            let key = KeyBuilder::new(b"segment").part(&[i]).finish();
            memo.remember(key, ("text", compression(&"x".repeat(4096))));
            assert!(memo.bytes() <= memo.max_bytes(), "{} bytes", memo.bytes());
        }
        assert!(memo.len() < 200, "old entries went");
    }

    #[test]
    fn a_disabled_memo_remembers_nothing() {
        let memo = Memo::disabled();
        let key = KeyBuilder::new(b"tokens").finish();
        assert_eq!(memo.tokens(key, || 1), 1);
        assert_eq!(memo.tokens(key, || 2), 2);
        memo.remember(key, ("text", None));
        assert!(memo.compression(key).is_none() && memo.is_empty());
    }
}
