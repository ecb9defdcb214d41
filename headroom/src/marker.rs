//! The one marker format: written wherever content is elided, parsed to find what to retrieve.
//!
//! In text: `[… 212 of 250 lines omitted · headroom_retrieve hash=3f9ac0d1e2b4a5c6d7e8f901]`.
//! In a JSON array: `{"_headroom":"212 of 250 items omitted · headroom_retrieve hash=…"}`.

use sha2::{Digest, Sha256};

/// The tool name every marker points at.
pub const RETRIEVE_TOOL_NAME: &str = "headroom_retrieve";
/// The key of the JSON marker element.
pub const JSON_MARKER_KEY: &str = "_headroom";
const HASH_PREFIX: &str = "headroom_retrieve hash=";
/// Number of hex digits in a marker hash.
pub const HASH_LEN: usize = 24;

/// The hash a segment's markers share: the first 24 hex digits of SHA-256 of its text.
///
/// ```
/// let h = headroom::marker::segment_hash("hello");
/// assert_eq!(h, "2cf24dba5fb0a30e26e83b2a");
/// ```
pub fn segment_hash(text: &str) -> String {
    hash_of_digest(&Sha256::digest(text.as_bytes()))
}

/// The marker hash of a text whose SHA-256 is `digest` (so a caller that needs the digest too
/// hashes the text once).
pub(crate) fn hash_of_digest(digest: &[u8]) -> String {
    let mut hex = String::with_capacity(HASH_LEN);
    for byte in &digest[..HASH_LEN / 2] {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Reads a hash a user or a model typed: exactly 24 hex digits, any case (hex is case-insensitive),
/// surrounding whitespace ignored; returns it lowercase, the form markers and stores use.
///
/// ```
/// use headroom::marker::parse_hash;
/// assert_eq!(parse_hash("3F9AC0D1E2B4A5C6D7E8F901")?, "3f9ac0d1e2b4a5c6d7e8f901");
/// assert_eq!(parse_hash(" 3f9ac0d1e2b4a5c6d7e8f901\n")?, "3f9ac0d1e2b4a5c6d7e8f901");
/// let err = parse_hash("3f9ac0d1").unwrap_err();
/// assert!(matches!(err, headroom::Error::InvalidHash(_)));
/// assert!(err.to_string().contains("24 hex digits"));
/// # Ok::<(), headroom::Error>(())
/// ```
pub fn parse_hash(input: &str) -> crate::Result<String> {
    let hash = input.trim();
    if hash.len() == HASH_LEN && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash.to_ascii_lowercase())
    } else {
        Err(crate::Error::InvalidHash(input.to_string()))
    }
}

/// One elision: how many units of what kind were omitted, out of how many, and the hash to get them back.
///
/// ```
/// use headroom::marker::Marker;
/// let m = Marker::new(212, Some(250), "lines", "3f9ac0d1e2b4a5c6d7e8f901");
/// assert_eq!(m.to_text(), "[… 212 of 250 lines omitted · headroom_retrieve hash=3f9ac0d1e2b4a5c6d7e8f901]");
/// assert_eq!(Marker::parse_all(&m.to_text()), vec![m]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Units omitted.
    pub omitted: usize,
    /// Units in the whole original, when that is meaningful.
    pub total: Option<usize>,
    /// What was omitted: `lines`, `items`, `hits in src/lib.rs`, …
    pub unit: String,
    /// The segment hash to retrieve the original by.
    pub hash: String,
}

impl Marker {
    /// A marker for `omitted` (of `total`) `unit` behind `hash`.
    pub fn new(omitted: usize, total: Option<usize>, unit: &str, hash: &str) -> Self {
        Marker {
            omitted,
            total,
            unit: unit.to_string(),
            hash: hash.to_string(),
        }
    }

