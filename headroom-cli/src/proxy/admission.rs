//! Admission by bytes in flight: request bodies the proxy holds (and compresses, at up to ten
//! times their size) are bounded in total, not only in number, so a burst of large requests waits
//! its turn instead of taking the machine's memory.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits count kibibytes of body.
const UNIT: u64 = 1024;

/// The budget of body bytes held at once, shared by every route that reads a whole body.
#[derive(Debug, Clone)]
pub struct Admission {
    semaphore: Arc<Semaphore>,
    capacity: u32,
}

/// Body bytes admitted for one request, given back when dropped; after a large body the memory
/// its compression used is handed back to the system (see [`release_memory`]).
#[derive(Debug)]
pub struct Admitted(Option<OwnedSemaphorePermit>);

/// Bodies at least this large hand their memory back to the system when done.
const RELEASE_AFTER_BYTES: usize = 4 << 20;

impl Drop for Admitted {
    fn drop(&mut self) {
        let held = self
            .0
            .as_ref()
            .map_or(0, |p| p.num_permits() * UNIT as usize);
        self.0.take();
        if held >= RELEASE_AFTER_BYTES {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn_blocking(release_memory);
            }
        }
    }
}

/// Returns the allocator's free memory to the system. glibc keeps freed blocks of large requests
/// in its arenas (its mmap threshold grows with them), so a proxy that compressed a 30 MB body
/// would otherwise stay at its peak size while idle.
pub fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

impl Admission {
    /// A budget of `max_bytes` (at least 1 KiB).
    pub fn new(max_bytes: u64) -> Self {
        let capacity = (max_bytes / UNIT).clamp(1, u32::MAX as u64) as u32;
        Admission {
            semaphore: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
        }
    }

    /// The budget, in bytes.
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity as u64 * UNIT
    }

    /// Waits until `bytes` more fit in the budget, and holds them. A body larger than the whole
    /// budget is admitted alone (it waits for everything else to finish).
    pub async fn admit(&self, bytes: u64) -> Admitted {
        let units = bytes.div_ceil(UNIT).clamp(1, self.capacity as u64) as u32;
        Admitted(self.semaphore.clone().acquire_many_owned(units).await.ok())
    }

    /// Gives back what `admitted` holds beyond `bytes` (a body read shorter than reserved).
    pub fn shrink(&self, admitted: &mut Admitted, bytes: u64) {
        let keep = bytes.div_ceil(UNIT).clamp(1, self.capacity as u64) as usize;
        if let Some(permit) = admitted.0.as_mut() {
            if permit.num_permits() > keep {
                drop(permit.split(permit.num_permits() - keep));
            }
        }
    }
}

/// The default budget: a twentieth of the memory this process may use (the machine's, or its
/// cgroup's limit when lower), so compressing the bodies admitted stays within half of it.
pub fn default_budget() -> u64 {
    let total = system_memory().unwrap_or(4 << 30);
    (total / 20).max(64 << 20)
}

/// Memory available to this process: the smaller of the machine's and its cgroup's limit.
fn system_memory() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok());
    match (machine, cgroup) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn bodies_wait_until_their_bytes_fit() {
        let admission = Admission::new(10 * 1024);
        let first = admission.admit(8 * 1024).await;
        let waiting = tokio::time::timeout(Duration::from_millis(100), admission.admit(4 * 1024));
        assert!(
            waiting.await.is_err(),
            "4 KiB more does not fit beside 8 KiB in 10"
        );
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(5), admission.admit(4 * 1024));
        assert!(second.await.is_ok(), "fits once the first is done");
    }

    #[tokio::test]
    async fn a_body_larger_than_the_budget_runs_alone_and_reservations_shrink() {
        let admission = Admission::new(10 * 1024);
        let huge = admission.admit(1 << 30).await;
        assert_eq!(admission.semaphore.available_permits(), 0);
        drop(huge);
        let mut reserved = admission.admit(10 * 1024).await;
        admission.shrink(&mut reserved, 1500);
        assert_eq!(
            admission.semaphore.available_permits(),
            8,
            "2 KiB kept of 10"
        );
    }

    #[test]
    fn the_default_budget_is_a_share_of_memory() {
        let budget = default_budget();
        assert!(budget >= 64 << 20);
        if let Some(memory) = system_memory() {
            assert!(budget <= memory / 10);
        }
    }
}
