//! What the proxy counts, and `GET /stats` in the field names of the Headroom SDK's `ProxyStats`.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// The routes counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `/v1/responses` and everything under it (`POST /v1/responses` compressed, the rest forwarded).
    Responses,
    /// `POST /v1/compress`.
    Compress,
    /// `POST /v1/retrieve` and `/v1/retrieve/tool_call`.
    Retrieve,
    /// Every other `/v1/*` request, forwarded untouched.
    Passthrough,
}

impl Route {
    /// Every route, in the order they are reported.
    pub const ALL: [Route; 5] = [
        Route::ChatCompletions,
        Route::Responses,
        Route::Compress,
        Route::Retrieve,
        Route::Passthrough,
    ];

    /// The routes that compress, whose tokens are counted apart, in the order they are reported.
    pub const COMPRESSING: [Route; 3] = [Route::ChatCompletions, Route::Responses, Route::Compress];

    /// The route's label in `/stats` and `/metrics`.
    pub fn label(self) -> &'static str {
        match self {
            Route::ChatCompletions => "chat_completions",
            Route::Responses => "responses",
            Route::Compress => "compress",
            Route::Retrieve => "retrieve",
            Route::Passthrough => "passthrough",
        }
    }
}

/// Prompt tokens of one route's compressions.
#[derive(Debug, Default)]
pub struct RouteTokens {
    /// Before compression.
    pub before: AtomicU64,
    /// After compression.
    pub after: AtomicU64,
    /// Saved.
    pub saved: AtomicU64,
}

impl RouteTokens {
    /// (before, after, saved).
    pub fn load(&self) -> (u64, u64, u64) {
        (
            self.before.load(Relaxed),
            self.after.load(Relaxed),
            self.saved.load(Relaxed),
        )
    }
}

/// Distinct `model` labels counted apart; later ones are counted under [`OTHER_MODELS`].
pub const MAX_MODELS: usize = 100;
/// The label of the models past [`MAX_MODELS`].
pub const OTHER_MODELS: &str = "(other)";

/// Upper bounds (seconds) of the latency histograms' buckets.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

/// A latency histogram with Prometheus buckets, plus min and max.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
    min_us: AtomicU64,
    max_us: AtomicU64,
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&self, elapsed: Duration) {
        let us = elapsed.as_micros().min(u64::MAX as u128) as u64;
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&le| secs <= le) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        if self.count.fetch_add(1, Relaxed) == 0 {
            self.min_us.store(us, Relaxed);
        } else {
            self.min_us.fetch_min(us, Relaxed);
        }
        self.sum_us.fetch_add(us, Relaxed);
        self.max_us.fetch_max(us, Relaxed);
    }

    /// Cumulative counts per bucket, the total count and the sum in seconds.
    pub fn cumulative(&self) -> (Vec<u64>, u64, f64) {
        let mut running = 0;
        let counts = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Relaxed);
                running
            })
            .collect();
        let sum = self.sum_us.load(Relaxed) as f64 / 1e6;
        (counts, self.count.load(Relaxed), sum)
    }

    fn summary_ms(&self) -> Value {
        let count = self.count.load(Relaxed);
        let ms = |us: u64| us as f64 / 1000.0;
        let average = if count == 0 {
            0.0
        } else {
            ms(self.sum_us.load(Relaxed)) / count as f64
        };
        json!({
            "average_ms": average,
            "min_ms": ms(self.min_us.load(Relaxed)),
            "max_ms": ms(self.max_us.load(Relaxed)),
            "count": count,
        })
    }
}

/// Every counter of one proxy process.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests per route, in [`Route::ALL`] order.
    pub by_route: [AtomicU64; 5],
    /// Tokens per compressing route, in [`Route::COMPRESSING`] order.
    pub route_tokens: [RouteTokens; 3],
    /// Requests answered with an error status (by the proxy or the upstream).
    pub failed: AtomicU64,
    /// Requests per model (chat completions and compress calls): at most [`MAX_MODELS`] labels
    /// of at most [`LABEL_CHARS`](super::client_text::LABEL_CHARS) characters, since clients name them.
    pub by_model: Mutex<BTreeMap<String, u64>>,
    /// Tokens before compression, summed over compressed requests.
    pub tokens_before: AtomicU64,
    /// Tokens after compression.
    pub tokens_after: AtomicU64,
    /// Tokens saved.
    pub tokens_saved: AtomicU64,
    /// Originals written to the store.
    pub originals_stored: AtomicU64,
    /// Retrieve answers given (API calls and retrieval rounds).
    pub retrievals: AtomicU64,
    /// Retrieval rounds sent upstream on a model's behalf.
    pub retrieval_rounds: AtomicU64,
    /// `/v1/compress` calls that carried a `token_budget`.
    pub token_budgets: AtomicU64,
    /// Runs of tool units evicted to fit a token budget (one marker message each).
    pub evictions: AtomicU64,
    /// Messages in those runs.
    pub evicted_messages: AtomicU64,
    /// Requests refused because they cannot fit their token budget.
    pub over_budget: AtomicU64,
    /// `/v1/compress` calls with a `session_id` that had an earlier call.
    pub session_calls: AtomicU64,
    /// Messages of the earlier calls' replies that came back byte-identical at the start of the next.
    pub prefix_stable_messages: AtomicU64,
    /// Messages of those earlier replies.
    pub prefix_previous_messages: AtomicU64,
    /// Time spent compressing.
    pub compression: Histogram,
    /// Time from sending a request upstream to its response head.
    pub upstream: Histogram,
    /// Errors by kind (`upstream_timeout`, `compression_failed`, …).
    pub errors: Mutex<BTreeMap<&'static str, u64>>,
}

