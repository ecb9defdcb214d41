//! What the question names: term extraction and BM25 scoring, shared by the lossy compressors.
//!
//! A compressor that must choose which units of a tool output to keep (array items, log lines,
//! search hits, paragraphs) asks two things of the question it compresses against:
//!
//! * [`Question::mentions`]: does this unit contain a term the question names *exactly*
//!   (a number such as `1042` from `order #1042`, an identifier such as `serde_json`,
//!   `@octokit/rest`, `v1.2.3` or `src/main.rs`, a quoted phrase)? Matching is case-insensitive and
//!   respects token boundaries, so `1042` does not match `10420`.
//! * [`Question::scores`]: how relevant is each unit to the question's words, by BM25 over the units
//!   as the document collection (so a word every unit contains counts for little).
//!
//! ```text
//! let q = Question::parse("why did order #1042 fail for serde_json?");
//! assert!(q.mentions("{\"id\":1042,\"status\":\"failed\"}"));
//! assert!(!q.mentions("{\"id\":10420}"));
//! let scores = q.scores(&["ok", "the order failed", "order shipped"]);
//! assert!(scores[1] > scores[2] && scores[2] > scores[0]);
//! ```

use std::collections::HashMap;

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalisation.
const B: f64 = 0.75;

/// Words too common in questions to say anything about which unit is wanted.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "all",
    "also",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "each",
    "everything",
    "find",
    "for",
    "from",
    "get",
    "give",
    "had",
    "has",
    "have",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "list",
    "me",
    "my",
    "not",
    "of",
    "on",
    "one",
    "or",
    "our",
    "please",
    "show",
    "so",
    "some",
    "something",
    "tell",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "this",
    "those",
    "to",
    "us",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
];

/// The terms of a question: words for BM25, exact terms for whole-token matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Question {
    /// Lowercased content words (no stopwords; 3 characters, or 2 letters), deduplicated, in order.
    words: Vec<String>,
    /// Lowercased numbers, identifiers, `#N` references and quoted phrases, deduplicated, in order.
    exact: Vec<String>,
}

