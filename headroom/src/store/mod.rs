//! Where originals live so the model can get them back: the `Store` trait and its URLs.

mod async_store;
mod clock;
mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
mod threaded;
mod url;

pub use async_store::{lookup_all, persist_all, AsyncStore, StoreFuture};
pub use clock::{Clock, ManualClock, SystemClock};
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use threaded::ThreadedStore;
pub(crate) use url::url_forms_list;
pub use url::{parse_url, StoreUrl, URL_FORMS};

use std::sync::Arc;
use std::time::Duration;

/// The namespace used when the caller has no tenant of its own.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A failure of a store: it is down, full or broken. Unknown hashes are `Ok(None)`, not errors.
///
/// The message says what failed and includes the cause's own words; the cause itself (a
/// `rusqlite::Error`, a `redis::RedisError`, an `io::Error`) is its
/// [`source`](std::error::Error::source), for callers that match on it.
///
/// ```
/// use headroom::store::StoreError;
/// use std::error::Error as _;
/// let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "read-only file system");
/// let err = StoreError::caused_by("cannot create /data/headroom", io);
/// assert_eq!(err.to_string(), "cannot create /data/headroom: read-only file system");
/// assert!(err.source().unwrap().downcast_ref::<std::io::Error>().is_some());
/// assert!(StoreError::new("connection refused").source().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct StoreError {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A failure with no underlying error (a lock poisoned, a thread gone, a test's refusal).
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by `source`: what was being done, then why it failed.
    pub fn caused_by(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// What failed, without the cause.
    ///
    /// ```
    /// let err = headroom::store::StoreError::new("redis: not connected yet");
    /// assert_eq!(err.message(), "redis: not connected yet");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

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

/// Opens a store from a URL: `memory:` or `sqlite:PATH` ([`URL_FORMS`]; Redis is async:
/// [`open_async`]). A URL that is not one of the forms fails before anything is tried.
///
/// ```
/// let store = headroom::store::open("memory:", Default::default())?;
/// store.put("default", "h", "t")?;
/// # Ok::<(), headroom::Error>(())
/// ```
pub fn open(url: &str, limits: StoreLimits) -> Result<Arc<dyn Store>, crate::Error> {
    match parse_url(url)? {
        StoreUrl::Memory => Ok(Arc::new(MemoryStore::new(limits))),
        #[cfg(feature = "sqlite")]
        StoreUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path, limits)?)),
        #[cfg(not(feature = "sqlite"))]
        StoreUrl::Sqlite(_) => Err(crate::Error::Config(
            "sqlite: stores need the `sqlite` feature of the headroom crate".into(),
        )),
        StoreUrl::Redis(_) => Err(crate::Error::Config(format!(
            "{url}: Redis is an async store; open it with store::open_async (feature `redis`)"
        ))),
    }
}

/// Opens a store for async doors from a URL: `memory:`, `sqlite:PATH` or `redis://HOST:PORT[/DB]`
/// (`rediss://` for TLS is not built in). Redis connects here and fails at once if it cannot.
/// SQLite runs on a thread of its own ([`ThreadedStore`]), so its disk work never holds up the
/// async runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), headroom::Error> {
/// let store = headroom::store::open_async("memory:", Default::default()).await?;
/// store.put("tenant-a", "h", "original").await?;
/// assert_eq!(store.get("tenant-a", "h").await?.as_deref(), Some("original"));
/// # Ok(()) }
/// ```
pub async fn open_async(
    url: &str,
    limits: StoreLimits,
) -> Result<Arc<dyn AsyncStore>, crate::Error> {
    let parsed = parse_url(url)?;
    if let StoreUrl::Redis(url) = &parsed {
        #[cfg(feature = "redis")]
        {
            return Ok(Arc::new(RedisStore::connect(url, limits).await?));
        }
        #[cfg(not(feature = "redis"))]
        {
            return Err(crate::Error::Config(format!(
                "{url}: Redis stores need the `redis` feature of the headroom crate"
            )));
        }
    }
    let store = open(url, limits)?;
    if matches!(parsed, StoreUrl::Sqlite(_)) {
        // Disk work goes to a thread of its own, never an async runtime's.
        return Ok(Arc::new(ThreadedStore::new(store)));
    }
    Ok(Arc::new(store))
}

#[cfg(test)]
pub(crate) mod conformance {
    //! One suite every store passes, through the async face every store has (sync stores via the
    //! blanket adapter: run them with [`block_on`]).
    use super::*;

