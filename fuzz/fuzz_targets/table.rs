//! The table form: decoding any text never panics; for any JSON value, decode(encode(v)) == v.
#![no_main]
use headroom::compress::table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = table::decode(&text);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(encoded) = table::encode(&value) {
            let back = table::decode(&encoded)
                .unwrap_or_else(|e| panic!("encode wrote what decode refuses: {e:?}\n{encoded}"));
            // The engine uses the form only when every number is exact; so does this check.
            if headroom::compress::json::minify(&text) == serde_json::to_string(&value).unwrap() {
                assert_eq!(back, value, "decode(encode(v)) != v\n{encoded}");
            }
        }
    }
});
