//! Diffs through the whole engine: real diffs between two releases of crates from the cargo registry.

mod content_support;
use content_support::{compress_tool_result, fixture, large_fixture};

/// The lines of the hunk whose header is `header` (up to the next hunk or file).
fn hunk<'d>(diff: &'d str, file_line: &str, header: &str) -> Vec<&'d str> {
    let lines: Vec<&str> = diff.lines().collect();
    let file = lines
        .iter()
        .position(|l| *l == file_line)
        .expect("the file");
    let start = file
        + lines[file..]
            .iter()
            .position(|l| *l == header)
            .expect("the hunk");
    let len = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("@@ ") || l.starts_with("diff "))
        .unwrap_or(lines.len() - start - 1);
    lines[start..=start + len].to_vec()
}

/// Every file header and hunk header of the original is in the output, in order.
fn every_header_kept(diff: &str, text: &str, summarised: &[&str]) {
    let mut out = text.lines();
    let mut file = "";
    for line in diff.lines() {
        if line.starts_with("diff ") {
            file = line;
        }
        let header =
            line.starts_with("diff ") || line.starts_with("--- ") || line.starts_with("+++ ");
        let hunk_header = line.starts_with("@@ ") && !summarised.iter().any(|s| file.ends_with(s));
        if header || hunk_header {
            assert!(
                out.any(|l| l == line),
                "header lost or out of order: {line}"
            );
        }
    }
}

#[test]
fn foldhash_release_diff_keeps_the_asked_hunk_whole() {
    let diff = fixture("diff/foldhash-0.1.5-0.2.0.diff");
    let out = compress_tool_result(
        "why does FoldHasher hold a seeds reference now? look at with_seed",
        "git_diff",
        r#"{"from":"foldhash-0.1.5","to":"foldhash-0.2.0"}"#,
        &diff,
    );
    assert_eq!(out.content_type, "diff");
    every_header_kept(&diff, &out.text, &["Cargo.lock"]);
    let asked = hunk(
        &diff,
        "diff -ru foldhash-0.1.5/src/fast.rs foldhash-0.2.0/src/fast.rs",
        "@@ -11,29 +11,23 @@",
    );
    assert!(
        out.text.contains(&asked.join("\n")),
        "the asked-about hunk is whole"
    );
    let added = diff
        .lines()
        .skip_while(|l| !l.ends_with("foldhash-0.2.0/Cargo.lock"))
        .skip(3)
        .take_while(|l| !l.starts_with("diff "))
        .filter(|l| l.starts_with('+'))
        .count();
    let removed = diff
        .lines()
        .skip_while(|l| !l.ends_with("foldhash-0.2.0/Cargo.lock"))
        .skip(3)
        .take_while(|l| !l.starts_with("diff "))
        .filter(|l| l.starts_with('-'))
        .count();
    assert!(
        out.text
            .contains(&format!("Cargo.lock: +{added} −{removed} lines [… ")),
        "lock file summarised"
    );
    assert!(out.savings() >= 0.40, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn base64_release_diff_keeps_the_asked_hunk_and_every_header() {
    let diff = large_fixture("base64-0.22.1-0.23.1.diff");
    let out = compress_tool_result(
        "how does the new Symbol type use is_valid_b64_symbol?",
        "bash",
        r#"{"command":"git diff --no-index base64-0.22.1 base64-0.23.1"}"#,
        &diff,
    );
    assert_eq!(out.content_type, "diff");
    every_header_kept(&diff, &out.text, &["Cargo.lock"]);
    let asked = hunk(
        &diff,
        "diff --git a/base64-0.22.1/src/alphabet.rs b/base64-0.23.1/src/alphabet.rs",
        "@@ -121,13 +129,85 @@ impl Alphabet {",
    );
    assert!(asked.len() > 80);
    assert!(
        out.text.contains(&asked.join("\n")),
        "the asked-about hunk is whole"
    );
    assert!(out.savings() >= 0.40, "saved {:.1}%", out.savings() * 100.0);
}

#[test]
fn a_file_named_by_the_tool_call_stays_whole() {
    let diff = fixture("diff/foldhash-0.1.5-0.2.0.diff");
    let out = compress_tool_result(
        "review this change",
        "git_diff",
        r#"{"path":"src/quality.rs"}"#,
        &diff,
    );
    let start = diff.find("diff -ru foldhash-0.1.5/src/quality.rs").unwrap();
    let end = diff[start + 1..]
        .find("\ndiff ")
        .map_or(diff.len(), |e| start + 1 + e + 1);
    assert!(
        out.text.contains(&diff[start..end]),
        "src/quality.rs is whole"
    );
}

#[cfg(feature = "code")]
#[test]
fn a_new_source_file_keeps_its_signatures() {
    // base64 0.23 adds src/engine/simd.rs (807 lines): read as Rust, bodies elided inside comments.
    let diff = large_fixture("base64-0.22.1-0.23.1.diff");
    let out = compress_tool_result(
        "how does the new Symbol type use is_valid_b64_symbol?",
        "bash",
        r#"{"command":"git diff --no-index base64-0.22.1 base64-0.23.1"}"#,
        &diff,
    );
    for signature in [
        "+unsafe fn avx2_encode(kind: SimdKind, input: &[u8], output: &mut [u8]) -> (usize, usize) {",
        "+    pub fn standard(config: GeneralPurposeConfig) -> Self {",
    ] {
        assert!(
            out.text.lines().any(|l| l.starts_with(signature)),
            "signature lost: {signature}"
        );
    }
    assert!(
        out.text.contains("{ /* [… "),
        "bodies elided inside comments"
    );
}
