//! The memo's keys: a digest of everything an entry depends on. A leaf of its own, so what the
//! memo holds (a message's view carries its key) can name a key without depending on the memo.

use sha2::{Digest, Sha256};

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
/// different lists of parts give the same bytes to hash.
pub(crate) struct KeyBuilder(Sha256);

impl KeyBuilder {
    /// A key of one kind (`b"tokens"`, `b"segment"`, …).
    pub(crate) fn new(kind: &[u8]) -> KeyBuilder {
        KeyBuilder(Sha256::new()).part(kind)
    }

    /// Adds one part.
    pub(crate) fn part(mut self, bytes: &[u8]) -> KeyBuilder {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// The key.
    pub(crate) fn finish(self) -> Key {
        let digest = self.0.finalize();
        let mut key = [0; 16];
        key.copy_from_slice(&digest[..16]);
        Key(key)
    }
}
