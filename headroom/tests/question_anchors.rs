//! What the question names survives, whatever kind of reference names it: a file by base name or
//! path suffix in grep output, a commit by a 7-digit SHA prefix, an issue by `#N`, a passage by a
//! quoted word, a function by its name. Real outputs, through the whole engine.

mod content_support;
use content_support::{compress_tool_result, fixture, large_fixture};

/// Grep hits of one file, as `path:line:text` lines.
fn hits_of<'a>(output: &'a str, path: &str) -> Vec<&'a str> {
    output
        .lines()
        .filter(|l| l.split(':').next() == Some(path))
        .collect()
}

/// Whether a search output (grouped under paths) keeps the hit `path:line:text`.
fn keeps_hit(text: &str, hit: &str, path: &str) -> bool {
    let rest = &hit[path.len() + 1..];
    text.split("\n\n")
        .filter(|block| block.lines().next() == Some(path))
        .any(|block| block.lines().any(|l| l == rest))
}

#[test]
fn every_hit_of_a_file_named_by_its_base_name_or_path_suffix() {
    let output = fixture("search/grep-memchr-unsafe-fn.txt");
    let args = r#"{"pattern":"unsafe fn","path":"src"}"#;
    for (question, path) in [
        (
            "Which lines of searcher.rs matched?",
            "src/memmem/searcher.rs",
        ),
        (
            "Show me the hits in avx2/memchr.rs.",
            "src/arch/x86_64/avx2/memchr.rs",
        ),
    ] {
        let out = compress_tool_result(question, "grep", args, &output);
        let hits = hits_of(&output, path);
        assert!(hits.len() > 10, "{path} has many hits");
        for hit in &hits {
            assert!(keeps_hit(&out.text, hit, path), "{question}: lost {hit}");
        }
        assert!(
            out.savings() > 0.5,
            "{question}: {:.2} saved",
            out.savings()
        );
    }
    // The suffix names one file: the other `memchr.rs` files keep only their best hits.
    let out = compress_tool_result("Show me the hits in avx2/memchr.rs.", "grep", args, &output);
    let other = hits_of(&output, "src/arch/x86_64/sse2/memchr.rs");
    let kept = other
        .iter()
        .filter(|h| keeps_hit(&out.text, h, "src/arch/x86_64/sse2/memchr.rs"))
        .count();
    assert!(kept < other.len(), "sse2/memchr.rs is not asked about");
}

#[test]
fn a_commit_named_by_a_short_sha_keeps_all_its_fields() {
    let output = fixture("json/git-log-commits.json");
    let commits: serde_json::Value = serde_json::from_str(&output).unwrap();
    for index in [5, 17, 33] {
        let commit = &commits[index];
        let sha = commit["sha"].as_str().unwrap();
        let question = format!("What did commit {} change, and who wrote it?", &sha[..7]);
        let out = compress_tool_result(&question, "list_commits", "{}", &output);
        assert!(out.savings() > 0.3, "{:.2} saved", out.savings());
        let message = commit["commit"]["message"].as_str().unwrap();
        let date = commit["commit"]["author"]["date"].as_str().unwrap();
        let head: String = message
            .chars()
            .take_while(|c| *c != '"' && *c != '\\')
            .take(30)
            .collect();
        // Kept whole: one table row, or one JSON object, holds its sha, its date and its message.
        let whole = out
            .text
            .lines()
            .flat_map(|l| l.split("{\"sha\":"))
            .any(|unit| unit.contains(sha) && unit.contains(date) && unit.contains(&head));
        assert!(whole, "{sha} kept whole");
    }
}

#[test]
fn an_issue_named_by_its_number_is_kept_whole() {
    let output = fixture("github-issues.json");
    let issues: serde_json::Value = serde_json::from_str(&output).unwrap();
    let out = compress_tool_result(
        "What is the state of #7?",
        "list_issues",
        r#"{"state":"all"}"#,
        &output,
    );
    let issue = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == 7)
        .unwrap();
    for field in ["url", "html_url", "title", "created_at", "node_id"] {
        let value = issue[field].as_str().unwrap();
        assert!(out.text.contains(value), "#7's {field} kept: {value}");
    }
    assert!(out.tokens_after < out.tokens_before);
}

/// 500 closed issues of a real repository, bodies and all (`scripts/fixtures.sh`): the ones asked
/// about by number survive whole among the hundreds that go.
#[test]
fn issues_named_by_number_on_a_long_page() {
    let output = large_fixture("github-closed-issues.json");
    let issues: serde_json::Value = serde_json::from_str(&output).unwrap();
    let issues = issues.as_array().unwrap();
    for index in [3, 250, 497] {
        let issue = &issues[index];
        let number = issue["number"].as_u64().unwrap();
        let question = format!("Why was #{number} closed? Give its title and who opened it.");
        let out = compress_tool_result(&question, "list_issues", r#"{"state":"closed"}"#, &output);
        for field in ["html_url", "created_at", "closed_at"] {
            let value = issue[field].as_str().unwrap();
            assert!(
                out.text.contains(value),
                "#{number}'s {field} kept: {value}"
            );
        }
        assert!(out.text.contains(issue["user"]["login"].as_str().unwrap()));
        assert!(out.savings() > 0.5, "#{number}: {:.2} saved", out.savings());
    }
}

#[test]
fn a_quoted_word_names_its_passage_in_any_quote_style() {
    let output = fixture("prose/serde_json-README.md");
    // A word found in one paragraph only, asked about in three quote styles.
    let line = output
        .lines()
        .find(|l| l.contains("untyped"))
        .expect("the README talks about untyped values");
    for question in [
        "What does the README say about \"untyped\"?",
        "What does the README say about 'untyped'?",
        "What does the README say about «untyped»?",
    ] {
        let out = compress_tool_result(question, "read_file", r#"{"path":"README.md"}"#, &output);
        assert!(out.text.contains(line), "{question}: lost {line:?}");
        assert!(
            out.savings() > 0.2,
            "{question}: {:.2} saved",
            out.savings()
        );
    }
}

/// Source is read by function only with the `code` feature (tree-sitter).
#[cfg(feature = "code")]
#[test]
fn a_named_function_keeps_its_body_and_a_qualifier_names_no_type() {
    let output = fixture("code/serde_json-map.rs");
    let out = compress_tool_result(
        "How does Map::retain decide what to keep?",
        "read_file",
        r#"{"path":"src/map.rs"}"#,
        &output,
    );
    let start = output.find("    pub fn retain<F>").unwrap();
    let end = start + output[start..].find("\n    }\n").unwrap() + 7;
    assert!(out.text.contains(&output[start..end]), "retain's body kept");
    // `Map` qualifies `retain`: the other methods of `Map` keep only their signatures.
    assert!(out
        .text
        .contains("pub fn entry<S>(&mut self, key: S) -> Entry"));
    assert!(out.savings() > 0.3, "{:.2} saved", out.savings());
}
