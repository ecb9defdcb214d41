//! `headroom proxy`: an OpenAI-compatible HTTP proxy that compresses chat-completion requests.
//!
//! Point any OpenAI client's base URL at `http://HOST:PORT/v1`. `POST /v1/chat/completions` is
//! compressed by `headroom_tower::HeadroomLayer` wrapped around the forwarding service (the
//! engine; originals kept in the store, in the caller's namespace), forwarded, and the model's
//! `headroom_retrieve` calls are answered here; every other `/v1/*` request is forwarded untouched. `/v1/compress`, `/v1/retrieve`, `/v1/retrieve/tool_call`, `/health`,
//! `/stats` and `/metrics` are the proxy's own (the Headroom TypeScript SDK speaks to them).

mod body;
mod chat;
mod compress_api;
mod compression;
mod config_file;
mod error;
mod forward;
mod metrics;
mod retrieve_api;
mod rounds;
mod routes;
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
    /// Retrieval rounds per request before the retrieve tool is withdrawn (default: the config's
    /// `retrieve_max_rounds`, 3).
    #[arg(long)]
    max_retrieval_rounds: Option<usize>,
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
    max_body_bytes: usize,
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
    let store = headroom::store::open_async(&store_url, engine.config().store_limits())
        .await
        .map_err(|e| Failure::input(format!("cannot open store {}: {e}", redact(&store_url))))?;
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
        max_body_bytes: args.max_body_bytes,
        max_rounds,
        upstream_label: redact(&upstream_url),
        store_label: redact(&store_url),
    });
    // Load the tokenizer now, not on the first request.
    headroom::tokens::counter_for_model(headroom::DEFAULT_MODEL).count("warm up");

    let address = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&address)
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
    axum::serve(listener, routes::router(app))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Failure::input(format!("the server stopped: {e}")))?;
    tracing::info!("stopped");
    Ok(())
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
}
