//! `headroom compress`: a request in, the compressed request out.

use crate::{store_url, Failure};
use headroom::store::DEFAULT_NAMESPACE;
use headroom::Headroom;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The request file (default: standard input).
    file: Option<PathBuf>,
    /// Count tokens for this model (default: the request's `model`, else gpt-4o).
    #[arg(long)]
    model: Option<String>,
    /// Compress against this question (what the model must still find).
    #[arg(long)]
    query: Option<String>,
    /// Where originals go: memory:, sqlite:PATH (default: a SQLite file in your data directory).
    #[arg(long, env = "HEADROOM_STORE")]
    store: Option<String>,
    /// Only lossless transforms: nothing elided.
    #[arg(long)]
    lossless_only: bool,
    /// Print one JSON line of statistics to standard error.
    #[arg(long)]
    stats: bool,
    /// Stop compressing after this many milliseconds and print the request as it came (default
    /// 5000).
    #[arg(long)]
    time_budget_ms: Option<u64>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let input = read_input(args.file.as_ref())?;
    let body = as_request(&input, args.model.as_deref())?;
    let model = args
        .model
        .clone()
        .or_else(|| model_of(&body))
        .unwrap_or_else(|| headroom::DEFAULT_MODEL.to_string());

    let init = Instant::now();
    headroom::tokens::counter_for_model(&model).count("warm up the tokenizer");
    let init_us = init.elapsed().as_micros();

    let mut config = headroom::Config::default();
    if let Some(ms) = args.time_budget_ms {
        config.time_budget = std::time::Duration::from_millis(ms);
    }
    let mut builder = Headroom::builder()
        .config(config)
        .lossless_only(args.lossless_only);
    if let Some(m) = &args.model {
        builder = builder.model(m);
    }
    if let Some(q) = &args.query {
        builder = builder.query(q);
    }
    let engine = builder.build().map_err(|e| Failure::input(e.to_string()))?;

    let (store, store_note) = match store_url::open(args.store.as_deref()) {
        Ok(store) => (Some(store), None),
        Err(f) => (None, Some(f.message)),
    };
    let started = Instant::now();
    let out = match &store {
        Some(store) => engine.compress_json_into(&body, store.as_ref(), DEFAULT_NAMESPACE),
        // No store: nothing could be retrieved, so nothing may be elided.
        None => {
            let mut config = engine.config().clone();
            config.lossless_only = true;
            Headroom::builder()
                .config(config)
                .build()
                .and_then(|e| e.compress_json(&body))
        }
    }
    .map_err(|e| Failure::input(e.to_string()))?;
    let elapsed_us = started.elapsed().as_micros();
    if let Some(note) = store_note {
        eprintln!("headroom: warning: {note}; compressed losslessly");
    }

    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out.body)
        .and_then(|_| stdout.flush())
        .map_err(|e| Failure {
            message: format!("cannot write output: {e}"),
            code: 1,
        })?;
    if args.stats {
        let r = &out.report;
        let line = serde_json::json!({
            "model": r.model,
            "tokens_before": r.tokens_before,
            "tokens_after": r.tokens_after,
            "tokens_saved": r.tokens_saved,
            "compression_ratio": r.compression_ratio,
            "savings_ratio": r.savings_ratio,
            "transforms_applied": r.transforms_applied,
            "ccr_hashes": r.ccr_hashes,
            "passthrough_reason": r.passthrough_reason,
            "elapsed_us": elapsed_us,
            "init_us": init_us,
        });
        eprintln!("{line}");
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
            body.extend_from_slice(input);
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
