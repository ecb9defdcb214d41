//! Messages compressed on two threads at once (`Config::parallel_messages`): a request's messages
//! are independent, so a second core shortens the wall-clock time of a request with several large
//! tool results. The bytes sent are the same either way; the CPU time is not lower.

use super::segments::{Compressing, MessageOutcome, PreparedMessage};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Segment bytes a request needs before a second thread pays for itself (starting one costs tens
/// of microseconds; a 64 KB segment takes a few milliseconds).
const PARALLEL_MIN_BYTES: usize = 64 * 1024;

/// Threads that compress one request's messages, at most: bounded, so concurrent requests (the
/// proxy's pool) do not multiply their threads past the machine.
const MAX_THREADS: usize = 2;

/// Every message's outcome at level 0, in order: on this thread alone, or on this one and one
/// more when `parallel` and the request has two messages with text and enough bytes of it.
pub(super) fn outcomes(
    compressing: &Compressing<'_>,
    prepared: &[PreparedMessage<'_>],
    parallel: bool,
) -> Vec<MessageOutcome> {
    // The text each message carries, in bytes.
    let sizes: Vec<usize> = prepared
        .iter()
        .map(|m| m.segments.iter().map(|s| s.text_len()).sum())
        .collect();
    let busy = sizes.iter().filter(|&&size| size > 0).count();
    if !parallel || busy < 2 || sizes.iter().sum::<usize>() < PARALLEL_MIN_BYTES {
        return prepared.iter().map(|m| compressing.message(m, 0)).collect();
    }
    // Largest first, each thread taking the next message it can: the work evens out.
    let mut order: Vec<usize> = (0..prepared.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<MessageOutcome>>> =
        Mutex::new((0..prepared.len()).map(|_| None).collect());
    let work = || {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let outcome = compressing.message(&prepared[i], 0);
            results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..MAX_THREADS {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .zip(prepared)
        // Every index was taken by a thread; a slot left empty would be a bug, compressed here.
        .map(|(outcome, m)| outcome.unwrap_or_else(|| compressing.message(m, 0)))
        .collect()
}
