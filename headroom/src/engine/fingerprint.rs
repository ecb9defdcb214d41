//! The fingerprint of the settings a compressor reads: part of every memo key, so a result is
//! only reused under the settings that made it.

use crate::Config;
use sha2::{Digest, Sha256};

/// Settings fingerprinted lately, with their fingerprints: an engine's requests share a few
/// configurations, and formatting one to digest it cost more than a small request's compression.
static FINGERPRINTS: std::sync::Mutex<Vec<(Config, [u8; 32])>> = std::sync::Mutex::new(Vec::new());
/// Configurations [`FINGERPRINTS`] keeps (the oldest goes first).
const FINGERPRINTS_KEPT: usize = 16;

/// A digest of the settings a compressor reads. Budget settings are left out: they decide which
/// level a segment gets, not what a level gives; so is the thread count, which changes nothing.
pub(super) fn fingerprint(config: &Config) -> [u8; 32] {
    // A poisoned lock only means another thread panicked mid-update: the list is still whole.
    let mut kept = FINGERPRINTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, digest)) = kept.iter().find(|(c, _)| c == config) {
        return *digest;
    }
    let digest = digest_settings(config);
    if kept.len() == FINGERPRINTS_KEPT {
        kept.remove(0);
    }
    kept.push((config.clone(), digest));
    digest
}

/// [`fingerprint`] computed afresh.
fn digest_settings(config: &Config) -> [u8; 32] {
    let mut settings = config.clone();
    settings.token_budget = None;
    settings.fit_to_window = false;
    settings.protect_recent_units = 0;
    settings.eviction_low_water = 0.0;
    settings.time_budget = std::time::Duration::ZERO;
    settings.audit = false;
    settings.parallel_messages = false;
    Sha256::digest(format!("{settings:?}").as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_fingerprints_are_the_digests_and_budget_settings_do_not_count() {
        let config = Config::default();
        assert_eq!(fingerprint(&config), digest_settings(&config));
        assert_eq!(fingerprint(&config), fingerprint(&config.clone()));
        let lossless = Config {
            lossless_only: true,
            ..Config::default()
        };
        assert_ne!(fingerprint(&lossless), fingerprint(&config));
        assert_eq!(fingerprint(&lossless), digest_settings(&lossless));
        let budgeted = Config {
            token_budget: Some(1000),
            ..Config::default()
        };
        assert_eq!(fingerprint(&budgeted), fingerprint(&config));
    }
}
