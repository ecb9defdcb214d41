//! Where originals live so the model can get them back: the `Store` trait and its URLs.

mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use std::sync::Arc;
use std::time::Duration;

/// The namespace used when the caller has no tenant of its own.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A failure of a store: it is down, full or broken. Unknown hashes are `Ok(None)`, not errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

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

/// Opens a store from a URL: `memory:` or `sqlite:PATH`.
///
/// ```
/// let store = headroom::store::open("memory:", Default::default())?;
/// store.put("default", "h", "t")?;
/// # Ok::<(), headroom::Error>(())
/// ```
pub fn open(url: &str, limits: StoreLimits) -> Result<Arc<dyn Store>, crate::Error> {
    if url == "memory:" || url == "memory" {
        return Ok(Arc::new(MemoryStore::new(limits)));
    }
    if let Some(path) = url.strip_prefix("sqlite:") {
        #[cfg(feature = "sqlite")]
        {
            let path = path.strip_prefix("//").unwrap_or(path);
            return Ok(Arc::new(SqliteStore::open(path, limits)?));
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = path;
            return Err(crate::Error::Config(
                "sqlite: stores need the `sqlite` feature of the headroom crate".into(),
            ));
        }
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        return Err(crate::Error::Config(format!(
            "{url}: Redis is an async store; open it with the `redis` feature's async API"
        )));
    }
    Err(crate::Error::Config(format!(
        "unknown store URL {url:?}; use memory:, sqlite:PATH or redis://HOST:PORT[/DB]"
    )))
}

#[cfg(test)]
pub(crate) mod conformance {
    //! One suite every store passes.
    use super::*;

    pub fn run(store: &dyn Store) {
        store.put("a", "h1", "one").unwrap();
        assert_eq!(store.get("a", "h1").unwrap().as_deref(), Some("one"));
        assert_eq!(
            store.get("b", "h1").unwrap(),
            None,
            "namespaces are isolated"
        );
        assert_eq!(store.get("a", "missing").unwrap(), None);
        store.put("a", "h1", "one").unwrap();
        assert_eq!(store.get("a", "h1").unwrap().as_deref(), Some("one"));
        let big = "é".repeat(10_000);
        store.put("a", "h2", &big).unwrap();
        assert_eq!(store.get("a", "h2").unwrap().as_deref(), Some(big.as_str()));
    }

    pub fn run_ttl(make: impl Fn(StoreLimits) -> Box<dyn Store>) {
        let store = make(StoreLimits {
            ttl: Duration::from_millis(300),
            ..Default::default()
        });
        store.put("a", "h", "x").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        store.put("a", "h", "x").unwrap(); // refresh
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            store.get("a", "h").unwrap().as_deref(),
            Some("x"),
            "put refreshes the TTL"
        );
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(store.get("a", "h").unwrap(), None, "expired");
    }

    pub fn run_byte_cap(make: impl Fn(StoreLimits) -> Box<dyn Store>) {
        let store = make(StoreLimits {
            max_bytes: 100,
            ..Default::default()
        });
        store.put("a", "old", &"x".repeat(60)).unwrap();
        store.put("a", "new", &"y".repeat(60)).unwrap();
        assert_eq!(
            store.get("a", "old").unwrap(),
            None,
            "oldest evicted over the cap"
        );
        assert!(store.get("a", "new").unwrap().is_some());
    }
}
