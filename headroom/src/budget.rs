//! Fitting a request to its target: an explicit `token_budget`, or the model's window minus the
//! completion it reserves.
//!
//! When a request is over its target, in this order: (a) older tool results are compressed harder
//! (stronger settings of the same compressors, still marked and retrievable); (b) whole old tool
//! *units* — an assistant message with `tool_calls` together with all its results — are evicted,
//! oldest first, down to a low-water mark ([`Config::eviction_low_water`] of the target), each run
//! of evicted messages replaced by one marker message whose hash retrieves them; never the system
//! or developer prompt, a user turn, or the newest [`Config::protect_recent_units`] units; (c) the
//! newest results are compressed harder, down to a floor; (d) if it still cannot fit, the request
//! is refused with [`Error::OverBudget`](crate::Error::OverBudget).
//!
//! The plan is a pure function of the request, and it moves the kept prefix rarely: it replays the
//! conversation's growth, prefix by prefix (each earlier request of an agent session is a prefix
//! of this one), and only ever compresses harder or evicts more when a prefix went over. So the
//! request one turn later gets the same plan for everything the earlier one had, unless that turn
//! itself went over — and then eviction goes down to the low-water mark, leaving room for several
//! turns before the next step.
//!
//! The plan works on *items* (messages) and *units* (groups of items paired by call ids), not on
//! chat JSON, so the Responses API's `function_call`/`function_call_output` items fit the same model.

use crate::models::known_context_window;
use crate::Config;
use std::ops::Range;

/// The completion reserved when a request says nothing (`max_completion_tokens`, `max_tokens`):
/// 4,096 tokens, or a quarter of the window when that is smaller.
///
/// ```
/// use headroom::budget::{target_tokens, DEFAULT_COMPLETION_RESERVE};
/// let config = headroom::Config::default();
/// assert_eq!(target_tokens(&config, "gpt-4o", None), Some(128_000 - DEFAULT_COMPLETION_RESERVE));
/// assert_eq!(target_tokens(&config, "gpt-4", None), Some(8_192 - 2_048));
/// assert_eq!(target_tokens(&config, "gpt-4", Some(1_000)), Some(7_192));
/// assert_eq!(target_tokens(&config, "my-local-model", None), None, "unknown window: not fitted");
/// ```
pub const DEFAULT_COMPLETION_RESERVE: usize = 4096;

/// The most tokens a request for `model` may have: the config's `token_budget`, else (with
/// `fit_to_window`) the model's known window minus `reserve` (the request's own
/// `max_completion_tokens`/`max_tokens`), else minus [`DEFAULT_COMPLETION_RESERVE`].
/// `None` when nothing limits it.
pub fn target_tokens(config: &Config, model: &str, reserve: Option<usize>) -> Option<usize> {
    if let Some(budget) = config.token_budget {
        return Some(budget);
    }
    if !config.fit_to_window {
        return None;
    }
    let window = known_context_window(model)?;
    let reserve = reserve.unwrap_or(DEFAULT_COMPLETION_RESERVE.min(window / 4));
    Some(window.saturating_sub(reserve))
}

/// Compression levels: 0 as configured, 1 harder, 2 the floor.
pub(crate) const LEVELS: usize = 3;

/// The settings of `level`: the same compressors, each keeping less (never more than `config` asks).
pub(crate) fn level_config(config: &Config, level: usize) -> Config {
    let mut c = config.clone();
    if level == 0 {
        return c;
    }
    let hard = level == 1;
    let pick = |harder: usize, floor: usize| if hard { harder } else { floor };
    let min = |field: &mut usize, value: usize| *field = (*field).min(value);
    min(&mut c.min_segment_tokens, pick(100, 50));
    c.text_keep_ratio = c.text_keep_ratio.min(if hard { 0.25 } else { 0.1 });
    min(&mut c.logs_context_before, pick(1, 0));
    min(&mut c.logs_context_after, pick(1, 0));
    min(&mut c.logs_block_lines, pick(8, 4));
    min(&mut c.logs_warning_lines, pick(1, 0));
    min(&mut c.logs_trace_frames, pick(2, 1));
    min(&mut c.logs_fold_min, 3);
    min(&mut c.logs_head_lines, 1);
    min(&mut c.logs_tail_lines, pick(2, 1));
    min(&mut c.search_max_hits, pick(12, 5));
    min(&mut c.search_max_per_file, pick(2, 1));
    min(&mut c.search_context_lines, 0);
    min(&mut c.diff_context_lines, 0);
    min(&mut c.diff_max_changed_lines, pick(6, 2));
    min(&mut c.code_comment_lines, 0);
    min(&mut c.code_min_body_lines, 2);
    min(&mut c.crush.max_items, pick(6, 2));
    min(&mut c.crush.bm25_top, pick(2, 1));
    c.crush.max_share = c.crush.max_share.min(if hard { 0.3 } else { 0.1 });
    if !hard {
        c.crush.rare_fraction = 0.0;
        c.crush.keep_change_points = false;
        c.crush.outlier_sigma = None;
    }
    c
}

