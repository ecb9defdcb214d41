//! The resolver, as the README shows it: the model's headroom_retrieve calls answered around any
//! HTTP client. `cargo run --example readme_resolver` (a stand-in reply, so it runs offline).

use headroom::resolver::{Resolver, Step};
use headroom::store::{MemoryStore, Store, DEFAULT_NAMESPACE};
use headroom::Headroom;

/// Your HTTP client: sends a body to `/v1/chat/completions` and returns the reply's body.
fn send(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let _ = body;
    Ok(br#"{"id":"c1","object":"chat.completion","created":0,"model":"gpt-4o","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"done"}}]}"#.to_vec())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (hr, store) = (Headroom::default(), MemoryStore::default());
    let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
    let compressed = hr.compress_json_into(body, &store, DEFAULT_NAMESPACE)?.body;

    let mut resolver = Resolver::new(&compressed)?.with_config(hr.config());
    let mut step = resolver.on_response(&send(&compressed)?); // streams: on_sse(chunk)…, then on_sse_end()
    let reply = loop {
        step = match step {
            // Async stores: resolver.resume(store::lookup_all(&*store, namespace, &hashes).await)
            Step::Lookup(hashes) => resolver.resume(
                hashes
                    .iter()
                    .map(|h| store.get(DEFAULT_NAMESPACE, h))
                    .collect(),
            ),
            Step::Send(body) => resolver.on_response(&send(&body)?),
            Step::Done(bytes) => break bytes, // what the agent gets
        };
    };
    println!("{}", String::from_utf8_lossy(&reply));
    Ok(())
}
