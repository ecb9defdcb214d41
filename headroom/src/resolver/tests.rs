use super::*;
use crate::store::{MemoryStore, Store};
use sse::SseTap;

const HASH: &str = "0123456789abcdef01234567";

fn request(extra: &str) -> Vec<u8> {
    format!(
        r#"{{"model":"gpt-4o"{extra},"messages":[{{"role":"user","content":"what failed?"}},{{"role":"tool","tool_call_id":"t0","content":"[… 90 of 100 lines omitted · headroom_retrieve hash={HASH}]"}}],"tools":[{{"type":"function","function":{{"name":"run_tests","parameters":{{"type":"object"}}}}}},{}]}}"#,
        crate::retrieve::tool_definition()
    )
    .into_bytes()
}

fn call(id: &str, name: &str, arguments: &str) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

fn reply(calls: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": null, "refusal": null, "tool_calls": calls}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    }))
    .unwrap()
}

fn retrieve_call(id: &str) -> Value {
    call(id, RETRIEVE_TOOL_NAME, &format!(r#"{{"hash":"{HASH}"}}"#))
}

fn original() -> String {
    (0..100)
        .map(|i| format!("test case {i}: {}\n", if i == 42 { "FAILED" } else { "ok" }))
        .collect()
}

fn lookups(store: &MemoryStore, hashes: &[String]) -> Vec<Result<Option<String>, StoreError>> {
    hashes.iter().map(|h| store.get("ns", h)).collect()
}

#[test]
fn replies_without_our_calls_pass_byte_for_byte() {
    let mut r = Resolver::new(&request("")).unwrap();
    let body =
        br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"fine"}}],  "x":1}"#;
    assert_eq!(r.on_response(body), Step::Done(body.to_vec()));
    assert_eq!(
        r.on_response(b"upstream error"),
        Step::Done(b"upstream error".to_vec())
    );
    let agent_only = reply(vec![call("a1", "run_tests", "{}")]);
    assert_eq!(r.on_response(&agent_only), Step::Done(agent_only.clone()));
}

