//! Which prose units stay: the opening and closing, what the question names, what scores best
//! by BM25, the headings above them, then a skim of each block's first unit, within a token budget
//! that counts the markers the gaps will cost.

/// What selection knows about one unit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Candidate {
    pub(crate) tokens: usize,
    /// BM25 against the question's words.
    pub(crate) score: f64,
    /// Named by an anchor of the question (a quoted phrase, a path, an identifier, a number…).
    pub(crate) mentioned: bool,
    /// Named by the question's words alone (a rare word, the best BM25): one of a capped few.
    pub(crate) weak: bool,
    /// Repeats an earlier unit.
    pub(crate) duplicate: bool,
    /// A heading line.
    pub(crate) heading: bool,
    /// The first unit of its block.
    pub(crate) lead: bool,
    /// Kept whatever the budget, and not counted in it (a block its own compressor has shrunk).
    pub(crate) forced: bool,
}

/// Share of the budget the opening may take (at least its first unit stays).
const OPENING_SHARE: f64 = 0.10;
/// Share of the budget the closing may take (at least its last unit stays).
const CLOSING_SHARE: f64 = 0.05;

/// Which units to keep, in order. `marker_tokens` is what one gap's marker costs.
pub(crate) fn select(units: &[Candidate], budget: usize, marker_tokens: usize) -> Vec<bool> {
    let mut keep = Selection::new(units.len(), marker_tokens);
    let Some(last) = units.len().checked_sub(1) else {
        return Vec::new();
    };
    for (i, unit) in units.iter().enumerate() {
        if unit.forced {
            keep.kept[i] = true;
        }
    }
    let mut opening = 0;
    for (i, unit) in units.iter().enumerate() {
        if i > 0 && (opening + unit.tokens) as f64 > OPENING_SHARE * budget as f64 {
            break;
        }
        opening += unit.tokens;
        keep.force(i, unit.tokens);
    }
    let mut closing = 0;
    for i in (0..=last).rev() {
        if i < last && (closing + units[i].tokens) as f64 > CLOSING_SHARE * budget as f64 {
            break;
        }
        closing += units[i].tokens;
        keep.force(i, units[i].tokens);
    }

    let mut ranked: Vec<usize> = (0..units.len())
        .filter(|&i| !units[i].duplicate && (units[i].mentioned || units[i].score > 0.0))
        .collect();
    // Named units first (by anchor, then by words), then the rest by score.
    ranked.sort_by(|&a, &b| {
        (units[b].mentioned, units[b].weak, units[b].score)
            .partial_cmp(&(units[a].mentioned, units[a].weak, units[a].score))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut heading = None;
    for (i, unit) in units.iter().enumerate() {
        if unit.heading {
            heading = Some(i);
        } else if unit.mentioned && !unit.duplicate {
            // A named unit comes with the heading above it.
            keep.try_add(i, unit.tokens, budget);
            if let Some(h) = heading.filter(|_| keep.kept[i]) {
                keep.try_add(h, units[h].tokens, budget);
            }
        }
    }
    for &i in &ranked {
        keep.try_add(i, units[i].tokens, budget);
    }
    // The heading above each kept unit says where it sits.
    let mut heading = None;
    let mut wanted_headings = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        if unit.heading {
            heading = Some(i);
        } else if keep.kept[i] {
            if let Some(h) = heading.take() {
                wanted_headings.push(h);
            }
        }
    }
    for h in wanted_headings {
        keep.try_add(h, units[h].tokens, budget);
    }
    for (i, unit) in units.iter().enumerate() {
        if unit.lead && !unit.duplicate {
            keep.try_add(i, unit.tokens, budget);
        }
    }
    // A gap smaller than its marker is cheaper kept.
    let mut i = 0;
    while i < units.len() {
        if keep.kept[i] {
            i += 1;
            continue;
        }
        let start = i;
        let mut tokens = 0;
        while i < units.len() && !keep.kept[i] {
            tokens += units[i].tokens;
            i += 1;
        }
        if tokens <= marker_tokens {
            keep.kept[start..i].iter_mut().for_each(|k| *k = true);
        }
    }
    keep.kept
}

/// The kept set and what it costs, markers included.
struct Selection {
    kept: Vec<bool>,
    cost: usize,
    marker_tokens: usize,
}

impl Selection {
    fn new(len: usize, marker_tokens: usize) -> Self {
        Selection {
            kept: vec![false; len],
            // Nothing kept yet: the whole text is one gap.
            cost: marker_tokens,
            marker_tokens,
        }
    }

    /// What keeping unit `i` adds: its tokens, plus a marker if it splits a gap, minus one if it closes one.
    fn delta(&self, i: usize, tokens: usize) -> isize {
        let before = i > 0 && !self.kept[i - 1];
        let after = i + 1 < self.kept.len() && !self.kept[i + 1];
        let gaps = match (before, after) {
            (true, true) => 1,
            (false, false) => -1,
            _ => 0,
        };
        tokens as isize + gaps * self.marker_tokens as isize
    }

    fn force(&mut self, i: usize, tokens: usize) {
        if !self.kept[i] {
            self.cost = (self.cost as isize + self.delta(i, tokens)).max(0) as usize;
            self.kept[i] = true;
        }
    }

    fn try_add(&mut self, i: usize, tokens: usize, budget: usize) {
        if self.kept[i] {
            return;
        }
        let cost = self.cost as isize + self.delta(i, tokens);
        if cost <= budget as isize {
            self.cost = cost.max(0) as usize;
            self.kept[i] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(tokens: usize, score: f64) -> Candidate {
        Candidate {
            tokens,
            score,
            ..Candidate::default()
        }
    }

    #[test]
    fn keeps_ends_and_best_scores_within_budget() {
        let units = vec![
            unit(10, 0.0),
            unit(50, 0.1),
            unit(50, 3.0),
            unit(50, 0.0),
            unit(50, 2.0),
            unit(50, 0.0),
            unit(10, 0.0),
        ];
        let keep = select(&units, 120, 5);
        assert_eq!(keep, vec![true, false, true, false, false, false, true]);
    }

    #[test]
    fn duplicates_are_not_picked_and_tiny_gaps_are_filled() {
        let mut dup = unit(40, 9.0);
        dup.duplicate = true;
        let units = vec![
            unit(10, 0.0),
            dup,
            unit(40, 1.0),
            unit(3, 0.0),
            unit(40, 2.0),
            unit(10, 0.0),
        ];
        let keep = select(&units, 200, 5);
        assert_eq!(keep, vec![true, false, true, true, true, true]);
    }
}
