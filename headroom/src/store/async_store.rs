//! The async face of every store: Redis natively, the sync stores through a blanket adapter.

use super::{Store, StoreError};
use std::future::Future;
use std::pin::Pin;

/// A boxed future of a store operation (boxed so `dyn AsyncStore` works behind an `Arc`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Keeps originals by (namespace, hash) for a while, for async doors.
///
/// The contract is [`Store`]'s: putting the same hash again refreshes its time to live, and
/// namespaces never see each other's entries. Every sync [`Store`] is an `AsyncStore` too; its
/// operations run inline when the future is polled (memory and SQLite are quick: a lock and, for
/// SQLite, a local file). With both traits in scope, call through the trait you mean
/// (`AsyncStore::get(&store, …)`).
///
/// ```
/// use headroom::store::{AsyncStore, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), headroom::store::StoreError> {
/// let store = MemoryStore::default();
/// AsyncStore::put(&store, "tenant-a", "h", "original").await?;
/// assert_eq!(AsyncStore::get(&store, "tenant-a", "h").await?.as_deref(), Some("original"));
/// assert_eq!(AsyncStore::get(&store, "tenant-b", "h").await?, None);
/// # Ok(()) }
/// ```
pub trait AsyncStore: Send + Sync {
    /// Stores `text` under `hash` in `namespace`, refreshing its time to live.
    fn put<'a>(&'a self, namespace: &'a str, hash: &'a str, text: &'a str) -> StoreFuture<'a, ()>;
    /// The text under `hash` in `namespace`, or `None` if unknown or expired.
    fn get<'a>(&'a self, namespace: &'a str, hash: &'a str) -> StoreFuture<'a, Option<String>>;
}

impl<S: Store + ?Sized> AsyncStore for S {
    fn put<'a>(&'a self, namespace: &'a str, hash: &'a str, text: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { Store::put(self, namespace, hash, text) })
    }
    fn get<'a>(&'a self, namespace: &'a str, hash: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move { Store::get(self, namespace, hash) })
    }
}

/// Looks every hash up in `namespace`, in order: the results [`crate::resolver::Resolver::resume`]
/// takes after a [`crate::resolver::Step::Lookup`].
///
/// ```
/// use headroom::store::{lookup_all, AsyncStore, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), headroom::store::StoreError> {
/// let store = MemoryStore::default();
/// AsyncStore::put(&store, "ns", "a", "A").await?;
/// let found = lookup_all(&store, "ns", &["a".to_string(), "b".to_string()]).await;
/// assert_eq!(found[0].as_ref().unwrap().as_deref(), Some("A"));
/// assert_eq!(found[1].as_ref().unwrap(), &None);
/// # Ok(()) }
/// ```
pub async fn lookup_all(
    store: &(impl AsyncStore + ?Sized),
    namespace: &str,
    hashes: &[String],
) -> Vec<Result<Option<String>, StoreError>> {
    let mut found = Vec::with_capacity(hashes.len());
    for hash in hashes {
        found.push(store.get(namespace, hash).await);
    }
    found
}

/// Stores every original under `namespace`; stops at the first failure (the door then falls back to
/// lossless compression, which needs no store).
///
/// ```
/// use headroom::store::{persist_all, AsyncStore, MemoryStore};
/// use headroom::Original;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), headroom::store::StoreError> {
/// let store = MemoryStore::default();
/// persist_all(&store, "ns", &[Original { hash: "h".into(), text: "t".into() }]).await?;
/// assert_eq!(AsyncStore::get(&store, "ns", "h").await?.as_deref(), Some("t"));
/// # Ok(()) }
/// ```
pub async fn persist_all(
    store: &(impl AsyncStore + ?Sized),
    namespace: &str,
    originals: &[crate::Original],
) -> Result<(), StoreError> {
    for original in originals {
        store.put(namespace, &original.hash, &original.text).await?;
    }
    Ok(())
}