    /// The sentence inside the brackets, shared by the text and JSON forms.
    pub fn body(&self) -> String {
        match self.total {
            Some(total) => format!(
                "{} of {} {} omitted · {}{}",
                self.omitted, total, self.unit, HASH_PREFIX, self.hash
            ),
            None => format!(
                "{} {} omitted · {}{}",
                self.omitted, self.unit, HASH_PREFIX, self.hash
            ),
        }
    }

    /// The text form: `[… 3 of 9 lines omitted · headroom_retrieve hash=…]`.
    pub fn to_text(&self) -> String {
        format!("[… {}]", self.body())
    }

    /// The JSON element form that stands in an array in place of the removed run.
    ///
    /// ```
    /// let m = headroom::marker::Marker::new(2, Some(10), "items", "000000000000000000000000");
    /// assert_eq!(m.to_json()["_headroom"], "2 of 10 items omitted · headroom_retrieve hash=000000000000000000000000");
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert(
            JSON_MARKER_KEY.to_string(),
            serde_json::Value::String(self.body()),
        );
        serde_json::Value::Object(map)
    }

    /// Every marker in `text`, text or JSON form, in order of appearance.
    ///
    /// Linear in the length of `text`, whatever it holds: a marker's sentence starts after the last
    /// delimiter (`[`, `"`, `,`, a line break) or the end of the previous `headroom_retrieve hash=…`,
    /// whichever is later, so no byte is read twice however many look-alikes crafted text carries.
    ///
    /// ```
    /// use headroom::marker::Marker;
    /// let crafted = "headroom_retrieve hash=".repeat(50_000);
    /// assert!(Marker::parse_all(&crafted).is_empty());
    /// ```
    pub fn parse_all(text: &str) -> Vec<Marker> {
        Marker::scan(text).collect()
    }

    /// The markers of `text` one by one, as [`Marker::parse_all`] finds them.
    fn scan(text: &str) -> impl Iterator<Item = Marker> + '_ {
        // Where the sentence of the next occurrence may start at the earliest.
        let mut sentence_floor = 0;
        // Bytes before this were already searched for delimiters.
        let mut scanned = 0;
        let mut from = 0;
        std::iter::from_fn(move || {
            while let Some(at) = text[from..].find(HASH_PREFIX) {
                let prefix_start = from + at;
                let hash_start = prefix_start + HASH_PREFIX.len();
                from = hash_start;
                if let Some(i) = text[scanned..prefix_start].rfind(SENTENCE_DELIMITERS) {
                    sentence_floor = sentence_floor.max(scanned + i + 1);
                }
                scanned = prefix_start;
                let sentence_start = sentence_floor;
                sentence_floor = hash_start;
                let Some(hash) = text.get(hash_start..hash_start + HASH_LEN) else {
                    if hash_start + HASH_LEN > text.len() {
                        return None;
                    }
                    continue; // not on a character boundary: not hex
                };
                if !hash
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                {
                    continue;
                }
                sentence_floor = hash_start + HASH_LEN;
                if let Some(marker) = parse_sentence(&text[sentence_start..prefix_start], hash) {
                    return Some(marker);
                }
            }
            None
        })
    }

    /// Whether `text` carries any Headroom marker.
    ///
    /// ```
    /// assert!(!headroom::marker::Marker::is_in("plain text"));
    /// ```
    pub fn is_in(text: &str) -> bool {
        Marker::scan(text).next().is_some()
    }
}

/// Where a marker's sentence may start: after the bracket (text), the quote (JSON), or the cell
/// separator or line start (a bare cell of the table form).
const SENTENCE_DELIMITERS: [char; 4] = ['[', '"', ',', '\n'];

