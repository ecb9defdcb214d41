//! The Responses comparison of the benchmark (`headroom-bench responses`): the same content sent
//! as a Responses request saves what it saves as chat, within a point. Always on the engine's
//! committed fixtures (every kind); on the whole collected corpus, savings and retention, when
//! `bash scripts/bench.sh` has collected it.

use headroom::Headroom;
use headroom_bench::corpus::Case;
use headroom_bench::responses::{compare, to_responses};
use serde_json::{json, Value};
use std::path::Path;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../headroom/tests/fixtures");

/// A chat request whose last message is `text`, the result of a tool named after its kind.
fn chat_with(kind: &str, text: &str) -> Value {
    json!({"model":"gpt-4o","messages":[
        {"role":"system","content":"You are a coding agent."},
        {"role":"user","content":"What went wrong here?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
            "function":{"name":format!("read_{kind}"),"arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c1","content":text},
    ]})
}

#[test]
fn every_fixture_saves_the_same_as_responses_and_as_chat() {
    let engine = Headroom::default();
    let mut checked = 0;
    for kind in ["logs", "json", "code", "diff", "search", "prose"] {
        for file in std::fs::read_dir(Path::new(FIXTURES).join(kind)).unwrap() {
            let path = file.unwrap().path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if path.file_name().is_some_and(|n| n == "SOURCE") {
                continue;
            }
            let chat = chat_with(kind, &text);
            let saved = |body: &Value| {
                let report = engine.compress_json(&serde_json::to_vec(body).unwrap());
                report.unwrap().report.savings_ratio
            };
            let (c, r) = (saved(&chat), saved(&to_responses(&chat)));
            assert!(
                (c - r).abs() < 0.01,
                "{}: chat {c:.3}, Responses {r:.3}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked} fixtures");
}

#[test]
fn the_collected_corpus_saves_and_retains_the_same_both_ways() {
    let corpus = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/bench/corpus"
    ));
    let Ok(index) = std::fs::read_to_string(corpus.join("index.json")) else {
        eprintln!("responses_parity: no collected corpus (run `bash scripts/bench.sh`); skipped");
        return;
    };
    let index: Vec<Value> = serde_json::from_str(&index).unwrap();
    let (mut chat, mut responses) = ([0usize; 4], [0usize; 4]);
    for entry in &index {
        let id = entry["id"].as_str().unwrap();
        let case = std::fs::read_to_string(corpus.join(format!("{id}.case.json"))).unwrap();
        let case: Case = serde_json::from_str(&case).unwrap();
        let row = compare(&case).unwrap();
        for (sum, (before, after, f)) in [(&mut chat, row.chat), (&mut responses, row.responses)] {
            for (s, v) in sum.iter_mut().zip([before, after, f.probes, f.recoverable]) {
                *s += v;
            }
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let saved = |t: [usize; 4]| pct(t[0] - t[1], t[0]);
    let kept = |t: [usize; 4]| pct(t[3], t[2]);
    assert!(
        (saved(chat) - saved(responses)).abs() < 1.0,
        "{chat:?} {responses:?}"
    );
    assert!(
        (kept(chat) - kept(responses)).abs() < 1.0,
        "{chat:?} {responses:?}"
    );
}
