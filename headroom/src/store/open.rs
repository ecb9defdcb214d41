//! Opening a store from its URL, for sync and async doors.

#[cfg(feature = "redis")]
use super::RedisStore;
#[cfg(feature = "sqlite")]
use super::SqliteStore;
use super::{parse_url, AsyncStore, MemoryStore, Store, StoreLimits, StoreUrl, ThreadedStore};
use std::sync::Arc;

/// Opens a store from a URL: `memory:` or `sqlite:PATH` ([`URL_FORMS`](super::URL_FORMS); Redis is async:
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
/// SQLite runs on a thread of its own ([`ThreadedStore`](super::ThreadedStore)), so its disk work never holds up the
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