impl Stats {
    /// Counts a request on `route`.
    pub fn request(&self, route: Route) {
        let i = Route::ALL.iter().position(|r| *r == route).unwrap_or(0);
        self.by_route[i].fetch_add(1, Relaxed);
    }

    /// Counts a request for `model` (a client's string: cut to a label, and counted under
    /// [`OTHER_MODELS`] once [`MAX_MODELS`] labels are taken).
    pub fn model(&self, model: &str) {
        let mut label = super::client_text::label(model);
        let mut by_model = self.by_model.lock().unwrap_or_else(|p| p.into_inner());
        if !by_model.contains_key(&label) && by_model.len() >= MAX_MODELS {
            label = OTHER_MODELS.to_string();
        }
        *by_model.entry(label).or_default() += 1;
    }

    /// Counts an error of `kind`.
    pub fn error(&self, kind: &'static str) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(kind).or_default() += 1;
    }

    /// Counts what a compression did.
    pub fn compressed(&self, report: &headroom::Report) {
        self.tokens_before
            .fetch_add(report.tokens_before as u64, Relaxed);
        self.tokens_after
            .fetch_add(report.tokens_after as u64, Relaxed);
        self.tokens_saved
            .fetch_add(report.tokens_saved as u64, Relaxed);
        if let Some(fit) = &report.fit {
            self.evictions
                .fetch_add(fit.evictions.len() as u64, Relaxed);
            let messages: usize = fit.evictions.iter().map(|e| e.messages.len()).sum();
            self.evicted_messages.fetch_add(messages as u64, Relaxed);
        }
    }

    /// Counts what a compression on `route` did, apart from the other routes' (the totals are
    /// counted by [`Stats::compressed`]). A route that does not compress is not counted.
    pub fn route_compressed(&self, route: Route, report: &headroom::Report) {
        let Some(i) = Route::COMPRESSING.iter().position(|r| *r == route) else {
            return;
        };
        let tokens = &self.route_tokens[i];
        tokens
            .before
            .fetch_add(report.tokens_before as u64, Relaxed);
        tokens.after.fetch_add(report.tokens_after as u64, Relaxed);
        tokens.saved.fetch_add(report.tokens_saved as u64, Relaxed);
    }

    /// Counts a session call: `stable` of the previous reply's `previous` messages came back
    /// byte-identical at the start of this one.
    pub fn session(&self, stable: usize, previous: usize) {
        self.session_calls.fetch_add(1, Relaxed);
        self.prefix_stable_messages
            .fetch_add(stable as u64, Relaxed);
        self.prefix_previous_messages
            .fetch_add(previous as u64, Relaxed);
    }

    /// The share of earlier session replies' messages that stayed byte-identical (1.0 with none).
    pub fn prefix_stable_share(&self) -> f64 {
        let previous = self.prefix_previous_messages.load(Relaxed);
        if previous == 0 {
            return 1.0;
        }
        self.prefix_stable_messages.load(Relaxed) as f64 / previous as f64
    }

