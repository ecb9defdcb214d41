//! Token counting with the model's real tokenizer.

mod tools;

pub use tools::{count_tools, ToolTokens, TOOL_LIST_TOKENS};

use crate::models::{encoding_for_model, Encoding};
use std::sync::{Arc, LazyLock};

/// Counts tokens the way the model's tokenizer does.
///
/// ```
/// use headroom::tokens::{counter_for_model, TokenCounter};
/// let counter = counter_for_model("gpt-4o");
/// assert_eq!(counter.count("hello world"), 2);
/// ```
pub trait TokenCounter: Send + Sync {
    /// Tokens in `text`, special tokens read as plain text.
    fn count(&self, text: &str) -> usize;
    /// The encoding's name, e.g. `o200k_base`.
    fn name(&self) -> &'static str;
}

/// Tokens OpenAI adds for every message (role and separators).
pub const TOKENS_PER_MESSAGE: usize = 3;
/// Tokens OpenAI adds when a message has a `name`.
pub const TOKENS_PER_NAME: usize = 1;
/// Tokens that prime the assistant's reply.
pub const TOKENS_PER_REPLY: usize = 3;

/// Text at most this long is counted in one call; longer text in pieces of about this size, the
/// deadline checked between them.
const COUNT_PIECE_BYTES: usize = 1 << 20;

/// Tokens in `text`, or `None` once `deadline` has passed (checked every mebibyte, so a huge
/// string stops within a few milliseconds of it). Long text is cut only where the tokenizer's own
/// pre-tokenizer always splits, so the pieces' counts add up to the whole's exactly.
pub(crate) fn count_until(
    counter: &dyn TokenCounter,
    text: &str,
    deadline: crate::deadline::Deadline,
) -> Option<usize> {
    let mut total = 0;
    let mut rest = text;
    while !rest.is_empty() {
        if deadline.passed() {
            return None;
        }
        let cut = piece_end(rest, COUNT_PIECE_BYTES);
        total += counter.count(&rest[..cut]);
        rest = &rest[cut..];
    }
    Some(total)
}

/// Where the first piece of at least `size` bytes of `text` may end: the first index at or past
/// `size` where no pre-token of o200k or cl100k can span, or the end. Every pre-token pattern of
/// both encodings ends before an ASCII letter or digit that follows a newline (letters and digits
/// never take a newline before them, and newline runs end at the first non-space), and a run of
/// letters or digits ends before ASCII punctuation other than an apostrophe (which may start a
/// contraction such as `'s`).
fn piece_end(text: &str, size: usize) -> usize {
    let bytes = text.as_bytes();
    if bytes.len() <= size {
        return bytes.len();
    }
    (size.max(1)..bytes.len())
        .find(|&i| {
            let (before, at) = (bytes[i - 1], bytes[i]);
            (before == b'\n' && at.is_ascii_alphanumeric())
                || (before.is_ascii_alphanumeric() && at.is_ascii_punctuation() && at != b'\'')
        })
        .unwrap_or(bytes.len())
}

/// The tiktoken-rs counter.
struct Tiktoken {
    bpe: &'static tiktoken_rs::CoreBPE,
    name: &'static str,
}

impl TokenCounter for Tiktoken {
    fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
    }
    fn name(&self) -> &'static str {
        self.name
    }
}

/// The bpe-openai counter: the same counts, computed faster.
#[cfg(feature = "bpe-openai")]
struct BpeOpenai {
    tokenizer: &'static bpe_openai::Tokenizer,
    name: &'static str,
}

#[cfg(feature = "bpe-openai")]
impl TokenCounter for BpeOpenai {
    fn count(&self, text: &str) -> usize {
        self.tokenizer.count(text)
    }
    fn name(&self) -> &'static str {
        self.name
    }
}

/// The tiktoken-rs counter for `encoding`, whatever features are on (used to cross-check).
pub fn tiktoken_counter(encoding: Encoding) -> Arc<dyn TokenCounter> {
    match encoding {
        Encoding::O200kBase => Arc::new(Tiktoken {
            bpe: tiktoken_rs::o200k_base_singleton(),
            name: "o200k_base",
        }),
        Encoding::Cl100kBase => Arc::new(Tiktoken {
            bpe: tiktoken_rs::cl100k_base_singleton(),
            name: "cl100k_base",
        }),
    }
}