impl Question {
    /// Extracts the terms of `text` (the user turn plus the tool call's arguments).
    pub(crate) fn parse(text: &str) -> Question {
        let mut q = Question::default();
        for phrase in quoted_phrases(text) {
            push_unique(&mut q.exact, phrase.to_lowercase());
        }
        for raw in text.split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    ',' | ';' | '(' | ')' | '"' | '\'' | '{' | '}' | '[' | ']' | '=' | '<' | '>'
                )
        }) {
            let token = raw.trim_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '@'));
            if token.is_empty() {
                continue;
            }
            if let Some(number) = token.strip_prefix('#') {
                if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
                    push_unique(&mut q.exact, number.to_string());
                    continue;
                }
            }
            if is_exact_term(token) {
                push_unique(&mut q.exact, token.to_lowercase());
            }
        }
        for word in words(text) {
            // Two characters are a word only as letters (`ci`, `os`); `3d` is more often `%3D` in a URL.
            let long_enough = word.chars().count() >= 3
                || (word.chars().count() == 2 && word.chars().all(char::is_alphabetic));
            if long_enough
                && !word.bytes().all(|b| b.is_ascii_digit())
                && !STOPWORDS.contains(&word.as_str())
            {
                push_unique(&mut q.words, word);
            }
        }
        q
    }

    /// Whether the question has no term at all (nothing can be named).
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty() && self.exact.is_empty()
    }

    /// The content words, lowercased: compare them with whole field values, or score with BM25.
    pub(crate) fn words(&self) -> &[String] {
        &self.words
    }

    /// The exact terms, lowercased: numbers, identifiers, `#N` references (as `N`), quoted phrases.
    pub(crate) fn exact_terms(&self) -> &[String] {
        &self.exact
    }

    /// Whether `unit` contains one of the exact terms as whole tokens (case-insensitive).
    pub(crate) fn mentions(&self, unit: &str) -> bool {
        if self.exact.is_empty() {
            return false;
        }
        let lower = unit.to_lowercase();
        self.exact.iter().any(|term| contains_term(&lower, term))
    }

    /// The exact terms `unit` contains as whole tokens, by index into [`Question::exact_terms`].
    pub(crate) fn mentioned_terms(&self, unit: &str) -> Vec<usize> {
        if self.exact.is_empty() {
            return Vec::new();
        }
        let lower = unit.to_lowercase();
        (0..self.exact.len())
            .filter(|&i| contains_term(&lower, &self.exact[i]))
            .collect()
    }

    /// The BM25 score of every unit against the question's words, the units being the collection.
    /// All zeros when the question has no words.
    pub(crate) fn scores(&self, units: &[&str]) -> Vec<f64> {
        if self.words.is_empty() || units.is_empty() {
            return vec![0.0; units.len()];
        }
        // Term frequencies of the question's words only: nothing else is ever looked up.
        let mut lengths = Vec::with_capacity(units.len());
        let mut frequencies: Vec<Vec<u32>> = Vec::with_capacity(units.len());
        let mut document_frequency = vec![0u32; self.words.len()];
        let index: HashMap<&str, usize> = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), i))
            .collect();
        for unit in units {
            let mut tf = vec![0u32; self.words.len()];
            let mut length = 0usize;
            // One lowercase copy per unit, then borrowed words: no allocation per word.
            let lower = unit.to_lowercase();
            for word in lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                length += 1;
                if let Some(&i) = index.get(word) {
                    tf[i] += 1;
                }
            }
            for (i, &f) in tf.iter().enumerate() {
                if f > 0 {
                    document_frequency[i] += 1;
                }
            }
            lengths.push(length as f64);
            frequencies.push(tf);
        }
        let n = units.len() as f64;
        let average = (lengths.iter().sum::<f64>() / n).max(1.0);
        let idf: Vec<f64> = document_frequency
            .iter()
            .map(|&df| (((n - df as f64 + 0.5) / (df as f64 + 0.5)) + 1.0).ln())
            .collect();
        frequencies
            .iter()
            .zip(&lengths)
            .map(|(tf, &length)| {
                tf.iter()
                    .zip(&idf)
                    .filter(|(&f, _)| f > 0)
                    .map(|(&f, &idf)| {
                        let f = f64::from(f);
                        idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * length / average))
                    })
                    .sum()
            })
            .collect()
    }
}

