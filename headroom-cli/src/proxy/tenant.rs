//! Tenancy: the store namespace of a request, derived from its `Authorization` header.
//!
//! The header's value is hashed (SHA-256) and only the hash is used: it is never logged or stored.
//! A request without one is in the anonymous namespace, the CLI's default, so `headroom retrieve`
//! finds what anonymous callers compressed.

use headroom::store::DEFAULT_NAMESPACE;
use http::{header, HeaderMap};
use sha2::{Digest, Sha256};

/// The namespace of callers that send no `Authorization`.
pub const ANONYMOUS: &str = DEFAULT_NAMESPACE;

/// The namespace for a request's headers: `t-` and 32 hex digits of the credential's SHA-256.
pub fn namespace(headers: &HeaderMap) -> String {
    match headers.get(header::AUTHORIZATION) {
        Some(value) if !value.as_bytes().trim_ascii().is_empty() => {
            let digest = Sha256::digest(value.as_bytes().trim_ascii());
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("t-{hex}")
        }
        _ => ANONYMOUS.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_auth(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn credentials_map_to_stable_private_namespaces() {
        let a = namespace(&with_auth("Bearer sk-alpha"));
        assert_eq!(a, namespace(&with_auth("Bearer sk-alpha")));
        assert_ne!(a, namespace(&with_auth("Bearer sk-beta")));
        assert!(a.starts_with("t-") && a.len() == 34);
        assert!(!a.contains("alpha"));
        assert_eq!(namespace(&HeaderMap::new()), ANONYMOUS);
        assert_eq!(namespace(&with_auth("  ")), ANONYMOUS);
    }
}
