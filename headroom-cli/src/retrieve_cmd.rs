//! `headroom retrieve HASH`: print what a marker elided.

use crate::output::write_stdout;
use crate::{store_url, Failure};
use headroom::retrieve::{answer_with, RetrieveArgs, DEFAULT_ANSWER_TOKENS};
use headroom::store::DEFAULT_NAMESPACE;

#[derive(clap::Args)]
pub struct Args {
    /// The hash from a marker (`headroom_retrieve hash=…`): 24 hex digits, any case.
    hash: String,
    #[arg(long, env = "HEADROOM_STORE", help = store_url::help())]
    store: Option<String>,
    /// Print only the lines or items containing these words, under a header saying how many matched.
    #[arg(long)]
    query: Option<String>,
}

/// Prints the original byte for byte (nothing added, not even a newline), or with `--query` the
/// matching lines or items.
pub fn run(args: Args) -> Result<(), Failure> {
    let hash =
        headroom::marker::parse_hash(&args.hash).map_err(|e| Failure::input(e.to_string()))?;
    let store =
        store_url::open(args.store.as_deref())?.map_err(|store_url::Unavailable(why)| Failure {
            message: format!("{why}; cannot retrieve {hash}"),
            code: 1,
        })?;
    let original = store
        .get(DEFAULT_NAMESPACE, &hash)
        .map_err(|e| Failure {
            message: format!("store unavailable: {e}"),
            code: 1,
        })?
        .ok_or_else(|| Failure {
            message: format!("no original stored under hash {hash} (unknown or expired)"),
            code: 1,
        })?;
    match &args.query {
        None => write_stdout(original.as_bytes()),
        Some(q) => {
            let query = RetrieveArgs {
                hash: hash.clone(),
                query: Some(q.clone()),
                limit: Some(usize::MAX),
                offset: None,
            };
            let counter = headroom::tokens::counter_for_model(headroom::DEFAULT_MODEL);
            let mut answer = answer_with(
                &query,
                Ok(Some(original)),
                counter.as_ref(),
                DEFAULT_ANSWER_TOKENS * 16,
            );
            // A report of what matched, not the original: it ends its last line.
            if !answer.ends_with('\n') {
                answer.push('\n');
            }
            write_stdout(answer.as_bytes())
        }
    }
}
