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
    count_in_pieces(counter, text, usize::MAX, COUNT_PIECE_BYTES, deadline)
}

/// Pieces counted between checks of the cap in [`count_below`]: small enough that little is
/// counted past the cap, large enough that the calls cost nothing next to the counting.
const CAPPED_PIECE_BYTES: usize = 16 * 1024;

/// Tokens in `text` when they are fewer than `cap`; otherwise the tokens of a prefix, at least
/// `cap` (a lower bound: counting stops at the first piece past the cap). `None` once `deadline`
/// has passed. For choices that only need to know whether a text beats a known size.
pub(crate) fn count_below(
    counter: &dyn TokenCounter,
    text: &str,
    cap: usize,
    deadline: crate::deadline::Deadline,
) -> Option<usize> {
    count_in_pieces(counter, text, cap, CAPPED_PIECE_BYTES, deadline)
}

/// Counts `text` in pieces of about `piece_bytes` (cut where the pre-tokenizer always splits, so
/// the counts add up exactly) until it ends or the total reaches `cap`; `None` once `deadline`
/// has passed, checked between pieces.
fn count_in_pieces(
    counter: &dyn TokenCounter,
    text: &str,
    cap: usize,
    piece_bytes: usize,
    deadline: crate::deadline::Deadline,
) -> Option<usize> {
    let mut total = 0;
    let mut rest = text;
    while !rest.is_empty() && total < cap {
        if deadline.passed() {
            return None;
        }
        let cut = piece_end(rest, piece_bytes);
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

/// The `tiktoken` crate's counter: the fastest exact one on real tool output (see the README's
/// "Where the time goes"), handing text with a long unbroken run to bpe-openai (below).
struct Counter {
    fast: &'static tiktoken::CoreBpe,
    linear: fn() -> &'static bpe_openai::Tokenizer,
    name: &'static str,
}

/// A run of letters, spaces or punctuation longer than this (bytes) is one pre-token the `tiktoken`
/// crate merges in more than linear time (1 MB of spaces: ~0.4 s); bpe-openai's merge is linear
/// (~10 ms), so such text goes to it. Both give the same counts, so the choice changes only time.
const LONG_RUN_BYTES: usize = 1024;

impl TokenCounter for Counter {
    fn count(&self, text: &str) -> usize {
        // Text no longer than the limit cannot hold a longer run.
        if text.len() > LONG_RUN_BYTES && longest_run(text) > LONG_RUN_BYTES {
            (self.linear)().count(text)
        } else {
            self.fast.count(text)
        }
    }
    fn name(&self) -> &'static str {
        self.name
    }
}

/// Each byte's class for [`longest_run`]: 0 digits (they break every run), 1 whitespace, 2 ASCII
/// punctuation, 3 letters and the bytes of non-ASCII characters.
const CLASS: [u8; 256] = {
    let mut class = [3u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        class[b] = if c.is_ascii_digit() {
            0
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            1
        } else if c.is_ascii_punctuation() {
            2
        } else {
            3
        };
        b += 1;
    }
    class
};

/// The longest run of bytes of one class (letters and non-ASCII, whitespace, ASCII punctuation):
/// an upper bound, give or take a byte, on the pre-tokens of o200k and cl100k, which never span a
/// digit or a change of class except by one leading character (a digit breaks every run).
fn longest_run(text: &str) -> usize {
    let (mut longest, mut run, mut last) = (0, 0, 0u8);
    for &b in text.as_bytes() {
        let c = CLASS[b as usize];
        run = if c == last && c != 0 { run + 1 } else { 1 };
        last = c;
        longest = longest.max(run);
    }
    longest
}

/// The exact counter for `encoding` (see [`counter_for_encoding`]).
fn exact_counter(encoding: Encoding) -> Arc<dyn TokenCounter> {
    let (name, linear): (_, fn() -> &'static bpe_openai::Tokenizer) = match encoding {
        Encoding::O200kBase => ("o200k_base", bpe_openai::o200k_base),
        Encoding::Cl100kBase => ("cl100k_base", bpe_openai::cl100k_base),
    };
    Arc::new(Counter {
        fast: tiktoken::get_encoding(name)
            .expect("the vocab-o200k_base and vocab-cl100k_base features are on"),
        linear,
        name,
    })
}

/// The exact counter for `encoding`: the `tiktoken` crate (bpe-openai for text with a run of more
/// than a kilobyte without a pre-token break, where its merge is linear and tiktoken's is not).
///
/// Each encoding's tables are loaded once per process, on first use, and shared by every engine,
/// door and call (loading o200k_base takes ~0.1 s with dependencies optimised; see the README's
/// "Debug builds"). bpe-openai's tables load on the first text that needs them.
///
/// ```
/// use headroom::{models::Encoding, tokens::counter_for_encoding};
/// let (a, b) = (counter_for_encoding(Encoding::O200kBase), counter_for_encoding(Encoding::O200kBase));
/// assert!(std::sync::Arc::ptr_eq(&a, &b), "one counter per encoding and process");
/// ```
pub fn counter_for_encoding(encoding: Encoding) -> Arc<dyn TokenCounter> {
    static O200K: LazyLock<Arc<dyn TokenCounter>> =
        LazyLock::new(|| exact_counter(Encoding::O200kBase));
    static CL100K: LazyLock<Arc<dyn TokenCounter>> =
        LazyLock::new(|| exact_counter(Encoding::Cl100kBase));
    match encoding {
        Encoding::O200kBase => O200K.clone(),
        Encoding::Cl100kBase => CL100K.clone(),
    }
}

/// The counter for `model` (o200k_base for unknown models).
pub fn counter_for_model(model: &str) -> Arc<dyn TokenCounter> {
    counter_for_encoding(encoding_for_model(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_texts() -> Vec<String> {
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
        texts
    }

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
        let texts = fixture_texts();
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let counter = counter_for_encoding(encoding);
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
        let passed = crate::deadline::Deadline::after(std::time::Duration::ZERO);
        let counter = counter_for_model("gpt-4o");
        assert_eq!(count_until(counter.as_ref(), "some text", passed), None);
    }

    /// Below its cap a capped count is the exact count; at or past it, a lower bound of at least
    /// the cap that stops short of the whole on long text.
    #[test]
    fn a_capped_count_is_exact_below_the_cap() {
        let counter = counter_for_model("gpt-4o");
        let none = crate::deadline::Deadline::none();
        for text in fixture_texts() {
            let whole = counter.count(&text);
            for cap in [0, 1, whole / 3, whole, whole + 1, usize::MAX] {
                let capped = count_below(counter.as_ref(), &text, cap, none).unwrap();
                if capped < cap {
                    assert_eq!(capped, whole, "cap {cap}");
                } else {
                    assert!(capped <= whole, "cap {cap}: {capped} > {whole}");
                }
                if whole < cap {
                    assert_eq!(capped, whole);
                }
                if text.len() > 4 * CAPPED_PIECE_BYTES && cap == whole / 3 {
                    assert!(capped < whole, "counting stops past the cap");
                }
            }
        }
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

    /// Both paths of the counter (and so both crates) count what tiktoken-rs, the port of OpenAI's
    /// own tokenizer, counts: on real tool output, special tokens read as text, and long runs.
    #[test]
    fn counts_like_tiktoken_rs_on_real_text_and_long_runs() {
        let mut texts = fixture_texts();
        texts.extend([
            "hello <|endoftext|> world <|fim_prefix|> x<|im_start|>".to_string(),
            "unicode: naïve café 日本語 🚀".to_string(),
            "   lots   of   spaces\t\tand\ttabs\n\n\n".to_string(),
            format!("key: {}\n", " ".repeat(3000)),
            format!("{}1", "abcdefgh".repeat(400)),
            format!("{}\n\n", "=-".repeat(2000)),
            "日本語の文章です".repeat(200),
        ]);
        for (encoding, reference) in [
            (Encoding::O200kBase, tiktoken_rs::o200k_base_singleton()),
            (Encoding::Cl100kBase, tiktoken_rs::cl100k_base_singleton()),
        ] {
            let counter = counter_for_encoding(encoding);
            let fast = tiktoken::get_encoding(counter.name()).unwrap();
            let linear = match encoding {
                Encoding::O200kBase => bpe_openai::o200k_base(),
                Encoding::Cl100kBase => bpe_openai::cl100k_base(),
            };
            for text in &texts {
                let want = reference.encode_ordinary(text).len();
                let head: String = text.chars().take(40).collect();
                assert_eq!(counter.count(text), want, "{}: {head:?}", counter.name());
                assert_eq!(fast.count(text), want, "tiktoken: {head:?}");
                assert_eq!(linear.count(text), want, "bpe-openai: {head:?}");
            }
        }
    }

    #[test]
    fn long_runs_are_found_and_digits_break_them() {
        assert_eq!(longest_run(""), 0);
        assert_eq!(longest_run("ab cd"), 2);
        assert_eq!(longest_run(&"x".repeat(2000)), 2000);
        assert_eq!(longest_run(&"x1".repeat(2000)), 1);
        assert_eq!(longest_run(&" \n".repeat(600)), 1200);
        let json = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/github-issues.json"
        ))
        .unwrap();
        assert!(
            longest_run(&json) <= LONG_RUN_BYTES,
            "real JSON takes the fast path"
        );
    }
}
