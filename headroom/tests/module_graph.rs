//! The engine's files depend on each other without circles: a helper two files share lives in a
//! leaf of its own. Reads `src/` as text: each `use` and each `crate::`/`super::` path is an edge to
//! the file that defines what it names (re-exports followed; a parent's re-export of its child is
//! structure, not an edge, unless the parent's own code uses the name). Unit tests are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Circles known and left for later, each file pair sorted, with why. A new circle fails the test
/// (move the helper both sides need into a leaf file instead of listing it here), and so does a
/// listed one that is gone (take it off the list).
const ACCEPTED: &[(&str, &str)] = &[];

type Module = Vec<String>;

struct Crate {
    /// Module path → file, relative to `src/`.
    files: BTreeMap<Module, String>,
    /// File → its code without comments and unit tests.
    code: BTreeMap<String, String>,
}

fn collect(dir: &Path, module: &Module, files: &mut BTreeMap<Module, String>, root: &Path) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if path.is_dir() {
            let mut child = module.clone();
            child.push(name);
            collect(&path, &child, files, root);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut own = module.clone();
            if name != "mod" && name != "lib" {
                own.push(name);
            }
            files.insert(own, relative);
        }
    }
}

/// The code of a file without comments, string contents and its test modules (`#[cfg(test)]`
/// then `mod`: they close each file).
fn code_of(text: &str) -> String {
    let test_module = ["#[cfg(test)]\nmod ", "#[cfg(test)]\npub(crate) mod "]
        .iter()
        .filter_map(|start| text.find(start))
        .min();
    let text = &text[..test_module.unwrap_or(text.len())];
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .map(|line| {
            // Drop string literals' contents (a path in a message is not a dependency).
            let mut out = String::new();
            let mut in_string = false;
            let mut escaped = false;
            for c in line.chars() {
                match (in_string, c) {
                    (true, '\\') if !escaped => escaped = true,
                    (true, '"') if !escaped => in_string = false,
                    (true, _) => escaped = false,
                    (false, '"') => in_string = true,
                    (false, c) => out.push(c),
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a `use` tree names: `a::{b, c::{d, e as f}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    // `x as y` names x; then whitespace goes.
    let mut spaced = String::new();
    for c in tree.chars() {
        if "{},".contains(c) {
            spaced.extend([' ', c, ' ']);
        } else {
            spaced.push(c);
        }
    }
    let mut words = spaced.split_whitespace();
    let mut tree = String::new();
    while let Some(word) = words.next() {
        if word == "as" {
            words.next();
        } else {
            tree.push_str(word);
        }
    }
    let mut out = Vec::new();
    expand_into(&tree, Vec::new(), &mut out);
    out
}

fn expand_into(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Some(open) = tree.find('{') {
        let mut path = prefix.clone();
        path.extend(
            tree[..open]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_into(&inner[start..i], path.clone(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        if start < inner.len() {
            expand_into(&inner[start..], path, out);
        }
    } else if !tree.is_empty() {
        let mut path = prefix;
        path.extend(tree.split("::").filter(|s| !s.is_empty()).map(String::from));
        out.push(path);
    }
}

/// `use` statements of `code`: (re-exported, path).
fn uses(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let before = rest[..at].trim_end();
        let public = before.ends_with("pub") || before.ends_with("pub(crate)");
        let Some(end) = rest[at..].find(';') else {
            break;
        };
        for path in expand(&rest[at + 3..at + end]) {
            out.push((public, path));
        }
        rest = &rest[at + end..];
    }
    out
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        !text[..i].chars().next_back().is_some_and(ident)
            && text[i + word.len()..].starts_with(char::is_whitespace)
    })
}

/// Inline `crate::…` and `super::…` paths outside `use` statements.
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let mut without_uses = String::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        without_uses.push_str(&rest[..at]);
        rest = rest[at..].find(';').map_or("", |end| &rest[at + end + 1..]);
    }
    without_uses.push_str(rest);
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        for (i, _) in without_uses.match_indices(start) {
            if without_uses[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            {
                continue;
            }
            let path: String = without_uses[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            );
        }
    }
    out
}

impl Crate {
    fn read() -> Crate {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = BTreeMap::new();
        collect(&root, &Vec::new(), &mut files, &root);
        let code = files
            .values()
            .map(|f| {
                let text = std::fs::read_to_string(root.join(f)).unwrap();
                (f.clone(), code_of(&text))
            })
            .collect();
        Crate { files, code }
    }

    /// The file defining what `path` names, seen from `module`; `None` outside the crate.
    fn resolve(&self, module: &Module, path: &[String], depth: usize) -> Option<String> {
        let mut absolute: Module = match path.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super") | Some("self") => module.clone(),
            Some(first) => {
                let mut child = module.clone();
                child.push(first.to_string());
                if !self.files.contains_key(&child) {
                    return None; // another crate
                }
                module.clone()
            }
            None => return None,
        };
        let mut segments = path.iter().peekable();
        if path[0] == "crate" || path[0] == "self" {
            segments.next();
        }
        while segments.peek().is_some_and(|s| *s == "super") {
            segments.next();
            absolute.pop();
        }
        let rest: Vec<&String> = segments.collect();
        let mut at = absolute;
        let mut used = 0;
        for segment in &rest {
            let mut deeper = at.clone();
            deeper.push(segment.to_string());
            if !self.files.contains_key(&deeper) {
                break;
            }
            at = deeper;
            used += 1;
        }
        let file = self.files.get(&at)?.clone();
        // A name the module re-exports is defined where the re-export points.
        if let Some(name) = rest.get(used).filter(|n| **n != "self") {
            if depth < 8 {
                for (_, reexport) in uses(&self.code[&file]) {
                    if reexport.last() == Some(*name) {
                        if let Some(target) = self.resolve(&at, &reexport, depth + 1) {
                            return Some(target);
                        }
                    }
                }
            }
        }
        Some(file)
    }

    /// File → files it depends on.
    fn edges(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, file) in &self.files {
            let code = &self.code[file];
            let mut targets = BTreeSet::new();
            for (public, path) in uses(code) {
                let Some(target) = self.resolve(module, &path, 0) else {
                    continue;
                };
                // A re-export is structure; an edge only if this file's own code uses the name.
                let name = path.last().unwrap();
                let used_here = code
                    .match_indices(name.as_str())
                    .filter(|(i, _)| {
                        let before = code[..*i].chars().next_back();
                        let after = code[i + name.len()..].chars().next();
                        let ident = |c: char| c.is_alphanumeric() || c == '_';
                        !before.is_some_and(ident) && !after.is_some_and(ident)
                    })
                    .count()
                    > uses(code)
                        .iter()
                        .filter(|(_, p)| p.last() == Some(name))
                        .count();
                if !public || used_here {
                    targets.insert(target);
                }
            }
            for path in inline_paths(code) {
                if let Some(target) = self.resolve(module, &path, 0) {
                    targets.insert(target);
                }
            }
            targets.remove(file);
            edges.insert(file.clone(), targets);
        }
        edges
    }
}

/// Pairs of files that depend on each other, sorted.
fn two_cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (a, targets) in edges {
        for b in targets {
            if a < b && edges.get(b).is_some_and(|t| t.contains(a)) {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

#[test]
fn no_two_files_of_the_engine_depend_on_each_other() {
    let krate = Crate::read();
    let edges = krate.edges();
    let found = two_cycles(&edges);
    let accepted: Vec<(String, String)> = ACCEPTED
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(found, accepted, "files that depend on each other");
}

#[test]
fn compressors_depend_on_neither_the_engine_nor_the_retrieve_tool() {
    let edges = Crate::read().edges();
    for (file, targets) in edges.iter().filter(|(f, _)| f.starts_with("compress/")) {
        for target in targets {
            assert!(
                !target.starts_with("engine/") && target != "retrieve.rs" && target != "lib.rs",
                "{file} depends on {target}"
            );
        }
    }
}

/// The checker itself finds a circle, follows re-exports, and leaves other crates out.
#[test]
fn the_checker_sees_what_it_should() {
    let krate = Crate::read();
    let edges = krate.edges();
    let of = |f: &str| edges.get(f).cloned().unwrap_or_default();
    assert!(
        of("compress/code/elide.rs").contains("compress/code/comments.rs"),
        "a plain `use super::comments::…` is an edge"
    );
    assert!(
        of("compress/json.rs").contains("compress/compressor.rs"),
        "`super::Compression` is followed through the re-export to its definition"
    );
    assert!(
        of("compress/mod.rs").contains("compress/text.rs"),
        "a re-exported name the parent's code uses is an edge"
    );
    assert!(
        !of("compress/mod.rs").contains("compress/table.rs"),
        "`pub mod table` alone is structure"
    );
    let mut with_circle = edges.clone();
    with_circle
        .entry("compress/compressor.rs".into())
        .or_default()
        .insert("compress/json.rs".into());
    assert!(two_cycles(&with_circle)
        .contains(&("compress/compressor.rs".into(), "compress/json.rs".into())));
    assert_eq!(
        expand("super::{a, b::{c, d as e}, f}"),
        [
            vec!["super", "a"],
            vec!["super", "b", "c"],
            vec!["super", "b", "d"],
            vec!["super", "f"]
        ]
    );
}