/// One group of items that goes or stays together (a chat tool unit: the assistant message with
/// `tool_calls` and the tool messages answering it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unit {
    /// Its items, contiguous.
    pub items: Range<usize>,
    /// Tool calls it holds (what its eviction marker counts).
    pub calls: usize,
    /// May be compressed harder (not frozen).
    pub movable: bool,
    /// May be evicted (movable, and every result sits right after its call).
    pub evictable: bool,
}

/// What the plan needs to know besides the units.
pub(crate) struct Limits<'a> {
    pub target: usize,
    pub low_water: usize,
    pub protect_recent_units: usize,
    /// Tokens outside the items (tools, the reply priming, the retrieve tool).
    pub fixed: usize,
    /// Tokens one eviction marker message is assumed to take (at least what it takes).
    pub marker_tokens: usize,
    /// Per item: whether it may go with the evicted units around it.
    pub fold: &'a [Fold],
}

/// Which items go at which level, and which units are evicted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub levels: Vec<usize>,
    pub evicted: Vec<bool>,
    /// The item count of the latest prefix at which the plan changed (0: never): requests of
    /// fewer items than this got an older plan.
    pub last_step: usize,
    /// Stage (c) ran: the newest results were compressed harder too (only this request has that).
    pub newest_harder: bool,
}

/// Why no plan fits: the fewest tokens reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DoesNotFit {
    pub tokens: usize,
}

/// Plans the fit of `items` (count) into `limits.target`. `cost(item, level)` is an item's tokens at a
/// level (never more at a higher level); `movable(item)` says whether an item outside any unit may
/// be compressed harder. Returns the plan, or the fewest tokens any plan reached.
pub(crate) fn plan(
    items: usize,
    units: &[Unit],
    limits: &Limits<'_>,
    movable: &dyn Fn(usize) -> bool,
    cost: &mut dyn FnMut(usize, usize) -> usize,
) -> Result<Plan, DoesNotFit> {
    let mut unit_of = vec![None; items];
    for (u, unit) in units.iter().enumerate() {
        for i in unit.items.clone() {
            unit_of[i] = Some(u);
        }
    }
    let mut state = State {
        hard_before: 0,
        evicted: vec![false; units.len()],
    };
    let mut last_step = 0;
    // Replay the growth: every prefix that ends between units is an earlier request.
    for end in 1..=items {
        let inside_unit = end < items && unit_of[end].is_some() && unit_of[end] == unit_of[end - 1];
        if inside_unit {
            continue;
        }
        let complete = units.iter().filter(|u| u.items.end <= end).count();
        let old = complete.saturating_sub(limits.protect_recent_units);
        if state.step(end, old, units, &unit_of, limits, cost) {
            last_step = end;
        }
    }
    let mut levels = state.levels(items, units, &unit_of);
    let mut tokens = state.total(items, units, &unit_of, limits, &levels, cost);
    // (c) Still over: everything movable harder, then to the floor.
    let mut newest_harder = false;
    for level in 1..LEVELS {
        if tokens <= limits.target {
            break;
        }
        newest_harder = true;
        for (i, l) in levels.iter_mut().enumerate() {
            let may = match unit_of[i] {
                Some(u) => units[u].movable,
                None => movable(i),
            };
            if may {
                *l = (*l).max(level);
            }
        }
        tokens = state.total(items, units, &unit_of, limits, &levels, cost);
    }
    if tokens > limits.target {
        return Err(DoesNotFit { tokens });
    }
    Ok(Plan {
        levels,
        evicted: state.evicted,
        last_step,
        newest_harder,
    })
}

struct State {
    /// Units before this index are compressed harder (level 1).
    hard_before: usize,
    evicted: Vec<bool>,
}

