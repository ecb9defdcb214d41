//! Running the real `headroom` binary as scripts do, and as a proxy on an ephemeral port, shared
//! by the CLI test files.
// Each test file uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

/// Runs `headroom ARGS` with `stdin` as standard input (no `HEADROOM_STORE` from the environment).
pub fn headroom(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(args)
        .env_remove("HEADROOM_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// A fresh SQLite store URL in a temporary directory of this test process.
pub fn temp_store(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("headroom-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    format!("sqlite:{}", dir.join("store.sqlite3").display())
}

/// A request whose tool result is the recorded GitHub issues page, pretty-printed as APIs send it.
pub fn github_request() -> Vec<u8> {
    let issues = include_str!("../../../headroom/tests/fixtures/github-issues.json");
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which issues mention test issue 7?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "list_issues", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": issues}
        ],
        "temperature": 0.2
    }))
    .unwrap()
}

/// A running `headroom proxy`, killed when dropped.
pub struct Proxy {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `headroom proxy` in front of `upstream` with `extra` arguments (a `memory:` store unless they
/// name one), logging warnings to this process's standard error.
pub fn start_proxy(upstream: &str, extra: &[&str]) -> Proxy {
    start_proxy_logging(upstream, extra, "warn", Stdio::inherit())
}

/// [`start_proxy`] at log level `level`, its standard error going to `stderr`.
pub fn start_proxy_logging(upstream: &str, extra: &[&str], level: &str, stderr: Stdio) -> Proxy {
    let mut child = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["proxy", "--port", "0", "--upstream", upstream])
        .args(if extra.contains(&"--store") {
            &[][..]
        } else {
            &["--store", "memory:"][..]
        })
        .args(extra)
        .env("HEADROOM_LOG", level)
        .env_remove("OPENAI_BASE_URL")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the headroom binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let at = line
        .find("http://")
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let url = line[at..].split_whitespace().next().unwrap().to_string();
    let addr = url.trim_start_matches("http://").to_string();
    Proxy { child, url, addr }
}
