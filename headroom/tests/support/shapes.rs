//! Request bodies of the hardening probes (issue 16), made from the real fixtures repeated to size.
#![allow(dead_code)]

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

/// `text` repeated to about `size` bytes, cut at a line end.
pub fn repeated(text: &str, size: usize) -> String {
    let mut out = text.repeat(size / text.len() + 1);
    out.truncate(size);
    let end = out.rfind('\n').unwrap_or(out.len());
    out.truncate(end + 1);
    out
}

/// A request whose tool result (of the call named `tool`) is `content`.
pub fn request(content: serde_json::Value, tool: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "What failed, and where?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": tool, "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": content}]}))
    .unwrap()
}

/// A pretty-printed JSON array of the recorded GitHub issues, renumbered, of about `size` bytes.
pub fn issues(size: usize) -> String {
    let base: Vec<serde_json::Value> =
        serde_json::from_str(&fixture("github-issues.json")).unwrap();
    let one = serde_json::to_string_pretty(&base).unwrap().len() / base.len();
    let items: Vec<serde_json::Value> = (0..size / one)
        .map(|i| {
            let mut item = base[i % base.len()].clone();
            item["number"] = serde_json::json!(i + 1);
            item
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap()
}
