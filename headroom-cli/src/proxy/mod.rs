//! `headroom proxy`: an OpenAI-compatible HTTP proxy that compresses chat-completion requests.
//!
//! Point any OpenAI client's base URL at `http://HOST:PORT/v1`. `POST /v1/chat/completions` is
//! compressed by `headroom_tower::HeadroomLayer` wrapped around the forwarding service (the
//! engine; originals kept in the store, in the caller's namespace), forwarded, and the model's
//! `headroom_retrieve` calls are answered here; every other `/v1/*` request is forwarded untouched. `/v1/compress`, `/v1/retrieve`, `/v1/retrieve/tool_call`, `/health`,
//! `/stats` and `/metrics` are the proxy's own (the Headroom TypeScript SDK speaks to them).

mod admission;
mod body;
mod chat;
mod client_text;
mod compress_api;
mod compression;
mod config_file;
mod error;
mod forward;
mod metrics;
mod retrieve_api;
mod rounds;
mod routes;
mod sessions;
mod stats;
mod tenant;

use crate::{store_url, Failure};
use headroom::store::AsyncStore;
use headroom::Headroom;
use headroom_tower::HeadroomLayer;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The OpenAI API, when neither `--upstream` nor `OPENAI_BASE_URL` says otherwise.
pub const DEFAULT_UPSTREAM: &str = "https://api.openai.com";

#[derive(clap::Args)]
pub struct Args {
    /// Port to listen on (0: any free port; the chosen one is printed).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The OpenAI-compatible API to forward to (default: OPENAI_BASE_URL, else https://api.openai.com).
    #[arg(long, env = "OPENAI_BASE_URL")]
    upstream: Option<String>,
    #[arg(long, env = "HEADROOM_STORE", help = store_url::help())]
    store: Option<String>,
    #[arg(long, help = config_file::help())]
    config: Option<PathBuf>,
    /// Longest silence between two chunks of an upstream response (e.g. 60s, 500ms).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    stream_idle_timeout: Duration,
    /// Longest wait to connect to the upstream.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// Longest wait for the upstream's response head.
    #[arg(long, default_value = "600s", value_parser = parse_duration)]
    upstream_timeout: Duration,
    /// Largest request body accepted (bytes); larger ones get 413.
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Compressions running at once (default: the number of CPUs); others wait their turn.
    #[arg(long)]
    max_concurrent_compressions: Option<usize>,
    /// Bytes of request bodies held at once across all requests (compressing one takes up to ten
    /// times its size); later requests wait their turn. Default: a twentieth of the memory.
    #[arg(long)]
    max_inflight_bytes: Option<u64>,
    /// Retrieval rounds per request before the retrieve tool is withdrawn (default: the config's
    /// `retrieve_max_rounds`, 3).
    #[arg(long)]
    max_retrieval_rounds: Option<usize>,
    /// Connections the system may queue before the proxy accepts them (default: the system's
    /// limit, net.core.somaxconn).
    #[arg(long)]
    accept_backlog: Option<u32>,
    /// After SIGINT or SIGTERM, how long in-flight requests and streams may take to finish before
    /// the proxy exits anyway.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    shutdown_timeout: Duration,
}

/// Parses `500ms`, `30s`, `5m` or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 500ms, 30s or 5m"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        other => return Err(format!("unknown duration unit {other:?}; use ms, s or m")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{text:?} is too long a duration"))
}

/// What every route shares.
pub struct App {
    engine: Arc<Headroom>,
    /// Compresses with `engine`, originals in `store` under the caller's namespace, at most
    /// `--max-concurrent-compressions` at once: the only compression the proxy does.
    layer: HeadroomLayer,
    store: Arc<dyn AsyncStore>,
    upstream: forward::Upstream,
    stats: Arc<stats::Stats>,
    /// The last `/v1/compress` reply of each session, for the prefix-stable count.
    sessions: sessions::Sessions,
    max_body_bytes: usize,
    /// Bytes of bodies held at once (`--max-inflight-bytes`).
    admission: admission::Admission,
    max_rounds: usize,
    upstream_label: String,
    store_label: String,
}

