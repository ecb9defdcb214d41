//! Logs through the whole engine: real build, test, pip and apt output keep what explains them.

mod content_support;
use content_support::{compress_tool_result, fixture, large_fixture};

const BASH: &str = "bash";

fn every_error_line_kept(log: &str, text: &str) {
    for line in log.lines().filter(|l| l.starts_with("error")) {
        assert!(text.lines().any(|l| l == line), "error line lost: {line:?}");
    }
}

#[test]
fn long_cargo_build_keeps_every_error_and_saves_80_percent() {
    let log = fixture("logs/cargo-build-vv-deps-type-error.txt");
    let out = compress_tool_result(
        "why does the build fail?",
        BASH,
        r#"{"command":"cargo build -vv"}"#,
        &log,
    );
    assert_eq!(out.content_type, "logs");
    every_error_line_kept(&log, &out.text);
    out.assert_line("  --> src/main.rs:13:24");
    out.assert_line("13 |     let count: usize = value[\"a\"].as_u64();");
    // Repeated warnings: the first kept, the second folded away behind a marker.
    let warning = "warning: unexpected `cfg` condition name: `relaxed_coherence`";
    assert!(log.lines().filter(|l| *l == warning).count() >= 2);
    assert_eq!(out.text.lines().filter(|l| *l == warning).count(), 1);
    assert!(out.savings() >= 0.80, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn small_cargo_build_keeps_both_type_errors() {
    let log = fixture("logs/cargo-build-type-error.txt");
    let out = compress_tool_result("fix the build", BASH, r#"{"command":"cargo build"}"#, &log);
    assert_eq!(out.content_type, "logs");
    every_error_line_kept(&log, &out.text);
    out.assert_line("12 |     let name: String = ports.len();");
    assert!(out.tokens_after <= out.tokens_before);
}

#[test]
fn failing_cargo_test_keeps_the_test_its_panic_and_the_summary() {
    let log = fixture("logs/cargo-test-failure.txt");
    let out = compress_tool_result(
        "why does parses_prerelease_version fail?",
        BASH,
        r#"{"command":"cargo test"}"#,
        &log,
    );
    assert_eq!(out.content_type, "logs");
    out.assert_line("test tests::parses_prerelease_version ... FAILED");
    out.assert_line(
        "thread 'tests::parses_prerelease_version' (12881) panicked at src/lib.rs:21:38:",
    );
    out.assert_line("  left: None");
    out.assert_line(" right: Some((1, 2, 3))");
    out.assert_line("test result: FAILED. 4 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.17s");
    out.assert_line("error: test failed, to rerun pass `--lib`");
    // Frames: the unit tests in `logs.rs` check capping on this same output.
    out.assert_line("   4: tinytest::tests::parses_prerelease_version");
    out.assert_line("   0: __rustc::rust_begin_unwind");
    // Too small for its elisions to pay for the retrieve tool: sent as it came, never worse.
    assert!(out.tokens_after <= out.tokens_before);
}

#[test]
fn pip_missing_version_keeps_both_errors() {
    let log = fixture("logs/pip-install-missing-version.txt");
    let out = compress_tool_result(
        "install requests",
        BASH,
        r#"{"command":"pip install requests==0.0.0"}"#,
        &log,
    );
    for line in log.lines().filter(|l| l.starts_with("ERROR:")) {
        out.assert_line(line);
    }
}

#[test]
fn apt_term_log_keeps_its_failure_and_ends() {
    let log = large_fixture("apt-term.log");
    let out = compress_tool_result(
        "did the install work?",
        BASH,
        r#"{"command":"cat /var/log/apt/term.log"}"#,
        &log,
    );
    assert_eq!(out.content_type, "logs");
    for line in log.lines().filter(|l| l.contains("Failed to")) {
        out.assert_line(line);
    }
    out.assert_line(log.lines().next().unwrap());
    out.assert_line(log.lines().rfind(|l| !l.is_empty()).unwrap());
    assert!(out.savings() >= 0.80, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn dpkg_log_keeps_the_lines_about_the_asked_package() {
    let log = large_fixture("dpkg.log");
    // A package the log really mentions, picked from the log itself.
    let package = log
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter(|p| p.ends_with(":amd64") && p.len() > 12)
        .nth(40)
        .expect("a package in dpkg.log")
        .trim_end_matches(":amd64")
        .to_string();
    let out = compress_tool_result(
        &format!("when was {package} installed?"),
        "read_file",
        r#"{"path":"/var/log/dpkg.log"}"#,
        &log,
    );
    assert_eq!(out.content_type, "logs");
    let asked: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .any(|w| w.starts_with(&format!("{package}:")))
        })
        .collect();
    assert!(!asked.is_empty());
    for line in asked {
        out.assert_line(line);
    }
    assert!(out.savings() >= 0.80, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn access_log_folds_lines_that_differ_only_in_numbers() {
    // `python3 -m http.server`'s own log of 40 item requests, a missing item and health checks.
    let log = fixture("logs/python-http-server.log");
    let out = compress_tool_result(
        "which items were served?",
        BASH,
        r#"{"command":"cat server.log"}"#,
        &log,
    );
    assert_eq!(out.content_type, "logs");
    let first = log.lines().nth(1).unwrap();
    let fold = out
        .text
        .lines()
        .find(|l| l.starts_with(first))
        .expect("the first request line");
    assert!(
        fold.starts_with(&format!(
            "{first} … ×40 [… 39 of 40 similar lines omitted · headroom_retrieve hash="
        )),
        "{fold}"
    );
    assert!(!out.text.contains("GET /items/2.json"));
    out.assert_line(log.lines().next().unwrap());
    assert!(out.savings() > 0.3, "saved {:.1}%", out.savings() * 100.0);
}
