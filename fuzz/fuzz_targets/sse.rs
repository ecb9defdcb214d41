//! The resolver's SSE reader: any stream, cut anywhere, never panics; a stream that is not ours
//! (no `headroom_retrieve` in it) reaches the agent byte for byte.
#![no_main]
use headroom::resolver::{Resolver, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let request = serde_json::json!({
        "model": "gpt-4o", "stream": true,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [headroom::retrieve::tool_definition()],
    });
    let mut resolver = Resolver::new(&serde_json::to_vec(&request).unwrap()).unwrap();
    let mut to_agent = Vec::new();
    for piece in stream.chunks(cut as usize + 1) {
        to_agent.extend(resolver.on_sse(piece));
    }
    let step = resolver.on_sse_end();
    let ours = stream
        .windows(b"headroom_retrieve".len())
        .any(|w| w == b"headroom_retrieve");
    if let Step::Done(rest) = step {
        to_agent.extend(rest);
        if !ours {
            assert_eq!(to_agent, stream, "a stream that is not ours was changed");
        }
    }
});
