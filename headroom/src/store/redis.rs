//! A Redis store: several processes (proxy replicas, workers) share one set of originals.

use super::{AsyncStore, StoreError, StoreFuture, StoreLimits};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Puts one original, refreshing its TTL, and keeps the byte cap, atomically.
///
/// KEYS: entry, age index (zset: entry → put sequence), sizes (hash: entry → bytes), byte total,
/// sequence. ARGV: text, ttl in ms, max bytes. Every entry has the same TTL, so the entries Redis
/// has expired are the oldest in the index: their accounting is swept first.
const PUT_SCRIPT: &str = r"
local function forget(k)
  local size = redis.call('HGET', KEYS[3], k)
  if size then redis.call('DECRBY', KEYS[4], size) end
  redis.call('HDEL', KEYS[3], k)
  redis.call('ZREM', KEYS[2], k)
  redis.call('DEL', k)
end
for _, k in ipairs(redis.call('ZRANGE', KEYS[2], 0, 255)) do
  if redis.call('EXISTS', k) == 1 then break end
  forget(k)
end
forget(KEYS[1])
local len = string.len(ARGV[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[5]), KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], len)
local total = redis.call('INCRBY', KEYS[4], len)
local max = tonumber(ARGV[3])
while total > max do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest or oldest == KEYS[1] then break end
  forget(oldest)
  total = tonumber(redis.call('GET', KEYS[4]) or '0')
end
return total
";

/// How long one command may take before the store counts as down.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Originals in Redis, with a TTL refreshed on every put and a byte cap (oldest first out).
///
/// Keys are `PREFIX:o:LEN:NAMESPACE:HASH` (the namespace's length keeps `a:b`+`c` apart from
/// `a`+`b:c`); `PREFIX:age`, `PREFIX:size`, `PREFIX:bytes` and `PREFIX:seq` keep the cap's accounting. Each entry
/// also carries its own Redis TTL, so expiry holds even if nothing is put for a while. The
/// connection reconnects by itself after Redis restarts; while Redis is down, every operation fails
/// within two seconds with a [`StoreError`] (the retrieve answer then says the original is
/// temporarily unavailable).
///
/// ```no_run
/// use headroom::store::{AsyncStore, RedisStore};
/// # async fn demo() -> Result<(), headroom::store::StoreError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/0", Default::default()).await?;
/// store.put("tenant-a", "3f9ac0d1e2b4a5c6d7e8f901", "original").await?;
/// assert!(store.get("tenant-b", "3f9ac0d1e2b4a5c6d7e8f901").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    /// The connection, once there is one ([`RedisStore::connect_in_background`] fills it later).
    conn: Arc<OnceLock<ConnectionManager>>,
    limits: StoreLimits,
    prefix: String,
    put_script: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn err(e: redis::RedisError) -> StoreError {
    StoreError::caused_by("redis", e)
}

fn client(url: &str) -> Result<redis::Client, StoreError> {
    redis::Client::open(url).map_err(|e| StoreError::caused_by(redact(url), e))
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(RESPONSE_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1))
}

/// A URL without the password it may carry.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_string(),
    }
}

impl RedisStore {
    /// Connects to `redis://HOST:PORT[/DB]` (keys under the prefix `headroom`). Fails at once if
    /// Redis does not answer.
    pub async fn connect(url: &str, limits: StoreLimits) -> Result<Self, StoreError> {
        let client = client(url)?;
        let conn = ConnectionManager::new_with_config(client, manager_config())
            .await
            .map_err(|e| StoreError::caused_by(format!("cannot connect to {}", redact(url)), e))?;
        let store = Self::unconnected(limits);
        let _ = store.conn.set(conn);
        Ok(store)
    }

