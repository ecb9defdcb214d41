//! Real outputs of an agent's `bash` tool: routed by the command that made them (never source or
//! markdown read as logs), and log records (a `git log` commit, an `apt-cache show` stanza) kept
//! whole when the question names them.

mod content_support;
use content_support::{compress_tool_result, fixture, large_fixture};
use headroom::detect::{detect, detect_with_hints, ContentType, Hints, Language};

const BASH: &str = "bash";

/// The tool call's arguments for `command`, as agents send them.
fn arguments(command: &str) -> String {
    serde_json::json!({ "command": command }).to_string()
}

fn routed(text: &str, command: &str) -> ContentType {
    let arguments = arguments(command);
    let hints = Hints::default()
        .with_tool_name(Some(BASH))
        .with_tool_arguments(Some(&arguments));
    detect_with_hints(text, &hints)
}

/// Source files in eight languages, as `scripts/fixtures.sh` copies them.
const SOURCES: &[(&str, Language)] = &[
    ("code/serde_json-de.rs", Language::Rust),
    ("code/argparse.py", Language::Python),
    ("code/lodash.js", Language::JavaScript),
    ("code/rxjs-Observable.ts", Language::TypeScript),
    ("code/pflag-flag.go", Language::Go),
    ("code/ArrayList.java", Language::Java),
    ("code/tree-sitter-subtree.c", Language::C),
    ("code/gtest.cc", Language::Cpp),
    ("shell/inspect.py", Language::Python),
    ("shell/token.py", Language::Python),
    ("shell/regex-automata-lib.rs", Language::Rust),
    ("shell/anyhow-error.rs", Language::Rust),
];

/// Markdown documents: READMEs and a changelog of real crates.
const MARKDOWN: &[&str] = &[
    "shell/syn-README.md",
    "shell/shlex-README.md",
    "shell/getrandom-CHANGELOG.md",
];

#[test]
fn a_file_read_through_the_shell_is_routed_by_its_extension() {
    for (file, language) in SOURCES {
        let source = large_fixture(file);
        let name = file.rsplit('/').next().unwrap();
        for command in [
            format!("cat src/{name}"),
            format!("cd repo && cat src/{name} | head -n 2000"),
            format!("sed -n '1,4000p' src/{name}"),
            format!("sudo -u app env LANG=C less src/{name}"),
        ] {
            assert_eq!(
                routed(&source, &command),
                ContentType::Code(*language),
                "{command}"
            );
        }
    }
    let readme = fixture("prose/serde_json-README.md");
    assert_eq!(routed(&readme, "cat README.md"), ContentType::Text);
    for file in MARKDOWN {
        let name = file.rsplit('/').next().unwrap();
        assert_eq!(
            routed(&large_fixture(file), &format!("cat {name}")),
            ContentType::Text,
            "{file}"
        );
    }
    let man = large_fixture("shell/man-find.txt");
    assert_eq!(
        routed(&man, "MANWIDTH=80 man -P cat find"),
        ContentType::Text
    );
    assert_eq!(routed(&man, "man find | head -n 400"), ContentType::Text);
}

#[test]
fn commands_say_what_their_output_is_unless_the_text_says_otherwise() {
    let history = large_fixture("shell/git-log-stat.txt");
    assert_eq!(
        routed(&history, "git log --stat -n 60 db749cd"),
        ContentType::Logs
    );
    // With patches a history is still commits first (each with its diff); the same text from
    // another command is a diff.
    let patches = large_fixture("shell/git-log-patch.txt");
    assert_eq!(
        routed(&patches, "git log -p -n 10 -- headroom/src/config.rs"),
        ContentType::Logs
    );
    assert_eq!(routed(&patches, "cat changes.txt"), ContentType::Diff);
    let hits = large_fixture("grep-regex-automata-fn.txt");
    assert_eq!(routed(&hits, "grep -rn 'fn ' src"), ContentType::SearchHits);
    assert_eq!(
        routed(&hits, "rg -n 'fn ' src | head -n 500"),
        ContentType::SearchHits
    );
    let stanzas = large_fixture("shell/apt-cache-show.txt");
    assert_eq!(
        routed(&stanzas, "apt-cache show dpkg bash"),
        ContentType::Logs
    );
    let issues = large_fixture("github-closed-issues.json");
    assert_eq!(
        routed(&issues, "gh api repos/openframeworks/openFrameworks/issues"),
        ContentType::Json
    );
    // A claim the text contradicts falls back to what the text is: a JSON call that printed a
    // man page, a `.json` file that holds a log, a build whose output is a diff.
    let man = large_fixture("shell/man-find.txt");
    assert_eq!(
        routed(&man, "curl -s https://example.org/api"),
        ContentType::Text
    );
    let log = fixture("logs/cargo-test-failure.txt");
    assert_eq!(routed(&log, "cat results.json"), ContentType::Logs);
    assert_eq!(routed(&log, "man cargo-test"), ContentType::Logs);
    let diff = fixture("diff/foldhash-0.1.5-0.2.0.diff");
    assert_eq!(routed(&diff, "make check"), ContentType::Diff);
}

