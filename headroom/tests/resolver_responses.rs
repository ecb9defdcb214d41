//! The resolver's Responses protocol: replies whose `output` calls `headroom_retrieve` are
//! answered from the store and sent again (the whole exchange, or chained on the reply), JSON and
//! SSE; every other reply and event reaches the agent as it came.

use async_openai::types::responses::ResponseStreamEvent;
use headroom::resolver::{Resolver, Step};
use headroom::store::{MemoryStore, Store};
use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "support/responses_upstream.rs"]
mod responses_upstream;
use responses_upstream::events;

const HASH: &str = "0123456789abcdef01234567";

fn store() -> MemoryStore {
    let store = MemoryStore::default();
    store
        .put("default", HASH, "error[E0308]: mismatched types")
        .unwrap();
    store
}

fn our_call(n: u32) -> Value {
    json!({"type":"function_call","id":format!("fc_{n}"),"call_id":format!("call_hr{n}"),
        "name":"headroom_retrieve","arguments":json!({"hash":HASH}).to_string(),"status":"completed"})
}

fn agent_call() -> Value {
    json!({"type":"function_call","id":"fc_a","call_id":"call_a","name":"ls","arguments":"{}","status":"completed"})
}

fn reply(id: &str, output: Vec<Value>) -> Value {
    json!({"id":id,"object":"response","created_at":1,"model":"gpt-4o","status":"completed",
        "output":output,"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,
            "output_tokens_details":{"reasoning_tokens":0},"total_tokens":10}})
}

fn message(text: &str) -> Value {
    json!({"type":"message","id":"msg_1","role":"assistant","status":"completed",
        "content":[{"type":"output_text","text":text,"annotations":[]}]})
}

fn tools() -> Value {
    json!([{"type":"function","name":"ls"}, headroom::retrieve::responses_tool_definition()])
}

/// Drives a lookup against the store; the step after it.
fn lookup(resolver: &mut Resolver, step: Step) -> Step {
    let Step::Lookup(hashes) = step else {
        panic!("expected a lookup, got {step:?}")
    };
    let store = store();
    resolver.resume(hashes.iter().map(|h| store.get("default", h)).collect())
}

