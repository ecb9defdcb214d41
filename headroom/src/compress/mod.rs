//! The compressors, one per content type, behind one trait.

#[cfg(feature = "code")]
pub mod code;
mod compressor;
pub mod crush;
pub mod diff;
pub mod json;
mod json_text;
pub mod logs;
pub(crate) mod relevance;
pub mod search;
pub mod table;
pub mod text;

pub use crush::{CrushConfig, SmartCrusher};
pub use diff::DiffCompressor;
pub use json::JsonCompressor;
pub use logs::LogsCompressor;
pub use search::SearchHitsCompressor;
pub use text::TextCompressor;

pub(crate) use compressor::retrieve_tool_tokens;
pub use compressor::{Compression, Compressor, SegmentContext, OUT_OF_TIME_TOKENS};

use crate::detect::ContentType;
use crate::tokens::TokenCounter;
use crate::Config;
use std::sync::Arc;

// The constructor sits with the dispatcher it hands every context, so no compressor names it.
impl<'a> SegmentContext<'a> {
    /// A context with no question, no tool and an empty hash.
    pub fn new(config: &'a Config, counter: Arc<dyn TokenCounter>) -> Self {
        SegmentContext {
            config,
            counter,
            question: String::new(),
            tool_name: None,
            tool_arguments: None,
            hash: String::new(),
            json_only: false,
            deadline: crate::deadline::Deadline::none(),
            dispatch: compressor_for,
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests(model: &str) -> SegmentContext<'static> {
        static CONFIG: std::sync::LazyLock<Config> = std::sync::LazyLock::new(Config::default);
        SegmentContext::new(&CONFIG, crate::tokens::counter_for_model(model))
    }
}

/// The compressor for a content type, if there is one.
pub(crate) fn compressor_for(content_type: &ContentType) -> Option<&'static dyn Compressor> {
    match content_type {
        ContentType::Json => Some(&JsonCompressor),
        #[cfg(feature = "code")]
        ContentType::Code(language) => Some(code::compressor_for_language(*language)),
        // Without tree-sitter, source code is read as text.
        #[cfg(not(feature = "code"))]
        ContentType::Code(_) => Some(&TextCompressor),
        ContentType::Text => Some(&TextCompressor),
        ContentType::Logs => Some(&LogsCompressor),
        ContentType::SearchHits => Some(&SearchHitsCompressor),
        ContentType::Diff => Some(&DiffCompressor),
    }
}
