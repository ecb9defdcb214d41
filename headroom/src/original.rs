//! What compression hands back to persist: a leaf both the engine (which makes them) and the
//! stores (which keep them) name.

/// An original the compressed request refers to: persist it so `headroom_retrieve` can answer.
///
/// ```
/// let original = headroom::Original { hash: "3f9ac0d1e2b4a5c6d7e8f901".into(), text: "…".into() };
/// assert_eq!(original.hash.len(), 24);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// The hash its markers carry.
    pub hash: String,
    /// The segment's full text.
    pub text: String,
}
