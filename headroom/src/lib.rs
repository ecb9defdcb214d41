//! # Headroom
//!
//! Context compression for agent apps: shrink every chat-completion request before it leaves the
//! process, keep what the model needs, and let the model get back anything elided.
//!
//! ```
//! use headroom::Headroom;
//! let hr = Headroom::default();
//! let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}"#;
//! let out = hr.compress_json(body)?;
//! // Nothing to gain here, so the body goes out byte for byte.
//! assert_eq!(out.body, body);
//! # Ok::<(), headroom::Error>(())
//! ```
//!
//! Every elision leaves a marker — `[… 212 of 250 lines omitted · headroom_retrieve hash=…]` —
//! and the original is kept under that hash; the `headroom_retrieve` tool is added to the request so
//! the model can ask for it ([`Headroom::answer_tool_call`]).
//!
//! For agent functions, the [`#[headroom]`](macro@headroom) attribute compresses every
//! `CreateChatCompletionRequest` argument on entry; its docs show it with async-openai end to end.

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod budget;
pub mod compress;
mod config;
mod conversation;
mod deadline;
pub mod detect;
mod engine;
mod error;
pub mod marker;
mod memo;
pub mod models;
mod original;
pub(crate) mod question;
mod report;
pub mod resolver;
pub mod retrieve;
pub mod store;
pub mod tokens;
mod tool;

/// The async-openai crate whose types [`Headroom::compress`] takes (feature `chat-completion-types`),
/// so `headroom::async_openai::types::chat::CreateChatCompletionRequest` is always the right one.
pub use async_openai;
pub use compress::table;
pub use config::Config;
pub use conversation::Protocol;
pub use engine::{
    CompressOptions, Compressed, CompressedJson, Headroom, HeadroomBuilder, Original, DEFAULT_MODEL,
};
pub use error::{Error, Result};
pub use headroom_macros::headroom;
pub use memo::{Memo, DEFAULT_MEMO_BYTES};
pub use report::{
    Eviction, FitReport, LosslessFallback, Report, RetrieveUnavailable, SegmentReport,
};
