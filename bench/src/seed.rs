//! The seeded rule that draws probes: a pure function of the case id, never shown to a compressor.

/// The benchmark's fixed seed; change it and every probe moves.
pub const BENCH_SEED: u64 = 0x6865_6164_726f_6f6d; // "headroom"

/// A small deterministic generator (SplitMix64), seeded per case and purpose.
///
/// ```
/// use headroom_bench::seed::Draw;
/// let mut a = Draw::new("octokit-issues", "needle");
/// let mut b = Draw::new("octokit-issues", "needle");
/// assert_eq!(a.below(1000), b.below(1000));
/// ```
#[derive(Debug, Clone)]
pub struct Draw(u64);

impl Draw {
    /// The generator for `case` and `purpose` (`needle`, `records`, …).
    pub fn new(case: &str, purpose: &str) -> Self {
        // FNV-1a over the seed, the case id and the purpose: stable across platforms and releases.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ BENCH_SEED;
        for b in case.bytes().chain([0]).chain(purpose.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Draw(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "cannot draw from an empty set");
        // Rejection sampling keeps the draw uniform.
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_cases_draw_differently_and_uniformly() {
        let mut a = Draw::new("a", "records");
        let mut b = Draw::new("b", "records");
        let xs: Vec<_> = (0..32).map(|_| a.below(1_000_000)).collect();
        let ys: Vec<_> = (0..32).map(|_| b.below(1_000_000)).collect();
        assert_ne!(xs, ys);
        let mut counts = [0usize; 4];
        let mut d = Draw::new("u", "records");
        for _ in 0..40_000 {
            counts[d.below(4)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }
}