#[test]
fn source_and_markdown_are_never_logs_whatever_ran() {
    let mut documents: Vec<(String, String)> = SOURCES
        .iter()
        .map(|(f, _)| (f.to_string(), large_fixture(f)))
        .chain(MARKDOWN.iter().map(|f| (f.to_string(), large_fixture(f))))
        .collect();
    documents.push((
        "prose/serde_json-README.md".into(),
        fixture("prose/serde_json-README.md"),
    ));
    documents.push(("man find".into(), large_fixture("shell/man-find.txt")));
    for (name, text) in &documents {
        assert_ne!(detect(text), ContentType::Logs, "{name}, no hint");
        // A command nothing is known about: the content decides.
        assert_ne!(routed(text, "./show.sh"), ContentType::Logs, "{name}");
        assert_ne!(
            routed(text, "python3 tools/print_file.py --path x"),
            ContentType::Logs,
            "{name}"
        );
    }
}

/// The `commit` blocks of a `git log` output, as (first line, text).
fn commits(log: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    for line in log.split_inclusive('\n') {
        if line.starts_with("commit ") || blocks.is_empty() {
            blocks.push(String::new());
        }
        blocks.last_mut().unwrap().push_str(line);
    }
    blocks
}

/// The first commit from `from` on whose short hash has a letter (an all-digit one reads as a
/// number), with its full hash.
fn commit_from(blocks: &[String], from: usize) -> (&String, &str) {
    let named = blocks[from..]
        .iter()
        .find(|b| b[7..14].contains(|c: char| c.is_ascii_alphabetic()))
        .unwrap();
    (named, named.split_whitespace().nth(1).unwrap())
}

#[test]
fn git_log_keeps_the_commit_the_question_names_whole() {
    let log = large_fixture("shell/git-log-stat.txt");
    let blocks = commits(&log);
    assert!(blocks.len() >= 40, "{} commits", blocks.len());
    let (named, hash) = commit_from(&blocks, 27);
    let subject = named
        .lines()
        .find(|l| l.starts_with("    "))
        .unwrap()
        .trim();
    let file = named
        .lines()
        .filter_map(|l| l.strip_prefix(' ')?.split(" | ").next())
        .map(str::trim)
        .find(|f| !f.is_empty())
        .unwrap();
    let short_subject: String = subject
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join(" ");
    for question in [
        format!("What did commit {} change?", &hash[..7]),
        format!("Which files did the commit \"{short_subject}\" touch, and when?"),
    ] {
        let out = compress_tool_result(
            &question,
            BASH,
            &arguments("git log --stat -n 60 db749cd"),
            &log,
        );
        assert_eq!(out.content_type, "logs");
        for line in named.lines().filter(|l| !l.trim().is_empty()) {
            out.assert_line(line);
        }
        assert!(
            out.text
                .contains(" commits omitted · headroom_retrieve hash="),
            "the other commits fold behind commit markers"
        );
        assert!(out.savings() >= 0.6, "saved {:.1}%", out.savings() * 100.0);
    }
    // A file named in the --stat lines names the commits that touched it.
    let out = compress_tool_result(
        &format!("Which commits touched {file}?"),
        BASH,
        &arguments("git log --stat -n 60 db749cd"),
        &log,
    );
    out.assert_line(named.lines().next().unwrap());
}

#[test]
fn git_log_with_patches_keeps_the_named_commit_with_its_hash_and_date() {
    let log = large_fixture("shell/git-log-patch.txt");
    let blocks = commits(&log);
    assert!(blocks.len() >= 8, "{} commits", blocks.len());
    let (named, hash) = commit_from(&blocks, 4);
    let out = compress_tool_result(
        &format!(
            "What did commit {} change in the configuration?",
            &hash[..7]
        ),
        BASH,
        &arguments("git log -p -n 10 db749cd -- headroom/src/config.rs"),
        &log,
    );
    assert_eq!(out.content_type, "logs");
    for line in named.lines().take_while(|l| !l.starts_with("diff --git")) {
        out.assert_line(line);
    }
    assert!(out.savings() >= 0.3, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn apt_cache_show_keeps_the_stanza_the_question_names() {
    let stanzas = large_fixture("shell/apt-cache-show.txt");
    let blocks: Vec<&str> = stanzas
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .collect();
    assert!(blocks.len() >= 5, "{} stanzas", blocks.len());
    let named = blocks
        .iter()
        .find(|b| b.starts_with("Package: findutils"))
        .expect("findutils stanza");
    let version = named
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .unwrap();
    let out = compress_tool_result(
        &format!("Which packages does findutils {version} depend on?"),
        BASH,
        &arguments("apt-cache show dpkg bash coreutils tar gzip grep sed findutils diffutils"),
        &stanzas,
    );
    assert_eq!(out.content_type, "logs");
    for line in named.lines() {
        out.assert_line(line);
    }
    assert!(out.savings() >= 0.3, "saved {:.1}%", out.savings() * 100.0);
}