/// The fastest exact counter for `encoding`: bpe-openai with its feature on, tiktoken-rs otherwise.
///
/// Each encoding's tables are loaded once per process, on first use, and shared by every engine,
/// door and call (loading o200k_base takes ~0.15 s with dependencies optimised, ~0.7–1.1 s in a
/// debug build that does not optimise them: see the README's "Debug builds").
///
/// ```
/// use headroom::{models::Encoding, tokens::counter_for_encoding};
/// let (a, b) = (counter_for_encoding(Encoding::O200kBase), counter_for_encoding(Encoding::O200kBase));
/// assert!(std::sync::Arc::ptr_eq(&a, &b), "one counter per encoding and process");
/// ```
pub fn counter_for_encoding(encoding: Encoding) -> Arc<dyn TokenCounter> {
    static O200K: LazyLock<Arc<dyn TokenCounter>> =
        LazyLock::new(|| fastest_counter(Encoding::O200kBase));
    static CL100K: LazyLock<Arc<dyn TokenCounter>> =
        LazyLock::new(|| fastest_counter(Encoding::Cl100kBase));
    match encoding {
        Encoding::O200kBase => O200K.clone(),
        Encoding::Cl100kBase => CL100K.clone(),
    }
}

fn fastest_counter(encoding: Encoding) -> Arc<dyn TokenCounter> {
    #[cfg(feature = "bpe-openai")]
    {
        match encoding {
            Encoding::O200kBase => Arc::new(BpeOpenai {
                tokenizer: bpe_openai::o200k_base(),
                name: "o200k_base",
            }),
            Encoding::Cl100kBase => Arc::new(BpeOpenai {
                tokenizer: bpe_openai::cl100k_base(),
                name: "cl100k_base",
            }),
        }
    }
    #[cfg(not(feature = "bpe-openai"))]
    {
        tiktoken_counter(encoding)
    }
}

/// The counter for `model` (o200k_base for unknown models).
pub fn counter_for_model(model: &str) -> Arc<dyn TokenCounter> {
    counter_for_encoding(encoding_for_model(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_differ_where_they_should() {
        let text = "The quick brown fox → jumps over 12345 lazy dogs.";
        let o200k = counter_for_encoding(Encoding::O200kBase).count(text);
        let cl100k = counter_for_encoding(Encoding::Cl100kBase).count(text);
        assert!(o200k > 5 && cl100k > 5);
        assert_eq!(counter_for_encoding(Encoding::O200kBase).count(""), 0);
    }

    #[test]
    fn pieces_add_up_to_the_whole_count() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut texts: Vec<String> = [
            "logs/cargo-build-vv-deps-type-error.txt",
            "json/npm-view-octokit-rest.json",
            "search/grep-memchr-unsafe-fn.txt",
            "diff/foldhash-0.1.5-0.2.0.diff",
            "prose/serde_json-README.md",
            "code/serde_json-map.rs",
            "github-issues.json",
        ]
        .iter()
        .map(|f| std::fs::read_to_string(format!("{fixtures}/{f}")).unwrap())
        .collect();
        texts.push("it's\n'tis\nA1,b2;c3 \n\n x\r\ny ... \u{1F680}a\n".repeat(50));
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            for counter in [counter_for_encoding(encoding), tiktoken_counter(encoding)] {
                for text in &texts {
                    let whole = counter.count(text);
                    for size in [1, 7, 64, 1000] {
                        let mut sum = 0;
                        let mut rest = text.as_str();
                        while !rest.is_empty() {
                            let cut = piece_end(rest, size);
                            sum += counter.count(&rest[..cut]);
                            rest = &rest[cut..];
                        }
                        assert_eq!(sum, whole, "{} pieces of {size}", counter.name());
                    }
                    let deadline = crate::deadline::Deadline::none();
                    assert_eq!(count_until(counter.as_ref(), text, deadline), Some(whole));
                }
            }
        }
        let passed = crate::deadline::Deadline::after(std::time::Duration::ZERO);
        let counter = counter_for_model("gpt-4o");
        assert_eq!(count_until(counter.as_ref(), "some text", passed), None);
    }

    #[test]
    fn every_model_of_an_encoding_shares_one_counter() {
        let gpt4o = counter_for_model("gpt-4o");
        for model in ["gpt-4.1-mini", "o3", "openai/gpt-5", "an-unknown-model"] {
            assert!(Arc::ptr_eq(&gpt4o, &counter_for_model(model)), "{model}");
        }
        assert!(Arc::ptr_eq(
            &counter_for_model("gpt-4"),
            &counter_for_model("gpt-3.5-turbo")
        ));
        assert!(!Arc::ptr_eq(&gpt4o, &counter_for_model("gpt-4")));
    }

    #[cfg(feature = "bpe-openai")]
    #[test]
    fn bpe_openai_counts_like_tiktoken() {
        let samples = [
            "hello world",
            "{\"id\":1042,\"login\":\"octocat\",\"url\":\"https://api.github.com/users/octocat\"}",
            "error[E0308]: mismatched types\n --> src/main.rs:4:18\n  |\n4 |     let x: u32 = \"a\";",
            "   lots   of   spaces\t\tand\ttabs\n\n\n",
            "unicode: naïve café 日本語 🚀",
        ];
        for enc in [Encoding::O200kBase, Encoding::Cl100kBase] {
            for s in samples {
                assert_eq!(
                    counter_for_encoding(enc).count(s),
                    tiktoken_counter(enc).count(s),
                    "{s:?}"
                );
            }
        }
    }
}
