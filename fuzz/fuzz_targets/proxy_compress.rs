//! The proxy's `/v1/compress` body (`{messages, model, token_budget?, config?}`), through the raw
//! path the route uses (the engine's `compress_json` on the body as it came, then the `messages`
//! span of the result): no panic; every promise of `check_compress_json`; the reply's `messages`
//! are the request's own bytes when nothing was saved.
//!
//! The route's own code lives in the `headroom` binary, which a fuzz target cannot link; this
//! target drives the same engine call on the same bodies.
#![no_main]
use headroom_fuzz::{check_compress_json, engine};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

#[derive(serde::Deserialize)]
struct Messages<'a> {
    #[serde(borrow)]
    messages: &'a RawValue,
}

fuzz_target!(|data: &[u8]| {
    let hr = engine();
    let Ok(asked) = serde_json::from_slice::<Messages<'_>>(data) else {
        return;
    };
    let Ok(out) = hr.compress_json(data) else {
        return;
    };
    check_compress_json(hr, data, &out);
    let replied = serde_json::from_slice::<Messages<'_>>(&out.body)
        .expect("the compressed body still has its messages");
    if out.report.tokens_saved == 0 && !out.report.retrieve_tool_added {
        assert_eq!(
            replied.messages.get(),
            asked.messages.get(),
            "messages not byte-faithful"
        );
    }
});
