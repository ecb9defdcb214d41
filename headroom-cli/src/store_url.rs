//! Which store the CLI uses: `--store URL`, `HEADROOM_STORE`, or a SQLite file in the user's data directory.

use crate::Failure;
use headroom::store::{self, AsyncStore, Store, StoreError, StoreLimits};
use std::sync::Arc;

/// The default store URL: a SQLite file in the user's data directory, so originals survive a restart.
pub fn default_url() -> String {
    let dir = dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("headroom");
    format!("sqlite:{}", dir.join("originals.sqlite3").display())
}

/// Opens `url` (or the default): `memory:`, `sqlite:PATH`, or `redis://HOST:PORT[/DB]`.
pub fn open(url: Option<&str>) -> Result<Arc<dyn Store>, Failure> {
    let url = url.map_or_else(default_url, str::to_string);
    let fail = |e: headroom::Error| Failure::input(format!("cannot open store {url}: {e}"));
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::input(format!("cannot start the async runtime: {e}")))?;
        let inner = runtime
            .block_on(store::open_async(&url, StoreLimits::default()))
            .map_err(fail)?;
        return Ok(Arc::new(Blocking { runtime, inner }));
    }
    store::open(&url, StoreLimits::default()).map_err(fail)
}

/// An async store (Redis) used from the CLI's synchronous commands.
struct Blocking {
    runtime: tokio::runtime::Runtime,
    inner: Arc<dyn AsyncStore>,
}

impl Store for Blocking {
    fn put(&self, namespace: &str, hash: &str, text: &str) -> Result<(), StoreError> {
        self.runtime.block_on(self.inner.put(namespace, hash, text))
    }
    fn get(&self, namespace: &str, hash: &str) -> Result<Option<String>, StoreError> {
        self.runtime.block_on(self.inner.get(namespace, hash))
    }
}
