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
            push_word_hashes(unit, &mut words);
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
                small as f64 >= NEAR * large as f64 && is_near(&set, other)
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

/// Pushes the hash of each word of `text` lowercased, with every digit run as `0`: a word already
/// in that form is hashed as it is, any other is written into one reused buffer and hashed in one
/// call (hashing it a character at a time cost more).
fn push_word_hashes(text: &str, out: &mut Vec<u64>) {
    let mut normal: Vec<u8> = Vec::new();
    let mut utf8 = [0u8; 4];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if word.bytes().all(|b| b.is_ascii_lowercase()) {
            out.push(HASHES.hash_one(word.as_bytes()));
            continue;
        }
        normal.clear();
        let mut in_digits = false;
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    normal.push(b'0');
                }
                in_digits = true;
            } else {
                for l in c.to_lowercase() {
                    normal.extend_from_slice(l.encode_utf8(&mut utf8).as_bytes());
                }
                in_digits = false;
            }
        }
        out.push(HASHES.hash_one(normal.as_slice()));
    }
}

/// Whether two sorted, deduplicated sets overlap by at least [`NEAR`] (Jaccard). The merge stops
/// as soon as the words left could no longer make up the common words needed: unrelated units
/// part after a few of their words.
fn is_near(a: &[u64], b: &[u64]) -> bool {
    let needed = common_needed(a.len(), b.len());
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        if common + (a.len() - i).min(b.len() - j) < needed {
            return false;
        }
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
    common >= needed
}

/// The fewest common words that make two sets of these sizes overlap by [`NEAR`], as the Jaccard
/// ratio `common / (a + b - common)` reckons it (the ratio grows with `common`).
fn common_needed(a: usize, b: usize) -> usize {
    let reaches = |c: usize| c as f64 / (a + b - c) as f64 >= NEAR;
    let most = a.min(b);
    let mut c = ((NEAR * (a + b) as f64 / (1.0 + NEAR)) as usize)
        .saturating_sub(1)
        .min(most);
    while c <= most && !reaches(c) {
        c += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stopping merge gives the Jaccard ratio's answer on every pair of small sets.
    #[test]
    fn is_near_answers_as_the_ratio_does() {
        let sets: Vec<Vec<u64>> = (0u64..40)
            .map(|seed| {
                let mut set: Vec<u64> = (0..6 + seed % 17)
                    .map(|k| (k * (seed % 5 + 1)) % 23)
                    .collect();
                set.sort_unstable();
                set.dedup();
                set
            })
            .collect();
        for a in &sets {
            for b in &sets {
                let common = a.iter().filter(|x| b.contains(x)).count();
                let ratio = common as f64 / (a.len() + b.len() - common) as f64;
                assert_eq!(is_near(a, b), ratio >= NEAR, "{a:?} {b:?}");
            }
        }
    }

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
