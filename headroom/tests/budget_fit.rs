//! What the budget does at its edges: which target applies, and what happens when nothing may
//! be evicted.

use headroom::{CompressOptions, Headroom, Memo};
use serde_json::json;
use std::sync::Arc;

fn engine() -> headroom::HeadroomBuilder {
    Headroom::builder().memo(Arc::new(Memo::new(64 << 20)))
}

/// A user turn of about `tokens` tokens (never rewritten), for `model`, reserving `max_tokens`.
fn body(model: &str, tokens: usize, max_tokens: Option<usize>) -> Vec<u8> {
    let mut body = json!({"model": model, "messages": [
        {"role": "user", "content": "word ".repeat(tokens)}]});
    if let Some(n) = max_tokens {
        body["max_tokens"] = n.into();
    }
    serde_json::to_vec(&body).unwrap()
}

fn over(result: headroom::Result<headroom::CompressedJson>) -> Option<usize> {
    match result {
        Err(headroom::Error::OverBudget { budget, .. }) => Some(budget),
        Err(e) => panic!("{e}"),
        Ok(_) => None,
    }
}

#[test]
fn the_target_is_the_window_less_the_completion_reserve() {
    let hr = engine().build().unwrap();
    assert_eq!(
        over(hr.compress_json(&body("gpt-4", 7_000, None))),
        Some(8_192 - 2_048)
    );
    assert_eq!(
        over(hr.compress_json(&body("gpt-4", 5_000, Some(4_000)))),
        Some(4_192)
    );
    assert_eq!(over(hr.compress_json(&body("gpt-4", 5_000, None))), None);
    // An explicit budget wins, per request over the config.
    let hr = engine().token_budget(3_000).build().unwrap();
    assert_eq!(
        over(hr.compress_json(&body("gpt-4o", 5_000, None))),
        Some(3_000)
    );
    let options = CompressOptions::default().token_budget(6_000);
    assert_eq!(
        over(hr.compress_json_with(&body("gpt-4o", 5_000, None), &options)),
        None
    );
}

#[test]
fn unknown_windows_and_fitting_off_are_left_to_the_provider() {
    let hr = engine().build().unwrap();
    let input = body("my-local-llama", 200_000, None);
    assert_eq!(hr.compress_json(&input).unwrap().body, input);
    let hr = engine().fit_to_window(false).build().unwrap();
    let input = body("gpt-4", 20_000, None);
    let out = hr.compress_json(&input).unwrap();
    assert_eq!(out.body, input);
    assert!(out.report.fit.is_none());
}

#[test]
fn lossless_only_evicts_nothing_and_refuses_only_an_explicit_budget() {
    let input = body("gpt-4", 20_000, None);
    let out = engine()
        .lossless_only(true)
        .build()
        .unwrap()
        .compress_json(&input)
        .unwrap();
    assert_eq!(out.body, input, "nothing evicted: the provider decides");
    let fit = out.report.fit.expect("the report says it is over");
    assert!(fit.left_over.unwrap().contains("lossless_only"));
    let hr = engine()
        .lossless_only(true)
        .token_budget(10_000)
        .build()
        .unwrap();
    assert_eq!(over(hr.compress_json(&input)), Some(10_000));
}
