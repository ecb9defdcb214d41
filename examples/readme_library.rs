//! The library door, as the README shows it: compress a request (typed or raw) and keep its originals.
//!
//! `cargo run --example readme_library`

use headroom::async_openai::types::chat::{
    ChatCompletionRequestToolMessage, ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
};
use headroom::store::MemoryStore;
use headroom::Headroom;

fn main() -> Result<(), headroom::Error> {
    // What an agent sends after a tool call: 400 lines of access log, one of them an error.
    let log: String = (1..=400)
        .map(|i| match i {
            321 => "ERROR GET /items/321 failed: connection reset by peer\n".to_string(),
            i => format!("INFO GET /items/{i} 200 in {} ms\n", i % 7),
        })
        .collect();
    let mut request = CreateChatCompletionRequest {
        model: "gpt-4o".into(),
        messages: vec![
            ChatCompletionRequestUserMessage::from("Which request failed?").into(),
            ChatCompletionRequestToolMessage {
                content: log.into(),
                tool_call_id: "call_1".into(),
            }
            .into(),
        ],
        ..Default::default()
    };

    let hr = Headroom::builder().model("gpt-4o").build()?;
    let store = MemoryStore::default(); // or store::open("sqlite:PATH", …) with feature `sqlite`
    let out = hr.compress_into(&mut request, &store)?; // in place; originals kept in `store`
    let r = &out.report;
    println!("saved {} of {} tokens", r.tokens_saved, r.tokens_before);

    // A raw body: only the strings Headroom rewrites change; every other byte is copied.
    let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"my_field":1}"#;
    let out = hr.compress_json(body)?; // out.body, out.report, out.originals (yours to persist)
    assert_eq!(out.body, body); // nothing worth compressing: sent byte for byte
    Ok(())
}
