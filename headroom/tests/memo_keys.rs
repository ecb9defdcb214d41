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

/// The memo may change speed, never bytes: a session sent turn by turn through one engine (every
/// earlier message read, compressed, counted and evicted before) gives each turn exactly what a
/// fresh memo gives, evicted runs included, and the same originals. The same message bytes sent at
/// another position (a re-used tool output) are read at that position.
#[test]
fn a_warm_memo_gives_the_bytes_of_a_fresh_one() {
    use headroom::Memo;
    use std::sync::Arc;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    // Every committed tool output (what each fixture directory holds), in name order.
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
    let outputs: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(format!("{dir}/{f}")).unwrap())
        .collect();
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
    let mut messages = vec![json!({"role": "system", "content": "You are a coding agent."})];
    let mut evicted_turns = 0;
    let mut failed_turns = 0;
    for turn in 0..16 {
        // Turns 8 on send earlier outputs again, at new positions.
        let (file, output) = (&files[turn % files.len()], &outputs[turn % files.len()]);
        let id = format!("call_{turn}");
        messages
            .push(json!({"role": "user", "content": format!("Turn {turn}: what is in {file}?")}));
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": output}));
        let body = serde_json::to_vec(&json!({"model": "gpt-4o", "messages": messages})).unwrap();
        let warm_out = warm.compress_json(&body);
        let fresh_out = engine(Arc::new(Memo::new(64 << 20))).compress_json(&body);
        messages.push(json!({"role": "assistant", "content": format!("Read {file}.")}));
        let (from_warm, from_fresh) = match (warm_out, fresh_out) {
            (Ok(w), Ok(f)) => (w, f),
            // A turn the engine cannot fit under the budget (with these fixtures, 2 of 16) must
            // fail alike either way.
            (w, f) => {
                let (w, f) = (w.err(), f.err());
                assert!(
                    w.is_some(),
                    "turn {turn}: only the fresh memo failed: {f:?}"
                );
                assert_eq!(
                    format!("{w:?}"),
                    format!("{f:?}"),
                    "turn {turn}: the outcomes differ"
                );
                failed_turns += 1;
                continue;
            }
        };
        assert!(
            from_warm.body == from_fresh.body,
            "turn {turn}: the bytes differ ({:?} / {:?})",
            from_warm.report.passthrough_reason,
            from_fresh.report.passthrough_reason
        );
        assert_eq!(from_warm.originals, from_fresh.originals, "turn {turn}");
        assert_eq!(
            from_warm.report.tokens_after,
            from_fresh.report.tokens_after
        );
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
    assert!(
        evicted_turns > 0,
        "the budget must evict, or the runs' memo is untested"
    );
    assert!(
        failed_turns <= 2,
        "{failed_turns} of 16 turns could not fit"
    );
}
