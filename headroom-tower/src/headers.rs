//! The header checks every door makes, written once: is a body JSON or an event stream, is it
//! encoded, did the caller ask Headroom to keep out.
//!
//! JSON is `application/json` and any `application/*+json` (RFC 6839's structured syntax suffix:
//! `application/vnd.api+json`, `application/problem+json`), parameters and case aside; nothing
//! else (`application/jsonx`, `text/json`, `application/json-seq` are other formats).
//!
//! ```
//! use headroom_tower::headers;
//! let mut h = http::HeaderMap::new();
//! h.insert("content-type", "application/json; charset=utf-8".parse().unwrap());
//! assert!(headers::is_plain_json(&h));
//! h.insert("x-headroom-bypass", "true".parse().unwrap());
//! assert!(headers::wants_bypass(&h));
//! ```

use http::{header, HeaderMap};

/// The header that sends a request on untouched when its value is `true`.
///
/// ```
/// let request = http::Request::post("http://localhost/v1/chat/completions")
///     .header(headroom_tower::BYPASS_HEADER, "true")
///     .body(())?;
/// assert!(headroom_tower::headers::wants_bypass(request.headers()));
/// # Ok::<(), http::Error>(())
/// ```
pub const BYPASS_HEADER: &str = "x-headroom-bypass";

/// Whether a `Content-Type` value is JSON: `application/json` or `application/*+json`, with any
/// parameters. Never panics, whatever the text.
///
/// ```
/// use headroom_tower::is_json_media_type;
/// assert!(is_json_media_type("application/json; charset=utf-8"));
/// assert!(is_json_media_type("application/vnd.api+json"));
/// assert!(!is_json_media_type("application/jsonx"));
/// assert!(!is_json_media_type("text/plain"));
/// assert!(!is_json_media_type("a€€"));
/// ```
pub fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let subtype = subtype.as_bytes();
    let suffixed = subtype.len() > b"+json".len()
        && subtype[subtype.len() - b"+json".len()..].eq_ignore_ascii_case(b"+json");
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case(b"json") || suffixed)
        && subtype.iter().all(|b| b.is_ascii_graphic())
}

/// Whether the `Content-Type` is JSON ([`is_json_media_type`]).
pub fn is_json(headers: &HeaderMap) -> bool {
    header_is(headers, header::CONTENT_TYPE.as_str(), is_json_media_type)
}

/// Whether the `Content-Type` is `text/event-stream` (Server-Sent Events).
///
/// ```
/// let mut h = http::HeaderMap::new();
/// h.insert("content-type", "text/event-stream; charset=utf-8".parse().unwrap());
/// assert!(headroom_tower::headers::is_event_stream(&h));
/// ```
pub fn is_event_stream(headers: &HeaderMap) -> bool {
    header_is(headers, header::CONTENT_TYPE.as_str(), |value| {
        let essence = value.split(';').next().unwrap_or("").trim();
        essence.eq_ignore_ascii_case("text/event-stream")
    })
}

/// Whether the body is sent as it is: no `Content-Encoding`, or only `identity`.
///
/// ```
/// let mut h = http::HeaderMap::new();
/// assert!(headroom_tower::headers::is_unencoded(&h));
/// h.insert("content-encoding", "gzip".parse().unwrap());
/// assert!(!headroom_tower::headers::is_unencoded(&h));
/// ```
pub fn is_unencoded(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONTENT_ENCODING).iter().all(|v| {
        v.to_str()
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("identity"))
    })
}

/// JSON Headroom can read as it is: [`is_json`] and [`is_unencoded`].
pub fn is_plain_json(headers: &HeaderMap) -> bool {
    is_json(headers) && is_unencoded(headers)
}

/// An event stream Headroom can read as it is: [`is_event_stream`] and [`is_unencoded`].
pub fn is_plain_event_stream(headers: &HeaderMap) -> bool {
    is_event_stream(headers) && is_unencoded(headers)
}

/// `x-headroom-bypass: true` (any case): forward untouched.
pub fn wants_bypass(headers: &HeaderMap) -> bool {
    header_is(headers, BYPASS_HEADER, |v| v.eq_ignore_ascii_case("true"))
}

fn header_is(headers: &HeaderMap, name: &str, test: impl Fn(&str) -> bool) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| test(v.trim()))
}

/// Sets `Content-Length` to the new body's length when the request carried one.
pub(crate) fn fix_content_length(headers: &mut HeaderMap, len: usize) {
    if headers.contains_key(header::CONTENT_LENGTH) {
        headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_json_and_application_plus_json_only() {
        for yes in [
            "application/json",
            "Application/JSON ; charset=utf-8",
            "application/vnd.api+json",
            "application/problem+JSON",
            " application/json",
        ] {
            assert!(is_json_media_type(yes), "{yes:?}");
        }
        for no in [
            "application/jsonx",
            "application/json-seq",
            "text/json",
            "text/plain",
            "+json",
            "application/+json",
            "json",
            "",
            "a€€",
            "application/€+json",
            "€€€€€€/json",
            "application/x +json",
        ] {
            assert!(!is_json_media_type(no), "{no:?}");
        }
    }

    #[test]
    fn encodings_and_event_streams() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "text/event-stream".parse().unwrap());
        assert!(is_plain_event_stream(&h) && !is_plain_json(&h));
        h.insert(header::CONTENT_ENCODING, "identity".parse().unwrap());
        assert!(is_plain_event_stream(&h));
        h.append(header::CONTENT_ENCODING, "br".parse().unwrap());
        assert!(!is_plain_event_stream(&h));
        h.insert(header::CONTENT_TYPE, "text/event-streams".parse().unwrap());
        assert!(!is_event_stream(&h));
    }

    #[test]
    fn bypass_is_true_in_any_case_only() {
        let mut h = HeaderMap::new();
        assert!(!wants_bypass(&h));
        h.insert(BYPASS_HEADER, "TRUE".parse().unwrap());
        assert!(wants_bypass(&h));
        h.insert(BYPASS_HEADER, "no".parse().unwrap());
        assert!(!wants_bypass(&h));
    }
}
