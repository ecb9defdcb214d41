//! The stores behind compress-cache-retrieve, opened by URL as the doors open them: originals
//! survive a process restart (SQLite), are shared between processes (Redis), and never cross tenants.

#[path = "support/redis_server.rs"]
mod redis_server;

use headroom::marker::segment_hash;
use headroom::store::{open, open_async, AsyncStore, ManualClock, MemoryStore, StoreLimits};
use redis_server::RedisServer;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A real original: a recorded GitHub API response.
const ORIGINAL: &str = include_str!("fixtures/github-issues.json");

fn temp_db(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("headroom-ccr-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    format!("sqlite:{}", dir.join("originals.sqlite3").display())
}

/// Run by `sqlite_originals_survive_a_process_restart` in a child process: stores and exits.
#[test]
#[ignore = "a child process of sqlite_originals_survive_a_process_restart"]
fn writer_process() {
    let url = std::env::var("HEADROOM_CCR_STORE").expect("HEADROOM_CCR_STORE");
    let store = open(&url, StoreLimits::default()).unwrap();
    headroom::store::Store::put(&*store, "tenant-a", &segment_hash(ORIGINAL), ORIGINAL).unwrap();
}

#[tokio::test]
async fn sqlite_originals_survive_a_process_restart() {
    let url = temp_db("restart");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_process", "--ignored", "--quiet"])
        .env("HEADROOM_CCR_STORE", &url)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the writer process failed");
    let store = open_async(&url, StoreLimits::default()).await.unwrap();
    let hash = segment_hash(ORIGINAL);
    assert_eq!(
        store.get("tenant-a", &hash).await.unwrap().as_deref(),
        Some(ORIGINAL)
    );
    assert_eq!(store.get("tenant-b", &hash).await.unwrap(), None);
}

#[tokio::test]
async fn every_store_url_keeps_tenants_apart() {
    let redis = RedisServer::start_if_installed();
    let mut urls = vec!["memory:".to_string(), temp_db("tenants")];
    if let Some(redis) = &redis {
        urls.extend([redis.url(None), redis.url(Some(5))]);
    }
    let hash = segment_hash(ORIGINAL);
    for url in &urls {
        let store = open_async(url, StoreLimits::default())
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        store.put("tenant-a", &hash, ORIGINAL).await.unwrap();
        assert_eq!(store.get("tenant-b", &hash).await.unwrap(), None, "{url}");
        assert_eq!(
            store.get("tenant-a", &hash).await.unwrap().as_deref(),
            Some(ORIGINAL),
            "{url}"
        );
    }
}

/// Expiry on a clock the test moves (Redis keeps server-side TTLs: its own unit tests shorten them).
#[tokio::test]
async fn originals_expire_after_their_ttl_and_a_put_refreshes_it() {
    let limits = StoreLimits {
        ttl: Duration::from_secs(3600),
        ..Default::default()
    };
    let clock = ManualClock::default();
    // Without the `sqlite` feature the memory store is the only one.
    #[cfg_attr(not(feature = "sqlite"), allow(unused_mut))]
    let mut stores: Vec<(&str, Arc<dyn AsyncStore>)> = vec![(
        "memory",
        Arc::new(MemoryStore::new(limits).with_clock(Arc::new(clock.clone()))),
    )];
    #[cfg(feature = "sqlite")]
    {
        let dir = std::env::temp_dir().join(format!("headroom-ccr-{}-ttl", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sqlite = headroom::store::SqliteStore::open(dir.join("originals.sqlite3"), limits)
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        stores.push(("sqlite", Arc::new(sqlite)));
    }
    let hash = segment_hash(ORIGINAL);
    for (name, store) in &stores {
        store.put("tenant-a", &hash, ORIGINAL).await.unwrap();
        clock.advance(Duration::from_secs(40 * 60));
        store.put("tenant-a", &hash, ORIGINAL).await.unwrap();
        clock.advance(Duration::from_secs(40 * 60));
        assert_eq!(
            store.get("tenant-a", &hash).await.unwrap().as_deref(),
            Some(ORIGINAL),
            "{name}: 80 minutes after the first put, 40 after the refresh"
        );
        clock.advance(Duration::from_secs(21 * 60));
        assert_eq!(
            store.get("tenant-a", &hash).await.unwrap(),
            None,
            "{name}: an hour and a minute after the last put"
        );
    }
}

#[tokio::test]
async fn redis_is_shared_between_processes_and_split_by_database() {
    let Some(redis) = RedisServer::start_if_installed() else {
        return;
    };
    let hash = segment_hash(ORIGINAL);
    // Two connections stand for two proxy replicas.
    let writer = open_async(&redis.url(Some(2)), StoreLimits::default())
        .await
        .unwrap();
    let reader = open_async(&redis.url(Some(2)), StoreLimits::default())
        .await
        .unwrap();
    let other_db = open_async(&redis.url(Some(3)), StoreLimits::default())
        .await
        .unwrap();
    writer.put("tenant-a", &hash, ORIGINAL).await.unwrap();
    assert_eq!(
        reader.get("tenant-a", &hash).await.unwrap().as_deref(),
        Some(ORIGINAL)
    );
    assert_eq!(other_db.get("tenant-a", &hash).await.unwrap(), None);
}

#[tokio::test]
async fn bad_urls_and_unreachable_redis_are_clear_errors() {
    let err = open_async("postgres://x", StoreLimits::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown scheme"), "{err}");
    let err = open("redis://127.0.0.1:6379", StoreLimits::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("open_async"), "{err}");
    // A port nobody listens on: refused at once, not hung.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let err = open_async(&format!("redis://127.0.0.1:{port}"), StoreLimits::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_store_that_goes_down_answers_with_an_error_the_resolver_can_word() {
    let Some(mut redis) = RedisServer::start_if_installed() else {
        return;
    };
    let store = open_async(&redis.url(None), StoreLimits::default())
        .await
        .unwrap();
    let hash = segment_hash(ORIGINAL);
    store.put("tenant-a", &hash, ORIGINAL).await.unwrap();
    redis.stop();
    let lookup = AsyncStore::get(store.as_ref(), "tenant-a", &hash).await;
    assert!(lookup.is_err());
    let args = headroom::retrieve::RetrieveArgs {
        hash: hash.clone(),
        ..Default::default()
    };
    let counter = headroom::tokens::counter_for_model("gpt-4o");
    let answer = headroom::retrieve::answer_with(&args, lookup, counter.as_ref(), 8000);
    assert!(
        answer.contains("temporarily unavailable") && answer.contains(&hash),
        "{answer}"
    );
}
