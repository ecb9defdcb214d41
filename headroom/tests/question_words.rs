//! What the user's own words name survives, whatever the tool call's arguments say: a word found
//! on one line of a log, a man page or a source file names that line (the command's file name and
//! words, `cat flag.go`, never outrank it); a qualified name in a doc comment survives beside the
//! function it names; a field's value of several words names its item. Real outputs, through the
//! whole engine, every asked item drawn by rule from the output.

mod content_support;
use content_support::{compress_tool_result, fixture, large_fixture, Outcome};
use std::collections::HashMap;

const BASH: &str = "bash";

/// The tool call's arguments for `command`, as agents send them.
fn arguments(command: &str) -> String {
    serde_json::json!({ "command": command }).to_string()
}

/// Words a question uses about the output itself, or for the kinds of line a log keeps anyway.
const QUESTION_WORDS: &[&str] = &[
    "should", "before", "after", "which", "there", "their", "these", "those", "about", "other",
    "being", "would", "could", "exactly", "report", "output", "errors", "error", "failed",
];

/// Tokens (`token` splits a line into them) found on exactly one line of `text`, with that line:
/// every `step`-th of them in text order, at most `most`.
fn on_one_line(
    text: &str,
    token: impl Fn(&str) -> Vec<String>,
    step: usize,
    most: usize,
) -> Vec<(String, &str)> {
    let mut found: HashMap<String, (usize, usize)> = HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let mut seen = Vec::new();
        for t in token(line) {
            if !seen.contains(&t) {
                found.entry(t.clone()).or_insert((i, 0)).1 += 1;
                seen.push(t);
            }
        }
    }
    let mut once: Vec<(usize, String)> = found
        .into_iter()
        .filter(|(t, (_, n))| *n == 1 && !QUESTION_WORDS.contains(&t.as_str()))
        .map(|(t, (i, _))| (i, t))
        .collect();
    once.sort();
    once.into_iter()
        .step_by(step.max(1))
        .take(most)
        .map(|(i, t)| (t, lines[i]))
        .collect()
}

/// Lowercase words of six letters or more.
fn plain_words(line: &str) -> Vec<String> {
    line.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 6 && w.bytes().all(|b| b.is_ascii_lowercase()))
        .map(str::to_string)
        .collect()
}

/// `snake_case` identifiers.
fn snake_identifiers(line: &str) -> Vec<String> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.contains('_')
                && !w.starts_with('_')
                && !w.ends_with('_')
                && w.starts_with(|c: char| c.is_ascii_alphabetic())
        })
        .map(str::to_string)
        .collect()
}

fn keeps_line(out: &Outcome, line: &str) -> bool {
    out.text.lines().any(|l| l == line)
}

/// Every drawn word of `text`, asked about in `ask`, keeps its line, and the output still saves
/// at least `min_savings`.
fn each_word_keeps_its_line(
    text: &str,
    words: &[(String, &str)],
    ask: &dyn Fn(&str) -> String,
    command: &str,
    min_savings: f64,
) {
    assert!(words.len() >= 5, "{} words drawn", words.len());
    for (word, line) in words {
        let question = ask(word);
        let out = compress_tool_result(&question, BASH, &arguments(command), text);
        assert!(keeps_line(&out, line), "{question}: lost {line:?}");
        assert!(
            out.savings() >= min_savings,
            "{question}: {:.2} saved",
            out.savings()
        );
    }
}

#[test]
fn a_word_on_one_line_of_a_log_names_that_line() {
    let log = large_fixture("apt-term.log");
    let words = on_one_line(&log, plain_words, 7, 12);
    let ask =
        |w: &str| format!("What does this output say about {w}? Which errors does it report?");
    each_word_keeps_its_line(&log, &words, &ask, "cat /var/log/apt/term.log", 0.8);
}

/// A commit of `git log -p` is a record far longer than any kept whole: a word of its message
/// keeps its line (and the record its head), not the whole patch.
#[test]
fn a_word_in_a_long_commit_names_its_line() {
    let log = large_fixture("shell/git-log-patch.txt");
    let message_words = |line: &str| {
        if line.starts_with("    ") {
            plain_words(line)
        } else {
            Vec::new()
        }
    };
    let words = on_one_line(&log, message_words, 3, 8);
    let ask = |w: &str| format!("What does this output say about {w}?");
    each_word_keeps_its_line(
        &log,
        &words,
        &ask,
        "git log -p -n 10 db749cd -- headroom/src/config.rs",
        0.3,
    );
}