    /// Requests counted on every route.
    pub fn total(&self) -> u64 {
        self.by_route.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// `GET /stats`: the SDK's `ProxyStats` fields (snake_case, as the proxy sends them), plus
    /// `requests.by_route`.
    pub fn snapshot(&self) -> Value {
        let before = self.tokens_before.load(Relaxed);
        let saved = self.tokens_saved.load(Relaxed);
        let savings_percent = if before == 0 {
            0.0
        } else {
            (saved as f64 * 10_000.0 / before as f64).round() / 100.0
        };
        let by_route: serde_json::Map<String, Value> = Route::ALL
            .iter()
            .zip(&self.by_route)
            .map(|(r, c)| (r.label().to_string(), json!(c.load(Relaxed))))
            .collect();
        let tokens_by_route: serde_json::Map<String, Value> = Route::COMPRESSING
            .iter()
            .zip(&self.route_tokens)
            .map(|(r, t)| {
                let (before, after, saved) = t.load();
                let tokens = json!({"before": before, "after": after, "saved": saved});
                (r.label().to_string(), tokens)
            })
            .collect();
        let by_model = self
            .by_model
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let total = self.total();
        json!({
            "requests": {
                "total": total,
                "cached": 0,
                "rate_limited": 0,
                "failed": self.failed.load(Relaxed),
                "by_provider": {"openai": total},
                "by_model": by_model,
                "by_route": by_route,
            },
            "tokens": {
                "input": self.tokens_after.load(Relaxed),
                "output": 0,
                "saved": saved,
                "cli_tokens_avoided": 0,
                "total_before_compression": before,
                "total_after_compression": self.tokens_after.load(Relaxed),
                "savings_percent": savings_percent,
                "by_route": tokens_by_route,
            },
            "latency": self.upstream.summary_ms(),
            "overhead": self.compression.summary_ms(),
            "compression": {
                "ccr_entries": self.originals_stored.load(Relaxed),
                "ccr_retrievals": self.retrievals.load(Relaxed),
                "retrieval_rounds": self.retrieval_rounds.load(Relaxed),
                "token_budget_requests": self.token_budgets.load(Relaxed),
                "evictions": self.evictions.load(Relaxed),
                "evicted_messages": self.evicted_messages.load(Relaxed),
                "over_budget_requests": self.over_budget.load(Relaxed),
            },
            "sessions": {
                "calls": self.session_calls.load(Relaxed),
                "prefix_stable_messages": self.prefix_stable_messages.load(Relaxed),
                "prefix_previous_messages": self.prefix_previous_messages.load(Relaxed),
                "prefix_stable_share": self.prefix_stable_share(),
            },
            "errors": errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_uses_the_sdk_field_names() {
        let stats = Stats::default();
        stats.request(Route::ChatCompletions);
        stats.request(Route::Responses);
        stats.model("gpt-4o");
        stats.tokens_before.store(1000, Relaxed);
        stats.tokens_saved.store(250, Relaxed);
        let s = stats.snapshot();
        assert_eq!(s["requests"]["total"], 2);
        assert_eq!(s["requests"]["by_model"]["gpt-4o"], 1);
        assert_eq!(s["requests"]["by_route"]["responses"], 1);
        assert_eq!(s["tokens"]["total_before_compression"], 1000);
        assert_eq!(s["tokens"]["saved"], 250);
        assert_eq!(s["tokens"]["savings_percent"], 25.0);
        let report = headroom::Report {
            tokens_before: 100,
            tokens_after: 40,
            tokens_saved: 60,
            ..Default::default()
        };
        stats.route_compressed(Route::Responses, &report);
        stats.route_compressed(Route::Retrieve, &report);
        let s = stats.snapshot();
        let by_route = s["tokens"]["by_route"].as_object().unwrap();
        assert_eq!(by_route.len(), 3, "the compressing routes only");
        assert_eq!(
            by_route["responses"],
            json!({"before":100,"after":40,"saved":60})
        );
        assert_eq!(by_route["chat_completions"]["saved"], 0);
    }

    #[test]
    fn model_labels_are_bounded_in_length_and_number() {
        let stats = Stats::default();
        let huge = "m".repeat(10_000_000);
        for _ in 0..10 {
            stats.model(&huge);
        }
        for i in 0..1000 {
            stats.model(&format!("model-{i}"));
        }
        let by_model = stats.by_model.lock().unwrap().clone();
        assert!(by_model.len() <= MAX_MODELS + 1, "{}", by_model.len());
        assert!(by_model.keys().all(|k| k.chars().count() <= 64));
        assert_eq!(
            by_model.values().sum::<u64>(),
            1010,
            "every request is still counted"
        );
        assert_eq!(by_model[OTHER_MODELS], 1000 - (MAX_MODELS as u64 - 1));
        assert!(stats.snapshot().to_string().len() < 16 * 1024);
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(100));
        let (counts, count, sum) = h.cumulative();
        assert_eq!((counts[0], counts[6], *counts.last().unwrap()), (1, 2, 2));
        assert_eq!(count, 3);
        assert!((sum - 100.0303).abs() < 1e-6);
        assert_eq!(h.summary_ms()["min_ms"], 0.3);
    }
}
