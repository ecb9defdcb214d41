//! Matching over lowercased text: hex tokens a prefix starts, whitespace runs as one, units
//! lowercased into buffers kept from one unit to the next, or all together into one.

use crate::compress::relevance::{is_word_byte, Term};

/// Whether the `prefix_len` bytes at `start` of `haystack` (lowercased) start a hex token there;
/// with `lettered`, only one that has a letter after the prefix (a hash, not a longer number).
pub(super) fn is_hex_token_at(
    haystack: &str,
    start: usize,
    prefix_len: usize,
    lettered: bool,
) -> bool {
    let bytes = haystack.as_bytes();
    // Inside a token: nothing to scan (so a long run of the prefix's digits is read once).
    if start > 0 && is_word_byte(bytes[start - 1]) {
        return false;
    }
    let mut end = start + prefix_len;
    while end < bytes.len() && bytes[end].is_ascii_hexdigit() {
        end += 1;
    }
    let hash = !lettered
        || bytes[start + prefix_len..end]
            .iter()
            .any(u8::is_ascii_alphabetic);
    hash && (end == bytes.len() || !is_word_byte(bytes[end]))
}

/// A unit lowercased, and with whitespace runs as one space when phrases are looked for, in
/// buffers kept from one unit to the next (an ASCII unit allocates nothing once they have grown).
#[derive(Debug, Default)]
pub(super) struct Lowered {
    lower: String,
    squashed: String,
}

impl Lowered {
    /// `unit` lowercased, then the same squashed (see [`push_squashed`]) when `phrases`, else the
    /// same.
    pub(super) fn of(&mut self, unit: &str, phrases: bool) -> (&str, &str) {
        self.lower.clear();
        push_lowercase(unit, &mut self.lower);
        if !phrases {
            return (&self.lower, &self.lower);
        }
        self.squashed.clear();
        push_squashed(&self.lower, &mut self.squashed);
        (&self.lower, &self.squashed)
    }
}

/// `unit` lowercased as `str::to_lowercase` does (a final sigma by its place), appended to `out`.
fn push_lowercase(unit: &str, out: &mut String) {
    if unit.is_ascii() {
        let from = out.len();
        out.push_str(unit);
        out[from..].make_ascii_lowercase();
    } else {
        out.push_str(&unit.to_lowercase());
    }
}

/// `text` with every whitespace run as one space (and none at either end), appended to `out`: the
/// form phrases are looked for in.
fn push_squashed(text: &str, out: &mut String) {
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// Every unit lowercased into one buffer, and squashed into another when phrases are looked for,
/// with where each unit starts: a form is looked for once over all units, not once per unit.
#[derive(Debug)]
pub(super) struct LoweredUnits {
    lower: Joined,
    squashed: Option<Joined>,
}

/// Texts written one after another, with the offset each starts at (and the end, last).
#[derive(Debug, Default)]
struct Joined {
    text: String,
    starts: Vec<usize>,
}

impl Joined {
    /// The units (by index, ascending) where some occurrence of `form` lies wholly within the
    /// unit and `holds(unit, start)` for it.
    fn units_holding(&self, form: &Term, holds: impl Fn(&str, usize) -> bool) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        let mut unit = 0;
        for start in form.occurrences(&self.text) {
            while self.starts[unit + 1] <= start {
                unit += 1;
            }
            let (from, to) = (self.starts[unit], self.starts[unit + 1]);
            if found.last() == Some(&unit) || start + form.as_str().len() > to {
                continue;
            }
            if holds(&self.text[from..to], start - from) {
                found.push(unit);
            }
        }
        found
    }
}

impl LoweredUnits {
    /// `units` lowercased (each as `str::to_lowercase` would), and squashed too with `phrases`.
    pub(super) fn new(units: &[&str], phrases: bool) -> LoweredUnits {
        let mut lower = Joined {
            text: String::with_capacity(units.iter().map(|u| u.len()).sum()),
            starts: Vec::with_capacity(units.len() + 1),
        };
        for unit in units {
            lower.starts.push(lower.text.len());
            push_lowercase(unit, &mut lower.text);
        }
        lower.starts.push(lower.text.len());
        let squashed = phrases.then(|| {
            let mut squashed = Joined::default();
            for pair in lower.starts.windows(2) {
                squashed.starts.push(squashed.text.len());
                push_squashed(&lower.text[pair[0]..pair[1]], &mut squashed.text);
            }
            squashed.starts.push(squashed.text.len());
            squashed
        });
        LoweredUnits { lower, squashed }
    }

    /// The units where `form` occurs and `holds(unit, start)` for an occurrence, looked for in the
    /// squashed units with `in_squashed` (the lowered ones when there are none).
    pub(super) fn units_holding(
        &self,
        form: &Term,
        in_squashed: bool,
        holds: impl Fn(&str, usize) -> bool,
    ) -> Vec<usize> {
        let joined = match &self.squashed {
            Some(squashed) if in_squashed => squashed,
            _ => &self.lower,
        };
        joined.units_holding(form, holds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Whitespace runs as one space, read character by character: the reference the buffered
    /// forms are checked against.
    fn squash_by_chars(text: &str) -> String {
        let mut out = String::new();
        let mut space = false;
        for c in text.chars() {
            if c.is_whitespace() {
                space = true;
            } else {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
        out
    }

    proptest! {
        /// The buffered forms are the plain ones: lowercase, then whitespace runs as one space.
        #[test]
        fn lowered_is_lowercase_then_squash(unit in "[ \t\r\n\x0b\x0cAa_Zz.Σσ\u{85}\u{a0}é]{0,24}") {
            let mut lowered = Lowered::default();
            let lower = unit.to_lowercase();
            let squashed = squash_by_chars(&lower);
            prop_assert_eq!(lowered.of(&unit, true), (lower.as_str(), squashed.as_str()));
            prop_assert_eq!(lowered.of(&unit, false), (lower.as_str(), lower.as_str()));
        }
    }

    #[test]
    fn squash_drops_leading_and_trailing_runs() {
        let mut out = String::from("old ");
        push_squashed("\t fn\x0b\x0c  parse \r\n", &mut out);
        assert_eq!(out, "old fn parse");
        let mut out = String::new();
        push_squashed("\u{a0}fn\u{85}parse", &mut out);
        assert_eq!(out, "fn parse");
    }
}
