//! Matching over lowercased text: hex tokens a prefix starts, whitespace runs as one.

/// Whether `haystack` holds a hex token that starts with `prefix` (both lowercased); with
/// `lettered`, only one that has a letter after the prefix (a hash, not a longer number).
pub(super) fn starts_hex_token(haystack: &str, prefix: &str, lettered: bool) -> bool {
    let bytes = haystack.as_bytes();
    let mut from = 0;
    while let Some(at) = haystack[from..].find(prefix) {
        let start = from + at;
        let before_ok = start == 0 || !is_word_byte(bytes[start - 1]);
        let mut end = start + prefix.len();
        while end < bytes.len() && bytes[end].is_ascii_hexdigit() {
            end += 1;
        }
        let hash = !lettered
            || bytes[start + prefix.len()..end]
                .iter()
                .any(u8::is_ascii_alphabetic);
        if before_ok && hash && (end == bytes.len() || !is_word_byte(bytes[end])) {
            return true;
        }
        from = start + 1;
    }
    false
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `text` with every whitespace run as one space.
pub(super) fn squash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}
