//! The benchmark's clock: CPU time, so a machine shared with other work (2 cores, a compiler next
//! door) slows the timings far less than it slows the wall clock. The Python reference is timed
//! the same way (`time.process_time`). [`cpu_time`] is this process's; [`process_cpu_time`] is
//! another process's (the proxy the session benchmark starts), read from the same kind of clock.

use std::time::Duration;

/// CPU time this process has used so far (all its threads).
///
/// ```
/// let a = headroom_bench::clock::cpu_time();
/// let spun: u64 = (0..1_000_000u64).map(std::hint::black_box).sum();
/// assert!(spun > 0 && headroom_bench::clock::cpu_time() >= a);
/// ```
pub fn cpu_time() -> Duration {
    read_clock(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or(Duration::ZERO)
}

/// CPU time process `pid` has used so far (all its threads, those that ended included), in
/// nanoseconds: its process CPU clock (`clock_getcpuclockid`), else `utime + stime` of
/// `/proc/PID/stat` (in clock ticks, usually 10 ms). `None` when the process is gone.
///
/// ```
/// let me = std::process::id();
/// let a = headroom_bench::clock::process_cpu_time(me).unwrap();
/// let spun: u64 = (0..1_000_000u64).map(std::hint::black_box).sum();
/// assert!(spun > 0 && headroom_bench::clock::process_cpu_time(me).unwrap() >= a);
/// assert!(headroom_bench::clock::process_cpu_time(u32::MAX).is_none());
/// ```
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let pid_t = libc::pid_t::try_from(pid).ok()?;
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid, writable clockid_t.
    if unsafe { libc::clock_getcpuclockid(pid_t, &mut clock) } == 0 {
        if let Some(time) = read_clock(clock) {
            return Some(time);
        }
    }
    proc_stat_cpu_time(pid)
}

/// `utime + stime` of `/proc/PID/stat`.
fn proc_stat_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, and ends at the last `)`): state is
    // field 3, utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a constant.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .ok()
        .filter(|&t| t > 0)?;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

fn read_clock(clock: libc::clockid_t) -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the kernel checks the clock id.
    let ok = unsafe { libc::clock_gettime(clock, &mut ts) } == 0;
    ok.then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proc_stat_reading_agrees_with_the_clock() {
        let me = std::process::id();
        let spun: u64 = (0..50_000_000u64).map(std::hint::black_box).sum();
        assert!(spun > 0);
        let clock = process_cpu_time(me).unwrap();
        let stat = proc_stat_cpu_time(me).unwrap();
        let tick = Duration::from_millis(20);
        assert!(
            stat <= clock + tick && clock <= stat + tick + Duration::from_millis(200),
            "clock {clock:?}, /proc/{me}/stat {stat:?}"
        );
    }
}
