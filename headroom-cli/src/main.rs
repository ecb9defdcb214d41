//! The `headroom` command: `compress`, `retrieve`, `proxy`.

mod compress_cmd;
mod output;
mod proxy;
mod retrieve_cmd;
mod store_url;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Context compression for LLM chat-completion requests.
#[derive(Parser)]
#[command(name = "headroom", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compress a chat-completions request (or a bare messages array) and print it.
    Compress(compress_cmd::Args),
    /// Print the original stored under a marker's hash.
    Retrieve(retrieve_cmd::Args),
    /// Run an OpenAI-compatible proxy that compresses chat-completion requests.
    Proxy(proxy::Args),
}

/// A failure the user must act on: its message and exit code.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    /// Bad input or usage: exit 2.
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compress(args) => compress_cmd::run(args),
        Command::Retrieve(args) => retrieve_cmd::run(args),
        Command::Proxy(args) => proxy::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            output::note(&format!("headroom: error: {}", failure.message));
            ExitCode::from(failure.code)
        }
    }
}
