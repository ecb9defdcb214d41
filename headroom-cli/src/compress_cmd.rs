//! `headroom compress`: a request in, the compressed request out.

use crate::output::{note, write_stdout};
use crate::{store_url, Failure};
use headroom::store::DEFAULT_NAMESPACE;
use headroom::{CompressOptions, Headroom};
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

/// The fields of the `--stats` line, in order: the one list the help and the README quote.
pub const STATS_FIELDS: &[&str] = &[
    "model",
    "tokens_before",
    "tokens_after",
    "tokens_saved",
    "compression_ratio",
    "savings_ratio",
    "transforms_applied",
    "ccr_hashes",
    "passthrough_reason",
    "elapsed_us",
    "init_us",
];

fn stats_help() -> String {
    format!(
        "Print one JSON line of statistics to standard error, the last line there: {}",
        STATS_FIELDS.join(", ")
    )
}

#[derive(clap::Args)]
pub struct Args {
    /// The request file (default: standard input): a chat-completions request, or a bare messages
    /// array, which comes back as a whole request `{"model":…,"messages":[…]}`.
    file: Option<PathBuf>,
    /// Count tokens for this model (default: the request's `model`, else gpt-4o). Models Headroom
    /// does not know are counted with o200k_base (gpt-4o's tokenizer), said on standard error.
    #[arg(long)]
    model: Option<String>,
    /// Compress against this question (what the model must still find).
    #[arg(long)]
    query: Option<String>,
    #[arg(long, env = "HEADROOM_STORE", help = store_url::help())]
    store: Option<String>,
    /// Only lossless transforms: nothing elided.
    #[arg(long)]
    lossless_only: bool,
    /// The most tokens the request may have: old tool results are compressed harder and old tool
    /// units evicted behind a marker to fit; a request that cannot fit is an error (exit 2).
    /// Default: the model's context window less the completion it reserves.
    #[arg(long, value_name = "TOKENS")]
    budget: Option<usize>,
    /// Do not fit the request to the model's window (for deployments whose window differs).
    #[arg(long, conflicts_with = "budget")]
    no_fit: bool,
    #[arg(long, help = stats_help())]
    stats: bool,
    /// Stop compressing after this many milliseconds and print the request as it came (default
    /// 5000).
    #[arg(long)]
    time_budget_ms: Option<u64>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    // A typo in the store URL is a usage error, found before reading any input.
    let store = store_url::open(args.store.as_deref())?;
    let input = read_input(args.file.as_ref())?;
    let body = as_request(&input, args.model.as_deref())?;
    let model = args
        .model
        .clone()
        .or_else(|| model_of(&body))
        .unwrap_or_else(|| headroom::DEFAULT_MODEL.to_string());

    let init = Instant::now();
    let counter = headroom::tokens::counter_for_model(&model);
    if headroom::models::known_encoding(&model).is_none() {
        note(&format!(
            "headroom: note: model {model:?} is not one Headroom knows; its tokens are counted with {} \
             (gpt-4o's tokenizer), an estimate",
            counter.name()
        ));
    }

    let mut config = headroom::Config::default();
    if let Some(ms) = args.time_budget_ms {
        config.time_budget = std::time::Duration::from_millis(ms);
    }
    let mut builder = Headroom::builder()
        .config(config)
        .lossless_only(args.lossless_only)
        .fit_to_window(!args.no_fit);
    if let Some(budget) = args.budget {
        builder = builder.token_budget(budget);
    }
    if let Some(m) = &args.model {
        builder = builder.model(m);
    }
    if let Some(q) = &args.query {
        builder = builder.query(q);
    }
    let mut engine = builder.build().map_err(|e| Failure::input(e.to_string()))?;
    if store.is_err() {
        // No store: nothing could be retrieved, so nothing may be elided.
        let mut config = engine.config().clone();
        config.lossless_only = true;
        engine = Headroom::builder()
            .config(config)
            .build()
            .map_err(|e| Failure::input(e.to_string()))?;
    }
    // All one-time work (tokenizer tables, statics, every compressor's first run) is init, so
    // `elapsed_us` is the compression of this request alone.
    let mut warm = engine.config().clone();
    warm.model = Some(model.clone());
    if let Ok(warm) = Headroom::builder().config(warm).build() {
        warm.warm_up();
    }
    let init_us = init.elapsed().as_micros();

    let options = CompressOptions::default();
    let started = Instant::now();
    let out = engine
        .compress_json_with(&body, &options)
        .map_err(|e| Failure::input(e.to_string()))?;
    let elapsed_us = started.elapsed().as_micros();
    // Persisting the originals is storage, not compression: after the timer.
    let out = match &store {
        Ok(store) => {
            let persisted = out
                .originals
                .iter()
                .try_for_each(|o| store.put(DEFAULT_NAMESPACE, &o.hash, &o.text));
            engine.settle(&body, &options, out, persisted)
        }
        Err(_) => Ok(out),
    }
    .map_err(|e| Failure::input(e.to_string()))?;
    if let Err(store_url::Unavailable(why)) = &store {
        note(&format!(
            "headroom: warning: {why}; compressed losslessly (nothing elided)"
        ));
    }

    write_stdout(&out.body)?;
    if args.stats {
        let r = &out.report;
        let fields = [
            ("model", serde_json::json!(r.model)),
            ("tokens_before", r.tokens_before.into()),
            ("tokens_after", r.tokens_after.into()),
            ("tokens_saved", r.tokens_saved.into()),
            ("compression_ratio", r.compression_ratio.into()),
            ("savings_ratio", r.savings_ratio.into()),
            (
                "transforms_applied",
                serde_json::json!(r.transforms_applied),
            ),
            ("ccr_hashes", serde_json::json!(r.ccr_hashes)),
            (
                "passthrough_reason",
                serde_json::json!(r.passthrough_reason),
            ),
            ("elapsed_us", serde_json::json!(elapsed_us)),
            ("init_us", serde_json::json!(init_us)),
        ];
        debug_assert!(fields
            .iter()
            .map(|(k, _)| *k)
            .eq(STATS_FIELDS.iter().copied()));
        let line: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        note(&serde_json::Value::Object(line).to_string());
    }
    Ok(())
}

fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, Failure> {
    let mut input = Vec::new();
    match file {
        Some(path) => {
            input = std::fs::read(path)
                .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?
        }
        None => {
            std::io::stdin()
                .read_to_end(&mut input)
                .map_err(|e| Failure::input(format!("cannot read standard input: {e}")))?;
        }
    }
    Ok(input)
}

/// A request body: the input itself, or a bare messages array wrapped as `{"model":…,"messages":[…]}`.
fn as_request(input: &[u8], model: Option<&str>) -> Result<Vec<u8>, Failure> {
    let start = input.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| input[i]) {
        Some(b'{') => Ok(input.to_vec()),
        Some(b'[') => {
            let model = serde_json::to_string(model.unwrap_or(headroom::DEFAULT_MODEL))
                .expect("strings serialize");
            let mut body = format!("{{\"model\":{model},\"messages\":").into_bytes();
            // The array as it came, without the whitespace around it (a file's final newline would
            // otherwise sit before the closing brace of the request we make).
            body.extend_from_slice(input.trim_ascii());
            body.push(b'}');
            Ok(body)
        }
        None => Err(Failure::input(
            "empty input: expected a chat-completions request or a messages array",
        )),
        Some(_) => Err(Failure::input(
            "expected a JSON chat-completions request (an object) or a messages array",
        )),
    }
}

fn model_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ModelOnly {
        model: Option<String>,
    }
    serde_json::from_slice::<ModelOnly>(body).ok()?.model
}
