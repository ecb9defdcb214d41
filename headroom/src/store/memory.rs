//! An in-process store: fast, lost on restart.

use super::{Store, StoreError, StoreLimits};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

/// Originals in memory, with a TTL refreshed on every put and a byte cap (oldest first out).
///
/// ```
/// use headroom::store::{MemoryStore, Store};
/// let store = MemoryStore::default();
/// store.put("default", "h", "text").unwrap();
/// assert!(store.get("default", "h").unwrap().is_some());
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    limits: StoreLimits,
    inner: Mutex<Inner>,
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
    stored_at: Instant,
    seq: u64,
}

impl MemoryStore {
    /// An empty store with these limits.
    pub fn new(limits: StoreLimits) -> Self {
        MemoryStore {
            limits,
            inner: Mutex::default(),
        }
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
            .map_err(|_| StoreError("memory store lock poisoned".into()))?;
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
                stored_at: Instant::now(),
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
            .map_err(|_| StoreError("memory store lock poisoned".into()))?;
        let key = (namespace.to_string(), hash.to_string());
        match inner.entries.get(&key) {
            Some(e) if e.stored_at.elapsed() <= self.limits.ttl => Ok(Some(e.text.clone())),
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
        use conformance::{block_on, cap_limits, ttl_limits};
        block_on(conformance::run(&MemoryStore::default()));
        block_on(conformance::run_ttl(&MemoryStore::new(ttl_limits())));
        block_on(conformance::run_byte_cap(&MemoryStore::new(cap_limits())));
    }
}
