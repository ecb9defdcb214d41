//! The one error type of the engine.

/// Everything that can go wrong when compressing or retrieving.
///
/// Each message says what was wrong and what to do about it.
///
/// ```
/// use std::error::Error as _;
/// let err = headroom::Headroom::default().compress_json(b"{").unwrap_err();
/// assert!(matches!(err, headroom::Error::InvalidJson(_)));
/// // A wrapped error keeps its cause.
/// assert!(err.source().unwrap().downcast_ref::<serde_json::Error>().is_some());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is not UTF-8 text.
    #[error("the request body is not valid UTF-8 (at byte {0}); send JSON text")]
    InvalidUtf8(usize),
    /// The body is not JSON. The parser's error, with its line and column, is the
    /// [`source`](std::error::Error::source).
    #[error("the request body is not valid JSON ({0}); send one JSON object")]
    InvalidJson(#[source] serde_json::Error),
    /// The JSON does not have the shape of a chat-completions request.
    #[error("not a chat-completions request: {0}")]
    InvalidRequest(String),
    /// The configuration is wrong.
    #[error("invalid headroom configuration: {0}")]
    Config(String),
    /// The request cannot fit its token budget, whatever may be compressed or evicted.
    #[error(
        "the request needs at least {tokens} tokens after every compression and eviction Headroom may do, \
         over its budget of {budget} tokens (token_budget, or the model's context window minus the \
         completion reserved): shorten the conversation, raise token_budget, or lower max_tokens"
    )]
    OverBudget {
        /// The fewest tokens reached.
        tokens: usize,
        /// The budget.
        budget: usize,
    },
    /// A hash that is not 24 hex digits (see [`crate::marker::parse_hash`]).
    #[error(
        "{0:?} is not a headroom hash: a headroom hash is 24 hex digits (any case), as in a \
         marker's `headroom_retrieve hash=3f9ac0d1e2b4a5c6d7e8f901`; copy it whole from the marker"
    )]
    InvalidHash(String),
    /// A store URL that is none of [`crate::store::URL_FORMS`] (nothing was opened).
    #[error(
        "{url:?} is not a store URL ({reason}); use one of {forms}",
        forms = crate::store::url_forms_list()
    )]
    InvalidStoreUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A store could not be opened, read or written.
    #[error("store error: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The typed request could not be written as JSON (a map with non-string keys, say); the
    /// serializer's error is the [`source`](std::error::Error::source).
    #[error("the typed request cannot be serialized to JSON ({0}); check the values it holds")]
    Serialize(#[source] serde_json::Error),
    /// An `exclude_tools` pattern that is not a glob; the glob parser's error is the
    /// [`source`](std::error::Error::source).
    #[error("invalid headroom configuration: exclude_tools: bad glob {glob:?} ({source}); fix or remove it")]
    InvalidGlob {
        /// The pattern as given.
        glob: String,
        /// Why it is not a glob.
        source: glob::PatternError,
    },
    /// Compression panicked (a bug in Headroom: please report it with the request). Doors send the
    /// request on as it came.
    #[error("compression panicked: {0}")]
    CompressionPanicked(String),
}

impl Error {
    /// The error for a caught panic, from its payload.
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("index out of bounds")).unwrap_err();
    /// let error = headroom::Error::from_panic(payload.as_ref());
    /// assert_eq!(error.to_string(), "compression panicked: index out of bounds");
    /// ```
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        Error::CompressionPanicked(message)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
