//! `GET /metrics`: the proxy's counters in the Prometheus text format (version 0.0.4).

use super::stats::{Histogram, Route, Stats, BUCKETS};
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

/// The `Content-Type` of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every counter and histogram.
pub fn render(stats: &Stats) -> String {
    let mut out = String::new();
    let w = &mut out;
    family(
        w,
        "headroom_requests_total",
        "counter",
        "Requests by route.",
    );
    for (route, count) in Route::ALL.iter().zip(&stats.by_route) {
        let _ = writeln!(
            w,
            "headroom_requests_total{{route=\"{}\"}} {}",
            route.label(),
            count.load(Relaxed)
        );
    }
    let counters = [
        (
            "headroom_requests_failed_total",
            "Requests answered with an error status.",
            &stats.failed,
        ),
        (
            "headroom_tokens_before_total",
            "Prompt tokens before compression.",
            &stats.tokens_before,
        ),
        (
            "headroom_tokens_after_total",
            "Prompt tokens after compression.",
            &stats.tokens_after,
        ),
        (
            "headroom_tokens_saved_total",
            "Prompt tokens saved by compression.",
            &stats.tokens_saved,
        ),
        (
            "headroom_originals_stored_total",
            "Originals written to the store.",
            &stats.originals_stored,
        ),
        (
            "headroom_retrieve_total",
            "Retrieve answers given (API and retrieval rounds).",
            &stats.retrievals,
        ),
        (
            "headroom_retrieval_rounds_total",
            "Retrieval rounds sent upstream.",
            &stats.retrieval_rounds,
        ),
        (
            "headroom_evictions_total",
            "Runs of old tool units evicted to fit a token budget.",
            &stats.evictions,
        ),
        (
            "headroom_evicted_messages_total",
            "Messages evicted to fit a token budget.",
            &stats.evicted_messages,
        ),
        (
            "headroom_over_budget_total",
            "Requests refused because they cannot fit their token budget.",
            &stats.over_budget,
        ),
        (
            "headroom_session_calls_total",
            "/v1/compress calls continuing a session.",
            &stats.session_calls,
        ),
        (
            "headroom_prefix_stable_messages_total",
            "Messages of a session's previous reply sent again byte-identical.",
            &stats.prefix_stable_messages,
        ),
        (
            "headroom_prefix_previous_messages_total",
            "Messages of a session's previous replies.",
            &stats.prefix_previous_messages,
        ),
    ];
    for (name, help, value) in counters {
        family(w, name, "counter", help);
        let _ = writeln!(w, "{name} {}", value.load(Relaxed));
    }
    let by_route = [
        ("before", "Prompt tokens before compression, by route."),
        ("after", "Prompt tokens after compression, by route."),
        ("saved", "Prompt tokens saved by compression, by route."),
    ];
    for (i, (kind, help)) in by_route.into_iter().enumerate() {
        let name = format!("headroom_route_tokens_{kind}_total");
        family(w, &name, "counter", help);
        for (route, tokens) in Route::COMPRESSING.iter().zip(&stats.route_tokens) {
            let counts = tokens.load();
            let value = [counts.0, counts.1, counts.2][i];
            let _ = writeln!(w, "{name}{{route=\"{}\"}} {value}", route.label());
        }
    }
    family(
        w,
        "headroom_prefix_stable_share",
        "gauge",
        "Share of session messages sent again byte-identical (a provider cache can hit them).",
    );
    let _ = writeln!(
        w,
        "headroom_prefix_stable_share {}",
        stats.prefix_stable_share()
    );
    family(w, "headroom_errors_total", "counter", "Errors by kind.");
    for (kind, count) in stats
        .errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        let _ = writeln!(w, "headroom_errors_total{{kind=\"{kind}\"}} {count}");
    }
    histogram(
        w,
        "headroom_compression_seconds",
        "Time spent compressing a request.",
        &stats.compression,
    );
    histogram(
        w,
        "headroom_upstream_seconds",
        "Time from sending a request upstream to its response head.",
        &stats.upstream,
    );
    out
}

fn family(w: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(w, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histogram(w: &mut String, name: &str, help: &str, h: &Histogram) {
    family(w, name, "histogram", help);
    let (counts, count, sum) = h.cumulative();
    for (le, c) in BUCKETS.iter().zip(counts) {
        let _ = writeln!(w, "{name}_bucket{{le=\"{le}\"}} {c}");
    }
    let _ = writeln!(w, "{name}_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(w, "{name}_sum {sum}");
    let _ = writeln!(w, "{name}_count {count}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_family_is_declared_and_histograms_end_with_inf() {
        let stats = Stats::default();
        stats.request(Route::Passthrough);
        stats.error("upstream_timeout");
        stats.compression.observe(Duration::from_millis(3));
        let text = render(&stats);
        assert!(text.contains("headroom_requests_total{route=\"passthrough\"} 1\n"));
        assert!(text.contains("headroom_errors_total{kind=\"upstream_timeout\"} 1\n"));
        assert!(text.contains("headroom_compression_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("headroom_compression_seconds_bucket{le=\"+Inf\"} 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{name} has no TYPE line"
            );
        }
    }
}
