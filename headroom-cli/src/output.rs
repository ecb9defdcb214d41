//! Writing results the way Unix tools do: a reader that goes away (`headroom … | head`) ends the
//! command quietly, and notes on standard error never fail the command.

use crate::Failure;
use std::io::{ErrorKind, Write};

/// Writes `bytes` to standard output as they are (no newline added) and flushes.
///
/// When the reader has closed the pipe, the process ends as `cat` or `grep` do in that case:
/// killed by `SIGPIPE` (shells report exit status 141), nothing printed.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => end_on_broken_pipe(),
        Err(e) => Err(Failure {
            message: format!("cannot write output: {e}"),
            code: 1,
        }),
    }
}

/// One line on standard error (`headroom: note: …`); a closed standard error is not an error.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Ends the process as the default `SIGPIPE` disposition would have (Rust ignores the signal, so
/// writes fail with `EPIPE` instead).
fn end_on_broken_pipe() -> ! {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal and raising it in this thread; no
    // handler of ours runs, the process ends.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // Not reached on Unix; elsewhere the status shells give a process ended by SIGPIPE.
    std::process::exit(141)
}
