//! The session benchmark's report: the per-turn table, the totals and their cost in dollars, and
//! the issue's targets as measured (per-turn cost flat as the history grows, a re-send far cheaper
//! than a first sight), each on CPU time and on the wall clock.

use crate::session_run::{Cost, Resend, Turn};

/// gpt-4o's published price per million input tokens, uncached and cached (USD).
pub const PRICE_PER_M: f64 = 2.50;
/// See [`PRICE_PER_M`].
pub const CACHED_PRICE_PER_M: f64 = 1.25;

/// Dollars for the session's prompts: (without caching, with a provider's prompt cache).
pub fn dollars(turns: &[Turn], with_headroom: bool) -> (f64, f64) {
    let mut plain = 0.0;
    let mut cached = 0.0;
    for t in turns {
        let (tokens, hit) = if with_headroom {
            (t.tokens_with, t.cached_with)
        } else {
            (t.tokens_without, t.cached_without)
        };
        plain += tokens as f64 * PRICE_PER_M / 1e6;
        let hit = hit.min(tokens);
        cached += (tokens - hit) as f64 * PRICE_PER_M / 1e6 + hit as f64 * CACHED_PRICE_PER_M / 1e6;
    }
    (plain, cached)
}

/// `first / again` of one clock, or `–`.
fn pair(first: Option<f64>, again: Option<f64>) -> String {
    match (first, again) {
        (Some(a), Some(b)) => format!("{a:.1} / {b:.2}"),
        _ => "–".into(),
    }
}

/// The per-turn table and the totals, in Markdown.
pub fn markdown(turns: &[Turn], window: usize) -> String {
    let mut md = String::from(
        "| turn | messages | tokens without | tokens with | library CPU ms (first / re-sent) | library wall ms | proxy CPU ms (first / re-sent) | proxy wall ms | prefix stable | evicted |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for t in turns {
        let stable = if t.previous_messages == 0 {
            "–".to_string()
        } else {
            format!("{}/{}", t.prefix_stable_messages, t.previous_messages)
        };
        let proxy_cpu = pair(
            t.proxy.and_then(|c| c.cpu_ms),
            t.proxy_resend.and_then(|c| c.cpu_ms),
        );
        let proxy_wall = pair(
            t.proxy.map(|c| c.wall_ms),
            t.proxy_resend.map(|c| c.wall_ms),
        );
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {proxy_cpu} | {proxy_wall} | {stable} | {} |\n",
            t.turn,
            t.messages,
            t.tokens_without,
            t.tokens_with,
            pair(t.library.cpu_ms, t.library_resend.cpu_ms),
            pair(Some(t.library.wall_ms), Some(t.library_resend.wall_ms)),
            t.evicted_messages
        ));
    }
    md.push_str(&totals(turns, window));
    md.push_str(&targets(turns));
    md
}

/// The session's totals: tokens, the largest request, the prefix-stable share, the cost.
pub fn totals(turns: &[Turn], window: usize) -> String {
    let without: usize = turns.iter().map(|t| t.tokens_without).sum();
    let with: usize = turns.iter().map(|t| t.tokens_with).sum();
    let largest_without = turns.iter().map(|t| t.tokens_without).max().unwrap_or(0);
    let largest_with = turns.iter().map(|t| t.tokens_with).max().unwrap_or(0);
    let over = turns.iter().filter(|t| t.tokens_without > window).count();
    let stable: usize = turns.iter().map(|t| t.prefix_stable_messages).sum();
    let previous: usize = turns.iter().map(|t| t.previous_messages).sum();
    let steady = turns
        .iter()
        .skip(1)
        .filter(|t| t.prefix_stable_messages == t.previous_messages)
        .count();
    let (plain_without, cached_without) = dollars(turns, false);
    let (plain_with, cached_with) = dollars(turns, true);
    format!(
        "\n| over {} turns | without Headroom | with Headroom |\n|:--|--:|--:|\n\
         | prompt tokens | {without} | {with} ({:.1}% saved) |\n\
         | largest request (window {window}) | {largest_without} ({over} of {} over the window) | {largest_with} |\n\
         | prompt cost at ${PRICE_PER_M:.2}/M input tokens | ${plain_without:.2} | ${plain_with:.2} |\n\
         | … with prompt caching (${CACHED_PRICE_PER_M:.2}/M cached) | ${cached_without:.2} | ${cached_with:.2} |\n\
         \nPrefix-stable share: {stable} of {previous} earlier messages sent again byte-identical \
         ({:.1}%; {steady} of {} turns kept the whole previous request as their prefix).\n",
        turns.len(),
        percent(without - with.min(without), without),
        turns.len(),
        percent(stable, previous),
        turns.len().saturating_sub(1),
    )
}

