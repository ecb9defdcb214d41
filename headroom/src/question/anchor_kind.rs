//! The kinds of anchor a question holds: a leaf both the question model and its readers use.

/// What an anchor is; its kind decides how it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AnchorKind {
    /// Text in quotes (any style), matched whole, whitespace runs as one space.
    Quoted,
    /// Text in backticks, matched whole.
    Backticked,
    /// A file path or name: matched whole, or by its longest suffix some unit holds.
    Path,
    /// An identifier (`snake_case`, `camelCase`, `a::b`, `a.b`): whole, or by its last segments.
    Identifier,
    /// `#N`: the number `N`.
    Reference,
    /// Seven or more hex digits: the start of a hash (`a1b2c3d` names `a1b2c3d4e5…`).
    HexPrefix,
    /// A number of two or more digits.
    Number,
    /// A version (`v1.2.3`, `1.2.3`).
    Version,
    /// A date (`2024-05-01`).
    Date,
}
