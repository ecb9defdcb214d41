//! Each keep rule of the SmartCrusher, switched on and off, on real data: with a tight budget the item
//! a rule is for survives only while the rule is on.

mod content_support;
mod crush_support;

use crush_support::*;
use headroom::Config;
use serde_json::Value;

/// Every rule off, one item kept at each end, room for `extra` more.
fn bare(extra: usize) -> Config {
    let mut config = Config::default();
    config.crush.keep_first = 1;
    config.crush.keep_last = 1;
    config.crush.max_items = 2 + extra;
    config.crush.keep_errors = false;
    config.crush.keep_named = false;
    config.crush.bm25_top = 0;
    config.crush.outlier_sigma = None;
    config.crush.keep_change_points = false;
    config.crush.rare_fraction = 0.0;
    config
}

/// Indices (into `original`) of the items kept in `crushed`.
fn kept_indices(original: &Value, crushed: &Value) -> Vec<usize> {
    assert_accounted(original, crushed);
    let items = original.as_array().unwrap();
    kept(crushed)
        .into_iter()
        .map(|k| items.iter().position(|o| o == k).unwrap())
        .collect()
}

fn issues() -> (String, Value) {
    let output = large_fixture("github-closed-issues.json");
    let value = serde_json::from_str(&output).unwrap();
    (output, value)
}

fn runs() -> (String, Value) {
    let output = large_fixture("github-workflow-runs.json");
    let value: Value = serde_json::from_str(&output).unwrap();
    (output, value["workflow_runs"].clone())
}

fn run_index(runs: &Value, conclusion: &str) -> usize {
    runs.as_array()
        .unwrap()
        .iter()
        .position(|r| r["conclusion"] == conclusion)
        .unwrap()
}

#[test]
fn first_and_last_items() {
    let (output, original) = issues();
    let mut config = bare(0);
    config.crush.keep_first = 3;
    config.crush.keep_last = 2;
    config.crush.max_items = 5;
    let out = crush_with(config, "", "list_issues", "{}", &output);
    assert_eq!(kept_indices(&original, &out.value), vec![0, 1, 2, 498, 499]);
    assert_eq!(out.markers.len(), 1);
    assert_eq!(out.markers[0].omitted, 495);
}

#[test]
fn error_items() {
    let (output, original) = runs();
    let failure = run_index(&original, "failure");
    let on = |keep_errors| {
        let mut config = bare(0);
        config.crush.keep_errors = keep_errors;
        let out = crush_with(config, "", "list_workflow_runs", "{}", &output);
        kept_indices(&original, &out.value["workflow_runs"])
    };
    assert!(on(true).contains(&failure));
    assert!(!on(false).contains(&failure));
}

#[test]
fn numeric_outliers() {
    // One issue has 46 comments; no other has more than 28.
    let (output, original) = issues();
    let busiest = original
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .max_by_key(|(_, i)| i["comments"].as_u64())
        .map(|(at, _)| at)
        .unwrap();
    let on = |sigma| {
        let mut config = bare(1);
        config.crush.outlier_sigma = sigma;
        let out = crush_with(config, "", "list_issues", "{}", &output);
        kept_indices(&original, &out.value)
    };
    assert!(on(Some(2.0)).contains(&busiest));
    assert!(!on(None).contains(&busiest));
}

#[test]
fn change_points_in_ordered_data() {
    // The runs come newest first, in bursts; run ids drop far more between bursts (CI idle for days)
    // than within one. The rule keeps both sides of each such drop away from the array's ends.
    let (output, original) = runs();
    let ids: Vec<u64> = original
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    let mut drops: Vec<u64> = ids.windows(2).map(|w| w[0] - w[1]).collect();
    drops.sort_unstable();
    let median = drops[drops.len() / 2];
    // The two biggest drops away from the ends (the rule's windows need a few runs on each side).
    let mut bursts: Vec<usize> = (3..ids.len() - 3).collect();
    bursts.sort_by_key(|&i| std::cmp::Reverse(ids[i - 1] - ids[i]));
    bursts.truncate(2);
    assert!(bursts.iter().all(|&i| ids[i - 1] - ids[i] > 10 * median));
    assert!(!bursts.is_empty());
    let on = |keep| {
        let mut config = bare(2 * bursts.len());
        config.crush.keep_change_points = keep;
        let out = crush_with(config, "", "list_workflow_runs", "{}", &output);
        kept_indices(&original, &out.value["workflow_runs"])
    };
    let with = on(true);
    let without = on(false);
    for &i in &bursts {
        assert!(
            with.contains(&(i - 1)) && with.contains(&i),
            "{i}: {with:?}"
        );
        assert!(
            !(without.contains(&(i - 1)) && without.contains(&i)),
            "{without:?}"
        );
    }
}