impl State {
    /// One earlier request (items `..end`, units `..old` old): harder, then evict, when over.
    /// Whether the plan changed.
    fn step(
        &mut self,
        end: usize,
        old: usize,
        units: &[Unit],
        unit_of: &[Option<usize>],
        limits: &Limits<'_>,
        cost: &mut dyn FnMut(usize, usize) -> usize,
    ) -> bool {
        let mut levels = self.levels(end, units, unit_of);
        if self.total(end, units, unit_of, limits, &levels, cost) <= limits.target {
            return false;
        }
        let mut changed = false;
        // (a) Older results harder, all at once.
        if old > self.hard_before {
            self.hard_before = old;
            changed = true;
            levels = self.levels(end, units, unit_of);
            if self.total(end, units, unit_of, limits, &levels, cost) <= limits.target {
                return true;
            }
        }
        // (b) Evict old units, oldest first, down to the low-water mark.
        for u in 0..old {
            if self.total(end, units, unit_of, limits, &levels, cost) <= limits.low_water {
                break;
            }
            if units[u].evictable && !self.evicted[u] {
                self.evicted[u] = true;
                changed = true;
            }
        }
        changed
    }

    fn levels(&self, end: usize, units: &[Unit], unit_of: &[Option<usize>]) -> Vec<usize> {
        (0..end)
            .map(|i| match unit_of[i] {
                Some(u) if u < self.hard_before && units[u].movable => 1,
                _ => 0,
            })
            .collect()
    }

    /// Tokens of items `..end` at `levels` with the evicted runs replaced by marker messages.
    #[allow(clippy::too_many_arguments)]
    fn total(
        &self,
        end: usize,
        _units: &[Unit],
        unit_of: &[Option<usize>],
        limits: &Limits<'_>,
        levels: &[usize],
        cost: &mut dyn FnMut(usize, usize) -> usize,
    ) -> usize {
        let gone = gone(end, unit_of, &self.evicted, limits.fold);
        let mut tokens = limits.fixed;
        for i in 0..end {
            if gone[i] {
                if i == 0 || !gone[i - 1] {
                    tokens += limits.marker_tokens;
                }
                continue;
            }
            tokens += cost(i, levels[i]);
        }
        tokens
    }
}

/// Whether an item outside every unit may go with the evicted units around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fold {
    /// Never (a system or developer prompt, a frozen item).
    Never,
    /// Yes (an assistant's text reply between evicted units).
    Always,
    /// Unless it is the latest such item of the request (a user turn: never the last one).
    UnlessLatest,
}

/// Which of items `..end` are gone: those of evicted units, and the foldable items lying between
/// two evicted units (so the old history becomes one marker, not one per turn).
fn gone(end: usize, unit_of: &[Option<usize>], evicted: &[bool], fold: &[Fold]) -> Vec<bool> {
    let latest = (0..end)
        .rev()
        .find(|&i| unit_of[i].is_none() && fold[i] == Fold::UnlessLatest);
    let may_fold = |i: usize| match fold[i] {
        Fold::Never => false,
        Fold::Always => true,
        Fold::UnlessLatest => Some(i) != latest,
    };
    let mut gone: Vec<bool> = (0..end)
        .map(|i| unit_of[i].is_some_and(|u| evicted[u]))
        .collect();
    let mut i = 0;
    while i < end {
        if gone[i] || unit_of[i].is_some() {
            i += 1;
            continue;
        }
        // A gap of items outside units: folded when all may fold and evicted units close it on both sides.
        let start = i;
        while i < end && unit_of[i].is_none() {
            i += 1;
        }
        let closed = start > 0 && gone[start - 1] && i < end && gone[i];
        if closed && (start..i).all(may_fold) {
            gone[start..i].iter_mut().for_each(|g| *g = true);
        }
    }
    gone
}

