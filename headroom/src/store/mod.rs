//! Where originals live so the model can get them back: the `Store` trait and its URLs.

mod async_store;
mod clock;
mod contract;
mod error;
mod memory;
mod open;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
mod threaded;
mod url;
mod url_forms;

pub use async_store::{lookup_all, persist_all, AsyncStore, StoreFuture};
pub use clock::{Clock, ManualClock, SystemClock};
pub use contract::{Store, StoreLimits, DEFAULT_NAMESPACE};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use open::{open, open_async};
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use threaded::ThreadedStore;
pub use url::{parse_url, StoreUrl};
pub(crate) use url_forms::url_forms_list;
pub use url_forms::URL_FORMS;

#[cfg(test)]
pub(crate) mod conformance {
    //! One suite every store passes, through the async face every store has (sync stores via the
    //! blanket adapter: run them with [`block_on`]).
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

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
