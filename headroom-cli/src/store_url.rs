//! Which store the CLI uses: `--store URL`, `HEADROOM_STORE`, or a SQLite file in the user's data directory.

use crate::Failure;
use headroom::store::{self, Store, StoreLimits};
use std::sync::Arc;

/// The default store URL: a SQLite file in the user's data directory, so originals survive a restart.
pub fn default_url() -> String {
    let dir = dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("headroom");
    format!("sqlite:{}", dir.join("originals.sqlite3").display())
}

/// Opens `url` (or the default).
pub fn open(url: Option<&str>) -> Result<Arc<dyn Store>, Failure> {
    let url = url.map_or_else(default_url, str::to_string);
    store::open(&url, StoreLimits::default())
        .map_err(|e| Failure::input(format!("cannot open store {url}: {e}")))
}
