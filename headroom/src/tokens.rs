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
