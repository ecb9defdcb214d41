//! Prose through the whole engine: real man pages and a real README as tool results, a user
//! question whose answer is one paragraph. What must hold:
//! - the answering paragraph survives verbatim;
//! - at least 30% of the tokens are saved;
//! - every piece of kept text is the original's, cut only at whitespace (no word, number, path or
//!   URL is split) and in the original order;
//! - every marker's hash retrieves the exact original; the output is the same on every run.
//!
//! Man pages are rendered by `scripts/fixtures.sh` into `target/fixtures/prose/`; the README
//! (serde_json 1.0.154's, MIT OR Apache-2.0) is committed under `tests/fixtures/prose/`.

mod content_support;

use content_support::{compress_tool_result, fixture, large_fixture, Outcome};
use headroom::marker::Marker;

/// The paragraph of `text` that starts at the line containing `anchor`: up to the next blank
/// line, or, when the anchor line is a term with an indented definition (a man page entry), up to
/// the next line indented no deeper than the term.
fn paragraph_at<'t>(text: &'t str, anchor: &str) -> &'t str {
    let start = text.find(anchor).expect("anchor in the fixture");
    let start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut lines = text[start..].lines();
    let first_indent = indent(lines.next().unwrap());
    let entry = lines.next().is_some_and(|l| indent(l) > first_indent);
    let mut end = start;
    for (i, line) in text[start..].split_inclusive('\n').enumerate() {
        if i > 0 && (line.trim().is_empty() || (entry && indent(line) <= first_indent)) {
            break;
        }
        end += line.len();
    }
    &text[start..end]
}

/// Every run of text between markers is a piece of the original, found in order, starting and
/// ending at whitespace (or the text's ends). (Marker hashes are checked by `compress_tool_result`.)
fn assert_faithful(name: &str, original: &str, text: &str) {
    assert!(Marker::is_in(text), "{name}: nothing elided");
    let mut at = 0;
    for piece in split_at_markers(text) {
        let piece = piece.trim_matches(|c: char| c.is_whitespace());
        if piece.is_empty() {
            continue;
        }
        let found = original[at..]
            .find(piece)
            .unwrap_or_else(|| panic!("{name}: not a piece of the original, in order:\n{piece}"));
        let start = at + found;
        let end = start + piece.len();
        let before = original[..start].chars().next_back();
        let after = original[end..].chars().next();
        assert!(
            before.is_none_or(char::is_whitespace) && after.is_none_or(char::is_whitespace),
            "{name}: cut inside a word around {piece:?}"
        );
        at = end;
    }
}

fn split_at_markers(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("[… ") {
        let close = rest[open..].find(']').map_or(rest.len(), |i| open + i + 1);
        pieces.push(&rest[..open]);
        rest = &rest[close..];
    }
    pieces.push(rest);
    pieces
}

fn check_man(page: &str, question: &str, anchor: &str) {
    let original = large_fixture(&format!("prose/man-{page}.txt"));
    // A documentation tool: the detector reads a command runner's output as logs.
    let arguments = format!(r#"{{"page":"{page}(1)"}}"#);
    let out = compress_tool_result(question, "read_manual", &arguments, &original);
    assert_prose(&out, page);
    let answer = paragraph_at(&original, anchor);
    assert!(
        out.text.contains(answer),
        "man {page}: the answer is not intact:\n{answer}"
    );
    assert_faithful(page, &original, &out.text);
}

fn assert_prose(out: &Outcome, name: &str) {
    assert_eq!(out.content_type, "text", "{name}");
    assert!(out.savings() >= 0.3, "{name}: less than 30% saved");
}

#[test]
fn man_tar_keeps_the_exclude_option() {
    check_man(
        "tar",
        "How do I exclude files matching a pattern when creating an archive with tar?",
        "--exclude=PATTERN",
    );
}

#[test]
fn man_bash_keeps_the_history_size_variable() {
    check_man(
        "bash",
        "How many commands does the shell remember in its history? Which variable sets it (HISTSIZE)?",
        "       HISTSIZE\n",
    );
}

#[test]
fn man_git_keeps_the_no_pager_option() {
    check_man(
        "git",
        "How do I stop git from piping its output into a pager?",
        "       -P, --no-pager",
    );
}

#[test]
fn readme_with_code_and_json_blocks() {
    let original = fixture("prose/serde_json-README.md");
    let out = compress_tool_result(
        "How do I turn a string of untyped JSON into a serde_json::Value and index into it?",
        "read_file",
        r#"{"path":"README.md"}"#,
        &original,
    );
    assert_prose(&out, "README.md");
    let answer = paragraph_at(
        &original,
        "A string of JSON data can be parsed into a `serde_json::Value` by the",
    );
    assert!(
        out.text.contains(answer),
        "the answer is not intact:\n{answer}"
    );
    // Every fenced block that is still there keeps both fence lines; the JSON block, if kept, went
    // through the JSON compressor (minified).
    assert_eq!(out.text.matches("```").count() % 2, 0);
    let json_open = original.find("```json\n").unwrap() + "```json\n".len();
    let json_block = &original[json_open..json_open + original[json_open..].find("```").unwrap()];
    assert!(!out.text.contains(json_block.trim()));
    assert_faithful("README", &original, &out.text);
}

/// Mixed content: prose around a fenced block of real source. The block goes through the code
/// compressor (its bodies elided, its fences kept, the Rust still parsing), the prose around it
/// through the prose compressor.
#[cfg(feature = "code")]
#[test]
fn prose_with_a_fenced_source_file() {
    let readme = fixture("prose/serde_json-README.md");
    let source = large_fixture("code/serde_json-de.rs");
    let original = format!(
        "{}\nThe deserializer behind `from_str`:\n\n```rust\n{source}```\n\n{}",
        &readme[..readme.find("## Operating on untyped JSON values").unwrap()],
        &readme[readme.find("## Parsing JSON as strongly typed").unwrap()..]
    );
    let out = compress_tool_result(
        "Where does serde_json parse integers (parse_integer)?",
        "answer_with_context",
        "{}",
        &original,
    );
    assert_prose(&out, "mixed");
    let open = out.text.find("```rust\n").expect("the fence stays") + "```rust\n".len();
    let close = open + out.text[open..].find("\n```").unwrap() + 1;
    let block = &out.text[open..close];
    assert!(
        block.contains("{ /* [… "),
        "the bodies went through the code compressor"
    );
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .unwrap();
    assert!(!parser.parse(block, None).unwrap().root_node().has_error());
    assert!(
        block.contains("fn parse_integer(&mut self, positive: bool) -> Result<ParserNumber> {\n")
    );
}

/// A long listing (`ls -la`) is records, one per line: its lines are the units, even though an
/// entry named `.` now and then ends a "sentence" (which left a few huge units and nothing cut).
#[test]
fn a_long_listing_is_cut_into_lines() {
    let listing = fixture("listing/ls-la-usr-bin.txt");
    let asked = listing
        .lines()
        .find(|l| l.ends_with(" gcc-12 -> x86_64-linux-gnu-gcc-12"))
        .expect("the listing has gcc-12");
    let out = compress_tool_result(
        "Where does `gcc-12` point?",
        "bash",
        r#"{"command":"ls -la /usr/bin"}"#,
        &listing,
    );
    assert!(out.text.contains(asked), "the asked line is kept");
    assert!(Marker::is_in(&out.text), "what was cut is marked");
    assert!(out.savings() > 0.5, "{:.2} saved", out.savings());
}
