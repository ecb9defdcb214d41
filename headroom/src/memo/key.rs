//! The memo's keys: a digest of everything an entry depends on. A leaf of its own, so what the
//! memo holds (a message's view carries its key) can name a key without depending on the memo.
//!
//! The digest is BLAKE3's: cryptographic, so no sender can make two inputs share an entry (the
//! memo is shared by every tenant of a proxy), and several times faster than SHA-256 over the
//! megabytes of a re-sent history, whose every message is hashed on every turn. (Markers keep
//! SHA-256 of the segment's text: that hash is a contract with stores and users; this one is not.)

/// A digest of everything an entry depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key([u8; 16]);

impl Key {
    /// Its bytes (to build a key from other keys).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Builds a [`Key`] from the parts an entry depends on; each part is length-prefixed, so no two
/// different lists of parts give the same bytes to hash. (The hasher is boxed: it is about 2 KB,
/// and each part moves the builder.)
pub(crate) struct KeyBuilder(Box<blake3::Hasher>);

impl KeyBuilder {
    /// A key of one kind (`b"tokens"`, `b"segment"`, …).
    pub(crate) fn new(kind: &[u8]) -> KeyBuilder {
        KeyBuilder(Box::new(blake3::Hasher::new())).part(kind)
    }

    /// Adds one part.
    pub(crate) fn part(mut self, bytes: &[u8]) -> KeyBuilder {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// The key.
    pub(crate) fn finish(self) -> Key {
        let mut key = [0; 16];
        self.0.finalize_xof().fill(&mut key);
        Key(key)
    }
}
