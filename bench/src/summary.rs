//! Per content type and method: tokens saved, fidelity, times; the table and the list of losses.

use crate::corpus::Kind;
use crate::harness::{Method, Outcome};
use serde::Serialize;
use std::fmt::Write;

/// One row of the table: a method on one content type.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    /// Content type.
    pub kind: Kind,
    /// Method.
    pub method: Method,
    /// Cases.
    pub cases: usize,
    /// Tokens saved over all cases of the type, percent of the tokens before.
    pub saved_pct: f64,
    /// Cases whose asked-about item and every error line survived verbatim, percent.
    pub asked_pct: f64,
    /// Record probes verbatim, percent (a zeroed case counts 0).
    pub verbatim_pct: f64,
    /// Record probes verbatim or retrievable, percent.
    pub recoverable_pct: f64,
    /// Cases zeroed (invented tokens, undecodable output).
    pub zeroed: usize,
    /// Median compression time per case, milliseconds.
    pub median_ms: Option<f64>,
    /// 99th-percentile compression time per case, milliseconds.
    pub p99_ms: Option<f64>,
    /// Median time to count the input's tokens once, milliseconds (Headroom rows).
    pub count_median_ms: Option<f64>,
    /// Throughput over the type's cases: their input bytes over their summed times, MB/s.
    #[serde(default)]
    pub mb_per_s: Option<f64>,
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The `q` quantile (nearest rank) of `xs`.
///
/// ```
/// assert_eq!(headroom_bench::summary::quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.0));
/// assert_eq!(headroom_bench::summary::quantile(&[4.0, 1.0, 3.0, 2.0], 0.99), Some(4.0));
/// assert_eq!(headroom_bench::summary::quantile(&[], 0.5), None);
/// ```
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

/// Aggregates outcomes into rows, per content type (in table order) and an `all` total per method.
pub fn rows(outcomes: &[Outcome]) -> Vec<Row> {
    let mut rows = Vec::new();
    for kind in Kind::ALL {
        for method in Method::ALL {
            let of: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| o.kind == kind && o.method == method)
                .collect();
            if !of.is_empty() {
                rows.push(row(kind, method, &of));
            }
        }
    }
    rows
}

/// The row for `outcomes` of one method (any kinds), labelled `kind`.
pub fn row(kind: Kind, method: Method, of: &[&Outcome]) -> Row {
    let before: usize = of.iter().map(|o| o.tokens_before).sum();
    let after: usize = of.iter().map(|o| o.tokens_after).sum();
    let probes: usize = of.iter().map(|o| o.fidelity.probes).sum();
    let times: Vec<f64> = of
        .iter()
        .filter_map(|o| o.time_us)
        .map(|t| t / 1000.0)
        .collect();
    let counts: Vec<f64> = of
        .iter()
        .filter_map(|o| o.count_us)
        .map(|t| t / 1000.0)
        .collect();
    let ok = |o: &&&Outcome| o.fidelity.zeroed.is_none();
    Row {
        kind,
        method,
        cases: of.len(),
        saved_pct: 100.0 - pct(after, before),
        asked_pct: pct(
            of.iter().filter(|o| o.fidelity.asked_and_errors()).count(),
            of.len(),
        ),
        verbatim_pct: pct(
            of.iter().filter(ok).map(|o| o.fidelity.verbatim).sum(),
            probes,
        ),
        recoverable_pct: pct(
            of.iter().filter(ok).map(|o| o.fidelity.recoverable).sum(),
            probes,
        ),
        zeroed: of.iter().filter(|o| o.fidelity.zeroed.is_some()).count(),
        median_ms: quantile(&times, 0.5),
        p99_ms: quantile(&times, 0.99),
        count_median_ms: quantile(&counts, 0.5),
        mb_per_s: throughput(of),
    }
}

/// Headroom's (defaults) throughput over the whole corpus, MB/s: all input bytes over all time.
pub fn corpus_throughput(outcomes: &[Outcome]) -> Option<f64> {
    let of: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.method == Method::Headroom)
        .collect();
    throughput(&of)
}

/// Input bytes over time, MB/s, for the outcomes that were timed.
fn throughput(of: &[&Outcome]) -> Option<f64> {
    let timed: Vec<&&Outcome> = of.iter().filter(|o| o.time_us.is_some()).collect();
    let us: f64 = timed.iter().filter_map(|o| o.time_us).sum();
    let bytes: usize = timed.iter().map(|o| o.input_bytes).sum();
    (us > 0.0 && bytes > 0).then(|| bytes as f64 / us)
}

fn ms(x: Option<f64>) -> String {
    match x {
        Some(v) if v < 1.0 => format!("{v:.2}"),
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
        None => "–".into(),
    }
}

