//! The time the in-process stores read to expire originals: the system's, or a test's own that
//! moves only when told (Redis keeps its own time: its entries carry server-side TTLs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of the current time, as a duration since the Unix epoch.
///
/// [`MemoryStore`](super::MemoryStore) and [`SqliteStore`](super::SqliteStore) read one to stamp
/// and expire entries; [`SystemClock`] unless given another with `with_clock`.
///
/// ```
/// use headroom::store::{Clock, ManualClock};
/// use std::time::Duration;
/// let clock = ManualClock::default();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(clock.now(), Duration::from_secs(2));
/// ```
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time since the Unix epoch.
    fn now(&self) -> Duration;
}

/// The system's clock: wall time read once, then advanced by the monotonic clock, so a step of the
/// wall clock (NTP, a manual change) neither expires nor revives entries within a process.
///
/// ```
/// use headroom::store::{Clock, SystemClock};
/// let (a, b) = (SystemClock.now(), SystemClock.now());
/// assert!(b >= a && a.as_secs() > 1_600_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        static START: LazyLock<(Instant, Duration)> = LazyLock::new(|| {
            let wall = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            (Instant::now(), wall)
        });
        START.1 + START.0.elapsed()
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it: TTL tests step over an
/// expiry instead of sleeping against it. Clones share one time.
///
/// ```
/// use headroom::store::{ManualClock, MemoryStore, Store, StoreLimits};
/// use std::{sync::Arc, time::Duration};
/// let clock = ManualClock::default();
/// let limits = StoreLimits { ttl: Duration::from_secs(60), ..Default::default() };
/// let store = MemoryStore::new(limits).with_clock(Arc::new(clock.clone()));
/// store.put("default", "h", "text")?;
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(store.get("default", "h")?, None, "expired");
/// # Ok::<(), headroom::store::StoreError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// Moves the time forward by `by` (saturating at about 584 years after the epoch).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// The clock of a store built without one.
pub(super) fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
