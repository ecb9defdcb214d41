//! Which programming language a sample's lines open like: the table of typical line openings and
//! the vote over it.

use super::kinds::Language;

/// The language most lines open like: two such lines or more, and a sixth of the lines that
/// could say (`//` comments, `/* … */` blocks and lines of brackets alone say nothing: a file
/// that is mostly doc comments is still source).
pub(super) fn guess(lines: &[&str]) -> Option<Language> {
    let mut scores = [0usize; LANGUAGES.len()];
    let mut signal_lines = 0;
    let mut silent_lines = 0;
    let mut in_block_comment = false;
    for line in lines {
        let line = line.trim_start();
        if in_block_comment {
            in_block_comment = !line.contains("*/");
            silent_lines += 1;
            continue;
        }
        if let Some(rest) = line.strip_prefix("/*") {
            in_block_comment = !rest.contains("*/");
            silent_lines += 1;
            continue;
        }
        // Comments, and lines of brackets alone (`}`, `});`), say nothing of the language.
        let brackets_only = line
            .trim_end()
            .bytes()
            .all(|b| matches!(b, b'{' | b'}' | b'(' | b')' | b'[' | b']' | b';' | b','));
        if line.starts_with("//") || brackets_only {
            silent_lines += 1;
            continue;
        }
        let mut any = false;
        for (i, (language, _)) in LANGUAGES.iter().enumerate() {
            if opens_like(*language, line) {
                scores[i] += 1;
                any = true;
            }
        }
        signal_lines += usize::from(any);
    }
    let (best, score) = scores
        .iter()
        .enumerate()
        .max_by_key(|(i, s)| (**s, usize::MAX - i))?;
    (*score >= 2 && signal_lines * 6 >= lines.len() - silent_lines).then_some(LANGUAGES[best].0)
}

/// Whether a (left-trimmed) line opens the way `language`'s lines do.
pub(super) fn opens_like(language: Language, line: &str) -> bool {
    if language == Language::Python {
        // Python ends no line with `;` or `{` (C's `self.ptr->x = 0;` is not `self.`).
        if line.trim_end().ends_with([';', '{']) {
            return false;
        }
        // Its blocks open with a keyword and end in `:` (`if x:`, `else:`, `try:`); not C's
        // `case X:`, `default:` or `cleanup:` labels.
        const BLOCK_KEYWORDS: &[&str] = &[
            "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "class",
        ];
        let keyword = line.split([' ', ':', '(']).next().unwrap_or("");
        if line.ends_with(':') && BLOCK_KEYWORDS.contains(&keyword) {
            return true;
        }
    }
    LANGUAGES
        .iter()
        .find(|(l, _)| *l == language)
        .is_some_and(|(_, prefixes)| prefixes.iter().any(|p| line.starts_with(p)))
}

/// Line openings typical of each language (first match wins ties: more specific languages first).
const LANGUAGES: &[(Language, &[&str])] = &[
    (
        Language::Rust,
        &[
            "fn ",
            "pub fn ",
            "pub(crate) ",
            "impl ",
            "impl<",
            "use std::",
            "use crate::",
            "let mut ",
            "#[derive",
            "pub struct ",
            "pub enum ",
            "mod ",
            "#[cfg(",
            "pub mod ",
        ],
    ),
    (
        Language::Python,
        &[
            "def ",
            "async def ",
            "from ",
            "elif ",
            "self.",
            "@property",
            "if __name__",
            "except ",
            "print(",
        ],
    ),
    (
        Language::Go,
        &[
            "package ", "func ", "import (", "go func", "defer ", "type ",
        ],
    ),
    (
        Language::Java,
        &[
            "public class ",
            "private ",
            "protected ",
            "@Override",
            "import java.",
            "public static ",
            "public interface ",
        ],
    ),
    (
        Language::TypeScript,
        &[
            "interface ",
            "export interface ",
            "export type ",
            "import type ",
            "export class ",
            "readonly ",
        ],
    ),
    (
        Language::JavaScript,
        &[
            "function ",
            "const ",
            "module.exports",
            "export default ",
            "export function ",
            "require(",
            "var ",
        ],
    ),
    (
        Language::Cpp,
        &[
            "#include <iostream>",
            "namespace ",
            "template<",
            "template <",
            "std::",
            "public:",
            "private:",
            "using namespace ",
        ],
    ),
    (
        Language::C,
        &[
            "#include ",
            "#define ",
            "typedef ",
            "static ",
            "int main(",
            "struct ",
            "#ifndef ",
            "#endif",
        ],
    ),
];
