//! Every `bash` case of the collected corpus (`bench/corpus/collect.sh`) reaches the compressor of
//! its kind through `detect_with_hints`, with the tool's name and its arguments as agents send them.
//!
//! The corpus is collected by `bash scripts/bench.sh` (it needs the package registries), not by
//! the test command: without it this test says so and checks nothing.

use headroom::detect::{detect_with_hints, ContentType, Hints};
use std::path::Path;

#[test]
fn every_shell_case_is_routed_to_its_kind() {
    let raw = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench/raw"));
    let Ok(manifest) = std::fs::read_to_string(raw.join("manifest.tsv")) else {
        eprintln!(
            "shell_routing: no collected corpus (run `bash scripts/bench.sh`); nothing checked"
        );
        return;
    };
    let mut checked = 0;
    for line in manifest.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [id, kind, tool, arguments, file, _source] = fields[..] else {
            panic!("bad manifest line: {line:?}");
        };
        if tool != "bash" {
            continue;
        }
        let text = std::fs::read_to_string(raw.join(file)).unwrap();
        let hints = Hints::default()
            .with_tool_name(Some(tool))
            .with_tool_arguments(Some(arguments));
        let routed = detect_with_hints(&text, &hints);
        let routed_kind = match routed {
            ContentType::Code(_) => "code",
            ContentType::Text => "text",
            ContentType::Logs => "logs",
            ContentType::Diff => "diff",
            ContentType::SearchHits => "search",
            ContentType::Json => "json",
            _ => "other",
        };
        assert_eq!(routed_kind, kind, "{id}: {arguments} routed as {routed:?}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} shell cases in the corpus");
}
