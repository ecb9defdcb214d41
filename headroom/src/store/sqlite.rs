//! A persistent store in one SQLite file: originals survive a restart.

use super::clock::{self, Clock};
use super::{Store, StoreError, StoreLimits};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Originals in a SQLite file, with a TTL refreshed on every put and a byte cap (oldest first out).
///
/// The store keeps its running size itself (one column per row, summed once at open), so a put
/// costs the same whether the file holds 1 MB or 500 MB; expiry and eviction remove a few rows at
/// a time, oldest first. Every call blocks on the file: async doors reach it through
/// [`super::open_async`], which runs it on a thread of its own.
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
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    conn: Connection,
    /// Bytes of text the table holds: the sum of its `bytes` column, kept as rows come and go.
    total: i64,
}

/// Rows expired or evicted by one put at most (the rest go with the next puts).
const ROWS_PER_SWEEP: i64 = 64;

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::caused_by("sqlite", e)
}

impl SqliteStore {
    /// Opens (creating if needed) the store file at `path`, and its parent directory.
    pub fn open(path: impl AsRef<Path>, limits: StoreLimits) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::caused_by(format!("cannot create {}", dir.display()), e)
            })?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError::caused_by(format!("cannot open {}", path.display()), e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS originals (
                 namespace TEXT NOT NULL,
                 hash TEXT NOT NULL,
                 text TEXT NOT NULL,
                 stored_ms INTEGER NOT NULL,
                 PRIMARY KEY (namespace, hash));
             CREATE INDEX IF NOT EXISTS originals_age ON originals(stored_ms);",
        )
        .map_err(err)?;
        // Files written before the size column: add it, and size their rows once.
        let has_bytes = conn
            .prepare("SELECT 1 FROM pragma_table_info('originals') WHERE name = 'bytes'")
            .and_then(|mut s| s.exists([]))
            .map_err(err)?;
        if !has_bytes {
            conn.execute_batch(
                "ALTER TABLE originals ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
                 UPDATE originals SET bytes = LENGTH(CAST(text AS BLOB));",
            )
            .map_err(err)?;
        }
        let total = conn
            .query_row("SELECT COALESCE(SUM(bytes), 0) FROM originals", [], |r| {
                r.get(0)
            })
            .map_err(err)?;
        Ok(SqliteStore {
            limits,
            clock: clock::system(),
            inner: Mutex::new(Inner { conn, total }),
        })
    }

    /// The same store reading `clock` instead of the system's (a [`ManualClock`] in TTL tests).
    /// Entries are stamped with its time, so every process sharing the file needs the same clock.
    ///
    /// [`ManualClock`]: super::ManualClock
    ///
    /// ```
    /// use headroom::store::{ManualClock, SqliteStore, Store};
    /// use std::sync::Arc;
    /// let dir = std::env::temp_dir().join(format!("headroom-doc-clock-{}", std::process::id()));
    /// let store = SqliteStore::open(dir.join("store.sqlite3"), Default::default())?
    ///     .with_clock(Arc::new(ManualClock::default()));
    /// store.put("default", "h", "text")?;
    /// assert!(store.get("default", "h")?.is_some());
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock's time in milliseconds since the epoch, as the table keeps it.
    fn now_ms(&self) -> i64 {
        self.clock.now().as_millis().min(i64::MAX as u128) as i64
    }

    fn ttl_ms(&self) -> i64 {
        self.limits.ttl.as_millis().min(i64::MAX as u128) as i64
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::new("sqlite store lock poisoned"))
    }

    /// Bytes of originals held (the running total the byte cap is checked against).
    ///
    /// ```
    /// use headroom::store::{SqliteStore, Store};
    /// let dir = std::env::temp_dir().join(format!("headroom-doc-bytes-{}", std::process::id()));
    /// let _ = std::fs::remove_dir_all(&dir);
    /// let store = SqliteStore::open(dir.join("s.sqlite3"), Default::default())?;
    /// store.put("a", "h", "four")?;
    /// store.put("a", "h", "four")?; // a refresh is not counted twice
    /// assert_eq!(store.bytes()?, 4);
    /// # Ok::<(), headroom::Error>(())
    /// ```
    pub fn bytes(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.total.max(0) as usize)
    }
}

