//! One source for each list the CLI documents: the README quotes what `--help` prints and what
//! `--stats` writes, and the help is generated from the tables the code uses.

mod support;

use support::{github_request, headroom};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

/// The rows of the README table whose header row starts with `| {header} |`, cells trimmed and
/// stripped of backticks.
fn table(readme: &str, header: &str) -> Vec<Vec<String>> {
    let head = format!("| {header} |");
    let start = readme
        .find(&head)
        .unwrap_or_else(|| panic!("README has no table headed {head}"));
    readme[start..]
        .lines()
        .skip(2) // the header and the --- row
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            row.trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// `--help` of a subcommand, whitespace folded to single spaces.
fn help(command: &str) -> String {
    let out = headroom(&[command, "--help"], b"");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The comma-separated list in `text` between `before` and `after`.
fn list_between(text: &str, before: &str, after: &str) -> Vec<String> {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in {text}"))
        + before.len();
    let len = text[start..]
        .find(after)
        .unwrap_or_else(|| panic!("no {after:?} after {before:?}"));
    text[start..start + len]
        .split(',')
        .map(|item| item.trim().trim_matches('`').to_string())
        .collect()
}

#[test]
fn readme_stats_fields_are_the_stats_line_and_the_help() {
    let out = headroom(
        &["compress", "--stats", "--store", "memory:"],
        &github_request(),
    );
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    let printed: Vec<String> = line.keys().cloned().collect();
    let documented: Vec<String> = table(&readme(), "`--stats` field")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(
        documented, printed,
        "README's --stats table vs what --stats prints"
    );
    // The list ends where the help's next option begins.
    let helped = list_between(&help("compress"), "the last line there: ", " -");
    assert_eq!(helped, printed, "compress --help vs what --stats prints");
}

#[test]
fn every_store_url_form_is_in_the_readme_and_every_help() {
    let documented = table(&readme(), "store URL");
    let forms: Vec<Vec<String>> = headroom::store::URL_FORMS
        .iter()
        .map(|(form, what)| vec![form.to_string(), what.to_string()])
        .collect();
    assert_eq!(
        documented, forms,
        "README's store URL table vs headroom::store::URL_FORMS"
    );
    for command in ["compress", "retrieve", "proxy"] {
        let help = help(command);
        for (form, what) in headroom::store::URL_FORMS {
            assert!(
                help.contains(&format!("{form} ({what})")),
                "{command} --help lacks {form}: {help}"
            );
        }
    }
}

#[test]
fn readme_config_keys_are_the_proxy_help_list() {
    let documented = list_between(
        &readme(),
        "engine settings as JSON: ",
        "; unknown keys are an error",
    );
    let helped = list_between(
        &help("proxy"),
        "every key optional: ",
        ". Unknown keys are an error",
    );
    assert_eq!(documented, helped);
    assert!(helped.contains(&"token_budget".to_string()), "{helped:?}");
}