#[test]
fn rare_categorical_values() {
    let (output, original) = runs();
    let cancelled = run_index(&original, "cancelled");
    let on = |fraction| {
        let mut config = bare(2);
        config.crush.rare_fraction = fraction;
        let out = crush_with(config, "", "list_workflow_runs", "{}", &output);
        kept_indices(&original, &out.value["workflow_runs"])
    };
    assert!(on(0.05).contains(&cancelled));
    assert!(!on(0.0).contains(&cancelled));
}

#[test]
fn items_the_question_names() {
    let (output, original) = issues();
    let on = |keep| {
        let mut config = bare(0);
        config.crush.keep_named = keep;
        let out = crush_with(config, "What was #923 about?", "list_issues", "{}", &output);
        kept_indices(&original, &out.value)
    };
    assert_eq!(on(true), vec![0, 250, 499]);
    assert_eq!(on(false), vec![0, 499]);
}

#[test]
fn best_bm25_matches() {
    // No number, no identifier, no exact value: the words alone find the issue.
    let (output, original) = issues();
    let on = |top| {
        let mut config = bare(0);
        config.crush.keep_named = true;
        config.crush.bm25_top = top;
        let out = crush_with(
            config,
            "Was there an issue about image subsection drawing?",
            "list_issues",
            "{}",
            &output,
        );
        kept_indices(&original, &out.value)
    };
    // The oracle: the issues whose title and body hold all three words.
    let words = ["image", "subsection", "drawing"];
    let has_word = |text: &str, word: &str| {
        text.split(|c: char| !c.is_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    let wanted: Vec<usize> = original
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            let text = format!("{} {}", i["title"], i["body"]);
            words.iter().all(|w| has_word(&text, w))
        })
        .map(|(at, _)| at)
        .collect();
    assert!(wanted.len() >= 2);
    let mut expected = vec![0];
    expected.extend(&wanted);
    expected.push(499);
    assert_eq!(on(wanted.len()), expected);
    assert_eq!(on(0), vec![0, 499]);
}

#[test]
fn short_arrays_keep_at_most_their_share() {
    // 13 recorded issues (octokit fixtures): under the 15-item budget, but half may still go.
    let output = fixture("github-issues.json");
    let original: Value = serde_json::from_str(&output).unwrap();
    let out = crush("", "list_issues", "{}", &output);
    let kept = kept_indices(&original, &out.value);
    assert_eq!(kept.len(), 7, "{kept:?}");
    let mut config = Config::default();
    config.crush.max_share = 1.0;
    let whole = crush_with(config, "", "list_issues", "{}", &output);
    assert!(whole.markers.is_empty());
}

#[test]
fn outliers_in_rows_of_arrays() {
    // A punch card: 168 rows of [day, hour, commits]; the busiest hour stands out in column 2.
    let output = large_fixture("github-punch-card.json");
    let original: Value = serde_json::from_str(&output).unwrap();
    let busiest = original
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .max_by_key(|(_, row)| row[2].as_u64())
        .map(|(at, _)| at)
        .unwrap();
    let on = |sigma| {
        let mut config = bare(1);
        config.min_segment_tokens = 100;
        config.crush.outlier_sigma = sigma;
        let out = crush_with(config, "", "punch_card", "{}", &output);
        kept_indices(&original, &out.value)
    };
    assert!(on(Some(2.0)).contains(&busiest));
    assert!(!on(None).contains(&busiest));
}
