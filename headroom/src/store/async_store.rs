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
/// SQLite, a local file).
///
/// ```
/// use headroom::store::{AsyncStore, MemoryStore};
/// # futures_lite_block_on(async {
/// let store = MemoryStore::default();
/// AsyncStore::put(&store, "tenant-a", "h", "original").await?;
/// assert_eq!(AsyncStore::get(&store, "tenant-a", "h").await?.as_deref(), Some("original"));
/// assert_eq!(AsyncStore::get(&store, "tenant-b", "h").await?, None);
/// # Ok::<(), headroom::store::StoreError>(())
/// # }).unwrap();
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
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
/// use headroom::store::{lookup_all, MemoryStore, Store};
/// let store = MemoryStore::default();
/// store.put("ns", "a", "A")?;
/// let hashes = vec!["a".to_string(), "b".to_string()];
/// let found = pollster_block_on(lookup_all(&store, "ns", &hashes));
/// assert_eq!(found[0].as_ref().unwrap().as_deref(), Some("A"));
/// assert_eq!(found[1].as_ref().unwrap(), &None);
/// # Ok::<(), headroom::store::StoreError>(())
/// # fn pollster_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
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
/// let store = MemoryStore::default();
/// let originals = vec![Original { hash: "h".into(), text: "t".into() }];
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// let mut fut = std::pin::pin!(persist_all(&store, "ns", &originals));
/// assert!(matches!(fut.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(()))));
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