/// Reads `N [of M] unit omitted · ` from a sentence that ends where the hash prefix starts.
fn parse_sentence(sentence: &str, hash: &str) -> Option<Marker> {
    let sentence = sentence.strip_suffix(" omitted · ")?;
    let sentence = sentence.trim_start();
    let sentence = sentence.strip_prefix("… ").unwrap_or(sentence);
    let (omitted, rest) = sentence.split_once(' ')?;
    let omitted = omitted.parse().ok()?;
    let (total, unit) = match rest.strip_prefix("of ").and_then(|r| r.split_once(' ')) {
        Some((total, unit)) => (Some(total.parse().ok()?), unit),
        None => (None, rest),
    };
    Some(Marker::new(omitted, total, unit, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_json_and_code_forms() {
        let h = segment_hash("x");
        let text = format!(
            "a\n[… 3 of 9 lines omitted · headroom_retrieve hash={h}]\nfn f() {{ /* [… 42 lines omitted · headroom_retrieve hash={h}] */ }}"
        );
        let json =
            serde_json::to_string(&vec![Marker::new(5, Some(8), "items", &h).to_json()]).unwrap();
        let all: Vec<_> = Marker::parse_all(&text)
            .into_iter()
            .chain(Marker::parse_all(&json))
            .collect();
        assert_eq!(
            all,
            vec![
                Marker::new(3, Some(9), "lines", &h),
                Marker::new(42, None, "lines", &h),
                Marker::new(5, Some(8), "items", &h)
            ]
        );
    }

    #[test]
    fn parses_a_bare_table_cell() {
        let h = segment_hash("x");
        let table = format!(
            "[3]{{id,_headroom}}:\n1,\n,5 of 7 items omitted · headroom_retrieve hash={h}\n9,"
        );
        assert_eq!(
            Marker::parse_all(&table),
            vec![Marker::new(5, Some(7), "items", &h)]
        );
    }

    #[test]
    fn ignores_lookalikes() {
        assert!(!Marker::is_in("headroom_retrieve hash=xyz"));
        assert!(!Marker::is_in(
            "headroom_retrieve hash=0123456789abcdef01234567 without sentence"
        ));
    }

    #[test]
    fn parse_hash_takes_24_hex_digits_in_any_case() {
        let h = segment_hash("x");
        assert_eq!(parse_hash(&h).unwrap(), h);
        assert_eq!(parse_hash(&h.to_ascii_uppercase()).unwrap(), h);
        let too_long = format!("{h}0");
        let non_ascii = format!("{}é", &h[..22]);
        for bad in [
            "",
            "xyz",
            &h[..23],
            &too_long,
            &h.replace(&h[..1], "g"),
            &non_ascii,
            "0x0123456789abcdef012345",
        ] {
            let err = parse_hash(bad).unwrap_err();
            assert!(
                matches!(err, crate::Error::InvalidHash(ref s) if s == bad),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hash_is_24_hex_of_sha256() {
        let h = segment_hash("");
        assert_eq!(h, "e3b0c44298fc1c149afbf4c8");
    }

    #[test]
    fn crafted_lookalikes_are_read_in_linear_time() {
        // Quadratic before: every occurrence scanned back over the whole delimiter-free run.
        let hash = segment_hash("x");
        let run = "x".repeat(1 << 20);
        let lookalikes = format!("headroom_retrieve hash={hash}").repeat(1 << 15);
        assert!(Marker::parse_all(&format!("{run}{lookalikes}")).is_empty());
        // Sentences that all end in " omitted · " and share one start.
        let sentences = format!("1 lines omitted · headroom_retrieve hash={hash}").repeat(1 << 15);
        let found = Marker::parse_all(&format!("[… {run} {sentences}"));
        assert_eq!(
            found.len(),
            (1 << 15) - 1,
            "each sentence starts at the previous hash"
        );
        assert!(found.iter().all(|m| m.omitted == 1 && m.unit == "lines"));
    }

    #[test]
    fn a_marker_after_a_non_ascii_lookalike_is_still_found() {
        let h = segment_hash("x");
        let text = format!(
            "headroom_retrieve hash=ééééééééééééé [… 2 lines omitted · headroom_retrieve hash={h}]"
        );
        assert_eq!(
            Marker::parse_all(&text),
            vec![Marker::new(2, None, "lines", &h)]
        );
    }
}