/// The lowercased alphanumeric runs of `text` (`_` splits words: `per_page` is `per`, `page`).
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether `haystack` (lowercased) contains `term` (lowercased) with no word character on either side.
pub(crate) fn contains_term(haystack: &str, term: &str) -> bool {
    if term.is_empty() {
        return false;
    }
    // Only ASCII letters and digits join a token: `worker_27118æ` still names `worker_27118`.
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut from = 0;
    while let Some(at) = haystack[from..].find(term) {
        let start = from + at;
        let end = start + term.len();
        let before = haystack[..start].chars().next_back();
        let after = haystack[end..].chars().next();
        // A term that itself starts or ends with a non-word character needs no boundary there.
        let open = !is_word(term.chars().next()) || !is_word(before);
        let close = !is_word(term.chars().next_back()) || !is_word(after);
        if open && close {
            return true;
        }
        from = start + term.chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// A token names something exactly when it is a number of two or more digits or an identifier:
/// letters mixed with digits, inner `_ - . / @ :`, or a capital after the first letter.
fn is_exact_term(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    if letters == 0 {
        return digits >= 2 && token.chars().all(|c| c.is_ascii_digit() || c == '.');
    }
    let inner_punct = token
        .char_indices()
        .any(|(i, c)| i > 0 && i + c.len_utf8() < token.len() && "_-./@:".contains(c));
    let camel =
        token.chars().skip(1).any(char::is_uppercase) && token.chars().any(char::is_lowercase);
    (digits > 0 && token.chars().count() >= 3) || inner_punct || camel || token.starts_with('@')
}

/// Multi-word text between double quotes or backticks (single words are tokens already).
fn quoted_phrases(text: &str) -> Vec<&str> {
    let mut phrases = Vec::new();
    for quote in ['"', '`'] {
        let parts: Vec<&str> = text.split(quote).collect();
        for inside in parts
            .iter()
            .take(parts.len().saturating_sub(1))
            .skip(1)
            .step_by(2)
        {
            let inside = inside.trim();
            // A phrase in quotes, or one word in backticks (a code reference: `timers`). A lone
            // word in double quotes is more often a JSON key of the tool call's arguments.
            let code_word = quote == '`' && !inside.is_empty();
            if (inside.contains(' ') || code_word) && !inside.contains('\n') {
                phrases.push(inside);
            }
        }
    }
    phrases
}

fn push_unique(list: &mut Vec<String>, term: String) {
    if !list.contains(&term) {
        list.push(term);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backticked_word_is_named_exactly_even_inside_paths() {
        let q = Question::parse("This output mentions `timers`. What does it say?");
        assert!(q.mentions("Created symlink /etc/systemd/system/timers.target.wants/man-db.timer"));
        assert!(!q.mentions("Setting up man-db (2.11.2-2) ..."));
        let q = Question::parse("What about `test_python_worker_27118`?");
        assert!(
            q.mentions("== cwd: /tmp/test_python_worker_27118æ"),
            "a non-ASCII letter ends a token"
        );
        assert!(!q.mentions("== cwd: /tmp/test_python_worker_271189"));
        let args = Question::parse(r#"{"cmd":"ls"}"#);
        assert!(
            !args.mentions("cmd line"),
            "a lone double-quoted word (a JSON key) names nothing"
        );
    }

    #[test]
    fn extracts_numbers_references_identifiers_and_words() {
        let q = Question::parse(
            "Why did order #1042 fail? Check serde_json, @octokit/rest v1.2.3 and `cargo metadata` on issue #7",
        );
        for term in [
            "1042",
            "serde_json",
            "@octokit/rest",
            "v1.2.3",
            "cargo metadata",
            "7",
        ] {
            assert!(q.exact_terms().contains(&term.to_string()), "{term}: {q:?}");
        }
        for word in ["order", "fail", "check", "serde", "json", "octokit"] {
            assert!(q.words().contains(&word.to_string()), "{word}: {q:?}");
        }
        assert!(!q.words().contains(&"why".to_string()));
        assert!(
            !q.words().contains(&"1042".to_string()),
            "numbers are exact terms"
        );
    }

    #[test]
    fn tool_arguments_give_terms_too() {
        let q = Question::parse(r#"{"owner":"octokit","repo":"fixtures","issue_number":1042}"#);
        assert!(q.exact_terms().contains(&"1042".to_string()), "{q:?}");
        assert!(q.words().contains(&"fixtures".to_string()));
    }

    #[test]
    fn mentions_respect_token_boundaries() {
        let q = Question::parse("what about #1042 and serde_json?");
        assert!(q.mentions(r#"{"number":1042}"#));
        assert!(q.mentions("https://api.github.com/repos/o/r/issues/1042"));
        assert!(q.mentions(r#"{"name":"Serde_Json"}"#));
        assert!(!q.mentions(r#"{"number":10420}"#));
        assert!(!q.mentions(r#"{"number":21042}"#));
        assert!(!q.mentions(r#"{"name":"serde_json_derive"}"#));
        assert_eq!(q.mentioned_terms("1042 serde_json"), vec![0, 1]);
    }

    #[test]
    fn bm25_prefers_rare_words_and_ignores_absent_ones() {
        let q = Question::parse("which deployment timed out?");
        let units = [
            "deployment api ok",
            "deployment web timed out after 30s",
            "deployment db ok",
            "deployment cache ok",
        ];
        let scores = q.scores(&units);
        let best = (0..units.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        assert_eq!(best, 1, "{scores:?}");
        assert!(
            scores.iter().all(|s| *s > 0.0),
            "every unit says deployment"
        );
        assert_eq!(Question::parse("").scores(&units), vec![0.0; 4]);
        assert!(Question::parse("the of and").is_empty());
    }
}
