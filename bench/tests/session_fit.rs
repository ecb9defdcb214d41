//! A long agent session of real tool outputs, fitted to small windows: every request fits, keeps
//! OpenAI's pairing rules, and every evicted unit comes back byte for byte; earlier compressed
//! messages stay a byte prefix of the next request outside budget steps; load never changes bytes.

use headroom::{CompressOptions, CompressedJson, Headroom, Memo};
use headroom_bench::session::{artifacts, check_pairing, requests, Artifact};
use headroom_bench::session_run::message_tokens;
use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn session_artifacts(max_bytes: usize) -> Vec<Artifact> {
    artifacts(root(), max_bytes).expect("fixtures (bash scripts/fixtures.sh)")
}

/// An engine with a memo of its own, so tests never share results, and a time budget no debug
/// build on a loaded machine runs out of (running out turns a request into pass-through, tested
/// on its own below).
fn engine(budget: Option<usize>) -> Headroom {
    let mut config = headroom::Config::default();
    config.time_budget = std::time::Duration::from_secs(600);
    let mut builder = Headroom::builder()
        .config(config)
        .memo(Arc::new(Memo::new(256 << 20)));
    if let Some(budget) = budget {
        builder = builder.token_budget(budget);
    }
    builder.build().unwrap()
}

/// The raw bytes of each message of a body.
fn raw_messages(body: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Messages<'a> {
        #[serde(borrow)]
        messages: Vec<&'a RawValue>,
    }
    let m: Messages = serde_json::from_slice(body).unwrap();
    m.messages.iter().map(|r| r.get().to_string()).collect()
}

/// The sent request's tokens, counted here apart from the engine: messages, tools, reply priming.
fn recount(model: &str, body: &[u8]) -> usize {
    let counter = headroom::tokens::counter_for_model(model);
    let sent: Value = serde_json::from_slice(body).unwrap();
    let messages: usize = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| message_tokens(counter.as_ref(), m))
        .sum();
    // Function definitions the way OpenAI counts them (the cookbook's method, checked against the
    // API's own counts in the engine's tests), not as their JSON text.
    let tools = sent.get("tools").map_or(0, |t| {
        headroom::tokens::count_tools(t, model, counter.as_ref()).tokens
    });
    3 + messages + tools
}

/// Checks one compressed request of the session against its original.
fn check(model: &str, original: &[u8], out: &CompressedJson, limit: usize) {
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    let messages = sent["messages"].as_array().unwrap();
    check_pairing(messages).unwrap_or_else(|e| panic!("pairing broken: {e}"));
    let tokens = recount(model, &out.body);
    assert_eq!(
        tokens, out.report.tokens_after,
        "the report's count is the sent request's"
    );
    assert!(tokens <= limit, "sent {tokens} tokens, over {limit}");
    let input = raw_messages(original);
    for eviction in out.report.fit.iter().flat_map(|f| &f.evictions) {
        let stored = out
            .originals
            .iter()
            .find(|o| o.hash == eviction.hash)
            .expect("the evicted run is among the originals to persist");
        let back: Vec<&RawValue> = serde_json::from_str(&stored.text).unwrap();
        let back: Vec<&str> = back.iter().map(|r| r.get()).collect();
        assert_eq!(
            back,
            input[eviction.messages.clone()],
            "evicted messages byte for byte"
        );
        let marker = format!("headroom_retrieve hash={}", eviction.hash);
        assert!(out
            .body
            .windows(marker.len())
            .any(|w| w == marker.as_bytes()));
    }
}

fn run_session(model: &str, budget: Option<usize>, max_bytes: usize, turns: usize, limit: usize) {
    let hr = engine(budget);
    let mut evicted = 0;
    for (i, request) in requests(&session_artifacts(max_bytes), turns, model)
        .iter()
        .enumerate()
    {
        let body = serde_json::to_vec(request).unwrap();
        let out = hr
            .compress_json(&body)
            .unwrap_or_else(|e| panic!("turn {}: {e}", i + 1));
        check(model, &body, &out, limit);
        evicted += out.report.fit.as_ref().map_or(0, |f| f.evictions.len());
    }
    assert!(
        evicted > 0,
        "the session outgrew the window: units were evicted"
    );
}