    /// A store that connects in the background (a task on the current tokio runtime, retrying
    /// with backoff until Redis answers), for a server that must start while Redis is down:
    /// until then every call fails at once with a [`StoreError`] (doors compress lossless-only).
    /// Fails only for a URL that is not a Redis URL.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), headroom::store::StoreError> {
    /// use headroom::store::{AsyncStore, RedisStore};
    /// let store = RedisStore::connect_in_background("redis://127.0.0.1:6379", Default::default())?;
    /// assert!(store.get("ns", "h").await.is_err() || store.is_connected());
    /// # Ok(()) }
    /// ```
    pub fn connect_in_background(url: &str, limits: StoreLimits) -> Result<Self, StoreError> {
        let client = client(url)?;
        let store = Self::unconnected(limits);
        let slot = store.conn.clone();
        let shown = redact(url);
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(250);
            loop {
                match ConnectionManager::new_with_config(client.clone(), manager_config()).await {
                    Ok(conn) => {
                        let _ = slot.set(conn);
                        tracing::info!(store = %shown, "redis connected");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(store = %shown, %error, retry_ms = delay.as_millis() as u64,
                            "redis unreachable: compressing lossless-only until it answers");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });
        Ok(store)
    }

    /// Whether the store has a connection (always, unless made by
    /// [`RedisStore::connect_in_background`] and Redis has not answered yet).
    pub fn is_connected(&self) -> bool {
        self.conn.get().is_some()
    }

    fn unconnected(limits: StoreLimits) -> Self {
        RedisStore {
            conn: Arc::new(OnceLock::new()),
            limits,
            prefix: "headroom".into(),
            put_script: Script::new(PUT_SCRIPT),
        }
    }

    fn connection(&self) -> Result<ConnectionManager, StoreError> {
        self.conn.get().cloned().ok_or_else(|| {
            StoreError::new("redis: not connected yet (connecting in the background)")
        })
    }

    /// Keeps this store's keys under `prefix` instead of `headroom` (several stores, one Redis).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), headroom::store::StoreError> {
    /// let store = headroom::store::RedisStore::connect("redis://127.0.0.1:6379", Default::default())
    ///     .await?
    ///     .with_prefix("staging-headroom");
    /// # Ok(()) }
    /// ```
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn entry_key(&self, namespace: &str, hash: &str) -> String {
        format!("{}:o:{}:{namespace}:{hash}", self.prefix, namespace.len())
    }
}

impl AsyncStore for RedisStore {
    fn put<'a>(&'a self, namespace: &'a str, hash: &'a str, text: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            let ttl_ms = self.limits.ttl.as_millis().clamp(1, i64::MAX as u128) as i64;
            let max_bytes = self.limits.max_bytes.min(i64::MAX as usize) as i64;
            let _total: i64 = self
                .put_script
                .key(self.entry_key(namespace, hash))
                .key(format!("{}:age", self.prefix))
                .key(format!("{}:size", self.prefix))
                .key(format!("{}:bytes", self.prefix))
                .key(format!("{}:seq", self.prefix))
                .arg(text)
                .arg(ttl_ms)
                .arg(max_bytes)
                .invoke_async(&mut conn)
                .await
                .map_err(err)?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, namespace: &'a str, hash: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            redis::cmd("GET")
                .arg(self.entry_key(namespace, hash))
                .query_async(&mut conn)
                .await
                .map_err(err)
        })
    }
}