fn sent(step: Step) -> Value {
    let Step::Send(body) = step else {
        panic!("expected a send, got {step:?}")
    };
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn a_round_carries_the_input_the_output_and_our_answer() {
    let request = json!({"model":"gpt-4o","input":"why?","tools":tools()});
    let mut resolver = Resolver::new(request.to_string().as_bytes()).unwrap();
    let reasoning = json!({"type":"reasoning","id":"rs_1","summary":[]});
    let first = reply("resp_1", vec![reasoning.clone(), our_call(1)]);
    let step = resolver.on_response(first.to_string().as_bytes());
    let next = sent(lookup(&mut resolver, step));
    assert_eq!(
        next["input"],
        json!([{"role":"user","content":"why?"}, reasoning, our_call(1),
            {"type":"function_call_output","call_id":"call_hr1","output":"error[E0308]: mismatched types"}])
    );
    assert_eq!(next["tools"], tools(), "the tool stays for the next round");
    let last = reply("resp_2", vec![message("done")]).to_string();
    assert_eq!(
        resolver.on_response(last.as_bytes()),
        Step::Done(last.into_bytes()),
        "the final reply reaches the agent byte for byte"
    );
    assert_eq!(resolver.hidden_usage().prompt_tokens, 7);
}

#[test]
fn a_chained_request_chains_the_round_on_the_reply() {
    let request = json!({"model":"gpt-4o","previous_response_id":"resp_0",
        "input":[{"type":"function_call_output","call_id":"call_0","output":"x"}],"tools":tools()});
    let mut resolver = Resolver::new(request.to_string().as_bytes()).unwrap();
    let step = resolver.on_response(reply("resp_1", vec![our_call(1)]).to_string().as_bytes());
    let next = sent(lookup(&mut resolver, step));
    assert_eq!(next["previous_response_id"], "resp_1");
    assert_eq!(
        next["input"],
        json!([{"type":"function_call_output","call_id":"call_hr1","output":"error[E0308]: mismatched types"}])
    );
    // `store: false` cannot chain: the whole exchange goes again.
    let unstored = json!({"model":"gpt-4o","previous_response_id":"resp_0","store":false,
        "input":[{"role":"user","content":"q"}],"tools":tools()});
    let mut resolver = Resolver::new(unstored.to_string().as_bytes()).unwrap();
    let step = resolver.on_response(reply("resp_1", vec![our_call(1)]).to_string().as_bytes());
    let next = sent(lookup(&mut resolver, step));
    assert_eq!(next["previous_response_id"], "resp_0");
    assert_eq!(next["input"].as_array().unwrap().len(), 3);
    // A conversation already holds the reply's items: only the answers go.
    let in_conversation = json!({"model":"gpt-4o","conversation":"conv_1",
        "input":[{"role":"user","content":"q"}],"tools":tools()});
    let mut resolver = Resolver::new(in_conversation.to_string().as_bytes()).unwrap();
    let step = resolver.on_response(reply("resp_1", vec![our_call(1)]).to_string().as_bytes());
    let next = sent(lookup(&mut resolver, step));
    assert_eq!(next["conversation"], "conv_1");
    assert_eq!(next["input"].as_array().unwrap().len(), 1);
    assert_eq!(next["input"][0]["call_id"], "call_hr1");
}

#[test]
fn mixed_calls_reach_the_agent_without_ours_and_carry_the_answers() {
    let request = json!({"model":"gpt-4o","input":"q","tools":tools()});
    let mut resolver = Resolver::new(request.to_string().as_bytes()).unwrap();
    let step = resolver.on_response(
        reply("resp_1", vec![our_call(1), agent_call()])
            .to_string()
            .as_bytes(),
    );
    let Step::Done(to_agent) = lookup(&mut resolver, step) else {
        panic!("the agent must act")
    };
    let to_agent: Value = serde_json::from_slice(&to_agent).unwrap();
    assert_eq!(to_agent["output"], json!([agent_call()]));
    let carry = resolver.take_carry().unwrap();
    assert_eq!(carry.agent_call_ids, ["call_a"]);
    let next = json!({"model":"gpt-4o","input":[{"role":"user","content":"q"}, agent_call(),
        {"type":"function_call_output","call_id":"call_a","output":"a.txt"}]});
    let applied: Value =
        serde_json::from_slice(&carry.apply(next.to_string().as_bytes()).unwrap()).unwrap();
    let items = applied["input"].as_array().unwrap();
    assert_eq!(items[2], our_call(1));
    assert_eq!(items[3]["call_id"], "call_hr1");
    assert_eq!(items[4]["call_id"], "call_a");
}

fn feed(resolver: &mut Resolver, stream: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in stream.as_bytes().chunks(7) {
        out.extend(resolver.on_sse(piece));
    }
    out
}

#[test]
fn a_stream_that_calls_us_is_consumed_and_the_next_one_passed_through() {
    let request = json!({"model":"gpt-4o","stream":true,"input":"q","tools":tools()});
    let mut resolver = Resolver::new(request.to_string().as_bytes()).unwrap();
    assert!(resolver.is_streaming());
    let first = events(&reply("resp_1", vec![our_call(1)]));
    assert!(
        feed(&mut resolver, &first).is_empty(),
        "nothing of ours forwarded"
    );
    let step = resolver.on_sse_end();
    let next = sent(lookup(&mut resolver, step));
    assert_eq!(next["input"].as_array().unwrap().len(), 3);
    let last = events(&reply("resp_2", vec![message("done")]));
    let mut to_agent = feed(&mut resolver, &last);
    let Step::Done(rest) = resolver.on_sse_end() else {
        panic!()
    };
    to_agent.extend(rest);
    assert_eq!(String::from_utf8(to_agent).unwrap(), last);
}

#[test]
fn our_call_after_the_agents_output_is_taken_out_of_the_stream() {
    let request = json!({"model":"gpt-4o","stream":true,"input":"q","tools":tools()});
    let mut resolver = Resolver::new(request.to_string().as_bytes()).unwrap();
    let stream = events(&reply(
        "resp_1",
        vec![message("looking"), our_call(1), agent_call()],
    ));
    let mut to_agent = feed(&mut resolver, &stream);
    let step = resolver.on_sse_end();
    let Step::Done(rest) = lookup(&mut resolver, step) else {
        panic!()
    };
    to_agent.extend(rest);
    let text = String::from_utf8(to_agent).unwrap();
    assert!(!text.contains("headroom_retrieve"));
    let events: Vec<ResponseStreamEvent> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let indexes: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            ResponseStreamEvent::ResponseOutputItemAdded(e) => Some(e.output_index),
            _ => None,
        })
        .collect();
    assert_eq!(indexes, [0, 1], "the agent's call renumbered");
    let Some(ResponseStreamEvent::ResponseCompleted(done)) = events.last() else {
        panic!()
    };
    assert_eq!(done.response.output.len(), 2);
    let carry = resolver.take_carry().unwrap();
    assert_eq!(carry.agent_call_ids, ["call_a"]);
    assert_eq!(carry.calls, [our_call(1)]);
}

#[test]
fn spent_rounds_render_the_reply_as_events_an_sdk_reads() {
    let request = json!({"model":"gpt-4o","stream":true,"input":"q","tools":tools()});
    let mut resolver = Resolver::new(request.to_string().as_bytes())
        .unwrap()
        .max_rounds(0);
    let stream = events(&reply("resp_1", vec![message("partial"), our_call(1)]));
    // The message came first: passed through, our call taken out.
    let mut to_agent = feed(&mut resolver, &stream);
    let Step::Done(rest) = resolver.on_sse_end() else {
        panic!()
    };
    to_agent.extend(rest);
    let text = String::from_utf8(to_agent).unwrap();
    assert!(!text.contains("headroom_retrieve"));
    // Captured, then given up: rendered from the reply.
    let mut resolver = Resolver::new(request.to_string().as_bytes())
        .unwrap()
        .max_rounds(0);
    let stream = events(&reply("resp_1", vec![our_call(1)]));
    assert!(feed(&mut resolver, &stream).is_empty());
    let Step::Done(rendered) = resolver.on_sse_end() else {
        panic!()
    };
    let rendered = String::from_utf8(rendered).unwrap();
    for data in rendered.lines().filter_map(|l| l.strip_prefix("data: ")) {
        serde_json::from_str::<ResponseStreamEvent>(data).unwrap();
    }
    assert!(rendered.contains("response.completed"));
    assert!(!rendered.contains("headroom_retrieve"));
}

#[test]
fn a_stream_too_large_to_capture_reaches_the_agent_as_it_came() {
    let request = json!({"model":"gpt-4o","stream":true,"input":"q","tools":tools()});
    let mut resolver = Resolver::new(request.to_string().as_bytes())
        .unwrap()
        .max_reply_bytes(600);
    let stream = events(&reply("resp_1", vec![our_call(1)]));
    assert!(stream.len() > 600);
    let mut to_agent = feed(&mut resolver, &stream);
    let Step::Done(rest) = resolver.on_sse_end() else {
        panic!()
    };
    to_agent.extend(rest);
    assert_eq!(String::from_utf8(to_agent).unwrap(), stream);
}