    /// Polls a future of a sync store to completion (its operations never wait).
    pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::yield_now();
        }
    }

    /// Round trips, tenant isolation, look-alike keys, large and non-ASCII text.
    pub async fn run(store: &dyn AsyncStore) {
        store.put("a", "h1", "one").await.unwrap();
        assert_eq!(store.get("a", "h1").await.unwrap().as_deref(), Some("one"));
        assert_eq!(
            store.get("b", "h1").await.unwrap(),
            None,
            "namespaces are isolated"
        );
        assert_eq!(store.get("a", "missing").await.unwrap(), None);
        store.put("a", "h1", "one").await.unwrap();
        assert_eq!(store.get("a", "h1").await.unwrap().as_deref(), Some("one"));
        // A namespace and hash that would collide if simply joined with ':'.
        store.put("t:x", "h", "tenant t:x").await.unwrap();
        assert_eq!(store.get("t", "x:h").await.unwrap(), None);
        store.put("t", "x:h", "tenant t").await.unwrap();
        assert_eq!(
            store.get("t:x", "h").await.unwrap().as_deref(),
            Some("tenant t:x")
        );
        let big = "é".repeat(100_000) + "\0\n\u{1F680}";
        store.put("a", "h2", &big).await.unwrap();
        assert_eq!(
            store.get("a", "h2").await.unwrap().as_deref(),
            Some(big.as_str())
        );
    }

    /// Limits for [`run_ttl`]: a TTL of one second.
    pub fn ttl_limits() -> StoreLimits {
        StoreLimits {
            ttl: Duration::from_millis(1000),
            ..Default::default()
        }
    }

    /// How a TTL test moves a store's time forward: never by sleeping against an expiry.
    pub trait Advance {
        /// Moves the store's time forward by `by`.
        fn advance(&self, by: Duration) -> StoreFuture<'_, ()>;
    }

    /// The time of stores that read a [`ManualClock`].
    #[derive(Debug, Default, Clone)]
    pub struct ManualTime(pub ManualClock);

    impl ManualTime {
        /// The clock to give the store.
        pub fn clock(&self) -> Arc<dyn Clock> {
            Arc::new(self.0.clone())
        }
    }

    impl Advance for ManualTime {
        fn advance(&self, by: Duration) -> StoreFuture<'_, ()> {
            self.0.advance(by);
            Box::pin(async { Ok(()) })
        }
    }

    /// Entries expire after the TTL; putting again refreshes it. `time` moves the store's clock.
    pub async fn run_ttl(store: &dyn AsyncStore, ttl: Duration, time: &dyn Advance) {
        let step = |tenths: u32| ttl * tenths / 10;
        store.put("a", "h", "x").await.unwrap();
        store.put("a", "other", "y").await.unwrap();
        time.advance(step(6)).await.unwrap();
        store.put("a", "h", "x").await.unwrap(); // refresh
        time.advance(step(6)).await.unwrap();
        assert_eq!(
            store.get("a", "h").await.unwrap().as_deref(),
            Some("x"),
            "put refreshes the TTL"
        );
        assert_eq!(store.get("a", "other").await.unwrap(), None, "expired");
        time.advance(step(5)).await.unwrap();
        assert_eq!(store.get("a", "h").await.unwrap(), None, "expired");
    }

    /// An entry is kept through its whole TTL and gone a millisecond later (stores whose time a
    /// [`ManualClock`] gives exactly).
    pub async fn run_ttl_edge(store: &dyn AsyncStore, ttl: Duration, time: &ManualTime) {
        store.put("edge", "h", "x").await.unwrap();
        time.advance(ttl).await.unwrap();
        assert!(
            store.get("edge", "h").await.unwrap().is_some(),
            "kept at exactly the TTL"
        );
        time.advance(Duration::from_millis(1)).await.unwrap();
        assert_eq!(store.get("edge", "h").await.unwrap(), None, "gone past it");
    }

    /// Limits for [`run_byte_cap`]: room for 100 bytes.
    pub fn cap_limits() -> StoreLimits {
        StoreLimits {
            max_bytes: 100,
            ..Default::default()
        }
    }

    /// Over the byte cap the oldest entries go, across namespaces; a refresh is not counted twice.
    /// Needs [`cap_limits`].
    pub async fn run_byte_cap(store: &dyn AsyncStore) {
        store.put("a", "old", &"x".repeat(60)).await.unwrap();
        store.put("a", "old", &"x".repeat(60)).await.unwrap();
        store.put("b", "small", &"z".repeat(30)).await.unwrap();
        assert!(
            store.get("a", "old").await.unwrap().is_some(),
            "90 bytes fit in 100"
        );
        store.put("a", "new", &"y".repeat(60)).await.unwrap();
        assert_eq!(
            store.get("a", "old").await.unwrap(),
            None,
            "oldest evicted over the cap"
        );
        assert!(store.get("b", "small").await.unwrap().is_some());
        assert!(store.get("a", "new").await.unwrap().is_some());
        store.put("a", "huge", &"w".repeat(500)).await.unwrap();
        assert!(
            store.get("a", "huge").await.unwrap().is_some(),
            "the newest entry stays even alone over the cap"
        );
        assert_eq!(store.get("a", "new").await.unwrap(), None);
    }
}