#[test]
fn one_round_sends_the_original_in_a_paired_tool_message() {
    let store = MemoryStore::default();
    store.put("ns", HASH, &original()).unwrap();
    let mut r = Resolver::new(&request("")).unwrap();
    let Step::Lookup(hashes) = r.on_response(&reply(vec![retrieve_call("c1")])) else {
        panic!("expected a lookup")
    };
    assert_eq!(hashes, vec![HASH.to_string()]);
    let Step::Send(next) = r.resume(lookups(&store, &hashes)) else {
        panic!("expected the next request")
    };
    let next: Value = serde_json::from_slice(&next).unwrap();
    let messages = next["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["tool_calls"][0]["id"], "c1");
    assert_eq!(messages[3]["tool_call_id"], "c1");
    assert_eq!(messages[3]["content"].as_str().unwrap(), original());
    assert_eq!(
        next["tools"].as_array().unwrap().len(),
        2,
        "tools kept while rounds remain"
    );
    assert_eq!(r.rounds(), 1);
    let hidden = r.hidden_usage();
    assert_eq!((hidden.prompt_tokens, hidden.completion_tokens), (10, 5));
}

#[test]
fn mixed_calls_answer_ours_and_hand_back_only_the_agents() {
    let store = MemoryStore::default();
    store.put("ns", HASH, &original()).unwrap();
    let mut r = Resolver::new(&request("")).unwrap();
    let first = reply(vec![
        retrieve_call("c1"),
        call("a1", "run_tests", r#"{"only":"42"}"#),
    ]);
    let Step::Lookup(hashes) = r.on_response(&first) else {
        panic!()
    };
    let Step::Done(to_agent) = r.resume(lookups(&store, &hashes)) else {
        panic!()
    };
    let to_agent: Value = serde_json::from_slice(&to_agent).unwrap();
    let calls = to_agent["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], "a1");
    assert_eq!(to_agent["choices"][0]["finish_reason"], "tool_calls");

    // The agent's next request pairs its one call with its one result: valid as it is, and the
    // carry puts our call and answer back consistently.
    let mut next = serde_json::from_slice::<Value>(&request("")).unwrap();
    let msgs = next["messages"].as_array_mut().unwrap();
    msgs.push(to_agent["choices"][0]["message"].clone());
    msgs.push(json!({"role": "tool", "tool_call_id": "a1", "content": "1 failed"}));
    assert_pairs(&next);
    let carry = r.take_carry().expect("answers kept");
    let carried: Value =
        serde_json::from_slice(&carry.apply(&serde_json::to_vec(&next).unwrap()).unwrap()).unwrap();
    assert_pairs(&carried);
    assert_eq!(
        carried["messages"][3]["content"].as_str().unwrap(),
        original()
    );
}

/// OpenAI's rule: each assistant `tool_calls` is followed by one tool message per call id, and
/// every tool message answers a call of the assistant message before it.
fn assert_pairs(request: &Value) {
    let messages = request["messages"].as_array().unwrap();
    let mut i = 0;
    while i < messages.len() {
        if let Some(calls) = messages[i]["tool_calls"].as_array() {
            let mut ids: Vec<&str> = calls.iter().map(|c| c["id"].as_str().unwrap()).collect();
            let mut j = i + 1;
            while j < messages.len() && messages[j]["role"] == "tool" {
                let id = messages[j]["tool_call_id"].as_str().unwrap();
                let at = ids
                    .iter()
                    .position(|x| *x == id)
                    .unwrap_or_else(|| panic!("tool message {id} has no call"));
                ids.remove(at);
                j += 1;
            }
            assert!(ids.is_empty(), "calls without results: {ids:?}");
            i = j;
        } else {
            assert!(
                messages[i]["role"] != "tool" || i == 1,
                "stray tool message at {i}"
            );
            i += 1;
        }
    }
}

#[test]
fn the_last_round_withdraws_the_tool_and_extra_calls_are_stripped() {
    let store = MemoryStore::default();
    store.put("ns", HASH, &original()).unwrap();
    let mut r = Resolver::new(&request(
        r#","tool_choice":"auto","parallel_tool_calls":true"#,
    ))
    .unwrap()
    .max_rounds(2);
    for round in 1..=2 {
        let Step::Lookup(hashes) = r.on_response(&reply(vec![retrieve_call(&format!("c{round}"))]))
        else {
            panic!()
        };
        let Step::Send(next) = r.resume(lookups(&store, &hashes)) else {
            panic!()
        };
        let next: Value = serde_json::from_slice(&next).unwrap();
        let names: Vec<&str> = next["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names.contains(&RETRIEVE_TOOL_NAME),
            round < 2,
            "round {round}: {names:?}"
        );
        assert_pairs(&next);
    }
    // A model that calls it anyway gets its call removed, not answered.
    let Step::Done(to_agent) = r.on_response(&reply(vec![retrieve_call("c3")])) else {
        panic!()
    };
    let to_agent: Value = serde_json::from_slice(&to_agent).unwrap();
    assert!(to_agent["choices"][0]["message"]
        .get("tool_calls")
        .is_none());
    assert_eq!(to_agent["choices"][0]["finish_reason"], "stop");
}

#[test]
fn bad_arguments_unknown_hashes_and_a_down_store_get_plain_answers() {
    let mut r = Resolver::new(&request("")).unwrap();
    let calls = vec![
        call("c1", RETRIEVE_TOOL_NAME, "not json"),
        call(
            "c2",
            RETRIEVE_TOOL_NAME,
            r#"{"hash":"ffffffffffffffffffffffff"}"#,
        ),
        retrieve_call("c3"),
    ];
    let Step::Lookup(hashes) = r.on_response(&reply(calls)) else {
        panic!()
    };
    assert_eq!(hashes.len(), 2);
    let Step::Send(next) = r.resume(vec![Ok(None), Err(StoreError::new("connection refused"))])
    else {
        panic!()
    };
    let next: Value = serde_json::from_slice(&next).unwrap();
    let answers: Vec<&str> = next["messages"].as_array().unwrap()[3..]
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(answers[0].contains("invalid arguments"), "{}", answers[0]);
    assert!(answers[1].contains("unknown or expired"), "{}", answers[1]);
    assert!(
        answers[2].contains("temporarily unavailable"),
        "{}",
        answers[2]
    );
}

fn sse(chunks: &[Value]) -> Vec<u8> {
    let mut out = String::new();
    for c in chunks {
        out.push_str(&format!("data: {c}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

fn chunk(delta: Value, finish: Value) -> Value {
    json!({"id":"chatcmpl-2","object":"chat.completion.chunk","created":2,"model":"gpt-4o","choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
}

fn text_stream() -> Vec<u8> {
    sse(&[
        chunk(json!({"role":"assistant","content":""}), Value::Null),
        chunk(json!({"content":"Test 42"}), Value::Null),
        chunk(json!({"content":" failed."}), Value::Null),
        chunk(json!({}), json!("stop")),
    ])
}

fn call_stream(calls: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut chunks = vec![chunk(
        json!({"role":"assistant","content":null}),
        Value::Null,
    )];
    for (i, (id, name, args)) in calls.iter().enumerate() {
        chunks.push(chunk(json!({"tool_calls":[{"index":i,"id":id,"type":"function","function":{"name":name,"arguments":""}}]}), Value::Null));
        let (a, b) = args.split_at(args.len() / 2);
        for part in [a, b] {
            chunks.push(chunk(
                json!({"tool_calls":[{"index":i,"function":{"arguments":part}}]}),
                Value::Null,
            ));
        }
    }
    chunks.push(chunk(json!({}), json!("tool_calls")));
    sse(&chunks)
}

/// The completion an SSE text adds up to, as a client reads it.
fn read_back(text: &str) -> Value {
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    sse::assemble(&chunks)
}

/// Feeds `stream` in pieces of `size` bytes; returns what was forwarded and the end step.
fn feed(r: &mut Resolver, stream: &[u8], size: usize) -> (Vec<u8>, Step) {
    let mut forwarded = Vec::new();
    for piece in stream.chunks(size) {
        forwarded.extend(r.on_sse(piece));
    }
    let end = r.on_sse_end();
    (forwarded, end)
}

#[test]
fn other_streams_pass_through_untouched_however_they_are_cut() {
    let agent_call = call_stream(&[("a1", "run_tests", r#"{"only":"42"}"#)]);
    for stream in [
        text_stream(),
        agent_call,
        b"{\"error\":{\"message\":\"bad key\"}}".to_vec(),
    ] {
        for size in [1, 7, 64, stream.len()] {
            let mut r = Resolver::new(&request(r#","stream":true"#)).unwrap();
            let (mut forwarded, end) = feed(&mut r, &stream, size);
            let Step::Done(rest) = end else { panic!() };
            forwarded.extend(rest);
            assert_eq!(forwarded, stream, "cut every {size} bytes");
        }
    }
}

#[test]
fn a_retrieve_stream_is_consumed_and_resolved() {
    let store = MemoryStore::default();
    store.put("ns", HASH, &original()).unwrap();
    let args = format!(r#"{{"hash":"{HASH}"}}"#);
    for size in [1, 5, 4096] {
        let mut r = Resolver::new(&request(r#","stream":true"#)).unwrap();
        let (forwarded, end) = feed(
            &mut r,
            &call_stream(&[("c1", RETRIEVE_TOOL_NAME, &args)]),
            size,
        );
        assert!(forwarded.is_empty(), "nothing of ours reaches the agent");
        let Step::Lookup(hashes) = end else {
            panic!("{end:?}")
        };
        let Step::Send(next) = r.resume(lookups(&store, &hashes)) else {
            panic!()
        };
        let next: Value = serde_json::from_slice(&next).unwrap();
        assert_eq!(next["stream"], true);
        assert_eq!(
            next["messages"][2]["tool_calls"][0]["function"]["arguments"],
            args.as_str()
        );
        assert_eq!(next["messages"][3]["content"].as_str().unwrap(), original());
        // The final answer streams through as it comes.
        let (mut forwarded, end) = feed(&mut r, &text_stream(), size);
        let Step::Done(rest) = end else { panic!() };
        forwarded.extend(rest);
        assert_eq!(forwarded, text_stream());
    }
}

#[test]
fn a_mixed_stream_is_replayed_with_only_the_agents_calls() {
    let store = MemoryStore::default();
    store.put("ns", HASH, &original()).unwrap();
    let args = format!(r#"{{"hash":"{HASH}"}}"#);
    let stream = call_stream(&[
        ("c1", RETRIEVE_TOOL_NAME, &args),
        ("a1", "run_tests", r#"{"only":"42"}"#),
    ]);
    let mut r = Resolver::new(&request(r#","stream":true"#)).unwrap();
    let (forwarded, end) = feed(&mut r, &stream, 10);
    assert!(forwarded.is_empty());
    let Step::Lookup(hashes) = end else { panic!() };
    let Step::Done(replayed) = r.resume(lookups(&store, &hashes)) else {
        panic!()
    };
    // Read the replayed stream back as a client would.
    let mut tap = SseTap::default();
    assert_eq!(
        tap.feed(&replayed),
        replayed,
        "the replay's first call is the agent's: it passes"
    );
    let whole = read_back(&String::from_utf8(replayed.clone()).unwrap());
    let calls = whole["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], "a1");
    assert_eq!(calls[0]["function"]["arguments"], r#"{"only":"42"}"#);
    assert_eq!(whole["choices"][0]["finish_reason"], "tool_calls");
    assert!(String::from_utf8(replayed)
        .unwrap()
        .ends_with("data: [DONE]\n\n"));
    assert!(r.take_carry().is_some());
}

#[test]
fn a_retrieve_call_after_the_agents_is_taken_out_of_a_forwarded_stream() {
    let store = MemoryStore::default();
    store.put("ns", HASH, &original()).unwrap();
    let args = format!(r#"{{"hash":"{HASH}"}}"#);
    let stream = call_stream(&[
        ("a1", "run_tests", r#"{"only":"42"}"#),
        ("c1", RETRIEVE_TOOL_NAME, &args),
        ("a2", "run_tests", r#"{"only":"43"}"#),
    ]);
    for size in [3, 50, stream.len()] {
        let mut r = Resolver::new(&request(r#","stream":true"#)).unwrap();
        let (mut forwarded, end) = feed(&mut r, &stream, size);
        let Step::Lookup(hashes) = end else {
            panic!("{end:?}")
        };
        let Step::Done(rest) = r.resume(lookups(&store, &hashes)) else {
            panic!()
        };
        forwarded.extend(rest);
        let text = String::from_utf8(forwarded).unwrap();
        assert!(!text.contains(RETRIEVE_TOOL_NAME), "{text}");
        let whole = read_back(&text);
        let calls = whole["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap();
        let ids: Vec<&str> = calls.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["a1", "a2"], "renumbered, in order");
        assert_eq!(calls[1]["function"]["arguments"], r#"{"only":"43"}"#);
        let carry = r.take_carry().expect("our call was still answered");
        assert_eq!(carry.agent_call_ids, ["a1", "a2"]);
        assert_eq!(carry.calls[0]["function"]["arguments"], args.as_str());
        assert_eq!(carry.answers[0]["content"].as_str().unwrap(), original());
    }
}

#[test]
fn text_then_a_retrieve_call_ends_as_plain_text() {
    let args = format!(r#"{{"hash":"{HASH}"}}"#);
    let mut events = vec![
        chunk(
            json!({"role":"assistant","content":"Let me look."}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":RETRIEVE_TOOL_NAME,"arguments":args}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
    ];
    let stream = sse(&events);
    let mut r = Resolver::new(&request(r#","stream":true"#))
        .unwrap()
        .max_rounds(0);
    let (mut forwarded, end) = feed(&mut r, &stream, 9);
    let Step::Done(rest) = end else { panic!() };
    forwarded.extend(rest);
    // The text goes through as it was; the call is gone and the reply simply stops.
    events.remove(1);
    events[1]["choices"][0]["finish_reason"] = json!("stop");
    assert_eq!(
        String::from_utf8(forwarded).unwrap(),
        String::from_utf8(sse(&events)).unwrap()
    );
}

#[test]
fn several_choices_lose_our_calls_and_are_not_resolved() {
    let mut r = Resolver::new(&request(r#","n":2"#)).unwrap();
    let mut two: Value = serde_json::from_slice(&reply(vec![retrieve_call("c1")])).unwrap();
    let mut second = two["choices"][0].clone();
    second["index"] = json!(1);
    second["message"]["tool_calls"] = json!([retrieve_call("c2"), call("a1", "run_tests", "{}")]);
    two["choices"].as_array_mut().unwrap().push(second);
    let Step::Done(to_agent) = r.on_response(&serde_json::to_vec(&two).unwrap()) else {
        panic!("one next request cannot continue two choices")
    };
    let to_agent: Value = serde_json::from_slice(&to_agent).unwrap();
    assert!(to_agent["choices"][0]["message"]
        .get("tool_calls")
        .is_none());
    assert_eq!(to_agent["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        to_agent["choices"][1]["message"]["tool_calls"][0]["id"],
        "a1"
    );
    assert_eq!(to_agent["choices"][1]["finish_reason"], "tool_calls");
}

/// `stream` with every LF line ending replaced by `ending`.
fn with_line_endings(stream: &[u8], ending: &str) -> Vec<u8> {
    String::from_utf8(stream.to_vec())
        .unwrap()
        .replace('\n', ending)
        .into_bytes()
}

#[test]
fn streams_with_cr_or_crlf_line_endings_are_read_as_well() {
    let store = MemoryStore::default();
    store.put("ns", HASH, &original()).unwrap();
    let args = format!(r#"{{"hash":"{HASH}"}}"#);
    for ending in ["\r", "\r\n"] {
        for size in [1, 2, 3, 64] {
            let ours =
                with_line_endings(&call_stream(&[("c1", RETRIEVE_TOOL_NAME, &args)]), ending);
            let mut r = Resolver::new(&request(r#","stream":true"#)).unwrap();
            let (forwarded, end) = feed(&mut r, &ours, size);
            assert!(
                forwarded.is_empty(),
                "{ending:?} every {size}: ours is captured"
            );
            assert!(
                matches!(end, Step::Lookup(_)),
                "{ending:?} every {size}: {end:?}"
            );
            // Another stream still comes through byte for byte.
            let text = with_line_endings(&text_stream(), ending);
            let mut r = Resolver::new(&request(r#","stream":true"#)).unwrap();
            let (mut forwarded, end) = feed(&mut r, &text, size);
            let Step::Done(rest) = end else { panic!() };
            forwarded.extend(rest);
            assert_eq!(forwarded, text, "{ending:?} every {size}");
        }
    }
}

#[test]
fn a_captured_stream_over_the_reply_limit_goes_to_the_agent_as_it_came() {
    let args = format!(r#"{{"hash":"{HASH}"}}"#);
    let mut chunks = vec![chunk(
        json!({"role":"assistant","content":null}),
        Value::Null,
    )];
    chunks.push(chunk(json!({"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":RETRIEVE_TOOL_NAME,"arguments":""}}]}), Value::Null));
    for _ in 0..200 {
        chunks.push(chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":" "}}]}),
            Value::Null,
        ));
    }
    chunks.push(chunk(
        json!({"tool_calls":[{"index":0,"function":{"arguments":args}}]}),
        Value::Null,
    ));
    chunks.push(chunk(json!({}), json!("tool_calls")));
    let stream = sse(&chunks);
    for size in [7, 4096, stream.len()] {
        let mut r = Resolver::new(&request(r#","stream":true"#))
            .unwrap()
            .max_reply_bytes(8 * 1024);
        let (mut forwarded, end) = feed(&mut r, &stream, size);
        let Step::Done(rest) = end else {
            panic!("{end:?}")
        };
        forwarded.extend(rest);
        assert_eq!(
            forwarded, stream,
            "cut every {size} bytes: fail open, byte for byte"
        );
    }
    // Under the limit the same stream is captured.
    let mut r = Resolver::new(&request(r#","stream":true"#)).unwrap();
    let (forwarded, end) = feed(&mut r, &stream, 4096);
    assert!(forwarded.is_empty() && matches!(end, Step::Lookup(_)));
}
