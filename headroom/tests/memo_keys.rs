//! Memoised results are keyed by the exact text compressed: two JSON blocks of equal length in
//! one segment must each keep their own content (a key on the enclosing segment swapped them).

use headroom::{Headroom, Memo};
use serde_json::json;
use std::sync::Arc;

#[test]
fn two_fenced_json_blocks_of_equal_length_both_survive() {
    let mut prose = String::new();
    for i in 0..30 {
        prose.push_str(&format!(
            "Paragraph {i} of the status report describes the state of the queue and what the workers did.\n\n"
        ));
        if i == 10 {
            prose.push_str("```json\n{\"status\": \"open\", \"n\": 1}\n```\n\n");
        }
        if i == 20 {
            prose.push_str("```json\n{\"status\": \"done\", \"n\": 2}\n```\n\n");
        }
    }
    let body = serde_json::to_vec(&json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "What are the statuses?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "read_report", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": prose}
        ]
    }))
    .unwrap();
    // A memo of its own: the second pass is served from what the first one left, and only that.
    let memo = Arc::new(Memo::new(1 << 20));
    let hr = Headroom::builder()
        .min_segment_tokens(10)
        .memo(memo.clone())
        .build()
        .unwrap();
    for pass in 0..2 {
        assert_eq!(
            memo.is_empty(),
            pass == 0,
            "pass {pass} starts from the first pass's memo"
        );
        let out = hr.compress_json(&body).unwrap();
        let sent: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        let text = sent["messages"][2]["content"].as_str().unwrap();
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for block in [r#"{"status":"open","n":1}"#, r#"{"status":"done","n":2}"#] {
            assert_eq!(
                squeezed.matches(block).count(),
                1,
                "{block} not kept exactly once: {text}"
            );
        }
    }
}

/// Every committed tool output (what each fixture directory holds), in name order: (file, text).
fn tool_outputs() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut files: Vec<String> = Vec::new();
    for kind in ["logs", "json", "search", "diff", "prose", "code"] {
        for entry in std::fs::read_dir(format!("{dir}/{kind}")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.contains('.') {
                files.push(format!("{kind}/{name}"));
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
            (f, text)
        })
        .collect()
}

/// The request of each of 16 turns of a session over the fixtures (turns 8 on send earlier outputs
/// again, at new positions), as chat-completions bodies or as Responses bodies.
fn session(responses: bool) -> Vec<Vec<u8>> {
    let outputs = tool_outputs();
    let mut items = Vec::new();
    let mut bodies = Vec::new();
    for turn in 0..16 {
        let (file, output) = &outputs[turn % outputs.len()];
        let id = format!("call_{turn}");
        let question = format!("Turn {turn}: what is in {file}?");
        if responses {
            items.push(json!({"role": "user", "content": question}));
            items.push(json!({"type": "reasoning", "id": format!("rs_{turn}"), "summary": []}));
            items.push(json!({"type": "function_call", "call_id": id, "name": "read_file", "arguments": "{}"}));
            items.push(json!({"type": "function_call_output", "call_id": id, "output": output}));
            bodies.push(json!({"model": "gpt-4o", "instructions": "You are a coding agent.", "input": items}));
            items.push(json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": format!("Read {file}.")}]}));
        } else {
            if items.is_empty() {
                items.push(json!({"role": "system", "content": "You are a coding agent."}));
            }
            items.push(json!({"role": "user", "content": question}));
            items.push(json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": id, "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]}));
            items.push(json!({"role": "tool", "tool_call_id": id, "content": output}));
            bodies.push(json!({"model": "gpt-4o", "messages": items}));
            items.push(json!({"role": "assistant", "content": format!("Read {file}.")}));
        }
    }
    bodies
        .iter()
        .map(|b| serde_json::to_vec(b).unwrap())
        .collect()
}

/// The memo may change speed, never bytes: a session sent turn by turn through one engine (every
/// earlier message read, compressed, counted and evicted before) gives each turn exactly what a
/// fresh memo gives — the same body, originals and report — and refuses exactly the turns a fresh
/// memo refuses, with the same error. The same message bytes sent at another position (a re-used
/// tool output) are read at that position.
fn warm_equals_fresh(bodies: &[Vec<u8>]) {
    let budget = 16_000;
    let engine = |memo: Arc<Memo>| {
        // A debug build on a busy machine must not run out of time (that sends it as it came).
        let mut config = headroom::Config::default();
        config.time_budget = std::time::Duration::from_secs(600);
        Headroom::builder()
            .config(config)
            .memo(memo)
            .token_budget(budget)
            .build()
            .unwrap()
    };
    let warm = engine(Arc::new(Memo::new(64 << 20)));
    let mut evicted_turns = 0;
    let mut refused_warm = Vec::new();
    let mut refused_fresh = Vec::new();
    for (turn, body) in bodies.iter().enumerate() {
        let warm_out = warm.compress_json(body);
        let fresh_out = engine(Arc::new(Memo::new(64 << 20))).compress_json(body);
        // A turn the engine cannot fit under the budget is refused the same way by both.
        for (out, refused) in [
            (&warm_out, &mut refused_warm),
            (&fresh_out, &mut refused_fresh),
        ] {
            if let Err(e) = out {
                assert!(
                    matches!(e, headroom::Error::OverBudget { budget: b, .. } if *b == budget),
                    "turn {turn}: {e}"
                );
                refused.push((turn, e.to_string()));
            }
        }
        let (Ok(from_warm), Ok(from_fresh)) = (warm_out, fresh_out) else {
            continue;
        };
        assert!(
            from_warm.body == from_fresh.body,
            "turn {turn}: the bytes differ ({:?} / {:?})",
            from_warm.report.passthrough_reason,
            from_fresh.report.passthrough_reason
        );
        assert_eq!(from_warm.originals, from_fresh.originals, "turn {turn}");
        assert_eq!(from_warm.report, from_fresh.report, "turn {turn}");
        assert!(from_warm.report.tokens_after <= budget, "turn {turn}");
        if from_warm
            .report
            .fit
            .as_ref()
            .is_some_and(|f| !f.evictions.is_empty())
        {
            evicted_turns += 1;
        }
    }
    assert_eq!(
        refused_warm, refused_fresh,
        "the same turns refused, with the same counts"
    );
    assert!(
        evicted_turns > 0,
        "the budget must evict, or the runs' memo is untested"
    );
    assert!(
        refused_warm.len() < bodies.len() / 2,
        "{refused_warm:?}: most turns refused, little compared"
    );
}

#[test]
fn a_warm_memo_gives_the_bytes_of_a_fresh_one() {
    warm_equals_fresh(&session(false));
}

/// Responses input items go through the memo as chat messages do: the same guarantee.
#[test]
fn a_warm_memo_gives_the_bytes_of_a_fresh_one_for_responses() {
    warm_equals_fresh(&session(true));
}
