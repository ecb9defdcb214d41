//! The `headroom` binary at its edges: a reader that goes away, store URLs that are wrong or
//! unreachable, models it does not know, hashes as users type them.

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use support::{headroom, temp_store};

/// A request whose tool result is a long access log: compressed well, with one marker.
fn log_request(lines: usize) -> Vec<u8> {
    let log: String = (0..lines)
        .map(|i| {
            format!(
                "2024-01-01T00:00:{:02} INFO GET /item/{i} served in {} ms\n",
                i % 60,
                i % 17
            )
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "How fast are items served?"},
        {"role": "tool", "tool_call_id": "c1", "content": log}
    ]}))
    .unwrap()
}

/// Stores a large original the way `compress` does and returns its hash.
fn stored_original(store: &str, text: &str) -> String {
    let hash = headroom::marker::segment_hash(text);
    headroom::store::open(store, Default::default())
        .unwrap()
        .put("default", &hash, text)
        .unwrap();
    hash
}

/// Runs `headroom ARGS`, reads `keep` bytes of its output and closes the pipe.
fn read_then_close(
    args: &[&str],
    stdin_file: Option<&std::path::Path>,
    keep: usize,
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_headroom"));
    command
        .args(args)
        .env_remove("HEADROOM_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin_file {
        Some(path) => command.stdin(std::fs::File::open(path).unwrap()),
        None => command.stdin(Stdio::null()),
    };
    let mut child = command.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0; keep];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
fn assert_ended_by_sigpipe(out: &std::process::Output, what: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc_sigpipe()),
        "{what}: ends as `cat` does when its reader goes away, got {:?}",
        out.status
    );
    assert!(
        out.stderr.is_empty(),
        "{what}: quietly, got {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SIGPIPE's number on the platforms this runs on.
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}

#[cfg(unix)]
#[test]
fn retrieve_and_compress_end_quietly_when_the_reader_goes_away() {
    let store = temp_store("pipe");
    // Far more than a pipe buffer holds, so the writer is still writing when the reader leaves.
    let original: String = (0..200_000).map(|i| format!("line {i}\n")).collect();
    let hash = stored_original(&store, &original);
    let out = read_then_close(&["retrieve", &hash, "--store", &store], None, 100);
    assert_ended_by_sigpipe(&out, "retrieve");

    let request =
        std::env::temp_dir().join(format!("headroom-cli-{}-pipe.json", std::process::id()));
    std::fs::write(&request, log_request(100_000)).unwrap();
    let out = read_then_close(
        &["compress", "--store", &store, "--lossless-only", "--no-fit"],
        Some(&request),
        100,
    );
    assert_ended_by_sigpipe(&out, "compress");

    // As users type it: `… | head -3`, the shell's status for the writer is 141 (128 + SIGPIPE).
    let script = format!(
        "{bin} retrieve {hash} --store {store} | head -3; echo \"status=${{PIPESTATUS[0]}}\" >&2",
        bin = env!("CARGO_BIN_EXE_headroom")
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "line 0\nline 1\nline 2\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "status=141\n");
    let _ = std::fs::remove_file(request);
}

#[test]
fn an_unparseable_store_url_is_a_usage_error() {
    let hash = "0123456789abcdef01234567";
    for url in [
        "bogus:xx",
        "sqlite:",
        "redis://host:port",
        "rediss://cache:6379",
        "/tmp/originals.sqlite3",
    ] {
        for args in [
            vec!["compress", "--store", url],
            vec!["retrieve", hash, "--store", url],
        ] {
            let out = headroom(&args, &log_request(10));
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            for (form, _) in headroom::store::URL_FORMS {
                assert!(err.contains(form), "{args:?}: names {form}: {err}");
            }
        }
    }
    // The same from the environment.
    let out = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["retrieve", hash])
        .env("HEADROOM_STORE", "bogus:xx")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unreachable_store_falls_back_to_lossless_compression() {
    // A Redis URL on a port nobody listens on, and a SQLite file under a regular file.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let blocker = std::env::temp_dir().join(format!("headroom-cli-{}-file", std::process::id()));
    std::fs::write(&blocker, "a file, not a directory").unwrap();
    let unreachable = [
        format!("redis://127.0.0.1:{port}"),
        format!("sqlite:{}", blocker.join("originals.sqlite3").display()),
    ];
    let request = log_request(3_000);
    for url in &unreachable {
        let out = headroom(&["compress", "--store", url, "--stats"], &request);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{url}: {err}");
        assert!(err.starts_with("headroom: warning: "), "{url}: {err}");
        assert!(err.contains("compressed losslessly"), "{url}: {err}");
        let stats: serde_json::Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
        assert_eq!(
            stats["ccr_hashes"],
            serde_json::json!([]),
            "{url}: nothing elided"
        );
        let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let sent = body["messages"][1]["content"].as_str().unwrap();
        assert!(
            !headroom::marker::Marker::is_in(sent),
            "{url}: no marker without a store"
        );

        let out = headroom(
            &["retrieve", "0123456789abcdef01234567", "--store", url],
            b"",
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{url}: retrieving needs the store"
        );
        assert!(out.stdout.is_empty());
    }
    let _ = std::fs::remove_file(blocker);
}

#[test]
fn an_unknown_model_is_counted_with_o200k_base_and_said_so() {
    let request = log_request(10);
    let out = headroom(
        &["compress", "--store", "memory:", "--model", "claude-3-opus"],
        &request,
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("headroom: note: ")
            && err.contains("\"claude-3-opus\"")
            && err.contains("o200k_base"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // The request's own model is checked the same way.
    let mut body: serde_json::Value = serde_json::from_slice(&request).unwrap();
    body["model"] = "my-local-llama".into();
    let out = headroom(
        &["compress", "--store", "memory:"],
        &serde_json::to_vec(&body).unwrap(),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"my-local-llama\""));

    for known in ["gpt-4o", "gpt-4.1-mini", "gpt-3.5-turbo", "openai/gpt-5"] {
        let out = headroom(
            &["compress", "--store", "memory:", "--model", known],
            &request,
        );
        assert!(out.status.success());
        assert!(
            out.stderr.is_empty(),
            "{known}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
