//! The resolver's default limits, in a leaf of their own: the config names them as its defaults,
//! the resolver and its stream taps use them, and none of those depends on another for them.

/// Retrieval rounds one agent request may take before the retrieve tool is withdrawn.
///
/// ```
/// assert_eq!(headroom::resolver::DEFAULT_MAX_ROUNDS, 3);
/// ```
pub const DEFAULT_MAX_ROUNDS: usize = 3;

/// The most bytes of one upstream reply a door reads to resolve it (a whole JSON reply, or a
/// streamed one the resolver captures); a larger reply is handed to the agent as it came.
///
/// ```
/// assert_eq!(headroom::resolver::DEFAULT_MAX_REPLY_BYTES, 16 * 1024 * 1024);
/// ```
pub const DEFAULT_MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;
