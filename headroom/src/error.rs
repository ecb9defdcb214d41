//! The one error type of the engine.

/// Everything that can go wrong when compressing or retrieving.
///
/// Each message says what was wrong and what to do about it.
///
/// ```
/// let err = headroom::Headroom::default().compress_json(b"{").unwrap_err();
/// assert!(matches!(err, headroom::Error::InvalidJson(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is not UTF-8 text.
    #[error("the request body is not valid UTF-8 (at byte {0}); send JSON text")]
    InvalidUtf8(usize),
    /// The body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The JSON does not have the shape of a chat-completions request.
    #[error("not a chat-completions request: {0}")]
    InvalidRequest(String),
    /// The configuration is wrong.
    #[error("invalid headroom configuration: {0}")]
    Config(String),
    /// A hash that is not 24 hex digits (see [`crate::marker::parse_hash`]).
    #[error(
        "{0:?} is not a headroom hash: a headroom hash is 24 hex digits (any case), as in a \
         marker's `headroom_retrieve hash=3f9ac0d1e2b4a5c6d7e8f901`; copy it whole from the marker"
    )]
    InvalidHash(String),
    /// A store could not be opened, read or written.
    #[error("store error: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