/// The table in Markdown: one block per content type.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str("| type | method | cases | tokens saved | asked item + errors | verbatim | recoverable | zeroed | median ms | p99 ms |\n");
    s.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1}% | {:.0}% | {:.1}% | {:.1}% | {} | {} | {} |",
            r.kind.name(),
            r.method.label(),
            r.cases,
            r.saved_pct,
            r.asked_pct,
            r.verbatim_pct,
            r.recoverable_pct,
            r.zeroed,
            ms(r.median_ms),
            ms(r.p99_ms)
        );
    }
    s
}

/// Per content type: Headroom's median time over the time to count the input's tokens once, and
/// the Python reference's median time over Headroom's.
pub fn speed_markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| type | Headroom MB/s | Headroom median ms | count input tokens once, ms | Headroom / count | headroom-ai median ms | headroom-ai / Headroom |\n|---|--:|--:|--:|--:|--:|--:|\n",
    );
    for kind in Kind::ALL {
        let find = |m| rows.iter().find(|r| r.kind == kind && r.method == m);
        let Some(hr) = find(Method::Headroom) else {
            continue;
        };
        let py = find(Method::Reference).and_then(|r| r.median_ms);
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            kind.name(),
            hr.mb_per_s.map_or("–".into(), |v| format!("{v:.1}")),
            ms(hr.median_ms),
            ms(hr.count_median_ms),
            ratio(hr.median_ms, hr.count_median_ms),
            ms(py),
            ratio(py, hr.median_ms)
        );
    }
    s
}

/// Retention per question kind and content type: of the variants asking about an item by that
/// kind of reference, how many kept the item verbatim in one unit and every error line (`k/n`),
/// and the tokens saved over those variants.
///
/// ```
/// use headroom_bench::{corpus::Kind, harness::KindOutcome, kinds::QuestionKind};
/// let o = |needle| KindOutcome { case: "c".into(), kind: Kind::Search, question_kind: QuestionKind::FileName,
///     question: "q".into(), needle, asked_and_errors: needle, tokens_before: 100, tokens_after: 40,
///     sent: String::new() };
/// let md = headroom_bench::summary::kinds_markdown(&[o(true), o(false)]);
/// assert!(md.contains("| file name | – | – | 1/2 | – | – | – | 1/2 (50%) | 60.0% |"), "{md}");
/// ```
pub fn kinds_markdown(outcomes: &[crate::harness::KindOutcome]) -> String {
    let mut s = String::from("| question names the item by | ");
    for kind in Kind::ALL {
        let _ = write!(s, "{} | ", kind.name());
    }
    s.push_str("all | tokens saved |\n|---|");
    s.push_str(&"--:|".repeat(Kind::ALL.len() + 2));
    s.push('\n');
    for qk in crate::kinds::QuestionKind::ALL {
        let of: Vec<_> = outcomes.iter().filter(|o| o.question_kind == qk).collect();
        if of.is_empty() {
            continue;
        }
        let _ = write!(s, "| {} | ", qk.label());
        for kind in Kind::ALL {
            let cell: Vec<_> = of.iter().filter(|o| o.kind == kind).collect();
            if cell.is_empty() {
                s.push_str("– | ");
            } else {
                let kept = cell.iter().filter(|o| o.asked_and_errors).count();
                let _ = write!(s, "{kept}/{} | ", cell.len());
            }
        }
        let kept = of.iter().filter(|o| o.asked_and_errors).count();
        let before: usize = of.iter().map(|o| o.tokens_before).sum();
        let after: usize = of.iter().map(|o| o.tokens_after).sum();
        let _ = writeln!(
            s,
            "{kept}/{} ({:.0}%) | {:.1}% |",
            of.len(),
            pct(kept, of.len()),
            100.0 - pct(after, before)
        );
    }
    s
}

