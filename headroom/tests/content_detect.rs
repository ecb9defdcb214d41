//! Content detection on real artifacts: command output, source files, prose, with and without hints.

mod content_support;
use content_support::{fixture, large_fixture};
use headroom::detect::{detect, detect_with_hints, ContentType, Hints, Language};

#[test]
fn command_output_is_detected_by_its_shape() {
    for log in [
        "logs/cargo-build-type-error.txt",
        "logs/cargo-build-vv-deps-type-error.txt",
        "logs/cargo-test-failure.txt",
        "logs/pip-install-missing-version.txt",
        "logs/python-http-server.log",
        // ISO 8601 time stamps (`2026-12-08T01:28:41.714840Z  INFO …`) are not `path:line:`.
        "logs/headroom-proxy-tracing.log",
    ] {
        assert_eq!(detect(&fixture(log)), ContentType::Logs, "{log}");
    }
    for log in ["apt-term.log", "dpkg.log"] {
        assert_eq!(detect(&large_fixture(log)), ContentType::Logs, "{log}");
    }
    assert_eq!(
        detect(&fixture("search/grep-memchr-unsafe-fn.txt")),
        ContentType::SearchHits
    );
    assert_eq!(
        detect(&large_fixture("grep-regex-automata-fn.txt")),
        ContentType::SearchHits
    );
    assert_eq!(
        detect(&fixture("diff/foldhash-0.1.5-0.2.0.diff")),
        ContentType::Diff
    );
    assert_eq!(
        detect(&large_fixture("base64-0.22.1-0.23.1.diff")),
        ContentType::Diff
    );
}

#[test]
fn structure_wins_over_a_path_in_the_tool_call() {
    // A grep tool called on a Rust path still returns search hits, a diff tool on a file a diff.
    let hints = Hints::default()
        .with_tool_name(Some("grep"))
        .with_tool_arguments(Some(r#"{"pattern":"unsafe fn","path":"src/memchr.rs"}"#));
    let hits = fixture("search/grep-memchr-unsafe-fn.txt");
    assert_eq!(detect_with_hints(&hits, &hints), ContentType::SearchHits);
    let hints = Hints::default().with_tool_arguments(Some(r#"{"path":"src/fast.rs"}"#));
    let diff = fixture("diff/foldhash-0.1.5-0.2.0.diff");
    assert_eq!(detect_with_hints(&diff, &hints), ContentType::Diff);
}

#[test]
fn source_files_get_their_language_from_the_path_or_the_content() {
    let cases = [
        ("serde_json-de.rs", Language::Rust),
        ("argparse.py", Language::Python),
        ("lodash.js", Language::JavaScript),
        ("rxjs-Observable.ts", Language::TypeScript),
        ("pflag-flag.go", Language::Go),
        ("ArrayList.java", Language::Java),
        ("tree-sitter-subtree.c", Language::C),
        ("gtest.cc", Language::Cpp),
    ];
    for (file, language) in cases {
        let source = large_fixture(&format!("code/{file}"));
        let arguments = format!(r#"{{"path":"src/{file}"}}"#);
        let hints = Hints::default()
            .with_tool_name(Some("read_file"))
            .with_tool_arguments(Some(&arguments));
        assert_eq!(
            detect_with_hints(&source, &hints),
            ContentType::Code(language),
            "{file}"
        );
        let tag = file.rsplit('.').next().unwrap();
        let inside = Hints::default().with_fence_tag(Some(tag));
        assert_eq!(
            detect_with_hints(&source, &inside),
            ContentType::Code(language),
            "{file} fenced"
        );
        // The whole fenced block is prose with a block in it, for the prose compressor to split.
        assert_eq!(
            detect(&format!("```{tag}\n{source}\n```")),
            ContentType::Text,
            "{file}"
        );
    }
    // Without any hint, the content alone says Rust and Python.
    assert_eq!(
        detect(&large_fixture("code/serde_json-de.rs")),
        ContentType::Code(Language::Rust)
    );
    assert_eq!(
        detect(&large_fixture("code/argparse.py")),
        ContentType::Code(Language::Python)
    );
    // Lines of brackets alone say nothing either: Go's declarations are a sixth of the rest.
    assert_eq!(
        detect(&large_fixture("code/pflag-flag.go")),
        ContentType::Code(Language::Go)
    );
    // C whose variables are called `self` and whose switches have `case X:` is not Python.
    assert_ne!(
        detect(&large_fixture("code/tree-sitter-subtree.c")),
        ContentType::Code(Language::Python)
    );
    // A file that is mostly doc comments (`///`) is still source: comment lines say nothing.
    for file in [
        "code/serde_json-map.rs",
        "code/tokio-runtime-builder-head.rs",
    ] {
        assert_eq!(
            detect(&fixture(file)),
            ContentType::Code(Language::Rust),
            "{file}"
        );
    }
}

#[test]
fn prose_stays_prose() {
    for page in ["prose/man-git.txt", "prose/man-ls.txt", "prose/man-tar.txt"] {
        assert_eq!(detect(&large_fixture(page)), ContentType::Text, "{page}");
    }
    assert_eq!(
        detect(&fixture("prose/serde_json-README.md")),
        ContentType::Text
    );
}

#[test]
fn a_man_page_read_through_a_shell_tool_stays_prose() {
    let hints = Hints::default()
        .with_tool_name(Some("run_command"))
        .with_tool_arguments(Some(r#"{"command":"man tar"}"#));
    for page in ["prose/man-git.txt", "prose/man-tar.txt"] {
        assert_eq!(
            detect_with_hints(&large_fixture(page), &hints),
            ContentType::Text,
            "{page}"
        );
    }
    // Real command output through the same tool is still logs.
    assert_eq!(
        detect_with_hints(&fixture("logs/cargo-test-failure.txt"), &hints),
        ContentType::Logs
    );
}
