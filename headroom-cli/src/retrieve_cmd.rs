//! `headroom retrieve HASH`: print what a marker elided.

use crate::{store_url, Failure};
use headroom::retrieve::{answer_with, RetrieveArgs, DEFAULT_ANSWER_TOKENS};
use headroom::store::DEFAULT_NAMESPACE;

#[derive(clap::Args)]
pub struct Args {
    /// The hash from a marker (`headroom_retrieve hash=…`).
    hash: String,
    /// Where originals are: memory:, sqlite:PATH (default: a SQLite file in your data directory).
    #[arg(long, env = "HEADROOM_STORE")]
    store: Option<String>,
    /// Print only the lines or items containing these words.
    #[arg(long)]
    query: Option<String>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.hash.len() != headroom::marker::HASH_LEN
        || !args.hash.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(Failure::input(format!(
            "{:?} is not a marker hash (24 hex digits)",
            args.hash
        )));
    }
    let store = store_url::open(args.store.as_deref())?;
    let original = store
        .get(DEFAULT_NAMESPACE, &args.hash)
        .map_err(|e| Failure {
            message: format!("store unavailable: {e}"),
            code: 1,
        })?
        .ok_or_else(|| Failure {
            message: format!(
                "no original stored under hash {} (unknown or expired)",
                args.hash
            ),
            code: 1,
        })?;
    let text = match &args.query {
        None => original,
        Some(q) => {
            let query = RetrieveArgs {
                hash: args.hash.clone(),
                query: Some(q.clone()),
                limit: Some(usize::MAX),
                offset: None,
            };
            let counter = headroom::tokens::counter_for_model(headroom::DEFAULT_MODEL);
            answer_with(
                &query,
                Ok(Some(original)),
                counter.as_ref(),
                DEFAULT_ANSWER_TOKENS * 16,
            )
        }
    };
    println!("{text}");
    Ok(())
}
