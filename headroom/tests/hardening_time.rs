//! The time budget holds inside one huge segment (issue 16): a 30 MB tool result of each kind,
//! with a 200 ms budget, comes back within the budget and a small slack, sent as it came.
//!
//! The huge cases are `#[ignore]`d (they take seconds in a debug build): `scripts/stress.sh` runs
//! them on the release build with `cargo test --release -p headroom --test hardening_time -- --ignored`.

use headroom::{Config, Headroom};
use std::time::{Duration, Instant};

#[path = "support/shapes.rs"]
mod shapes;
use shapes::{fixture, issues, repeated, request};

fn budgeted(budget: Duration) -> Headroom {
    let mut config = Config::default();
    config.time_budget = budget;
    config.max_body_bytes = 64 << 20;
    // A memo of its own, so no result another test left is served without the budget asked.
    Headroom::builder()
        .config(config)
        .fit_to_window(false)
        .memo(std::sync::Arc::new(headroom::Memo::new(16 << 20)))
        .build()
        .unwrap()
}

/// Compresses `body` with `budget`: within the budget plus `slack`, and as it came when out of time.
fn within_budget(name: &str, body: &[u8], budget: Duration, slack: Duration) {
    let hr = budgeted(budget);
    headroom::tokens::counter_for_model("gpt-4o").count("warm up");
    let started = Instant::now();
    let out = hr.compress_json(body).unwrap();
    let took = started.elapsed();
    let reason = out.report.passthrough_reason.clone().unwrap_or_default();
    eprintln!(
        "{name}: {} MB in {took:?} ({reason})",
        body.len() / 1_000_000
    );
    assert!(
        took <= budget + slack,
        "{name}: {took:?} for a budget of {budget:?}"
    );
    if reason.contains("time budget") {
        assert_eq!(out.body, body, "{name}: out of time, sent as it came");
        assert!(out.originals.is_empty());
    }
}

#[test]
#[ignore = "30 MB segments: run by scripts/stress.sh on the release build"]
fn a_huge_segment_of_each_kind_stops_at_the_budget() {
    let size = 30_000_000;
    let budget = Duration::from_millis(200);
    let slack = Duration::from_millis(800);
    let cases = [
        ("json", issues(size), "list_issues"),
        (
            "logs",
            repeated(&fixture("logs/cargo-build-vv-deps-type-error.txt"), size),
            "cargo_build",
        ),
        (
            "search",
            repeated(&fixture("search/grep-memchr-unsafe-fn.txt"), size),
            "grep",
        ),
        (
            "diff",
            repeated(&fixture("diff/foldhash-0.1.5-0.2.0.diff"), size),
            "git_diff",
        ),
        (
            "text",
            repeated(&fixture("prose/serde_json-README.md"), size),
            "read_file",
        ),
        (
            "code",
            repeated(&fixture("code/serde_json-map.rs"), size),
            "read_file",
        ),
    ];
    for (name, content, tool) in cases {
        within_budget(name, &request(content.into(), tool), budget, slack);
    }
}

#[test]
fn a_large_segment_with_no_budget_left_comes_back_at_once() {
    // 3 MB of log with a budget already spent: nothing is compressed, nothing waits for it.
    let log = repeated(
        &fixture("logs/cargo-build-vv-deps-type-error.txt"),
        3_000_000,
    );
    let body = request(log.into(), "cargo_build");
    within_budget(
        "logs-3mb",
        &body,
        Duration::ZERO,
        Duration::from_millis(500),
    );
}

#[test]
fn a_segment_with_a_lone_surrogate_is_reported_with_its_reason() {
    let log = repeated(&fixture("logs/cargo-build-vv-deps-type-error.txt"), 60_000);
    let log_json = serde_json::to_string(&log).unwrap();
    let body = format!(
        r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"why?"}},
        {{"role":"tool","tool_call_id":"c0","content":"half a pair: \ud800 {}"}},
        {{"role":"tool","tool_call_id":"c1","content":{log_json}}}]}}"#,
        "x ".repeat(400)
    );
    let out = Headroom::default().compress_json(body.as_bytes()).unwrap();
    let segments = &out.report.segments;
    assert_eq!(segments.len(), 3, "every segment is in the report");
    let reason = segments[1].skipped.as_deref().unwrap_or("");
    assert!(reason.contains("lone surrogate"), "{reason:?}");
    assert!(segments[1].tokens_before > 0);
    let text = String::from_utf8(out.body).unwrap();
    assert!(text.contains(r"half a pair: \ud800 x"), "left as it came");
    assert!(
        out.report.tokens_after < out.report.tokens_before,
        "the rest is still compressed"
    );
}
