//! Requests Headroom cannot improve go out byte for byte.

#[test]
fn small_request_is_forwarded_byte_for_byte() {
    let body = br#"{ "model" : "gpt-4o", "messages":[{"role":"user","content":"hi"}], "x_vendor": {"keep": [1.50, 2e3]} }"#;
    let out = headroom::Headroom::default().compress_json(body).unwrap();
    assert_eq!(out.body, body.to_vec());
    assert!(out.originals.is_empty());
}
