//! The `#[headroom]` attribute macro (see issue: macro door).