#[test]
fn an_identifier_on_one_line_of_a_man_page_names_that_line() {
    let man = large_fixture("shell/man-jq.txt");
    let identifiers = on_one_line(&man, snake_identifiers, 2, 10);
    let ask = |w: &str| format!("What does this document say about {w}? Quote the passage.");
    each_word_keeps_its_line(&man, &identifiers, &ask, "MANWIDTH=80 man -P cat jq", 0.3);
    // `$first_ts` sits on a line otherwise like the one above it: named, it is no copy.
    let line = man.lines().find(|l| l.contains("$first_ts")).unwrap();
    let out = compress_tool_result(
        "What does this document say about first_ts? Quote the passage.",
        BASH,
        &arguments("MANWIDTH=80 man -P cat jq"),
        &man,
    );
    assert!(keeps_line(&out, line), "lost {line:?}");
}

/// `cat flag.go` says `flag`, the name of a type of the file, and `cat src/map.rs` says `map`:
/// neither outranks the word the user asked about, in a comment or a body.
#[cfg(feature = "code")]
#[test]
fn a_word_in_source_names_its_line_whatever_cat_reads() {
    for (file, command, step) in [
        (large_fixture("code/pflag-flag.go"), "cat flag.go", 9),
        (fixture("code/serde_json-map.rs"), "cat src/map.rs", 5),
    ] {
        let words = on_one_line(&file, plain_words, step, 8);
        let ask = |w: &str| format!("In this file, where is {w}? Quote the line.");
        each_word_keeps_its_line(&file, &words, &ask, command, 0.2);
    }
}

/// `Self::swap_remove_entry` names the method `swap_remove_entry` (kept whole) and the doc comment
/// that says `Self::swap_remove_entry` as asked (kept too, though it only mentions the method).
#[cfg(feature = "code")]
#[test]
fn a_qualified_name_in_a_doc_comment_survives_beside_its_function() {
    let source = fixture("code/serde_json-map.rs");
    for (name, function) in [
        ("Self::swap_remove_entry", "pub fn swap_remove_entry<Q>"),
        ("Map::values_mut", "pub fn values_mut(&mut self)"),
    ] {
        let out = compress_tool_result(
            &format!("In this file, where is {name}? Quote the line."),
            "read_file",
            r#"{"path":"src/map.rs"}"#,
            &source,
        );
        let comment = source
            .lines()
            .find(|l| l.trim_start().starts_with("///") && l.contains(name))
            .unwrap();
        assert!(keeps_line(&out, comment), "{name}: lost {comment:?}");
        let start = source.find(function).unwrap();
        let end = start + source[start..].find("\n    }\n").unwrap();
        assert!(out.text.contains(&source[start..end]), "{name}: body kept");
        assert!(out.savings() > 0.25, "{name}: {:.2} saved", out.savings());
    }
}

/// `whose `title` is Test issue 4`: the value says one digit more than every other title, and
/// names its item whole.
#[test]
fn a_field_value_of_several_words_names_its_item() {
    let output = fixture("github-issues.json");
    let issues: serde_json::Value = serde_json::from_str(&output).unwrap();
    for n in [4, 9] {
        let question = format!(
            "In the list_issues result, find the entry whose `title` is Test issue {n}. Report every field of that entry exactly as returned."
        );
        let out = compress_tool_result(
            &question,
            BASH,
            &arguments("gh api repos/o/r/issues"),
            &output,
        );
        let issue = issues
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == format!("Test issue {n}"))
            .unwrap();
        for field in ["url", "html_url", "node_id", "created_at", "updated_at"] {
            let value = issue[field].as_str().unwrap();
            assert!(
                out.text.contains(value),
                "issue {n}'s {field} kept: {value}"
            );
        }
        assert!(out.tokens_after < out.tokens_before);
    }
}