/// The runs of consecutive gone items (one marker message each), with the tool calls they hold
/// and how many of their items lie outside units.
pub(crate) fn evicted_runs(
    units: &[Unit],
    evicted: &[bool],
    fold: &[Fold],
) -> Vec<(Range<usize>, usize, usize)> {
    let items = fold.len();
    let mut unit_of = vec![None; items];
    for (u, unit) in units.iter().enumerate() {
        for i in unit.items.clone() {
            unit_of[i] = Some(u);
        }
    }
    let gone = gone(items, &unit_of, evicted, fold);
    let mut runs: Vec<(Range<usize>, usize, usize)> = Vec::new();
    for i in (0..items).filter(|&i| gone[i]) {
        let calls = match unit_of[i] {
            Some(u) if units[u].items.start == i => units[u].calls,
            _ => 0,
        };
        let other = usize::from(unit_of[i].is_none());
        match runs.last_mut() {
            Some((range, c, o)) if range.end == i => {
                range.end = i + 1;
                *c += calls;
                *o += other;
            }
            _ => runs.push((i..i + 1, calls, other)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session: item 0 a system prompt, then per turn a user item and one unit of two items.
    fn session(turns: usize) -> (usize, Vec<Unit>) {
        let mut units = Vec::new();
        for t in 0..turns {
            let start = 1 + t * 3 + 1;
            units.push(Unit {
                items: start..start + 2,
                calls: 1,
                movable: true,
                evictable: true,
            });
        }
        (1 + turns * 3, units)
    }

    /// Item 0 a system prompt, the rest user turns and units.
    fn limits(target: usize, fold: &[Fold]) -> Limits<'_> {
        Limits {
            target,
            low_water: target * 3 / 4,
            protect_recent_units: 3,
            fixed: 10,
            marker_tokens: 40,
            fold,
        }
    }

    fn folds(items: usize) -> Vec<Fold> {
        (0..items)
            .map(|i| {
                if i == 0 {
                    Fold::Never
                } else {
                    Fold::UnlessLatest
                }
            })
            .collect()
    }

    /// Tool results (the second item of a unit) cost 1000 at level 0, 500 harder, 200 at the floor.
    fn cost(units: &[Unit]) -> impl FnMut(usize, usize) -> usize + '_ {
        move |i, level| {
            if units.iter().any(|u| u.items.start + 1 == i) {
                [1000, 500, 200][level]
            } else {
                20
            }
        }
    }

    #[test]
    fn under_the_target_nothing_changes() {
        let (items, units) = session(3);
        let fold = folds(items);
        let plan = plan(
            items,
            &units,
            &limits(100_000, &fold),
            &|_| true,
            &mut cost(&units),
        )
        .unwrap();
        assert!(plan.levels.iter().all(|l| *l == 0));
        assert!(plan.evicted.iter().all(|e| !e));
    }

    #[test]
    fn evicts_oldest_first_and_keeps_the_newest_units() {
        let (items, units) = session(20);
        let fold = folds(items);
        let plan = plan(
            items,
            &units,
            &limits(6_000, &fold),
            &|_| true,
            &mut cost(&units),
        )
        .unwrap();
        let evicted: Vec<usize> = (0..20).filter(|u| plan.evicted[*u]).collect();
        assert!(!evicted.is_empty());
        assert_eq!(
            evicted,
            (0..evicted.len()).collect::<Vec<_>>(),
            "oldest first"
        );
        assert!(!plan.evicted[17] && !plan.evicted[18] && !plan.evicted[19]);
    }

    #[test]
    fn one_more_turn_keeps_the_earlier_plan_unless_it_steps() {
        let target = 6_000;
        let mut steps = 0;
        let mut previous: Option<Plan> = None;
        for turns in 1..40 {
            let (items, units) = session(turns);
            let fold = folds(items);
            let plan = plan(
                items,
                &units,
                &limits(target, &fold),
                &|_| true,
                &mut cost(&units),
            )
            .unwrap();
            if let Some(p) = &previous {
                let same_levels = plan.levels[..p.levels.len()] == p.levels[..];
                let same_evictions = plan.evicted[..p.evicted.len()] == p.evicted[..];
                if !(same_levels && same_evictions) {
                    steps += 1;
                }
            }
            previous = Some(plan);
        }
        assert!(steps > 0, "the budget had to act");
        assert!(
            steps <= 25,
            "{steps} steps in 39 turns: the prefix moved too often"
        );
    }

    #[test]
    fn refuses_what_cannot_fit() {
        let (items, units) = session(3);
        let fold = folds(items);
        let err = plan(
            items,
            &units,
            &limits(100, &fold),
            &|_| true,
            &mut cost(&units),
        )
        .unwrap_err();
        assert!(err.tokens > 100);
    }

    #[test]
    fn runs_merge_adjacent_units() {
        let units = vec![
            Unit {
                items: 1..3,
                calls: 2,
                movable: true,
                evictable: true,
            },
            Unit {
                items: 3..5,
                calls: 1,
                movable: true,
                evictable: true,
            },
            Unit {
                items: 6..8,
                calls: 1,
                movable: true,
                evictable: true,
            },
        ];
        let mut fold = vec![Fold::Always; 9];
        fold[0] = Fold::Never;
        let runs = evicted_runs(&units, &[true, true, true], &fold);
        assert_eq!(
            runs,
            vec![(1..8, 4, 1)],
            "the item between two evicted units goes with them"
        );
        fold[5] = Fold::Never;
        let runs = evicted_runs(&units, &[true, true, true], &fold);
        assert_eq!(runs, vec![(1..5, 3, 0), (6..8, 1, 0)]);
        fold[5] = Fold::UnlessLatest;
        let runs = evicted_runs(&units, &[true, true, true], &fold);
        assert_eq!(
            runs,
            vec![(1..5, 3, 0), (6..8, 1, 0)],
            "the latest user turn stays"
        );
    }
}
