//! `compress_json` on raw bodies: the fuzz data as a whole body (when it starts with `{`) or as a
//! tool result inside a real request, and every promise checked (see `check_compress_json`).
#![no_main]
use headroom_fuzz::{check_compress_json, engine, tool_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let hr = engine();
    let body = if data.first() == Some(&b'{') {
        data.to_vec()
    } else {
        let text = String::from_utf8_lossy(data);
        let (question, content) = text.split_once('\n').unwrap_or(("what failed?", &text));
        tool_body(content, "run", "{}", question)
    };
    if let Ok(out) = hr.compress_json(&body) {
        check_compress_json(hr, &body, &out);
    }
});
