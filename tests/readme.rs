//! The README's code cannot drift: every Rust block in it is an example file of this package (so
//! `cargo test` compiles it), and each door's `Cargo.toml` lines in "Install" are enough to compile
//! that door's examples in a crate of their own (one scratch crate per door, so one door's lines
//! cannot lend another the features it lacks).
//!
//! A Rust block is tagged `<!-- example: examples/FILE.rs · install: DOOR -->` and holds the file
//! without its leading `//!` lines; `HEADROOM_BLESS=1 cargo test --test readme` copies the files
//! into the README. A `toml` block tagged `<!-- install: DOOR -->` holds a door's dependencies.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Where the README's install lines assume the clone is, relative to the user's crate.
const CLONE: &str = "../headroom-rs/";

/// A fenced block and the tag comment right above it.
struct Block {
    tag: String,
    lang: String,
    /// Byte range of the block's body in the README.
    body: std::ops::Range<usize>,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut tag = String::new();
    let mut offset = 0;
    let mut lines = readme.split_inclusive('\n');
    while let Some(line) = lines.next() {
        offset += line.len();
        let trimmed = line.trim_end();
        if let Some(lang) = trimmed.strip_prefix("```").filter(|l| !l.is_empty()) {
            let start = offset;
            for inner in lines.by_ref() {
                if inner.trim_end() == "```" {
                    break;
                }
                offset += inner.len();
            }
            found.push(Block {
                tag: std::mem::take(&mut tag),
                lang: lang.to_string(),
                body: start..offset,
            });
            offset += "```\n".len();
        } else if let Some(comment) = trimmed
            .strip_prefix("<!--")
            .and_then(|c| c.strip_suffix("-->"))
        {
            tag = comment.trim().to_string();
        } else if !trimmed.is_empty() {
            tag.clear();
        }
    }
    found
}

/// `example: FILE · install: DOOR` → (FILE, DOOR).
fn example_tag(tag: &str) -> Option<(&str, &str)> {
    let (file, door) = tag.strip_prefix("example: ")?.split_once(" · install: ")?;
    Some((file.trim(), door.trim()))
}

/// An example file as the README shows it: without its leading `//!` lines and the blank after them.
fn shown(file: &str) -> String {
    let text = std::fs::read_to_string(Path::new(ROOT).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let body: Vec<&str> = text
        .split_inclusive('\n')
        .skip_while(|l| l.starts_with("//!"))
        .collect();
    let body = body.concat();
    body.strip_prefix('\n').unwrap_or(&body).to_string()
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap()
}

#[test]
fn every_rust_block_is_an_example_file() {
    let mut text = readme();
    let mut stale = Vec::new();
    // From the end, so blessing one block leaves the ranges of earlier ones valid.
    for block in blocks(&text).iter().rev() {
        if block.lang != "rust" {
            continue;
        }
        let (file, _) = example_tag(&block.tag).unwrap_or_else(|| {
            panic!(
                "README: a rust block at byte {} has no `<!-- example: FILE · install: DOOR -->` tag",
                block.body.start
            )
        });
        let want = shown(file);
        if text[block.body.clone()] != want {
            stale.push(file.to_string());
            text.replace_range(block.body.clone(), &want);
        }
    }
    if std::env::var_os("HEADROOM_BLESS").is_some() {
        std::fs::write(Path::new(ROOT).join("README.md"), text).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "README blocks differ from {stale:?}; run `HEADROOM_BLESS=1 cargo test --test readme` to copy the files in"
    );
}

/// Each door's install lines and its examples.
fn doors() -> BTreeMap<String, (String, Vec<String>)> {
    let text = readme();
    let mut doors: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for block in blocks(&text) {
        if let (Some(door), "toml") = (block.tag.strip_prefix("install: "), block.lang.as_str()) {
            doors.entry(door.trim().to_string()).or_default().0 = text[block.body].to_string();
        }
    }
    for block in blocks(&text) {
        if let Some((file, door)) = example_tag(&block.tag) {
            let entry = doors
                .get_mut(door)
                .unwrap_or_else(|| panic!("{file}: no `<!-- install: {door} -->` block"));
            entry.1.push(file.to_string());
        }
    }
    doors
}

/// The workspace's `[profile…]` sections, so the scratch crates build dependencies as the
/// workspace does and reuse what its tests already built.
fn workspace_profiles() -> String {
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let start = manifest
        .find("\n[profile")
        .expect("the workspace sets profiles");
    manifest[start..].to_string()
}

#[test]
fn readme_install_lines_build_the_readme_examples() {
    let doors = doors();
    assert!(
        ["library", "macro", "tower", "async-openai"]
            .iter()
            .all(|d| doors
                .get(*d)
                .is_some_and(|(lines, examples)| !lines.is_empty() && !examples.is_empty())),
        "every door has install lines and an example: {:?}",
        doors.keys().collect::<Vec<_>>()
    );
    let target = Path::new(ROOT).join("target");
    let scratch = target.join("readme-install");
    for (door, (lines, examples)) in &doors {
        assert!(
            lines.contains(CLONE),
            "{door}: its lines depend on the clone at {CLONE}"
        );
        let dir = scratch.join(door);
        let _ = std::fs::remove_dir_all(dir.join("src"));
        std::fs::create_dir_all(dir.join("src/bin")).unwrap();
        let manifest = format!(
            "[package]\nname = \"readme-{door}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [workspace]\n\n{}\n{}",
            lines.replace(CLONE, &format!("{ROOT}/")),
            workspace_profiles()
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        // The workspace's lock: the same versions, so nothing is resolved or downloaded anew.
        std::fs::copy(Path::new(ROOT).join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        for file in examples {
            let name = Path::new(file).file_name().unwrap();
            std::fs::write(dir.join("src/bin").join(name), shown(file)).unwrap();
        }
        let started = std::time::Instant::now();
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            // `check`: every error a user would meet (imports, features, types) without code generation.
            // Outside the workspace, headroom is a dependency that `[profile.dev.package."*"]` optimises,
            // so a `build` would compile it optimised once per door; build scripts and proc macros
            // (aws-lc-sys's C, serde_derive…) are shared with the workspace's builds either way.
            .args(["check", "--offline", "--quiet", "--bins"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", target_dir(&target))
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "door {door}: the README's install lines do not build its examples {examples:?}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Straight to the stream: the harness hides what passing tests print, and this is a cost to see.
        let _ = writeln!(
            std::io::stderr(),
            "readme_install: door {door} checked in {:.1?}",
            started.elapsed()
        );
    }
}

/// The target directory the scratch crates share (with the workspace's unless it is elsewhere).
fn target_dir(workspace_target: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_target.to_path_buf())
}
