//! The `tracing` event `#[headroom]` emits per call. Alone in its test binary: `with_default`
//! subscribers only see callsites that no other test thread registered first.

use async_openai::types::chat::CreateChatCompletionRequest;
use headroom::headroom;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[headroom]
fn shrink(request: &mut CreateChatCompletionRequest) {
    let _ = request;
}

/// A `list_issues` tool call answered with the recorded GitHub issues page, as the API returned it.
fn issues_request() -> CreateChatCompletionRequest {
    serde_json::from_value(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which open issues have the most comments?"},
            {"role": "assistant", "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "list_issues", "arguments": "{}"}
            }]},
            {"role": "tool", "tool_call_id": "call_1",
             "content": include_str!("fixtures/github-issues.json")}
        ]
    }))
    .unwrap()
}

#[test]
fn each_call_emits_one_event_with_the_tokens_before_and_after() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut request = issues_request();
    tracing::subscriber::with_default(Recorder(events.clone()), || shrink(&mut request));
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    let field = |name: &str| {
        event
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {event:?}"))
    };
    assert!(field("function").ends_with("macro_event::shrink"));
    assert_eq!(field("argument"), "request");
    let before: usize = field("tokens_before").parse().unwrap();
    let after: usize = field("tokens_after").parse().unwrap();
    assert!(after < before);
    assert_eq!(
        field("tokens_saved").parse::<usize>().unwrap(),
        before - after
    );
}

/// A subscriber that keeps every event's fields, as text.
struct Recorder(Arc<Mutex<Vec<BTreeMap<String, String>>>>);

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields<'a>(&'a mut BTreeMap<String, String>);
        impl tracing::field::Visit for Fields<'_> {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.0.insert(field.name().into(), value.into());
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.insert(field.name().into(), format!("{value:?}"));
            }
        }
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
