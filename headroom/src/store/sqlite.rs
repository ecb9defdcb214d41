//! A persistent store in one SQLite file: originals survive a restart.

use super::{Store, StoreError, StoreLimits};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Originals in a SQLite file, with a TTL refreshed on every put and a byte cap (oldest first out).
///
/// ```
/// use headroom::store::{SqliteStore, Store};
/// let dir = std::env::temp_dir().join(format!("headroom-doc-{}", std::process::id()));
/// let store = SqliteStore::open(dir.join("store.sqlite3"), Default::default())?;
/// store.put("default", "h", "text")?;
/// assert_eq!(store.get("default", "h")?.as_deref(), Some("text"));
/// # Ok::<(), headroom::Error>(())
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    limits: StoreLimits,
    conn: Mutex<Connection>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("sqlite: {e}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the store file at `path`, and its parent directory.
    pub fn open(path: impl AsRef<Path>, limits: StoreLimits) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE IF NOT EXISTS originals (
                 namespace TEXT NOT NULL,
                 hash TEXT NOT NULL,
                 text TEXT NOT NULL,
                 stored_ms INTEGER NOT NULL,
                 PRIMARY KEY (namespace, hash));
             CREATE INDEX IF NOT EXISTS originals_age ON originals(stored_ms);",
        )
        .map_err(err)?;
        Ok(SqliteStore {
            limits,
            conn: Mutex::new(conn),
        })
    }

    fn ttl_ms(&self) -> i64 {
        self.limits.ttl.as_millis().min(i64::MAX as u128) as i64
    }
}

impl Store for SqliteStore {
    fn put(&self, namespace: &str, hash: &str, text: &str) -> Result<(), StoreError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StoreError("sqlite store lock poisoned".into()))?;
        let now = now_ms();
        conn.execute(
            "INSERT INTO originals (namespace, hash, text, stored_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(namespace, hash) DO UPDATE SET text = excluded.text, stored_ms = excluded.stored_ms",
            params![namespace, hash, text, now],
        )
        .map_err(err)?;
        conn.execute(
            "DELETE FROM originals WHERE stored_ms < ?1",
            params![now.saturating_sub(self.ttl_ms())],
        )
        .map_err(err)?;
        let total: i64 = conn
            .query_row(
                "SELECT COALESCE(SUM(LENGTH(CAST(text AS BLOB))), 0) FROM originals",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if total as usize > self.limits.max_bytes {
            // Drop the oldest rows until under the cap, keeping the newest one.
            conn.execute(
                "DELETE FROM originals WHERE rowid IN (
                   SELECT rowid FROM (
                     SELECT rowid, SUM(LENGTH(CAST(text AS BLOB))) OVER (ORDER BY stored_ms DESC, rowid DESC) AS running
                     FROM originals) WHERE running > ?1)
                 AND NOT (namespace = ?2 AND hash = ?3)",
                params![self.limits.max_bytes as i64, namespace, hash],
            )
            .map_err(err)?;
        }
        Ok(())
    }

    fn get(&self, namespace: &str, hash: &str) -> Result<Option<String>, StoreError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StoreError("sqlite store lock poisoned".into()))?;
        conn.query_row(
            "SELECT text FROM originals WHERE namespace = ?1 AND hash = ?2 AND stored_ms >= ?3",
            params![namespace, hash, now_ms().saturating_sub(self.ttl_ms())],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    fn temp_path(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("headroom-sqlite-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("store.sqlite3")
    }

    #[test]
    fn conforms() {
        use conformance::{block_on, cap_limits, ttl_limits};
        let open = |name, limits| SqliteStore::open(temp_path(name), limits).unwrap();
        block_on(conformance::run(&open("conf", Default::default())));
        block_on(conformance::run_ttl(&open("ttl", ttl_limits())));
        block_on(conformance::run_byte_cap(&open("cap", cap_limits())));
    }

    #[test]
    fn survives_reopen() {
        let path = temp_path("reopen");
        SqliteStore::open(&path, Default::default())
            .unwrap()
            .put("ns", "h", "kept")
            .unwrap();
        let again = SqliteStore::open(&path, Default::default()).unwrap();
        assert_eq!(again.get("ns", "h").unwrap().as_deref(), Some("kept"));
    }
}
