//! Exact and near duplicates among prose units: the first occurrence stays, later copies may go.

use foldhash::quality::FixedState;
use std::collections::HashSet;
use std::hash::BuildHasher;

/// Units compared with each earlier one for near duplicates (bounded work on long texts).
const WINDOW: usize = 64;
/// Units with fewer words are only ever exact duplicates.
const MIN_WORDS: usize = 6;
/// Word-set overlap (Jaccard) from which two units count as the same.
const NEAR: f64 = 0.85;
/// The word hashes' fixed seed: the same text hashes the same in every process.
const HASHES: FixedState = FixedState::with_seed(0x6865_6164_726f_6f6d);

/// For each unit, whether it repeats an earlier one: the same words once case and digits are
/// ignored (`took 31 ms` = `took 87 ms`), or a word set that overlaps an earlier unit's by 85%.
/// Words are compared by 64-bit hashes of their normalized form, computed without copying them.
pub(crate) fn duplicates(units: &[&str]) -> Vec<bool> {
    let mut seen: HashSet<u64, FixedState> = HashSet::with_hasher(HASHES);
    let mut recent: Vec<Vec<u64>> = Vec::new();
    let mut words: Vec<u64> = Vec::new();
    units
        .iter()
        .map(|unit| {
            words.clear();
            words.extend(normalized_word_hashes(unit));
            if words.is_empty() {
                return false;
            }
            if !seen.insert(HASHES.hash_one(&words)) {
                return true;
            }
            if words.len() < MIN_WORDS {
                return false;
            }
            let mut set = words.clone();
            set.sort_unstable();
            set.dedup();
            // Jaccard is at most the smaller set's size over the larger's: only sets of close size
            // are merged and compared (the same answer, most comparisons skipped).
            let near = recent.iter().any(|other| {
                let (small, large) = (set.len().min(other.len()), set.len().max(other.len()));
                small as f64 >= NEAR * large as f64 && jaccard(&set, other) >= NEAR
            });
            if !near {
                if recent.len() == WINDOW {
                    recent.remove(0);
                }
                recent.push(set);
            }
            near
        })
        .collect()
}

/// The hash of each word lowercased, with every digit run as `0`: the normalized word is written
/// into one reused buffer and hashed in one call (hashing it a character at a time cost more).
fn normalized_word_hashes(text: &str) -> impl Iterator<Item = u64> + '_ {
    let mut normal = String::new();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(move |w| {
            normal.clear();
            let mut in_digits = false;
            for c in w.chars() {
                if c.is_ascii_digit() {
                    if !in_digits {
                        normal.push('0');
                    }
                    in_digits = true;
                } else {
                    if c.is_ascii() {
                        normal.push(c.to_ascii_lowercase());
                    } else {
                        normal.extend(c.to_lowercase());
                    }
                    in_digits = false;
                }
            }
            HASHES.hash_one(normal.as_bytes())
        })
}

/// Overlap of two sorted, deduplicated sets.
fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_near_duplicates_are_found_first_copy_stays() {
        let units = [
            "Build finished in 31 ms.",
            "Something else entirely.",
            "build finished in 87 ms",
            "The quick brown fox jumps over the lazy dog near the river bank today",
            "The quick brown fox jumps over the lazy dog near the river bank again today",
            "A different sentence about the river bank and a fox.",
        ];
        assert_eq!(
            duplicates(&units),
            vec![false, false, true, false, true, false]
        );
    }
}
