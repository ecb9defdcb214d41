//! An in-process store: fast, lost on restart.

use super::clock::{self, Clock};
use super::{Store, StoreError, StoreLimits};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Originals in memory, with a TTL refreshed on every put and a byte cap (oldest first out).
///
/// ```
/// use headroom::store::{MemoryStore, Store};
/// let store = MemoryStore::default();
/// store.put("default", "h", "text").unwrap();
/// assert!(store.get("default", "h").unwrap().is_some());
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    limits: StoreLimits,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(StoreLimits::default())
    }
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<(String, String), Entry>,
    /// Put order, for eviction: sequence → key.
    order: BTreeMap<u64, (String, String)>,
    next_seq: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Entry {
    text: String,
    /// The clock's time at the last put.
    stored_at: Duration,
    seq: u64,
}

impl MemoryStore {
    /// An empty store with these limits.
    pub fn new(limits: StoreLimits) -> Self {
        MemoryStore {
            limits,
            clock: clock::system(),
            inner: Mutex::default(),
        }
    }

    /// The same store reading `clock` instead of the system's (a [`ManualClock`] in TTL tests).
    ///
    /// [`ManualClock`]: super::ManualClock
    ///
    /// ```
    /// use headroom::store::{ManualClock, MemoryStore, Store};
    /// use std::sync::Arc;
    /// let store = MemoryStore::default().with_clock(Arc::new(ManualClock::default()));
    /// store.put("default", "h", "text")?;
    /// assert!(store.get("default", "h")?.is_some());
    /// # Ok::<(), headroom::store::StoreError>(())
    /// ```
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl Inner {
    fn remove(&mut self, key: &(String, String)) {
        if let Some(old) = self.entries.remove(key) {
            self.order.remove(&old.seq);
            self.bytes -= old.text.len();
        }
    }
}

impl Store for MemoryStore {
    fn put(&self, namespace: &str, hash: &str, text: &str) -> Result<(), StoreError> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::new("memory store lock poisoned"))?;
        let key = (namespace.to_string(), hash.to_string());
        inner.remove(&key);
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.bytes += text.len();
        inner.order.insert(seq, key.clone());
        inner.entries.insert(
            key,
            Entry {
                text: text.to_string(),
                stored_at: self.clock.now(),
                seq,
            },
        );
        while inner.bytes > self.limits.max_bytes && inner.order.len() > 1 {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            inner.remove(&oldest);
        }
        Ok(())
    }

    fn get(&self, namespace: &str, hash: &str) -> Result<Option<String>, StoreError> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::new("memory store lock poisoned"))?;
        let key = (namespace.to_string(), hash.to_string());
        let now = self.clock.now();
        match inner.entries.get(&key) {
            Some(e) if now.saturating_sub(e.stored_at) <= self.limits.ttl => {
                Ok(Some(e.text.clone()))
            }
            Some(_) => {
                inner.remove(&key);
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    #[test]
    fn conforms() {
        use conformance::{block_on, cap_limits, ttl_limits, ManualTime};
        block_on(conformance::run(&MemoryStore::default()));
        let time = ManualTime::default();
        let store = MemoryStore::new(ttl_limits()).with_clock(time.clock());
        block_on(conformance::run_ttl(&store, ttl_limits().ttl, &time));
        block_on(conformance::run_ttl_edge(&store, ttl_limits().ttl, &time));
        block_on(conformance::run_byte_cap(&MemoryStore::new(cap_limits())));
    }
}
