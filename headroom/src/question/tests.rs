use super::*;

fn kinds(q: &Question) -> Vec<(AnchorKind, &str)> {
    q.anchors()
        .iter()
        .map(|a| (a.kind, a.text.as_str()))
        .collect()
}

#[test]
fn anchors_of_every_kind() {
    let q = Question::parse(
        "Why did order #1042 fail? See “fallback mode”, 'retry budget', «dry run», `cargo metadata`, \
         src/foo/util.py, Parser::parse_header, owner.login, serde_json, a1b2c3d, v1.2.3, 2024-05-01 and 8080",
    );
    let found = kinds(&q);
    for expected in [
        (AnchorKind::Reference, "1042"),
        (AnchorKind::Quoted, "fallback mode"),
        (AnchorKind::Quoted, "retry budget"),
        (AnchorKind::Quoted, "dry run"),
        (AnchorKind::Backticked, "cargo metadata"),
        (AnchorKind::Path, "src/foo/util.py"),
        (AnchorKind::Identifier, "parser::parse_header"),
        (AnchorKind::Identifier, "owner.login"),
        (AnchorKind::Identifier, "serde_json"),
        (AnchorKind::HexPrefix, "a1b2c3d"),
        (AnchorKind::Version, "v1.2.3"),
        (AnchorKind::Date, "2024-05-01"),
        (AnchorKind::Number, "8080"),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    for word in ["order", "fail", "fallback", "serde", "json"] {
        assert!(q.words().contains(&word.to_string()), "{word}: {q:?}");
    }
    assert!(!q.words().contains(&"why".to_string()));
}

#[test]
fn apostrophes_and_json_keys_are_not_quotes() {
    let q = Question::parse("Don't stop, it's fine");
    assert!(q.anchors().is_empty(), "{q:?}");
    let q = Question::parse("what failed?\n{\"command\":\"cat src/lib.rs\",\"lines\":40}");
    assert_eq!(
        kinds(&q),
        vec![(AnchorKind::Path, "src/lib.rs"), (AnchorKind::Number, "40")]
    );
    assert!(!q.words().contains(&"command".to_string()));
}

#[test]
fn paths_match_by_basename_and_by_suffix() {
    let units = [
        "src/foo/util.py:3:import os",
        "src/bar/util.py:9:import sys",
        "src/foo/main.py:1:x",
        "lib/other.rs:2:y",
    ];
    let q = Question::parse("Which lines of util.py matched?");
    assert_eq!(q.naming(&units).strong, vec![0, 1]);
    let q = Question::parse("Which lines of foo/util.py matched?");
    assert_eq!(q.naming(&units).strong, vec![0]);
    // A longer path than any unit holds names the units holding its longest suffix.
    let q = Question::parse("Which lines of /home/me/repo/src/foo/util.py matched?");
    assert_eq!(q.naming(&units).strong, vec![0]);
    let q = Question::parse("Which lines of myutil.py matched?");
    assert!(q.naming(&units).strong.is_empty());
}

#[test]
fn hex_prefixes_name_the_hashes_they_start() {
    let q = Question::parse("What did commit a1b2c3d change?");
    assert!(q.mentions("commit a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"));
    assert!(!q.mentions("commit 9a1b2c3d4e5f6"));
    assert!(!q.mentions("commit a1b2c3dx"));
    assert_eq!(q.names_value("A1B2C3D4E5F60718"), vec![0]);
    assert!(q.names_value("a1b2c3d-branch").is_empty());
}

#[test]
fn references_and_numbers_respect_token_boundaries() {
    let q = Question::parse("what about #1042 and serde_json?");
    assert!(q.mentions(r#"{"number":1042}"#));
    assert!(q.mentions("https://api.github.com/repos/o/r/issues/1042"));
    assert!(q.mentions(r#"{"name":"Serde_Json"}"#));
    assert!(!q.mentions(r#"{"number":10420}"#));
    assert!(!q.mentions(r#"{"name":"serde_json_derive"}"#));
    assert_eq!(q.names_value("1042"), vec![0]);
    assert_eq!(q.names_value("#1042"), vec![0]);
    assert!(q.names_value("10420").is_empty());
}

#[test]
fn phrases_match_across_line_breaks() {
    let q = Question::parse("the passage that mentions \"fallback strategy\"");
    assert!(q.mentions("uses a fallback\n       strategy when the primary fails"));
    assert!(!q.mentions("uses a fallback when the strategy fails"));
}

#[test]
fn an_anchor_in_most_units_names_none() {
    let units = ["id 57 state open", "id 58 state open", "id 59 state open"];
    let q = Question::parse("find the entry whose `state` is open and id is 58");
    assert_eq!(q.naming(&units).strong, vec![1]);
}

#[test]
fn weak_units_are_capped_and_ranked() {
    let units: Vec<String> = (0..20)
        .map(|i| format!("paragraph {i} about the deployment of the service"))
        .chain(["the deployment timed out twice".to_string()])
        .collect();
    let refs: Vec<&str> = units.iter().map(String::as_str).collect();
    let q = Question::parse("which deployment timed out?");
    let naming = q.naming(&refs);
    assert!(naming.strong.is_empty());
    assert_eq!(naming.weak, vec![20]);
    let q = Question::parse("tell me about the paragraph and the service deployment");
    assert!(q.naming(&refs).weak.len() <= WEAK_MAX_UNITS);
}

#[test]
fn names_of_functions_and_types() {
    let q = Question::parse("How does `Parser::parse_header` handle the 2nd line?");
    assert!(q.says_name("parse_header") && q.says_name("Parser"));
    assert!(q.says_name("handle"));
    assert!(!q.says_name("the") && !q.says_name("line"));
}

#[test]
fn the_parts_of_a_path_name_no_function() {
    let q = Question::parse("Where is `reversed`?\n{\"path\":\"regex-syntax/src/hir/mod.rs\"}");
    assert!(q.says_name("reversed"));
    assert!(!q.says_name("hir") && !q.says_name("mod"));
}

#[test]
fn the_words_of_a_quoted_phrase_name_no_function() {
    let q = Question::parse("In this file, where is 'home directory'? And `cd`?");
    assert!(!q.says_name("directory") && !q.says_name("home"));
    assert!(q.says_name("cd"));
}

#[test]
fn seven_digits_name_the_hash_they_start_not_a_longer_number() {
    let q = Question::parse("What did commit 1234567 change?");
    let units = [
        "commit 1234567ab0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5",
        "id 12345678",
        "commit 7654321ab0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5",
        "took 1234567 ms",
    ];
    assert_eq!(q.naming(&units).strong, vec![0, 3]);
    assert_eq!(
        q.names_value("1234567ab0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5"),
        vec![0]
    );
    assert!(q.names_value("12345678").is_empty());
}

#[test]
fn what_only_the_tool_call_says_never_outranks_the_users_words() {
    let arguments = r#"{"command":"cat zlib.h"}"#;
    let question = format!("In this file, where is fprintf? Quote the line.\n{arguments}");
    let q = Question::for_call(&question, Some(arguments));
    let units = [
        "/* zlib.h -- interface of the 'zlib' general purpose compression library */",
        "/* Convert, format, compress, and write the arguments to file, as in fprintf. */",
        "/* Flush the output. */",
        "/* Close the file. */",
    ];
    let naming = q.naming(&units);
    assert_eq!(
        naming.strong,
        vec![0],
        "the file's own name still names its unit"
    );
    assert!(!naming.asked_strong);
    assert_eq!(naming.weak.first(), Some(&1));
    assert_eq!(naming.rare_asked, 1);
    assert_eq!(naming.kept_whole(3), vec![0, 1]);
    // Said by the user, the same anchor settles it.
    let q = Question::for_call(&format!("What is zlib.h?\n{arguments}"), Some(arguments));
    assert!(q.naming(&units).asked_strong);
    // Names: `flag` of `cat flag.go` is the call's, not the user's.
    let arguments = r#"{"command":"cat flag.go"}"#;
    let q = Question::for_call(&format!("Where is pointers?\n{arguments}"), Some(arguments));
    assert!(q.says_name("flag") && !q.asks_name("flag"));
    assert!(q.asks_name("pointers"));
    assert_eq!(q.asked_only().words(), ["pointers"]);
}

#[test]
fn a_field_value_of_several_words_is_a_phrase() {
    let q = Question::parse(
        "Find the entry whose `title` is Test issue 4. Report every field of that entry.",
    );
    assert!(kinds(&q).contains(&(AnchorKind::Quoted, "test issue 4")));
    let units = [
        "{\"title\":\"Test issue 4\"}",
        "{\"title\":\"Test issue 40\"}",
        "{\"title\":\"Test issue 14\"}",
    ];
    assert_eq!(q.naming(&units).strong, vec![0]);
    assert_eq!(q.names_value("Test issue 4").len(), 1);
    assert!(q.names_value("Test issue 40").is_empty());
    // One word, a quoted value or no field: no phrase of its own.
    for question in [
        "the entry whose name is serde",
        "the entry whose title is \"a b\"",
        "where is the parser defined?",
    ] {
        assert!(read::field_values(question).is_empty(), "{question}");
    }
    assert_eq!(
        read::field_values("Orders where the status = payment declined. Why?"),
        ["payment declined"]
    );
}

/// The least level any unit reaches, and the units reaching it, read unit by unit.
fn least_level_units(anchor: &Anchor, units: &[&str], phrases: bool) -> Vec<usize> {
    let mut lowered = Lowered::default();
    let levels: Vec<Option<usize>> = units
        .iter()
        .map(|u| {
            let (lower, squashed) = lowered.of(u, phrases);
            anchor.level(lower, squashed)
        })
        .collect();
    let Some(least) = levels.iter().flatten().min() else {
        return Vec::new();
    };
    (0..units.len())
        .filter(|&i| levels[i] == Some(*least))
        .collect()
}

proptest::proptest! {
    /// Looking for each form once over all units lowered together finds the units that reading
    /// them one by one finds: forms across unit ends, overlapping and case-folded included.
    #[test]
    fn one_pass_over_all_units_is_unit_by_unit(
        units in proptest::collection::vec("[aAbB1 _./:#\tİσΣ-]{0,12}", 0..8),
        question in "[`'\"]?[aAbB1 _./:#-]{1,9}[`'\"]?( a1b2c3d| 1234567| src/a.b| a::b)?",
    ) {
        let q = Question::parse(&question);
        let units: Vec<&str> = units.iter().map(String::as_str).collect();
        let lowered = LoweredUnits::new(&units, q.phrases);
        for anchor in q.anchors() {
            proptest::prop_assert_eq!(
                anchor.most_specific_units(&lowered),
                least_level_units(anchor, &units, q.phrases),
                "{:?}", anchor
            );
        }
    }
}

#[test]
fn a_form_across_two_units_names_neither() {
    let q = Question::parse("where is 'fallback' and a1b2c3d?");
    let units = ["x fall", "back y", "zz a1b2", "c3d0 z", "x A1B2C3D4e y"];
    let lowered = LoweredUnits::new(&units, q.phrases);
    let found: Vec<Vec<usize>> = q
        .anchors()
        .iter()
        .map(|a| a.most_specific_units(&lowered))
        .collect();
    assert_eq!(found, vec![vec![], vec![4]], "{:?}", q.anchors());
}

#[test]
fn a_long_run_of_a_hash_prefix_is_read_in_linear_time() {
    // Every position of the run starts the prefix; only the first starts a token. Scanning the
    // rest of the run from each of them took minutes (a complexity guard, not a speed target).
    let run = "1".repeat(200_000);
    let q = Question::parse("what is commit 1111111?");
    let started = std::time::Instant::now();
    let units = ["x 11111112 y", run.as_str(), "1111111af ok"];
    assert_eq!(q.naming(&units).strong, vec![2], "{:?}", q.anchors());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
