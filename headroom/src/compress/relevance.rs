//! BM25 ranking and whole-token matching: the scoring behind [`crate::question`], which owns
//! what the question names (anchors and words); compressors ask it, not this module.
//!
//! ```text
//! let ranked = bm25(&["order".into(), "failed".into()], &["ok", "the order failed", "order shipped"]);
//! assert!(ranked.scores[1] > ranked.scores[2] && ranked.scores[2] > ranked.scores[0]);
//! assert_eq!(ranked.document_frequency, vec![2, 1]);
//! ```

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalisation.
const B: f64 = 0.75;

/// BM25 over a collection of units for a few words, with the counts it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bm25 {
    /// The score of every unit (all zeros without words).
    pub(crate) scores: Vec<f64>,
    /// For each word, how many units hold it.
    pub(crate) document_frequency: Vec<u32>,
    /// How often each unit holds each word, unit after unit (`words` counts per unit; empty
    /// without words).
    term_frequency: Vec<u32>,
    words: usize,
}

impl Bm25 {
    /// Whether unit `unit` holds word `word` (both by index).
    pub(crate) fn holds(&self, unit: usize, word: usize) -> bool {
        self.term_frequency
            .get(unit * self.words + word)
            .is_some_and(|&f| f > 0)
    }
}

/// The BM25 score of every unit against `words` (lowercased), the units being the collection, with
/// each word's document frequency and each unit's term frequencies. All zeros when there are no
/// words.
pub(crate) fn bm25(words: &[String], units: &[&str]) -> Bm25 {
    if words.is_empty() || units.is_empty() {
        return Bm25 {
            scores: vec![0.0; units.len()],
            document_frequency: vec![0; words.len()],
            term_frequency: Vec::new(),
            words: words.len(),
        };
    }
    // Term frequencies of the question's words only: nothing else is ever looked up. A unit's
    // word is compared, ASCII case aside, with the question's words of its length (a few).
    let mut lengths = Vec::with_capacity(units.len());
    let mut frequencies = vec![0u32; units.len() * words.len()];
    let mut document_frequency = vec![0u32; words.len()];
    let longest = words.iter().map(String::len).max().unwrap_or(0);
    // For each length, the question's words of that length (by index), the last first: a word
    // given twice counts under its last index.
    let mut of_length: Vec<Vec<usize>> = vec![Vec::new(); longest + 1];
    for (i, w) in words.iter().enumerate().rev() {
        of_length[w.len()].push(i);
    }
    // The question word `word` is (by index), its ASCII letters in any case.
    let find = |word: &[u8]| {
        of_length
            .get(word.len())?
            .iter()
            .copied()
            .find(|&i| words[i].as_bytes().eq_ignore_ascii_case(word))
    };
    for (unit, tf) in units.iter().zip(frequencies.chunks_exact_mut(words.len())) {
        let mut length = 0usize;
        // Every word counts toward the length.
        let mut count = |word: &[u8]| {
            length += 1;
            if let Some(i) = find(word) {
                tf[i] += 1;
            }
        };
        if unit.is_ascii() {
            // ASCII: a word is a run of ASCII letters and digits, read byte by byte (3-4% of
            // search's and logs' time over splitting by characters, measured).
            for word in unit
                .as_bytes()
                .split(|b| !b.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                count(word);
            }
        } else {
            for word in unit
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                if word.is_ascii() {
                    count(word.as_bytes());
                } else {
                    // Lowercasing can change what splits (`İ` becomes `i` and a combining
                    // dot): the word's lowercase form is split again, as a lowercased unit
                    // would be.
                    let lowered = word.to_lowercase();
                    for part in lowered
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| !w.is_empty())
                    {
                        count(part.as_bytes());
                    }
                }
            }
        }
        for (df, &f) in document_frequency.iter_mut().zip(tf.iter()) {
            if f > 0 {
                *df += 1;
            }
        }
        lengths.push(length as f64);
    }
    let n = units.len() as f64;
    let average = (lengths.iter().sum::<f64>() / n).max(1.0);
    let idf: Vec<f64> = document_frequency
        .iter()
        .map(|&df| (((n - df as f64 + 0.5) / (df as f64 + 0.5)) + 1.0).ln())
        .collect();
    let scores: Vec<f64> = frequencies
        .chunks_exact(words.len())
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
        .collect();
    Bm25 {
        scores,
        document_frequency,
        term_frequency: frequencies,
        words: words.len(),
    }
}

