//! Content detection: any text and any hints, no panic, and the same answer twice.
#![no_main]
use headroom::detect::{detect_with_hints, Hints};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line, when there is one, is read as hints: tool name, arguments, fence tag.
    let (head, body) = text.split_once('\n').unwrap_or(("", &text));
    let mut parts = head.splitn(3, '\t');
    let hints = Hints::default()
        .with_tool_name(parts.next())
        .with_tool_arguments(parts.next())
        .with_fence_tag(parts.next());
    let first = detect_with_hints(body, &hints);
    assert_eq!(first, detect_with_hints(body, &hints));
});
