//! Search hits through the whole engine: real `grep -rn` over crates from the cargo registry.

mod content_support;
use content_support::{compress_tool_result, fixture, large_fixture};
use headroom::marker::Marker;
use std::collections::BTreeMap;

/// Hits per file of `grep -rn` output.
fn hits_per_file(output: &str) -> BTreeMap<&str, usize> {
    let mut files = BTreeMap::new();
    for line in output.lines() {
        *files.entry(line.split(':').next().unwrap()).or_insert(0) += 1;
    }
    files
}

/// Every file of the output is named, and its kept hits plus its marker's count are all its hits.
fn every_file_accounted_for(output: &str, text: &str) {
    let blocks: Vec<&str> = text.split("\n\n").collect();
    let files = hits_per_file(output);
    assert_eq!(blocks.len(), files.len(), "one block per file");
    for block in blocks {
        let mut lines = block.lines();
        let path = lines.next().unwrap();
        let total = files[path];
        let rest: Vec<&str> = lines.collect();
        let kept = rest.iter().filter(|l| !Marker::is_in(l)).count();
        let omitted: usize = rest
            .iter()
            .flat_map(|l| Marker::parse_all(l))
            .map(|m| {
                assert_eq!(m.total, Some(total), "marker total for {path}");
                m.omitted
            })
            .sum();
        assert!(kept >= 1, "{path} keeps at least one hit");
        assert_eq!(kept + omitted, total, "hits of {path} accounted for");
        // Kept hits are the original lines, regrouped under their path.
        for hit in rest.iter().filter(|l| !Marker::is_in(l)) {
            let original = format!("{path}:{hit}");
            assert!(
                output.lines().any(|l| l == original),
                "not an original hit: {original}"
            );
        }
    }
}

#[test]
fn grep_over_memchr_keeps_the_asked_definition_and_every_file() {
    let output = fixture("search/grep-memchr-unsafe-fn.txt");
    assert!(output.lines().count() >= 100);
    let out = compress_tool_result(
        "where is count_raw_avx2 defined?",
        "grep",
        r#"{"pattern":"unsafe fn","path":"src"}"#,
        &output,
    );
    assert_eq!(out.content_type, "search");
    every_file_accounted_for(&output, &out.text);
    let block = out
        .text
        .split("\n\n")
        .find(|b| b.starts_with("src/arch/x86_64/avx2/memchr.rs\n"))
        .expect("the avx2 file");
    assert!(block
        .lines()
        .any(|l| l == "436:    unsafe fn count_raw_avx2("));
    assert!(out.savings() >= 0.70, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn grep_over_regex_automata_keeps_every_file_and_the_pattern_matches() {
    let output = large_fixture("grep-regex-automata-fn.txt");
    let out = compress_tool_result(
        "how does the DFA search run find_fwd?",
        "search_code",
        r#"{"query":"fn find_fwd"}"#,
        &output,
    );
    assert_eq!(out.content_type, "search");
    every_file_accounted_for(&output, &out.text);
    for hit in [
        "15:pub fn find_fwd<A: Automaton + ?Sized>(",
        "13:pub(crate) fn find_fwd(",
    ] {
        assert!(out.text.lines().any(|l| l == hit), "lost {hit}");
    }
    assert!(out.savings() >= 0.70, "saved {:.1}%", out.savings() * 100.0);
}
