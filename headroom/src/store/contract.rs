//! What every store is: the `Store` trait, the limits it honours, the namespace of callers
//! without a tenant.

use super::StoreError;
use std::sync::Arc;
use std::time::Duration;

/// The namespace used when the caller has no tenant of its own.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Keeps originals by (namespace, hash) for a while.
///
/// Putting the same hash again refreshes its time to live. Namespaces never see each other's entries.
///
/// ```
/// use headroom::store::{MemoryStore, Store};
/// let store = MemoryStore::default();
/// store.put("default", "abc", "original text")?;
/// assert_eq!(store.get("default", "abc")?.as_deref(), Some("original text"));
/// assert_eq!(store.get("tenant-b", "abc")?, None);
/// # Ok::<(), headroom::store::StoreError>(())
/// ```
pub trait Store: Send + Sync {
    /// Stores `text` under `hash` in `namespace`, refreshing its time to live.
    fn put(&self, namespace: &str, hash: &str, text: &str) -> Result<(), StoreError>;
    /// The text under `hash` in `namespace`, or `None` if unknown or expired.
    fn get(&self, namespace: &str, hash: &str) -> Result<Option<String>, StoreError>;
}

impl<S: Store + ?Sized> Store for Arc<S> {
    fn put(&self, namespace: &str, hash: &str, text: &str) -> Result<(), StoreError> {
        (**self).put(namespace, hash, text)
    }
    fn get(&self, namespace: &str, hash: &str) -> Result<Option<String>, StoreError> {
        (**self).get(namespace, hash)
    }
}

/// Limits every store honours.
///
/// ```
/// let limits = headroom::store::StoreLimits::default();
/// assert_eq!(limits.ttl.as_secs(), 24 * 3600);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// How long an original stays retrievable after its last put.
    pub ttl: Duration,
    /// The most bytes of originals kept; the oldest go first.
    pub max_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            ttl: Duration::from_secs(24 * 3600),
            max_bytes: 512 * 1024 * 1024,
        }
    }
}