/// The median of `values` (the upper one of an even count); `None` when empty.
///
/// ```
/// use headroom_bench::session_report::median;
/// assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median(vec![4.0, 1.0]), Some(4.0));
/// assert_eq!(median(vec![]), None);
/// ```
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// How a door's per-turn cost grows with the history, on one clock: turn 24 / turn 2, and the
/// median of the last 12 turns / the median of the first 12.
///
/// ```
/// use headroom_bench::session_report::Growth;
/// use headroom_bench::session_run::{Cost, Turn};
/// let turns: Vec<Turn> = (1..=24)
///     .map(|n| Turn { turn: n, library: Cost { wall_ms: 9.0, cpu_ms: Some(n as f64) }, ..Turn::default() })
///     .collect();
/// let cpu = Growth::of(&turns, |t| t.library.cpu_ms);
/// assert_eq!(cpu.ratio_24_2(), Some(12.0));
/// assert_eq!(cpu.ratio_medians(), Some(19.0 / 7.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    pub turn_2: Option<f64>,
    pub turn_24: Option<f64>,
    pub first_12: Option<f64>,
    pub last_12: Option<f64>,
}

impl Growth {
    /// `cost` of each turn (ms; `None` where not measured).
    pub fn of(turns: &[Turn], cost: impl Fn(&Turn) -> Option<f64>) -> Growth {
        let at = |n: usize| turns.iter().find(|t| t.turn == n).and_then(&cost);
        let k = 12.min(turns.len());
        let medians = |part: &[Turn]| median(part.iter().filter_map(&cost).collect());
        Growth {
            turn_2: at(2),
            turn_24: at(24),
            first_12: medians(&turns[..k]),
            last_12: medians(&turns[turns.len() - k..]),
        }
    }

    /// turn 24 / turn 2.
    pub fn ratio_24_2(&self) -> Option<f64> {
        Some(self.turn_24? / self.turn_2?)
    }

    /// last-12 median / first-12 median.
    pub fn ratio_medians(&self) -> Option<f64> {
        Some(self.last_12? / self.first_12?)
    }

    fn line(&self) -> String {
        let f = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.1}"));
        let r = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.2}×"));
        format!(
            "turn 24 {} ms / turn 2 {} ms = **{}** (target ≤ 2×); median of the last 12 turns {} ms / of the first 12 {} ms = {}",
            f(self.turn_24),
            f(self.turn_2),
            r(self.ratio_24_2()),
            f(self.last_12),
            f(self.first_12),
            r(self.ratio_medians()),
        )
    }
}