#[cfg(test)]
#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    use super::redis_server::RedisServer;

    /// Redis's time for one store, moved by shortening the TTL left on each of its entries (Redis
    /// drops an entry whose TTL reaches zero, as when it expires by itself): the store's own
    /// server-side expiry and refresh, without sleeping against them.
    struct RedisTime(RedisStore);

    impl conformance::Advance for RedisTime {
        fn advance(&self, by: Duration) -> StoreFuture<'_, ()> {
            Box::pin(async move {
                let mut conn = self.0.connection()?;
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{}:o:*", self.0.prefix))
                    .query_async(&mut conn)
                    .await
                    .map_err(err)?;
                for key in keys {
                    let left: i64 = redis::cmd("PTTL")
                        .arg(&key)
                        .query_async(&mut conn)
                        .await
                        .map_err(err)?;
                    let rest = left.saturating_sub(by.as_millis() as i64);
                    let command = match rest {
                        _ if left < 0 => continue, // gone already, or without a TTL
                        ..=0 => redis::cmd("DEL").arg(&key).clone(),
                        _ => redis::cmd("PEXPIRE").arg(&key).arg(rest).clone(),
                    };
                    let _: i64 = command.query_async(&mut conn).await.map_err(err)?;
                }
                Ok(())
            })
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    }

    #[test]
    fn conforms() {
        let Some(server) = RedisServer::start_if_installed() else {
            return;
        };
        runtime().block_on(async {
            let url = server.url(Some(1));
            let connect = |limits: StoreLimits, prefix: &'static str| {
                let url = url.clone();
                async move {
                    RedisStore::connect(&url, limits)
                        .await
                        .expect("redis answers")
                        .with_prefix(prefix)
                }
            };
            conformance::run(&connect(Default::default(), "conf").await).await;
            // A TTL long enough that the real time the test takes is nothing beside it.
            let limits = StoreLimits {
                ttl: Duration::from_secs(60),
                ..Default::default()
            };
            let store = connect(limits, "ttl").await;
            let time = RedisTime(store.clone());
            conformance::run_ttl(&store, limits.ttl, &time).await;
            conformance::run_byte_cap(&connect(conformance::cap_limits(), "cap").await).await;
        });
    }

    #[test]
    fn a_store_started_before_its_redis_connects_when_redis_comes() {
        let Some(mut server) = RedisServer::start_if_installed() else {
            return;
        };
        let url = server.url(Some(4));
        server.stop();
        runtime().block_on(async {
            let store = RedisStore::connect_in_background(&url, Default::default()).unwrap();
            assert!(store.put("ns", "h", "x").await.is_err(), "no Redis yet");
            assert!(
                RedisStore::connect_in_background("http://not-redis", Default::default()).is_err()
            );
            server.restart();
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            while store.put("ns", "h", "later").await.is_err() {
                assert!(std::time::Instant::now() < deadline, "never connected");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(store.is_connected());
            assert_eq!(
                store.get("ns", "h").await.unwrap().as_deref(),
                Some("later")
            );
        });
    }

    #[test]
    fn databases_and_prefixes_are_apart() {
        let Some(server) = RedisServer::start_if_installed() else {
            return;
        };
        runtime().block_on(async {
            let db2 = RedisStore::connect(&server.url(Some(2)), Default::default())
                .await
                .unwrap();
            let db3 = RedisStore::connect(&server.url(Some(3)), Default::default())
                .await
                .unwrap();
            let other = db2.clone().with_prefix("other");
            db2.put("ns", "h", "in db 2").await.unwrap();
            assert_eq!(
                db2.get("ns", "h").await.unwrap().as_deref(),
                Some("in db 2")
            );
            assert_eq!(db3.get("ns", "h").await.unwrap(), None);
            assert_eq!(other.get("ns", "h").await.unwrap(), None);
        });
    }

    #[test]
    fn a_stopped_server_is_an_error_not_a_hang_and_a_restarted_one_serves_again() {
        let Some(mut server) = RedisServer::start_if_installed() else {
            return;
        };
        let url = server.url(None);
        runtime().block_on(async {
            let store = RedisStore::connect(&url, Default::default()).await.unwrap();
            store.put("ns", "h", "x").await.unwrap();
            server.stop();
            let started = std::time::Instant::now();
            let down = store.get("ns", "h").await;
            assert!(down.is_err(), "{down:?}");
            assert!(store.put("ns", "h", "x").await.is_err());
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "fails fast: {:?}",
                started.elapsed()
            );
            assert!(RedisStore::connect(&url, Default::default()).await.is_err());
            // The same connection reconnects by itself once Redis is back (empty: no persistence).
            server.restart();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while store.put("ns", "h", "again").await.is_err() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no reconnect within 10 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(
                store.get("ns", "h").await.unwrap().as_deref(),
                Some("again")
            );
        });
    }
}
