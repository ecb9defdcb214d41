//! Which store the CLI uses: `--store URL`, `HEADROOM_STORE`, or a SQLite file in the user's data directory.
//!
//! A URL that is not one of [`headroom::store::URL_FORMS`] is a usage error (exit 2: nothing was
//! tried); a valid URL whose store cannot be opened or reached is [`Unavailable`], which
//! `compress` survives by compressing losslessly.

use crate::Failure;
use headroom::store::{self, AsyncStore, Store, StoreError, StoreLimits, StoreUrl, URL_FORMS};
use std::sync::Arc;

/// The default store URL: a SQLite file in the user's data directory, so originals survive a restart.
pub fn default_url() -> String {
    let dir = dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("headroom");
    format!("sqlite:{}", dir.join("originals.sqlite3").display())
}

/// The `--store` help, from the one list of URL forms.
pub fn help() -> String {
    let forms: Vec<String> = URL_FORMS
        .iter()
        .map(|(form, what)| format!("{form} ({what})"))
        .collect();
    format!(
        "Where originals are kept: {}. Default: a SQLite file in your data directory",
        forms.join(", ")
    )
}

/// A valid store URL whose store could not be opened (a Redis server that does not answer, a
/// SQLite file that cannot be created).
pub struct Unavailable(pub String);

/// Reads `url` (or the default) and opens its store.
///
/// The outer error is a usage error; the inner one says the store is unavailable.
pub fn open(url: Option<&str>) -> Result<Result<Arc<dyn Store>, Unavailable>, Failure> {
    let url = url.map_or_else(default_url, str::to_string);
    let parsed = store::parse_url(&url).map_err(|e| Failure::input(e.to_string()))?;
    Ok(open_parsed(&url, parsed).map_err(|e| Unavailable(format!("store {url}: {e}"))))
}

fn open_parsed(url: &str, parsed: StoreUrl) -> Result<Arc<dyn Store>, String> {
    if !matches!(parsed, StoreUrl::Redis(_)) {
        return store::open(url, StoreLimits::default()).map_err(|e| e.to_string());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let inner = runtime
        .block_on(store::open_async(url, StoreLimits::default()))
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(Blocking { runtime, inner }))
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
