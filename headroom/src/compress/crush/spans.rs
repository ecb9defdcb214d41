//! Where every value of a JSON text sits, so kept items are copied byte for byte.

use std::ops::Range;

/// A JSON value of a text already known to be valid, as byte ranges into that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Span {
    /// A string, number, `true`, `false` or `null` (strings include their quotes).
    Scalar(Range<usize>),
    /// An array and its items.
    Array(Range<usize>, Vec<Span>),
    /// An object and its entries: the key's range (quotes included) and the value.
    Object(Range<usize>, Vec<(Range<usize>, Span)>),
}

impl Span {
    /// The bytes of the whole value.
    pub(crate) fn range(&self) -> Range<usize> {
        match self {
            Span::Scalar(r) | Span::Array(r, _) | Span::Object(r, _) => r.clone(),
        }
    }
}

/// The spans of `json`, which must be valid JSON (checked by a parse beforehand); `None` otherwise.
pub(crate) fn scan(json: &str) -> Option<Span> {
    let bytes = json.as_bytes();
    let mut at = skip_space(bytes, 0);
    let span = value(bytes, &mut at, 0)?;
    (skip_space(bytes, at) == bytes.len()).then_some(span)
}

/// Nesting beyond this is refused rather than risking the stack (serde_json stops at 128 too).
const MAX_NESTING: usize = 128;

fn value(bytes: &[u8], at: &mut usize, nesting: usize) -> Option<Span> {
    if nesting > MAX_NESTING {
        return None;
    }
    let start = *at;
    match *bytes.get(start)? {
        b'[' => {
            *at = skip_space(bytes, start + 1);
            let mut items = Vec::new();
            if bytes.get(*at) == Some(&b']') {
                *at += 1;
                return Some(Span::Array(start..*at, items));
            }
            loop {
                items.push(value(bytes, at, nesting + 1)?);
                *at = skip_space(bytes, *at);
                match bytes.get(*at)? {
                    b',' => *at = skip_space(bytes, *at + 1),
                    b']' => {
                        *at += 1;
                        return Some(Span::Array(start..*at, items));
                    }
                    _ => return None,
                }
            }
        }
        b'{' => {
            *at = skip_space(bytes, start + 1);
            let mut entries = Vec::new();
            if bytes.get(*at) == Some(&b'}') {
                *at += 1;
                return Some(Span::Object(start..*at, entries));
            }
            loop {
                let key_start = *at;
                *at = string_end(bytes, key_start)?;
                let key = key_start..*at;
                *at = skip_space(bytes, *at);
                if bytes.get(*at) != Some(&b':') {
                    return None;
                }
                *at = skip_space(bytes, *at + 1);
                entries.push((key, value(bytes, at, nesting + 1)?));
                *at = skip_space(bytes, *at);
                match bytes.get(*at)? {
                    b',' => *at = skip_space(bytes, *at + 1),
                    b'}' => {
                        *at += 1;
                        return Some(Span::Object(start..*at, entries));
                    }
                    _ => return None,
                }
            }
        }
        b'"' => {
            *at = string_end(bytes, start)?;
            Some(Span::Scalar(start..*at))
        }
        _ => {
            while *at < bytes.len()
                && !matches!(
                    bytes[*at],
                    b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'
                )
            {
                *at += 1;
            }
            (*at > start).then_some(Span::Scalar(start..*at))
        }
    }
}

/// The index just past the string starting at `start` (which must be `"`).
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'"') {
        return None;
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_values_as_written() {
        let text = r#" { "a" : [1.50, "x\"]", {"b":null}] , "c":-0 } "#;
        let Some(Span::Object(_, entries)) = scan(text) else {
            panic!("object expected")
        };
        assert_eq!(&text[entries[0].0.clone()], "\"a\"");
        let Span::Array(_, items) = &entries[0].1 else {
            panic!("array expected")
        };
        let parts: Vec<&str> = items.iter().map(|s| &text[s.range()]).collect();
        assert_eq!(parts, vec!["1.50", "\"x\\\"]\"", "{\"b\":null}"]);
        assert_eq!(&text[entries[1].1.range()], "-0");
    }

    #[test]
    fn refuses_what_is_not_json() {
        assert_eq!(scan("[1,"), None);
        assert_eq!(scan("[1] x"), None);
        assert_eq!(scan("{\"a\" 1}"), None);
        assert_eq!(scan(&"[".repeat(200)), None);
    }
}