impl Store for SqliteStore {
    fn put(&self, namespace: &str, hash: &str, text: &str) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let now = self.now_ms();
        let len = text.len() as i64;
        let max = self.limits.max_bytes.min(i64::MAX as usize) as i64;
        let held = inner.total;
        let tx = inner.conn.transaction().map_err(err)?;
        let old: i64 = tx
            .prepare_cached("SELECT bytes FROM originals WHERE namespace = ?1 AND hash = ?2")
            .and_then(|mut s| {
                s.query_row(params![namespace, hash], |r| r.get(0))
                    .optional()
            })
            .map_err(err)?
            .unwrap_or(0);
        tx.prepare_cached(
            "INSERT INTO originals (namespace, hash, text, stored_ms, bytes) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(namespace, hash) DO UPDATE SET text = excluded.text,
                 stored_ms = excluded.stored_ms, bytes = excluded.bytes",
        )
        .and_then(|mut s| s.execute(params![namespace, hash, text, now, len]))
        .map_err(err)?;
        let mut total = held - old + len;
        // Expired rows first, then the oldest while over the cap; never the row just put.
        let expired_before = now.saturating_sub(self.ttl_ms());
        total -= sweep(
            &tx,
            "stored_ms < ?1 AND NOT (namespace = ?2 AND hash = ?3)",
            params![expired_before, namespace, hash],
        )?;
        while total > max {
            let freed = sweep_oldest(&tx, namespace, hash, total - max)?;
            if freed == 0 {
                break;
            }
            total -= freed;
        }
        tx.commit().map_err(err)?;
        inner.total = total;
        Ok(())
    }

    fn get(&self, namespace: &str, hash: &str) -> Result<Option<String>, StoreError> {
        let inner = self.lock()?;
        inner
            .conn
            .prepare_cached(
                "SELECT text FROM originals WHERE namespace = ?1 AND hash = ?2 AND stored_ms >= ?3",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![namespace, hash, self.now_ms().saturating_sub(self.ttl_ms())],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(err)
    }
}

/// Deletes at most [`ROWS_PER_SWEEP`] of the oldest rows matching `filter`; the bytes freed.
fn sweep(
    tx: &rusqlite::Transaction<'_>,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<i64, StoreError> {
    let sql = format!(
        "DELETE FROM originals WHERE rowid IN (SELECT rowid FROM originals WHERE {filter}
         ORDER BY stored_ms, rowid LIMIT {ROWS_PER_SWEEP}) RETURNING bytes"
    );
    let mut statement = tx.prepare_cached(&sql).map_err(err)?;
    let freed = statement
        .query_map(args, |r| r.get::<_, i64>(0))
        .map_err(err)?
        .sum::<Result<i64, _>>()
        .map_err(err)?;
    Ok(freed)
}

