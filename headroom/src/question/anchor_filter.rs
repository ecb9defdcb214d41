//! A quick test that a unit cannot hold any of a question's anchors, run before the unit is
//! lowercased and each anchor looked for: one Aho-Corasick pass, ASCII case aside, for a piece
//! every match of an anchor contains.

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// The first whitespace-free piece of every form of every anchor, as one automaton. An anchor
/// found in a unit lowercased (for phrases, with whitespace runs squashed) holds its piece there,
/// so an ASCII unit holds the piece in its own bytes, case aside.
#[derive(Debug, Clone)]
pub(crate) struct AnchorFilter(Option<AhoCorasick>);

impl AnchorFilter {
    /// The filter for `forms`; one that passes every unit when it cannot be built.
    pub(crate) fn new<'a>(forms: impl Iterator<Item = &'a str>) -> AnchorFilter {
        let pieces: Vec<&str> = forms.filter_map(|f| f.split_whitespace().next()).collect();
        if pieces.is_empty() {
            return AnchorFilter(None);
        }
        AnchorFilter(
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                // Built for every question read (once per segment): a contiguous NFA builds in
                // a fraction of a DFA's time and searches a few patterns nearly as fast.
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(pieces)
                .ok(),
        )
    }

    /// `false` only when `unit` certainly holds no anchor. A unit with non-ASCII text always
    /// passes: lowercasing it can make ASCII letters (the Kelvin sign `K` becomes `k`).
    pub(crate) fn may_hold(&self, unit: &str) -> bool {
        match &self.0 {
            Some(pieces) => !unit.is_ascii() || pieces.is_match(unit),
            None => true,
        }
    }
}

/// Built from the anchors alone, so two questions with equal anchors have equal filters.
impl PartialEq for AnchorFilter {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AnchorFilter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_every_unit_an_anchor_piece_is_in_case_aside() {
        let filter = AnchorFilter::new(["a1b2c3d", "fallback strategy", "util.py"].into_iter());
        assert!(filter.may_hold("commit A1B2C3D4e5"));
        assert!(filter.may_hold("uses a FALLBACK\n   strategy"));
        assert!(filter.may_hold("src/util.py:3: x"));
        assert!(filter.may_hold("non-ASCII: \u{212A}elvin"));
        assert!(!filter.may_hold("nothing named here"));
        assert!(AnchorFilter::new(std::iter::empty()).may_hold("anything"));
    }
}
