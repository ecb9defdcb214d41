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
pub(crate) struct Limits {
    pub target: usize,
    pub low_water: usize,
    pub protect_recent_units: usize,
    /// Tokens outside the items (tools, the reply priming, the retrieve tool).
    pub fixed: usize,
    /// Tokens one eviction marker message is assumed to take (at least what it takes).
    pub marker_tokens: usize,
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
    limits: &Limits,
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
        limits: &Limits,
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

    /// Tokens of items `..end` at `levels` with the evicted units replaced by marker messages.
    fn total(
        &self,
        end: usize,
        _units: &[Unit],
        unit_of: &[Option<usize>],
        limits: &Limits,
        levels: &[usize],
        cost: &mut dyn FnMut(usize, usize) -> usize,
    ) -> usize {
        let mut tokens = limits.fixed;
        let mut in_run = false;
        for i in 0..end {
            let evicted = unit_of[i].is_some_and(|u| self.evicted[u]);
            if evicted {
                if !in_run {
                    tokens += limits.marker_tokens;
                }
                in_run = true;
                continue;
            }
            in_run = false;
            tokens += cost(i, levels[i]);
        }
        tokens
    }
}

/// The runs of consecutive evicted items (one marker message each), with the calls they hold.
pub(crate) fn evicted_runs(units: &[Unit], evicted: &[bool]) -> Vec<(Range<usize>, usize)> {
    let mut runs: Vec<(Range<usize>, usize)> = Vec::new();
    for (unit, _) in units.iter().zip(evicted).filter(|(_, e)| **e) {
        match runs.last_mut() {
            Some((range, calls)) if range.end == unit.items.start => {
                range.end = unit.items.end;
                *calls += unit.calls;
            }
            _ => runs.push((unit.items.clone(), unit.calls)),
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

    fn limits(target: usize) -> Limits {
        Limits {
            target,
            low_water: target * 3 / 4,
            protect_recent_units: 3,
            fixed: 10,
            marker_tokens: 40,
        }
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
        let plan = plan(
            items,
            &units,
            &limits(100_000),
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
        let plan = plan(items, &units, &limits(6_000), &|_| true, &mut cost(&units)).unwrap();
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
            let plan = plan(items, &units, &limits(target), &|_| true, &mut cost(&units)).unwrap();
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
        let err = plan(items, &units, &limits(100), &|_| true, &mut cost(&units)).unwrap_err();
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
        let runs = evicted_runs(&units, &[true, true, true]);
        assert_eq!(runs, vec![(1..5, 3), (6..8, 1)]);
    }
}
