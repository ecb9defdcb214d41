//! Matching over lowercased text: hex tokens a prefix starts, whitespace runs as one, units
//! lowercased into buffers kept from one unit to the next.

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

/// A unit lowercased, and with whitespace runs as one space when phrases are looked for, in
/// buffers kept from one unit to the next (an ASCII unit allocates nothing once they have grown).
#[derive(Debug, Default)]
pub(super) struct Lowered {
    lower: String,
    squashed: String,
}

impl Lowered {
    /// `unit` lowercased, then the same squashed (see [`squash`]) when `phrases`, else the same.
    pub(super) fn of(&mut self, unit: &str, phrases: bool) -> (&str, &str) {
        if unit.is_ascii() {
            self.lower.clear();
            self.lower.push_str(unit);
            self.lower.make_ascii_lowercase();
        } else {
            // `str::to_lowercase`, not per character: a final sigma lowercases by its place.
            self.lower = unit.to_lowercase();
        }
        if !phrases {
            return (&self.lower, &self.lower);
        }
        if self.lower.is_ascii() {
            squash_ascii_into(self.lower.as_bytes(), &mut self.squashed);
        } else {
            self.squashed = squash(&self.lower);
        }
        (&self.lower, &self.squashed)
    }
}

/// [`squash`] of ASCII `text`, written into `out`: byte by byte, the buffer reused.
fn squash_ascii_into(text: &[u8], out: &mut String) {
    out.clear();
    let mut space = false;
    for &b in text {
        // The ASCII characters `char::is_whitespace` holds: tab to carriage return, and space.
        if matches!(b, b'\t'..=b'\r' | b' ') {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(char::from(b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The buffered forms are the plain ones: lowercase, then whitespace runs as one space.
        #[test]
        fn lowered_is_lowercase_then_squash(unit in "[ \t\r\n\x0b\x0cAa_Zz.Σσ\u{85}\u{a0}é]{0,24}") {
            let mut lowered = Lowered::default();
            let lower = unit.to_lowercase();
            let squashed = squash(&lower);
            prop_assert_eq!(lowered.of(&unit, true), (lower.as_str(), squashed.as_str()));
            prop_assert_eq!(lowered.of(&unit, false), (lower.as_str(), lower.as_str()));
        }
    }

    #[test]
    fn squash_drops_leading_and_trailing_runs() {
        let mut out = String::from("old");
        squash_ascii_into(b"\t fn\x0b\x0c  parse \r\n", &mut out);
        assert_eq!(out, "fn parse");
        assert_eq!(squash("\u{a0}fn\u{85}parse"), "fn parse");
    }
}
