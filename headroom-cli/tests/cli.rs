//! The `headroom` binary as scripts use it: real process, real stdin/stdout, real SQLite store.

#[path = "../../headroom/tests/support/redis_server.rs"]
mod redis_server;

mod support;

use support::{github_request, headroom, temp_store};

#[test]
fn a_spent_time_budget_prints_the_request_as_it_came() {
    let request = github_request();
    let out = headroom(
        &[
            "compress",
            "--stats",
            "--time-budget-ms",
            "0",
            "--store",
            "memory:",
        ],
        &request,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, request, "byte for byte");
    let stats: serde_json::Value = serde_json::from_slice(out.stderr.trim_ascii()).unwrap();
    assert!(stats["passthrough_reason"]
        .as_str()
        .unwrap()
        .contains("time budget of 0 ms"));
}

#[test]
fn compress_prints_a_smaller_request_and_stats() {
    let out = headroom(
        &["compress", "--stats", "--store", &temp_store("stats")],
        &github_request(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["temperature"], 0.2);
    let stats: serde_json::Value = serde_json::from_slice(out.stderr.trim_ascii()).unwrap();
    for key in [
        "tokens_before",
        "tokens_after",
        "tokens_saved",
        "compression_ratio",
        "savings_ratio",
        "transforms_applied",
        "ccr_hashes",
        "elapsed_us",
        "init_us",
    ] {
        assert!(stats.get(key).is_some(), "--stats lacks {key}: {stats}");
    }
    assert!(stats["tokens_after"].as_u64() < stats["tokens_before"].as_u64());
    assert_eq!(
        stats["tokens_saved"],
        stats["tokens_before"].as_u64().unwrap() - stats["tokens_after"].as_u64().unwrap()
    );
}

#[test]
fn a_bare_messages_array_is_accepted() {
    let request: serde_json::Value = serde_json::from_slice(&github_request()).unwrap();
    let messages = serde_json::to_vec(&request["messages"]).unwrap();
    let out = headroom(
        &["compress", "--model", "gpt-4.1", "--store", "memory:"],
        &messages,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["model"], "gpt-4.1");
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);

    // As `echo '[…]' | headroom compress` sends it: the whole request, nothing else around it.
    let out = headroom(
        &["compress", "--store", "memory:"],
        b"  [{\"role\":\"user\",\"content\":\"hi\"}]\n",
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
    );
}

#[test]
fn bad_input_is_one_line_exit_2_and_nothing_on_stdout() {
    let deep = format!(
        "{{\"messages\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not json", b"hello".to_vec()),
        ("truncated", b"{\"messages\": [".to_vec()),
        (
            "invalid utf-8",
            b"{\"messages\": [{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}".to_vec(),
        ),
        (
            "messages of the wrong type",
            b"{\"model\":\"gpt-4o\",\"messages\":\"hi\"}".to_vec(),
        ),
        ("no messages", b"{\"model\":\"gpt-4o\"}".to_vec()),
        ("empty", Vec::new()),
        ("deep nesting", deep.into_bytes()),
    ];
    for (name, input) in cases {
        let out = headroom(&["compress", "--store", "memory:"], &input);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(out.stdout.is_empty(), "{name}: stdout must stay empty");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{name}: one line, got {err}"
        );
        assert!(err.starts_with("headroom: error: "), "{name}: {err}");
    }
}

#[test]
fn hostile_but_valid_requests_pass_through_unchanged() {
    let long_line = "x".repeat(5 * 1024 * 1024);
    let many_lines = "same line\n".repeat(1_000_000);
    let cases = vec![
        (
            "5 MB single line",
            serde_json::json!({"model": "gpt-4o", "messages": [{"role": "tool", "tool_call_id": "a", "content": long_line}]}),
        ),
        (
            "a million identical lines",
            serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": many_lines}]}),
        ),
        (
            "null contents",
            serde_json::json!({"model": "gpt-4o", "messages": [{"role": "assistant", "content": null}, {"role": "tool", "content": null}]}),
        ),
        (
            "unknown role",
            serde_json::json!({"model": "gpt-4o", "messages": [{"role": "wizard", "content": "x ".repeat(5000)}]}),
        ),
    ];
    for (name, request) in cases {
        let input = serde_json::to_vec(&request).unwrap();
        // Not fitted to a window: nothing to gain, so every byte goes out as it came.
        let out = headroom(&["compress", "--store", "memory:", "--no-fit"], &input);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, input, "{name}: forwarded byte for byte");
    }
    // Fitted to gpt-4o's window (the default), a user turn of 130k tokens (never rewritten) is
    // refused with one clear line, not sent for the provider to reject.
    let input = serde_json::to_vec(&serde_json::json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "word ".repeat(130_000)}]}))
    .unwrap();
    let out = headroom(&["compress", "--store", "memory:"], &input);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("budget of 123904 tokens"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn retrieve_prints_the_original_and_fails_clearly_for_unknown_hashes() {
    let store = temp_store("retrieve");
    // Store an original the way the engine does, through the library.
    let original = "first line\nsecond line with ERROR\nthird line";
    let hash = headroom::marker::segment_hash(original);
    headroom::store::open(&store, Default::default())
        .unwrap()
        .put("default", &hash, original)
        .unwrap();

    let out = headroom(&["retrieve", &hash, "--store", &store], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        original,
        "byte for byte, no newline added"
    );
    let upper = headroom(
        &["retrieve", &hash.to_ascii_uppercase(), "--store", &store],
        b"",
    );
    assert!(upper.status.success(), "hex is case-insensitive");
    assert_eq!(upper.stdout, original.as_bytes());

    let out = headroom(
        &["retrieve", &hash, "--store", &store, "--query", "error"],
        b"",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("second line with ERROR") && !text.contains("third line"),
        "{text}"
    );

    let unknown = "0123456789abcdef01234567";
    let out = headroom(&["retrieve", unknown, "--store", &store], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown or expired"));
    assert!(out.stdout.is_empty());

    let out = headroom(&["retrieve", "not-a-hash", "--store", &store], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn compress_and_retrieve_share_a_real_redis_store() {
    let Some(redis) = redis_server::RedisServer::start_if_installed() else {
        return;
    };
    let store = redis.url(Some(3));
    let log = include_str!("../../headroom/tests/fixtures/logs/cargo-build-vv-deps-type-error.txt");
    let request = serde_json::json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "Why does the build fail?"},
        {"role": "tool", "tool_call_id": "c1", "content": log}
    ]});
    let out = headroom(
        &["compress", "--stats", "--store", &store],
        &serde_json::to_vec(&request).unwrap(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(out.stderr.trim_ascii()).unwrap();
    let hash = stats["ccr_hashes"][0]
        .as_str()
        .expect("the build log is elided behind a marker")
        .to_string();

    let back = headroom(&["retrieve", &hash, "--store", &store], b"");
    assert!(
        back.status.success(),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    assert_eq!(String::from_utf8(back.stdout).unwrap(), log);
}
