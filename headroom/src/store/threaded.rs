//! A blocking store behind a thread of its own, for async doors: its disk work never runs on (or
//! holds up) an async runtime's threads, so health checks and pass-through traffic never wait on it.

use super::{AsyncStore, Store, StoreError, StoreFuture};
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

type Job = Box<dyn FnOnce(&dyn Store) + Send>;

/// A sync [`Store`] whose calls run, in order, on one dedicated thread; each call's future waits
/// for its result without blocking the caller's thread.
///
/// ```
/// use headroom::store::{AsyncStore, MemoryStore, ThreadedStore};
/// use std::sync::Arc;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), headroom::store::StoreError> {
/// let store = ThreadedStore::new(Arc::new(MemoryStore::default()));
/// store.put("ns", "h", "original").await?;
/// assert_eq!(store.get("ns", "h").await?.as_deref(), Some("original"));
/// # Ok(()) }
/// ```
pub struct ThreadedStore {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for ThreadedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadedStore").finish_non_exhaustive()
    }
}

impl ThreadedStore {
    /// Starts the store's thread; it ends when the `ThreadedStore` is dropped.
    pub fn new(store: Arc<dyn Store>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("headroom-store".into())
            .spawn(move || {
                for job in queue {
                    job(store.as_ref());
                }
            })
            .expect("the store thread starts");
        ThreadedStore { jobs }
    }

    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Reply<T> {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let filled = slot.clone();
        let job: Job = Box::new(move |store| {
            // A panic in the store becomes an error for this call; the thread goes on.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(store)))
                .unwrap_or_else(|_| Err(StoreError::new("the store panicked")));
            let mut slot = filled.lock().unwrap_or_else(|p| p.into_inner());
            slot.result = Some(result);
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        });
        if self.jobs.send(job).is_err() {
            slot.lock().unwrap_or_else(|p| p.into_inner()).result =
                Some(Err(StoreError::new("the store thread has stopped")));
        }
        Reply { slot }
    }
}

impl AsyncStore for ThreadedStore {
    fn put<'a>(&'a self, namespace: &'a str, hash: &'a str, text: &'a str) -> StoreFuture<'a, ()> {
        let (namespace, hash, text) = (namespace.to_owned(), hash.to_owned(), text.to_owned());
        Box::pin(self.run(move |store| store.put(&namespace, &hash, &text)))
    }

    fn get<'a>(&'a self, namespace: &'a str, hash: &'a str) -> StoreFuture<'a, Option<String>> {
        let (namespace, hash) = (namespace.to_owned(), hash.to_owned());
        Box::pin(self.run(move |store| store.get(&namespace, &hash)))
    }
}

struct Slot<T> {
    result: Option<Result<T, StoreError>>,
    waker: Option<Waker>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            result: None,
            waker: None,
        }
    }
}

/// The result of one call, once the store's thread has it.
struct Reply<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for Reply<T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{conformance, MemoryStore};

    /// A store whose every call takes a while, like a disk under load.
    struct Slow(MemoryStore);
    impl Store for Slow {
        fn put(&self, n: &str, h: &str, t: &str) -> Result<(), StoreError> {
            std::thread::sleep(std::time::Duration::from_millis(200));
            Store::put(&self.0, n, h, t)
        }
        fn get(&self, n: &str, h: &str) -> Result<Option<String>, StoreError> {
            Store::get(&self.0, n, h)
        }
    }

    #[test]
    fn conforms() {
        conformance::block_on(conformance::run(&ThreadedStore::new(Arc::new(
            MemoryStore::default(),
        ))));
    }

    #[test]
    fn a_slow_store_never_blocks_the_callers_thread() {
        let store = ThreadedStore::new(Arc::new(Slow(MemoryStore::default())));
        let mut put = store.put("ns", "h", "text");
        let waker = Waker::noop();
        let started = std::time::Instant::now();
        let polled = put.as_mut().poll(&mut Context::from_waker(waker));
        assert!(polled.is_pending(), "the put runs on the store's thread");
        assert!(started.elapsed() < std::time::Duration::from_millis(150));
        assert!(conformance::block_on(put).is_ok());
        assert_eq!(
            conformance::block_on(store.get("ns", "h"))
                .unwrap()
                .as_deref(),
            Some("text")
        );
    }
}