/// Deletes the oldest rows other than (`namespace`, `hash`) until `excess` bytes are freed (at
/// most [`ROWS_PER_SWEEP`]); the bytes freed.
fn sweep_oldest(
    tx: &rusqlite::Transaction<'_>,
    namespace: &str,
    hash: &str,
    excess: i64,
) -> Result<i64, StoreError> {
    let victims: Vec<(i64, i64)> = tx
        .prepare_cached(&format!(
            "SELECT rowid, bytes FROM originals WHERE NOT (namespace = ?1 AND hash = ?2)
             ORDER BY stored_ms, rowid LIMIT {ROWS_PER_SWEEP}"
        ))
        .and_then(|mut s| {
            s.query_map(params![namespace, hash], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(err)?;
    let mut freed = 0;
    let mut delete = tx
        .prepare_cached("DELETE FROM originals WHERE rowid = ?1")
        .map_err(err)?;
    for (rowid, bytes) in victims {
        if freed >= excess {
            break;
        }
        delete.execute([rowid]).map_err(err)?;
        freed += bytes;
    }
    Ok(freed)
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
        use conformance::{block_on, cap_limits, ttl_limits, ManualTime};
        let open = |name, limits| SqliteStore::open(temp_path(name), limits).unwrap();
        block_on(conformance::run(&open("conf", Default::default())));
        let time = ManualTime::default();
        let store = open("ttl", ttl_limits()).with_clock(time.clock());
        block_on(conformance::run_ttl(&store, ttl_limits().ttl, &time));
        block_on(conformance::run_ttl_edge(&store, ttl_limits().ttl, &time));
        block_on(conformance::run_byte_cap(&open("cap", cap_limits())));
    }

    #[test]
    fn expired_rows_are_swept_by_later_puts() {
        let time = conformance::ManualTime::default();
        let limits = conformance::ttl_limits();
        let store = SqliteStore::open(temp_path("sweep"), limits)
            .unwrap()
            .with_clock(time.clock());
        store.put("ns", "old", "expires").unwrap();
        time.0.advance(limits.ttl * 2);
        store.put("ns", "new", "kept").unwrap();
        assert_eq!(store.bytes().unwrap(), "kept".len(), "the expired row went");
    }

    #[test]
    fn the_running_size_matches_the_table_and_survives_reopen() {
        let path = temp_path("size");
        let limits = StoreLimits {
            max_bytes: 10_000,
            ..Default::default()
        };
        let store = SqliteStore::open(&path, limits).unwrap();
        for i in 0..200 {
            store
                .put("ns", &format!("h{i}"), &"x".repeat(100 + i))
                .unwrap();
            store
                .put("ns", &format!("h{i}"), &"x".repeat(100 + i))
                .unwrap();
        }
        let held = store.bytes().unwrap();
        assert!(held <= 10_000, "{held}");
        let counted: i64 = store
            .lock()
            .unwrap()
            .conn
            .query_row(
                "SELECT SUM(LENGTH(CAST(text AS BLOB))) FROM originals",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(held as i64, counted, "the running total is the table's");
        assert!(
            store.get("ns", "h199").unwrap().is_some(),
            "the newest stays"
        );
        drop(store);
        let again = SqliteStore::open(&path, limits).unwrap();
        assert_eq!(again.bytes().unwrap(), held);
    }

    #[test]
    fn files_from_before_the_size_column_are_sized_once() {
        let path = temp_path("legacy");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE originals (namespace TEXT NOT NULL, hash TEXT NOT NULL, text TEXT NOT NULL,
                 stored_ms INTEGER NOT NULL, PRIMARY KEY (namespace, hash));",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO originals VALUES ('ns', 'old', 'é and more', ?1)",
            [clock::SystemClock.now().as_millis() as i64],
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path, Default::default()).unwrap();
        assert_eq!(store.bytes().unwrap(), "é and more".len());
        assert_eq!(
            store.get("ns", "old").unwrap().as_deref(),
            Some("é and more")
        );
    }

    #[test]
    fn failures_keep_their_cause() {
        use std::error::Error as _;
        let path = temp_path("causes");
        let dir = path.parent().unwrap();
        std::fs::create_dir_all(dir).unwrap();
        // A file where a directory must be made: the io::Error is the source.
        std::fs::write(dir.join("file"), "").unwrap();
        let err =
            SqliteStore::open(dir.join("file/sub/store.sqlite3"), Default::default()).unwrap_err();
        assert!(err.to_string().starts_with("cannot create "), "{err}");
        assert!(err.source().unwrap().is::<std::io::Error>(), "{err:?}");
        // A directory where the file must be: SQLite's own error is the source, through the
        // engine's error too.
        let url = format!("sqlite:{}", dir.display());
        let err = crate::store::open(&url, Default::default()).err().unwrap();
        let store_error = err.source().unwrap();
        assert!(store_error.is::<StoreError>(), "{err:?}");
        let cause = store_error.source().unwrap();
        assert!(cause.is::<rusqlite::Error>(), "{err:?}");
        assert!(
            err.to_string().contains(&cause.to_string()),
            "the message says why: {err}"
        );
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
