//! The one error of every store, keeping its cause.

use std::sync::Arc;

/// A failure of a store: it is down, full or broken. Unknown hashes are `Ok(None)`, not errors.
///
/// The message says what failed and includes the cause's own words; the cause itself (a
/// `rusqlite::Error`, a `redis::RedisError`, an `io::Error`) is its
/// [`source`](std::error::Error::source), for callers that match on it.
///
/// ```
/// use headroom::store::StoreError;
/// use std::error::Error as _;
/// let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "read-only file system");
/// let err = StoreError::caused_by("cannot create /data/headroom", io);
/// assert_eq!(err.to_string(), "cannot create /data/headroom: read-only file system");
/// assert!(err.source().unwrap().downcast_ref::<std::io::Error>().is_some());
/// assert!(StoreError::new("connection refused").source().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct StoreError {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A failure with no underlying error (a lock poisoned, a thread gone, a test's refusal).
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by `source`: what was being done, then why it failed.
    pub fn caused_by(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// What failed, without the cause.
    ///
    /// ```
    /// let err = headroom::store::StoreError::new("redis: not connected yet");
    /// assert_eq!(err.message(), "redis: not connected yet");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