#[test]
fn every_request_of_a_40_turn_session_fits_gpt_4s_8k_window() {
    // gpt-4: 8,192 tokens, less the default completion reserve (a quarter of the window).
    run_session("gpt-4", None, 6_000, 40, 8_192 - 2_048);
}

#[test]
fn every_request_of_a_40_turn_session_fits_a_16k_token_budget() {
    run_session("gpt-4o", Some(16_000), 16_000, 40, 16_000);
}

#[test]
fn a_request_that_cannot_fit_is_a_typed_error() {
    let requests = requests(&session_artifacts(200_000), 3, "gpt-4o");
    let body = serde_json::to_vec(&requests[2]).unwrap();
    let err = engine(Some(600)).compress_json(&body).unwrap_err();
    assert!(
        matches!(err, headroom::Error::OverBudget { budget: 600, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("token_budget"));
}

#[test]
fn frozen_messages_are_never_rewritten_or_evicted() {
    let requests = requests(&session_artifacts(16_000), 20, "gpt-4o");
    let body = serde_json::to_vec(requests.last().unwrap()).unwrap();
    let frozen = 12;
    let out = engine(None)
        .compress_json_with(
            &body,
            &CompressOptions::default()
                .token_budget(24_000)
                .frozen_message_count(frozen),
        )
        .unwrap();
    let fit = out.report.fit.as_ref().expect("over budget");
    assert!(fit.evictions.iter().all(|e| e.messages.start >= frozen));
    assert_eq!(
        raw_messages(&out.body)[..frozen],
        raw_messages(&body)[..frozen]
    );
}

#[test]
fn the_same_request_compresses_to_the_same_bytes_under_cpu_load() {
    let requests = requests(&session_artifacts(16_000), 24, "gpt-4o");
    let body = serde_json::to_vec(requests.last().unwrap()).unwrap();
    let quiet = engine(Some(16_000)).compress_json(&body).unwrap();
    assert!(quiet.report.fit.is_some() && quiet.report.passthrough_reason.is_none());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinners: Vec<_> = (0..8)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                x
            })
        })
        .collect();
    for _ in 0..3 {
        let loaded = engine(Some(16_000)).compress_json(&body).unwrap();
        assert_eq!(loaded.body, quiet.body, "load changed the bytes");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    spinners.into_iter().for_each(|s| {
        s.join().unwrap();
    });
    // A time budget that runs out turns the whole request into pass-through, never a partial one.
    let mut config = headroom::Config::default();
    config.time_budget = std::time::Duration::ZERO;
    let hurried = Headroom::builder()
        .config(config)
        .memo(Arc::new(Memo::disabled()))
        .build()
        .unwrap()
        .compress_json(&body)
        .unwrap();
    assert_eq!(hurried.body, body);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// compress(c) is a byte prefix of compress(c + one more turn), except where the budget
    /// stepped in that turn: each call with a fresh engine and memo.
    #[test]
    fn earlier_compressed_messages_are_a_byte_prefix_of_the_next_request(
        rotate in 0usize..30,
        turns in 1usize..12,
        max_bytes in 2_000usize..24_000,
        budget in prop::option::of(12_000usize..40_000),
    ) {
        let mut pool = session_artifacts(max_bytes);
        let len = pool.len();
        pool.rotate_left(rotate % len);
        let requests = requests(&pool, turns + 1, "gpt-4o");
        let compress = |r: &Value| engine(budget).compress_json(&serde_json::to_vec(r).unwrap());
        let (Ok(before), Ok(after)) = (compress(&requests[turns - 1]), compress(&requests[turns])) else {
            return Ok(()); // a request that cannot fit the budget: nothing to compare
        };
        let earlier = raw_messages(&before.body);
        let sent_before = requests[turns - 1]["messages"].as_array().unwrap().len();
        let stepped = after.report.fit.as_ref().is_some_and(|f| f.last_step_at > sent_before)
            || before.report.fit.as_ref().is_some_and(|f| f.newest_harder);
        if !stepped {
            let later = raw_messages(&after.body);
            prop_assert_eq!(&later[..earlier.len()], &earlier[..]);
        }
    }
}