/// Every case where Headroom (defaults) does worse than another method, with the reason.
pub fn losses(outcomes: &[Outcome]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cases: Vec<&str> = outcomes.iter().map(|o| o.case.as_str()).collect();
    cases.dedup();
    for case in cases {
        let of = |m| outcomes.iter().find(|o| o.case == case && o.method == m);
        let Some(hr) = of(Method::Headroom) else {
            continue;
        };
        let hf = &hr.fidelity;
        for other in Method::ALL.into_iter().filter(|m| *m != Method::Headroom) {
            let Some(o) = of(other) else { continue };
            let of_ = &o.fidelity;
            let mut why = Vec::new();
            if of_.asked_and_errors() && !hf.asked_and_errors() {
                why.push(fidelity_reason(hf));
            }
            if of_.zeroed.is_none() && of_.recoverable > hf.recoverable {
                why.push(format!(
                    "recoverable {}/{} vs {}/{}",
                    hf.recoverable, hf.probes, of_.recoverable, of_.probes
                ));
            }
            let no_worse = of_.asked_and_errors() >= hf.asked_and_errors()
                && of_.recoverable >= hf.recoverable;
            // Head+tail is cut to Headroom's token count: a token or two under it is the cut, not a win.
            if o.tokens_after < hr.tokens_after && other != Method::HeadTail {
                let cost = if no_worse {
                    String::new()
                } else {
                    format!(" (its own cost: {})", fidelity_cost(of_))
                };
                why.push(format!(
                    "{} tokens vs {}{cost}",
                    o.tokens_after, hr.tokens_after
                ));
            }
            if !why.is_empty() {
                out.push(format!(
                    "{case} ({}) vs {}: {}",
                    hr.kind.name(),
                    other.label(),
                    why.join("; ")
                ));
            }
        }
    }
    out
}

/// What a method that sends fewer tokens gives up for it.
fn fidelity_cost(f: &crate::fidelity::Fidelity) -> String {
    let mut parts = Vec::new();
    if !f.asked_and_errors() {
        parts.push(fidelity_reason(f));
    }
    if f.zeroed.is_none() && f.recoverable < f.probes {
        parts.push(format!("recoverable {}/{}", f.recoverable, f.probes));
    }
    parts.join("; ")
}

fn fidelity_reason(f: &crate::fidelity::Fidelity) -> String {
    if let Some(z) = &f.zeroed {
        return format!("zeroed: {z}");
    }
    let mut parts = Vec::new();
    if !f.needle {
        parts.push("asked-about item not verbatim in one unit".to_string());
    }
    if f.errors_kept < f.errors {
        parts.push(format!(
            "{} of {} error lines dropped",
            f.errors - f.errors_kept,
            f.errors
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fidelity::Fidelity;

    fn outcome(
        method: Method,
        after: usize,
        needle: bool,
        recoverable: usize,
        time: f64,
    ) -> Outcome {
        Outcome {
            case: "c".into(),
            kind: Kind::Logs,
            method,
            tokens_before: 1000,
            tokens_after: after,
            fidelity: Fidelity {
                needle,
                probes: 20,
                verbatim: recoverable,
                recoverable,
                ..Fidelity::default()
            },
            time_us: Some(time),
            count_us: None,
            input_bytes: 4000,
            sent: String::new(),
        }
    }

    #[test]
    fn rows_sum_tokens_and_average_fidelity() {
        let outs = [
            outcome(Method::Headroom, 250, true, 20, 1000.0),
            outcome(Method::Identity, 1000, true, 20, 0.0),
        ];
        let rows = rows(&outs);
        let hr = rows.iter().find(|r| r.method == Method::Headroom).unwrap();
        assert_eq!(
            (hr.saved_pct, hr.asked_pct, hr.recoverable_pct),
            (75.0, 100.0, 100.0)
        );
        assert_eq!(hr.median_ms, Some(1.0));
        assert!(markdown(&rows).contains("| logs | Headroom (defaults) | 1 | 75.0% | 100% |"));
        // 4000 bytes in 1000 µs: 4 MB/s; the identity row (0 µs) has no throughput.
        assert_eq!(hr.mb_per_s, Some(4.0));
        assert_eq!(corpus_throughput(&outs), Some(4.0));
        assert!(speed_markdown(&rows).contains("| logs | 4.0 | 1.0 |"));
    }

    #[test]
    fn losses_name_the_reason() {
        let outs = [
            outcome(Method::Headroom, 300, false, 15, 1.0),
            outcome(Method::Identity, 1000, true, 20, 0.0),
            outcome(Method::Reference, 200, false, 19, 1.0),
        ];
        let l = losses(&outs);
        assert_eq!(l.len(), 2, "{l:?}");
        assert!(l[0].contains("asked-about item") && l[0].contains("recoverable 15/20 vs 20/20"));
        assert!(l[1].contains("headroom-ai") && l[1].ends_with("200 tokens vs 300"));
        let cheaper_but_lossy = [
            outcome(Method::Headroom, 300, true, 20, 1.0),
            outcome(Method::Reference, 100, false, 20, 1.0),
        ];
        let l = losses(&cheaper_but_lossy);
        assert_eq!(l.len(), 1, "{l:?}");
        assert!(
            l[0].ends_with(
                "100 tokens vs 300 (its own cost: asked-about item not verbatim in one unit)"
            ),
            "{l:?}"
        );
    }
}