/// The issue's targets as measured, per door and clock.
pub fn targets(turns: &[Turn]) -> String {
    let mut out = String::from("\nPer-turn cost as the history grows (a warm process):\n");
    type Pick = fn(&Turn) -> Option<Cost>;
    let doors: [(&str, Pick, Pick); 2] = [
        ("library", |t| Some(t.library), |t| Some(t.library_resend)),
        ("proxy", |t| t.proxy, |t| t.proxy_resend),
    ];
    for (door, first, again) in doors {
        if turns.iter().all(|t| first(t).is_none()) {
            continue;
        }
        let cpu = Growth::of(turns, |t| first(t).and_then(|c| c.cpu_ms));
        let wall = Growth::of(turns, |t| first(t).map(|c| c.wall_ms));
        out.push_str(&format!("- {door}, CPU: {}\n", cpu.line()));
        out.push_str(&format!("- {door}, wall: {}\n", wall.line()));
        let speedups: Vec<f64> = turns
            .iter()
            .filter_map(|t| Some((first(t)?, again(t)?)))
            .map(|(a, b)| a.ms() / b.ms().max(1e-3))
            .collect();
        if let Some(m) = median(speedups) {
            let (a, b) = (turns.first().and_then(first), turns.last().and_then(first));
            let clock = if a.is_some_and(|c| c.cpu_ms.is_some()) {
                "CPU"
            } else {
                "wall"
            };
            out.push_str(&format!(
                "- {door}: the same request sent again is {m:.1}× cheaper than when it came with its new turn \
                 ({clock}, median over turns); first turn {:.1} ms, last turn {:.1} ms ({clock})\n",
                a.map_or(0.0, |c| c.ms()),
                b.map_or(0.0, |c| c.ms()),
            ));
        }
    }
    let proxied: Vec<&Turn> = turns
        .iter()
        .filter(|t| t.proxy_prefix_stable.is_some())
        .collect();
    if !proxied.is_empty() {
        let stable: usize = proxied.iter().filter_map(|t| t.proxy_prefix_stable).sum();
        let previous: usize = proxied.iter().map(|t| t.previous_messages).sum();
        out.push_str(&format!(
            "- proxy sessions: {stable} of {previous} earlier messages byte-identical ({:.1}%, the proxy's own `prefix_stable_messages`)\n",
            percent(stable, previous)
        ));
    }
    out
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// One line per door: how much cheaper the re-send of a request first seen cold was.
pub fn resend_markdown(
    turn: usize,
    tokens: usize,
    library: Resend,
    proxy: Option<Resend>,
) -> String {
    let line = |door: &str, r: Resend| {
        let cpu = match (r.first.cpu_ms, r.again.cpu_ms) {
            (Some(a), Some(b)) => format!(
                "CPU {a:.1} ms, sent again {b:.2} ms: **{:.1}×** cheaper (target ≥ 20×)",
                a / b.max(1e-3)
            ),
            _ => "CPU not measured".into(),
        };
        format!(
            "- {door}: {cpu}; wall {:.1} ms, again {:.2} ms: {:.1}×\n",
            r.first.wall_ms,
            r.again.wall_ms,
            r.first.wall_ms / r.again.wall_ms.max(1e-3)
        )
    };
    let mut out = format!(
        "\nThe request of turn {turn} ({tokens} tokens), first seen by a process that has seen none of it, then sent again:\n"
    );
    out.push_str(&line("library", library));
    if let Some(p) = proxy {
        out.push_str(&line("proxy", p));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(n: usize, cpu: f64) -> Turn {
        Turn {
            turn: n,
            library: Cost {
                wall_ms: cpu * 3.0,
                cpu_ms: Some(cpu),
            },
            ..Turn::default()
        }
    }

    #[test]
    fn growth_compares_turn_24_with_turn_2_and_the_halves() {
        let turns: Vec<Turn> = (1..=40).map(|n| turn(n, n as f64)).collect();
        let g = Growth::of(&turns, |t| t.library.cpu_ms);
        assert_eq!(g.ratio_24_2(), Some(12.0));
        // First 12: 1..=12, median (upper) 7; last 12: 29..=40, median 35.
        assert_eq!((g.first_12, g.last_12), (Some(7.0), Some(35.0)));
        let wall = Growth::of(&turns, |t| Some(t.library.wall_ms));
        assert_eq!(wall.turn_24, Some(72.0));
        let short = Growth::of(&turns[..5], |t| t.library.cpu_ms);
        assert_eq!(short.ratio_24_2(), None);
        assert!(
            targets(&turns).contains("library, CPU: turn 24 24.0 ms / turn 2 2.0 ms = **12.00×**")
        );
    }

    #[test]
    fn dollars_price_cached_tokens_lower() {
        let mut t = turn(1, 1.0);
        t.tokens_without = 1_000_000;
        t.cached_without = 400_000;
        let (plain, cached) = dollars(&[t], false);
        assert!((plain - 2.5).abs() < 1e-9);
        assert!((cached - (0.6 * 2.5 + 0.4 * 1.25)).abs() < 1e-9);
    }
}
