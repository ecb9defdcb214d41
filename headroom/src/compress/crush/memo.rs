//! A bounded memo of JSON compressions, so a re-sent history gets the same bytes without the work.

use crate::compress::{Compression, SegmentContext};
use crate::marker::segment_hash;
use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex};

/// (hash of the text compressed, fingerprint of config + question + output constraints + tokenizer
/// + the hash its markers carry).
type Key = (String, u64);

/// The memo's bound in bytes of kept text, whatever the entry count (lossless forms can be large).
const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
struct Memo {
    entries: HashMap<Key, Option<Compression>>,
    /// Insertion order: the oldest entry goes first when the memo is full.
    order: VecDeque<Key>,
    /// Bytes of text held.
    bytes: usize,
}

fn size(entry: &Option<Compression>) -> usize {
    entry.as_ref().map_or(0, |c| c.text.len())
}

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(Mutex::default);

/// The memoized result of `compute` for this segment and context, computing it on a miss.
/// Holds at most `ctx.config.crush.cache_entries` results (0: no memo) and 32 MiB of text.
pub(crate) fn remember(
    text: &str,
    ctx: &SegmentContext<'_>,
    compute: impl FnOnce() -> Option<Compression>,
) -> Option<Compression> {
    let capacity = ctx.config.crush.cache_entries;
    if capacity == 0 {
        return compute();
    }
    let key = key(text, ctx);
    if let Some(hit) = lock().entries.get(&key) {
        return hit.clone();
    }
    let result = compute();
    if ctx.out_of_time() {
        // A compressor that ran out of time may have given up early: never remember that.
        return result;
    }
    let mut memo = lock();
    let bytes = size(&result);
    if !memo.entries.contains_key(&key) && bytes <= MAX_BYTES {
        while memo.order.len() >= capacity || memo.bytes + bytes > MAX_BYTES {
            let Some(old) = memo.order.pop_front() else {
                break;
            };
            let freed = memo.entries.remove(&old).as_ref().map_or(0, size);
            memo.bytes -= freed;
        }
        memo.order.push_back(key.clone());
        memo.entries.insert(key, result.clone());
        memo.bytes += bytes;
    }
    result
}

fn lock() -> std::sync::MutexGuard<'static, Memo> {
    // A panic elsewhere while holding the lock leaves a memo that is still consistent enough to use.
    MEMO.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The key of a result: the hash of the exact text compressed (never the enclosing segment's: two
/// JSON blocks of one prose segment are two entries), plus everything else the result depends on.
fn key(text: &str, ctx: &SegmentContext<'_>) -> Key {
    let mut hasher = DefaultHasher::new();
    format!("{:?}", ctx.config).hash(&mut hasher);
    ctx.question.hash(&mut hasher);
    ctx.json_only.hash(&mut hasher);
    ctx.counter.name().hash(&mut hasher);
    // Markers carry the segment's hash: the same text in two segments gets two different results.
    ctx.hash.hash(&mut hasher);
    (segment_hash(text), hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use std::cell::Cell;

    #[test]
    fn second_call_is_served_from_the_memo() {
        let config = Config::default();
        let ctx = SegmentContext::new(&config, crate::tokens::counter_for_model("gpt-4o"))
            .with_question("memo test question");
        let calls = Cell::new(0);
        let compute = || {
            calls.set(calls.get() + 1);
            Some(Compression::lossless("[1]".into(), "t", &ctx))
        };
        let first = remember("[ 1 ] memo test", &ctx, compute);
        let second = remember("[ 1 ] memo test", &ctx, compute);
        assert_eq!(first, second);
        assert_eq!(calls.get(), 1);
        let other = ctx.clone().with_question("another question");
        remember("[ 1 ] memo test", &other, compute);
        assert_eq!(calls.get(), 2, "the question is part of the key");
    }

    #[test]
    fn two_texts_of_equal_length_in_one_segment_are_two_entries() {
        let config = Config::default();
        let ctx = SegmentContext::new(&config, crate::tokens::counter_for_model("gpt-4o"))
            .with_question("equal length")
            .with_hash("0123456789abcdef01234567");
        let open = remember(r#"{"status": "open", "n": 1}"#, &ctx, || {
            Some(Compression::lossless("open".into(), "t", &ctx))
        });
        let done = remember(r#"{"status": "done", "n": 2}"#, &ctx, || {
            Some(Compression::lossless("done".into(), "t", &ctx))
        });
        assert_eq!(open.unwrap().text, "open");
        assert_eq!(done.unwrap().text, "done", "not the first block's result");
    }

    #[test]
    fn memo_stays_bounded() {
        let mut config = Config::default();
        config.crush.cache_entries = 3;
        let ctx = SegmentContext::new(&config, crate::tokens::counter_for_model("gpt-4o"))
            .with_question("bounded memo");
        for i in 0..10 {
            remember(&format!("[{i}] bounded"), &ctx, || None);
        }
        let calls = Cell::new(0);
        remember("[0] bounded", &ctx, || {
            calls.set(1);
            None
        });
        assert_eq!(calls.get(), 1, "the oldest entries were evicted");
        assert!(lock().order.len() <= Config::default().crush.cache_entries);
    }

    #[test]
    fn results_over_the_byte_bound_are_not_kept() {
        let config = Config::default();
        let ctx = SegmentContext::new(&config, crate::tokens::counter_for_model("gpt-4o"))
            .with_question("byte bound");
        let calls = Cell::new(0);
        let huge = || {
            calls.set(calls.get() + 1);
            Some(Compression {
                text: "x".repeat(MAX_BYTES + 1),
                tokens: 1,
                transforms: Vec::new(),
                lossy: false,
            })
        };
        remember("[ 2 ] byte bound", &ctx, huge);
        remember("[ 2 ] byte bound", &ctx, huge);
        assert_eq!(calls.get(), 2);
        assert!(lock().bytes <= MAX_BYTES);
    }
}
