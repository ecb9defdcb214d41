//! # headroom-bench
//!
//! The public fidelity-and-savings benchmark: real artifacts become chat-completions requests, every
//! method compresses the same requests in one run, and hidden probes drawn from the originals say
//! what survived. `bash scripts/bench.sh` regenerates everything; the README's "Benchmarks" section
//! holds the table and the method.

pub mod baselines;
pub mod clock;
pub mod corpus;
pub mod fidelity;
pub mod harness;
pub mod kinds;
pub mod probe;
pub mod records;
pub mod responses;
pub mod seed;
pub mod session;
pub mod session_report;
pub mod session_run;
pub mod summary;