/// Runs the proxy until SIGINT or SIGTERM; in-flight requests and streams are let finish.
pub fn run(args: Args) -> Result<(), Failure> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::input(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> Result<(), Failure> {
    let file = match &args.config {
        Some(path) => config_file::EngineFile::read(path).map_err(Failure::input)?,
        None => config_file::EngineFile::default(),
    };
    let engine = file
        .builder()
        .build()
        .map_err(|e| Failure::input(e.to_string()))?;
    let store_url = args.store.clone().unwrap_or_else(store_url::default_url);
    let store = open_store(&store_url, engine.config().store_limits()).await?;
    let upstream_url = args
        .upstream
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_UPSTREAM.to_string());
    let upstream = forward::Upstream::new(
        &upstream_url,
        args.connect_timeout,
        args.upstream_timeout,
        args.stream_idle_timeout,
    )
    .map_err(Failure::input)?;
    let workers = args
        .max_concurrent_compressions
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let max_rounds = args
        .max_retrieval_rounds
        .unwrap_or(engine.config().retrieve_max_rounds);
    let engine = Arc::new(engine);
    let stats = Arc::<stats::Stats>::default();
    let layer = compression::layer(engine.clone(), store.clone(), workers, stats.clone());
    let app = Arc::new(App {
        engine,
        layer,
        store,
        upstream,
        stats,
        sessions: sessions::Sessions::default(),
        max_body_bytes: args.max_body_bytes,
        admission: admission::Admission::new(
            args.max_inflight_bytes
                .unwrap_or_else(admission::default_budget),
        ),
        max_rounds,
        upstream_label: redact(&upstream_url),
        store_label: redact(&store_url),
    });
    tracing::info!(
        max_inflight_bytes = app.admission.capacity_bytes(),
        "request bodies held at once"
    );
    // The one-time work (tokenizer tables, statics, each compressor's first run) now, not on the
    // first request.
    app.engine.warm_up();

    let address = format!("{}:{}", args.host, args.port);
    let backlog = args.accept_backlog.unwrap_or_else(system_backlog);
    let listener = listen(&address, backlog)
        .await
        .map_err(|e| Failure::input(format!("cannot listen on {address}: {e}")))?;
    let local: SocketAddr = listener
        .local_addr()
        .map_err(|e| Failure::input(format!("cannot read the listening address: {e}")))?;
    // One line on stdout that scripts and tests wait for.
    println!(
        "headroom proxy listening on http://{local} (upstream {}, store {})",
        app.upstream_label, app.store_label
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, routes::router(app)).with_graceful_shutdown(async {
        shutdown_signal().await;
        let _ = stopping.send(());
    });
    let deadline = async {
        if stopped.await.is_ok() {
            tokio::time::sleep(args.shutdown_timeout).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served.map_err(|e| Failure::input(format!("the server stopped: {e}")))?,
        () = deadline => tracing::warn!(
            timeout_ms = args.shutdown_timeout.as_millis() as u64,
            "shutdown timeout: exiting with requests still in flight"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// The store at `url`. A Redis that does not answer yet does not stop the proxy: it starts,
/// warns, compresses lossless-only, and connects in the background.
async fn open_store(
    url: &str,
    limits: headroom::store::StoreLimits,
) -> Result<Arc<dyn AsyncStore>, Failure> {
    let failed = |e: &dyn std::fmt::Display| {
        Failure::input(format!("cannot open store {}: {e}", redact(url)))
    };
    match headroom::store::open_async(url, limits).await {
        Ok(store) => Ok(store),
        Err(e) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            tracing::warn!(store = %redact(url), error = %e,
                "redis unreachable at start: serving, lossless-only until it answers");
            let store = headroom::store::RedisStore::connect_in_background(url, limits)
                .map_err(|e| failed(&e))?;
            Ok(Arc::new(store))
        }
        Err(e) => Err(failed(&e)),
    }
}

/// A listening socket on `address` with room for `backlog` connections not yet accepted.
async fn listen(address: &str, backlog: u32) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(address).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(backlog)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("the address resolves to nothing")))
}

/// The system's cap on a listening socket's queue (Linux: net.core.somaxconn), else 4096.
fn system_backlog() -> u32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(4096)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Logs to standard error; `HEADROOM_LOG` sets the level (error, warn, info, debug, trace).
fn init_logging() {
    let level = std::env::var("HEADROOM_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// A URL without the credentials it may carry (`redis://:secret@host` → `redis://…@host`).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_redaction() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3h").is_err());
        // Past what a Duration holds: an error, not a panic.
        assert!(parse_duration("99999999999999999999999999s").is_err());
        assert!(parse_duration(&"9".repeat(400)).is_err());
        assert_eq!(redact("redis://:pw@h:6379/0"), "redis://…@h:6379/0");
        assert_eq!(redact("sqlite:/tmp/x"), "sqlite:/tmp/x");
    }

    #[test]
    fn the_backlog_is_the_systems() {
        let backlog = system_backlog();
        assert!(backlog >= 128, "{backlog}");
        if let Ok(text) = std::fs::read_to_string("/proc/sys/net/core/somaxconn") {
            assert_eq!(backlog.to_string(), text.trim());
        }
    }

    #[tokio::test]
    async fn listens_with_the_backlog_asked() {
        let listener = listen("127.0.0.1:0", 7).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Linux shows a listening socket's backlog as its send queue (`ss -ltn`: Send-Q).
        if let Ok(out) = std::process::Command::new("ss")
            .args(["-ltnH", &format!("sport = :{port}")])
            .output()
        {
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(line) = text.lines().next() {
                let send_q: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(send_q.get(2), Some(&"7"), "{line}");
            }
        }
    }
}
