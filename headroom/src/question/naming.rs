//! What a question names among one segment's units: the answer of `Question::naming`.

/// The units a question names in one segment: strong ones (by anchors), then weak ones (by words).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Naming {
    /// Units an anchor picks out, in order.
    pub(crate) strong: Vec<usize>,
    /// Up to `WEAK_MAX_UNITS` other units: those holding a rare word of the user's turn first,
    /// then those holding another rare word, then by BM25.
    pub(crate) weak: Vec<usize>,
    /// How many of the first `weak` units hold a rare word of the user's turn.
    pub(crate) rare_asked: usize,
    /// Some strong unit is picked out by an anchor of the user's turn (not only by one of the tool
    /// call's arguments, such as the file a `cat` read).
    pub(crate) asked_strong: bool,
    /// The BM25 score of every unit against the question's words (all zeros without words).
    pub(crate) scores: Vec<f64>,
}

impl Naming {
    /// Every named unit: strong first (in order), then weak (best first).
    pub(crate) fn all(&self) -> impl Iterator<Item = usize> + '_ {
        self.strong.iter().chain(&self.weak).copied()
    }

    /// The units to keep whole where units are large (functions, comments): the strong ones, and
    /// unless an anchor of the user's turn picked some out, up to `max_weak` weak ones: those
    /// holding a rare word of the user's turn, else the best. A word the user said names what it
    /// is on however many units the tool call's arguments name (the file a `cat` read).
    // Only the code compressor (the `code` feature) keeps units whole.
    #[cfg_attr(not(feature = "code"), allow(dead_code))]
    pub(crate) fn kept_whole(&self, max_weak: usize) -> Vec<usize> {
        let mut out = self.strong.clone();
        if !self.asked_strong {
            let weak = self.rare_asked.max(1).min(max_weak);
            out.extend(self.weak.iter().take(weak).copied());
        }
        out
    }
}
