//! What a few tests need beyond the Rust toolchain: `redis-server` and the real Python and npm
//! clients, which `scripts/setup.sh` installs (root for apt, network for apt, PyPI and npm).
//!
//! In CI (the `CI` variable set and not `0`/`false`; `.ci/run` sets it) a missing one fails the
//! test, as it always has. Anywhere else the test is skipped, with a line on standard error saying
//! what is missing and how to get it, so `cargo test --workspace` on a fresh clone runs the rest.
// Shared by several test binaries; each uses part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// Whether the test may go on: `present`, or else (outside CI) a printed skip and `false`.
///
/// Panics in CI when `present` is false, naming `what` and `how` to install it.
pub fn available(what: &str, present: bool, how: &str) -> bool {
    if present {
        return true;
    }
    if required() {
        panic!("{what} is missing: {how} (CI requires it)");
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    // Straight to the stream, not through `eprintln!`: the test harness hides what passing tests print.
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: {what} is missing; {how} (with CI=1 this is a failure)"
    );
    false
}

/// Whether missing tools fail the tests: `CI` is set (and not `0` or `false`).
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Whether `program` is an executable file on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}