/// The lowercased alphanumeric runs of `text` (`_` splits words: `per_page` is `per`, `page`).
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A term (lowercased) to look for as a whole token, its searcher built once for every haystack
/// it is looked for in.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    text: String,
    finder: memchr::memmem::Finder<'static>,
}

impl Term {
    pub(crate) fn new(text: String) -> Term {
        let finder = memchr::memmem::Finder::new(text.as_bytes()).into_owned();
        Term { text, finder }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Where the term starts in `haystack`, overlapping occurrences included (none for an empty
    /// term). A match of valid UTF-8 in valid UTF-8 starts and ends on character boundaries.
    pub(crate) fn occurrences<'h>(&'h self, haystack: &'h str) -> impl Iterator<Item = usize> + 'h {
        let mut from = 0;
        std::iter::from_fn(move || {
            if self.text.is_empty() || from > haystack.len() {
                return None;
            }
            let start = from + self.finder.find(&haystack.as_bytes()[from..])?;
            from = start + 1;
            Some(start)
        })
    }

    /// Whether the occurrence of the term at `start` of `haystack` has no word character on
    /// either side. Only ASCII letters and digits join a token: `worker_27118æ` still names
    /// `worker_27118`; a term that itself starts or ends with a non-word character needs no
    /// boundary there.
    pub(crate) fn is_whole_at(&self, haystack: &str, start: usize) -> bool {
        // A byte of a non-ASCII character is no word byte, so the bytes beside the term say it.
        let (term, bytes) = (self.text.as_bytes(), haystack.as_bytes());
        let is_word = |b: Option<&u8>| b.copied().is_some_and(is_word_byte);
        let end = start + term.len();
        let before = start.checked_sub(1).and_then(|i| bytes.get(i));
        let open = !is_word(term.first()) || !is_word(before);
        let close = !is_word(term.last()) || !is_word(bytes.get(end));
        !term.is_empty() && open && close
    }
}

/// Whether `b` joins a token: an ASCII letter or digit, or `_` (a byte of a non-ASCII character
/// never does).
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Terms are equal when their texts are (the searcher is built from the text).
impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Term {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `haystack` contains `term` with no word character on either side.
    fn is_term(haystack: &str, term: &str) -> bool {
        let term = Term::new(term.to_string());
        let found = term
            .occurrences(haystack)
            .any(|start| term.is_whole_at(haystack, start));
        found
    }

    #[test]
    fn bm25_prefers_rare_words_and_ignores_absent_ones() {
        let words = vec!["deployment".to_string(), "timed".to_string()];
        let units = [
            "deployment api ok",
            "deployment web timed out after 30s",
            "deployment db ok",
            "deployment cache ok",
        ];
        let Bm25 {
            scores,
            document_frequency: frequency,
            ..
        } = bm25(&words, &units);
        let best = (0..units.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        assert_eq!(best, 1, "{scores:?}");
        assert!(
            scores.iter().all(|s| *s > 0.0),
            "every unit says deployment"
        );
        assert_eq!(frequency, vec![4, 1]);
        assert_eq!(bm25(&[], &units).scores, vec![0.0; 4]);
    }

    #[test]
    fn terms_respect_token_boundaries() {
        assert!(is_term(r#"{"number":1042}"#, "1042"));
        assert!(is_term(
            "https://api.github.com/repos/o/r/issues/1042",
            "1042"
        ));
        assert!(!is_term(r#"{"number":10420}"#, "1042"));
        assert!(!is_term(r#"{"name":"serde_json_derive"}"#, "serde_json"));
        assert!(is_term(
            "== cwd: /tmp/test_python_worker_27118æ",
            "test_python_worker_27118"
        ));
    }
}
