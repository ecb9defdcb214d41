//! Sessions of `/v1/compress`: what each session's previous reply was, to say how many of its
//! leading messages a new reply sends again byte-identical (what a provider's prompt cache hits).

use std::sync::Arc;

/// Sessions remembered at once; the least used go first.
const MAX_SESSIONS: usize = 10_000;

/// The digest of one message's bytes.
type MessageDigest = [u8; 16];

/// The last reply of each session, per namespace, as one digest per message.
pub struct Sessions {
    last: quick_cache::sync::Cache<(String, String), Arc<Vec<MessageDigest>>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            last: quick_cache::sync::Cache::new(MAX_SESSIONS),
        }
    }
}

impl Sessions {
    /// Records `messages` (each message's exact bytes) as the session's latest reply and returns
    /// (leading messages identical to its previous reply, that reply's length), or `None` on the
    /// session's first call.
    pub fn advance(
        &self,
        namespace: &str,
        session: &str,
        messages: &[&str],
    ) -> Option<(usize, usize)> {
        let digests: Vec<MessageDigest> = messages.iter().map(|m| digest(m)).collect();
        let key = (namespace.to_string(), session.to_string());
        let previous = self.last.get(&key);
        let stable = previous.as_ref().map(|p| {
            let same = p.iter().zip(&digests).take_while(|(a, b)| a == b).count();
            (same, p.len())
        });
        self.last.insert(key, Arc::new(digests));
        stable
    }
}

/// BLAKE3 (cryptographic, so no message can pass for another; faster than SHA-256 over a long
/// reply), cut to 16 bytes.
fn digest(message: &str) -> MessageDigest {
    let mut out = [0; 16];
    blake3::Hasher::new()
        .update(message.as_bytes())
        .finalize_xof()
        .fill(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_identical_leading_messages() {
        let sessions = Sessions::default();
        assert_eq!(sessions.advance("ns", "s1", &["a", "b", "c"]), None);
        assert_eq!(
            sessions.advance("ns", "s1", &["a", "b", "c", "d"]),
            Some((3, 3))
        );
        assert_eq!(
            sessions.advance("ns", "s1", &["a", "x", "c", "d", "e"]),
            Some((1, 4))
        );
        assert_eq!(
            sessions.advance("other", "s1", &["a"]),
            None,
            "namespaces apart"
        );
    }
}
