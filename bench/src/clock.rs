//! The benchmark's clock: this process's CPU time, so a machine shared with other work (2 cores, a
//! compiler next door) slows the timings far less than it slows the wall clock. The Python
//! reference is timed the same way (`time.process_time`).

use std::time::Duration;

/// CPU time this process has used so far (all its threads).
///
/// ```
/// let a = headroom_bench::clock::cpu_time();
/// let spun: u64 = (0..1_000_000u64).map(std::hint::black_box).sum();
/// assert!(spun > 0 && headroom_bench::clock::cpu_time() >= a);
/// ```
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
