//! Prose through the whole engine: real man pages and a real README as tool results, a user
//! question whose answer is one paragraph. What must hold:
//! - the answering paragraph survives verbatim;
//! - at least 30% of the tokens are saved;
//! - every piece of kept text is the original's, cut only at whitespace (no word, number, path or
//!   URL is split) and in the original order;
//! - every marker's hash retrieves the exact original; the output is the same on every run.
//!
//! Man pages are rendered by `scripts/fixtures.sh` into `target/fixtures/prose/`; the README is
//! committed under `tests/fixtures/prose/`.

use headroom::marker::Marker;
use headroom::{CompressedJson, Headroom};
use serde_json::{json, Value};
use std::path::PathBuf;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `bash scripts/fixtures.sh` first)",
            path.display()
        )
    })
}

fn man(page: &str) -> String {
    read(&format!("../target/fixtures/prose/man-{page}.txt"))
}

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

fn compress(tool: &str, arguments: Value, question: &str, content: &str) -> CompressedJson {
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": tool, "arguments": arguments.to_string()}
            }]},
            {"role": "tool", "tool_call_id": "call_1", "content": content}
        ]
    });
    let bytes = serde_json::to_vec(&body).unwrap();
    let hr = Headroom::default();
    let out = hr.compress_json(&bytes).unwrap();
    let again = hr.compress_json(&bytes).unwrap();
    assert_eq!(out.body, again.body, "deterministic");
    out
}

fn tool_text(out: &CompressedJson, name: &str) -> String {
    let sent: Value = serde_json::from_slice(&out.body).unwrap();
    let text = sent["messages"][2]["content"].as_str().unwrap().to_string();
    if let Some(dir) = std::env::var_os("HEADROOM_TEST_DUMP") {
        std::fs::write(PathBuf::from(dir).join(name), &text).unwrap();
    }
    text
}

/// Every run of text between markers is a piece of the original, found in order, starting and
/// ending at whitespace (or the text's ends); and every marker hash retrieves the original.
fn assert_faithful(name: &str, original: &str, text: &str, out: &CompressedJson) {
    let markers = Marker::parse_all(text);
    assert!(!markers.is_empty(), "{name}: nothing elided");
    for marker in &markers {
        let stored = out.originals.iter().find(|o| o.hash == marker.hash);
        assert_eq!(
            stored.map(|o| o.text.as_str()),
            Some(original),
            "{name}: {marker:?}"
        );
    }
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

fn saved(out: &CompressedJson, name: &str) -> f64 {
    let segment = out
        .report
        .segments
        .iter()
        .find(|s| s.message_index == 2)
        .unwrap();
    assert_eq!(segment.content_type, "text", "{name}: {segment:?}");
    let saved = 1.0 - segment.tokens_after as f64 / segment.tokens_before as f64;
    eprintln!(
        "{name}: {} -> {} tokens ({:.1}% saved), {:?}",
        segment.tokens_before,
        segment.tokens_after,
        saved * 100.0,
        segment.transforms
    );
    saved
}

fn check_man(page: &str, question: &str, anchor: &str) {
    let original = man(page);
    // A documentation tool: the detector reads a command runner's output as logs.
    let out = compress(
        "read_manual",
        json!({"page": format!("{page}(1)")}),
        question,
        &original,
    );
    let text = tool_text(&out, page);
    let saved = saved(&out, page);
    let answer = paragraph_at(&original, anchor);
    assert!(
        text.contains(answer),
        "man {page}: the answer is not intact:\n{answer}"
    );
    assert!(saved >= 0.3, "man {page}: less than 30% saved");
    assert_faithful(page, &original, &text, &out);
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
    let original = read("tests/fixtures/prose/serde_json-README.md");
    let out = compress(
        "read_file",
        json!({"path": "README.md"}),
        "How do I turn a string of untyped JSON into a serde_json::Value and index into it?",
        &original,
    );
    let text = tool_text(&out, "README.md");
    let answer = paragraph_at(
        &original,
        "A string of JSON data can be parsed into a `serde_json::Value` by the",
    );
    assert!(text.contains(answer), "the answer is not intact:\n{answer}");
    // Every fenced block that is still there keeps both fence lines; the JSON block went through
    // the JSON compressor.
    assert_eq!(text.matches("```").count() % 2, 0);
    let segment = out
        .report
        .segments
        .iter()
        .find(|s| s.message_index == 2)
        .unwrap();
    assert!(
        segment.transforms.contains(&"json:minify".to_string()),
        "{segment:?}"
    );
    assert!(saved(&out, "serde_json README") >= 0.3);
    assert_faithful("README", &original, &text, &out);
}

/// Mixed content: prose around a fenced block of real source. The block goes through the code
/// compressor (its bodies elided, its fences kept, the Rust still parsing), the prose around it
/// through the prose compressor.
#[cfg(feature = "code")]
#[test]
fn prose_with_a_fenced_source_file() {
    let readme = read("tests/fixtures/prose/serde_json-README.md");
    let source = read("../target/fixtures/code/serde_json-de.rs");
    let original = format!(
        "{}\nThe deserializer behind `from_str`:\n\n```rust\n{source}```\n\n{}",
        &readme[..readme.find("## Operating on untyped JSON values").unwrap()],
        &readme[readme.find("## Parsing JSON as strongly typed").unwrap()..]
    );
    let out = compress(
        "answer_with_context",
        json!({}),
        "Where does serde_json parse integers (parse_integer)?",
        &original,
    );
    let text = tool_text(&out, "mixed.md");
    let segment = out
        .report
        .segments
        .iter()
        .find(|s| s.message_index == 2)
        .unwrap();
    assert!(
        segment
            .transforms
            .contains(&"code:elide-bodies".to_string()),
        "{segment:?}"
    );
    let open = text.find("```rust\n").expect("the fence stays") + "```rust\n".len();
    let close = open + text[open..].find("\n```").unwrap() + 1;
    let block = &text[open..close];
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .unwrap();
    assert!(!parser.parse(block, None).unwrap().root_node().has_error());
    assert!(
        block.contains("fn parse_integer(&mut self, positive: bool) -> Result<ParserNumber> {\n")
    );
    assert!(saved(&out, "mixed") >= 0.3);
    for marker in Marker::parse_all(&text) {
        let stored = out
            .originals
            .iter()
            .find(|o| o.hash == marker.hash)
            .unwrap();
        assert_eq!(stored.text, original);
    }
}
