//! Source code, read by tree-sitter: imports, types, signatures and doc comments stay; the bodies
//! of functions the question does not name become a marker inside a comment, so the code still parses.
//!
//! ```text
//! fn parse(input: &str) -> Result<Ast> { /* [… 42 lines omitted · headroom_retrieve hash=…] */ }
//! def parse(text):
//!     """Parses text."""
//!     ...  # [… 42 lines omitted · headroom_retrieve hash=…]
//! ```

mod comments;
mod elide;
mod grammar;
mod names;
mod outline;
mod walk;

use super::text::TextCompressor;
use super::{Compression, Compressor, SegmentContext};
use crate::detect::Language;
use crate::question::Question;
use elide::{elide, error_count, Plan};
use std::ops::ControlFlow;
use tree_sitter::{ParseOptions, ParseState, Parser, Tree};

/// Compresses source code in one language by eliding function bodies (feature `code`).
///
/// Text the grammar cannot read, or larger than `Config::code_max_bytes`, takes the prose path.
///
/// ```
/// use headroom::compress::{code::CodeCompressor, Compressor, SegmentContext};
/// use headroom::detect::Language;
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
///     .with_question("what does keep do?")
///     .with_hash("0123456789abcdef01234567");
/// let body: String = (1..=8).map(|i| format!("    println!(\"step {i} of the work\");\n")).collect();
/// let source = format!("fn keep() {{\n{body}}}\n\nfn other() {{\n{body}}}\n");
/// let out = CodeCompressor::new(Language::Rust).compress(&source, &ctx).unwrap();
/// assert!(out.text.starts_with(&format!("fn keep() {{\n{body}}}")));
/// assert!(out.text.ends_with("fn other() { /* [… 8 lines omitted · headroom_retrieve hash=0123456789abcdef01234567] */ }\n"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeCompressor {
    language: Language,
}

impl CodeCompressor {
    /// The compressor for `language`.
    ///
    /// ```
    /// use headroom::{compress::code::CodeCompressor, detect::Language};
    /// assert_eq!(CodeCompressor::new(Language::Go).language(), Language::Go);
    /// ```
    pub const fn new(language: Language) -> Self {
        CodeCompressor { language }
    }

    /// The language it reads (see [`CodeCompressor::new`]).
    pub fn language(&self) -> Language {
        self.language
    }
}

/// The code compressor for `language`, as the router hands it out.
pub(crate) fn compressor_for_language(language: Language) -> &'static dyn Compressor {
    const RUST: CodeCompressor = CodeCompressor::new(Language::Rust);
    const PYTHON: CodeCompressor = CodeCompressor::new(Language::Python);
    const JAVASCRIPT: CodeCompressor = CodeCompressor::new(Language::JavaScript);
    const TYPESCRIPT: CodeCompressor = CodeCompressor::new(Language::TypeScript);
    const GO: CodeCompressor = CodeCompressor::new(Language::Go);
    const JAVA: CodeCompressor = CodeCompressor::new(Language::Java);
    const C: CodeCompressor = CodeCompressor::new(Language::C);
    const CPP: CodeCompressor = CodeCompressor::new(Language::Cpp);
    match language {
        Language::Rust => &RUST,
        Language::Python => &PYTHON,
        Language::JavaScript => &JAVASCRIPT,
        Language::TypeScript => &TYPESCRIPT,
        Language::Go => &GO,
        Language::Java => &JAVA,
        Language::C => &C,
        Language::Cpp => &CPP,
    }
}

impl Compressor for CodeCompressor {
    fn name(&self) -> &'static str {
        "code"
    }

    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
        if ctx.json_only {
            return None;
        }
        if text.len() > ctx.config.code_max_bytes {
            return TextCompressor.compress(text, ctx);
        }
        let Some((language, tree)) = parse(self.language, text) else {
            return TextCompressor.compress(text, ctx);
        };
        let errors = error_count(&tree);
        let question = Question::of(ctx);
        let facts = grammar::grammar(self.language);
        let kinds = grammar::Kinds::new(&facts, &language);
        let plan = Plan {
            grammar: facts,
            kinds: &kinds,
            question: &question,
            min_body_lines: ctx.config.code_min_body_lines,
            comment_lines: ctx.config.code_comment_lines,
            hash: &ctx.hash,
        };
        let elided = elide(text, &tree, &plan).filter(|elided| {
            // Never hand back code that reads worse than what came in. Source that parses cleanly
            // keeps parsing cleanly by construction (a whole block becomes `{ /* marker */ }` or
            // `...  # marker`, a comment keeps its delimiters; tests/code_fixtures.rs re-parses real
            // outputs), so only source with errors, whose node extents are uncertain, is parsed a
            // second time to check: the one parse is the compressor's main cost. A shortened
            // comment or docstring is a lexical token whatever the errors around it, and its
            // marker stays inside it: with no body elided, that check is skipped too (a C header
            // full of macros the grammar cannot read took three parses).
            errors == 0
                || elided.bodies == 0
                || reparse(&language, &elided.text).is_some_and(|t| error_count(&t) <= errors)
        });
        match elided {
            Some(elided) => {
                let mut transforms = Vec::new();
                if elided.bodies > 0 {
                    transforms.push("code:elide-bodies".to_string());
                }
                if elided.comments > 0 {
                    transforms.push("code:shorten-comments".to_string());
                }
                Some(Compression::lossy(elided.text, transforms, ctx))
            }
            // Text the grammar reads badly and cannot shrink is probably not this language.
            None if errors > 0 => TextCompressor.compress(text, ctx),
            None => None,
        }
    }
}

/// Parses `text` with the first of the language's grammars that reads it without errors (or the
/// one that finds the fewest).
fn parse(language: Language, text: &str) -> Option<(tree_sitter::Language, Tree)> {
    let mut best: Option<(usize, tree_sitter::Language, Tree)> = None;
    for grammar in grammar::parsers(language, text) {
        let Some(tree) = reparse(&grammar, text) else {
            continue;
        };
        let errors = error_count(&tree);
        if errors == 0 {
            return Some((grammar, tree));
        }
        if best.as_ref().is_none_or(|(fewest, _, _)| errors < *fewest) {
            best = Some((errors, grammar, tree));
        }
    }
    best.map(|(_, grammar, tree)| (grammar, tree))
}

/// Parser work allowed per KiB of source, in tree-sitter's progress checks (one per 100 parse
/// operations). Real source takes 5–20 per KiB in every grammar (measured on Rust, C, C++, Python
/// and JavaScript files of 20–370 KB); error recovery on text that is not the language can take
/// millions, seconds for a few KB. Counting operations, not time, keeps the result independent
/// of the machine's load.
const PARSE_CHECKS_PER_KIB: usize = 128;
/// Progress checks any source may take, however short.
const PARSE_CHECKS_MIN: usize = 256;

/// Parses `text` with `grammar`, or `None` when the grammar cannot be loaded or the parse takes
/// more work than [`parse_budget`] allows (text the grammar reads only by endless error recovery).
fn reparse(grammar: &tree_sitter::Language, text: &str) -> Option<Tree> {
    let mut parser = Parser::new();
    parser.set_language(grammar).ok()?;
    let budget = parse_budget(text.len());
    let mut checks = 0usize;
    let mut progress = |_: &ParseState| {
        checks += 1;
        if checks > budget {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let bytes = text.as_bytes();
    parser.parse_with_options(
        &mut |at, _| bytes.get(at..).unwrap_or_default(),
        None,
        Some(ParseOptions::new().progress_callback(&mut progress)),
    )
}

/// The progress checks a parse of `len` bytes may take (see [`PARSE_CHECKS_PER_KIB`]).
fn parse_budget(len: usize) -> usize {
    PARSE_CHECKS_MIN.max(len.div_ceil(1024).saturating_mul(PARSE_CHECKS_PER_KIB))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prose that a grammar cannot read takes the prose path, whatever the detector guessed.
    #[test]
    fn text_a_grammar_cannot_read_takes_the_prose_path() {
        let readme = include_str!("../../../tests/fixtures/prose/serde_json-README.md");
        let ctx =
            SegmentContext::for_tests("gpt-4o").with_question("How do I parse JSON into a Value?");
        let as_python = CodeCompressor::new(Language::Python).compress(readme, &ctx);
        assert!(as_python.is_some());
        assert_eq!(as_python, TextCompressor.compress(readme, &ctx));
    }

    /// Text on which a grammar's error recovery never ends (a fuzz finding: prose, Rust and grep
    /// lines spliced with NUL bytes, read as TSX took minutes for 2 KB) stops at the work budget,
    /// a fixed number of parser operations per byte, and takes a grammar that reads it in time.
    #[test]
    fn a_parse_stops_at_its_work_budget() {
        let bytes = include_bytes!("../../../tests/fixtures/code/tsx-error-recovery-blowup.txt");
        let text = String::from_utf8_lossy(bytes);
        let tsx: tree_sitter::Language = tree_sitter_typescript::LANGUAGE_TSX.into();
        assert!(
            reparse(&tsx, &text).is_none(),
            "the TSX parse is not cut off"
        );
        let typescript: tree_sitter::Language = tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into();
        assert!(reparse(&typescript, &text).is_some());
        // Real source of any size parses within its budget.
        let source = include_str!("../../../tests/fixtures/code/serde_json-map.rs");
        let rust: tree_sitter::Language = tree_sitter_rust::LANGUAGE.into();
        assert!(reparse(&rust, source).is_some_and(|t| !t.root_node().has_error()));
        let ctx = SegmentContext::for_tests("gpt-4o").with_question("what is BuildHasherImpl?");
        let out = CodeCompressor::new(Language::TypeScript).compress(&text, &ctx);
        assert_eq!(
            out,
            CodeCompressor::new(Language::TypeScript).compress(&text, &ctx)
        );
    }

    /// The budget grows with the text, from a floor.
    #[test]
    fn the_parse_budget_is_linear_in_the_text() {
        assert_eq!(parse_budget(0), PARSE_CHECKS_MIN);
        assert_eq!(parse_budget(1024 * 1024), 1024 * PARSE_CHECKS_PER_KIB);
        assert_eq!(parse_budget(2 * 1024 * 1024), 2 * parse_budget(1024 * 1024));
        // No overflow at the extreme.
        assert!(parse_budget(usize::MAX) > parse_budget(1 << 40));
    }

    /// The same source, config and question give the same bytes.
    #[test]
    fn deterministic() {
        let source = include_str!("elide.rs");
        let ctx = SegmentContext::for_tests("gpt-4o").with_question("what does elide do?");
        let rust = CodeCompressor::new(Language::Rust);
        let first = rust.compress(source, &ctx).unwrap();
        assert_eq!(Some(first.clone()), rust.compress(source, &ctx));
        assert!(first.text.contains(
            "pub(crate) fn elide(source: &str, tree: &Tree, plan: &Plan<'_>) -> Option<Elided> {\n"
        ));
    }

    /// A header the grammar reads with errors (K&R-style prototype macros) whose only edits are
    /// shortened comments is not parsed again to check, and reads no worse than the original.
    #[test]
    fn comments_shortened_in_a_header_with_errors_add_none() {
        let long_comment: String = (1..=12)
            .map(|i| format!("   line {i} of what this call does, in detail.\n"))
            .collect();
        let header: String = (0..6)
            .map(|i| {
                format!(
                    "ZEXTERN int ZEXPORT call{i} OF((z_streamp strm, int flush));\n/*\n   call{i} does one thing.\n\n{long_comment}*/\n\n"
                )
            })
            .collect();
        let (language, original) = parse(Language::C, &header).unwrap();
        let errors = error_count(&original);
        assert!(errors > 0, "the macros are syntax errors to the grammar");
        let ctx = SegmentContext::for_tests("gpt-4o").with_question("what does call3 do?");
        let out = CodeCompressor::new(Language::C)
            .compress(&header, &ctx)
            .unwrap();
        assert_eq!(out.transforms, vec!["code:shorten-comments"]);
        assert!(out.text.contains("call3 does one thing."));
        let reparsed = reparse(&language, &out.text).unwrap();
        assert!(error_count(&reparsed) <= errors);
    }

    #[test]
    fn a_comment_column_past_its_line_is_no_panic() {
        // Found by the compressors fuzz target: a line ending in a lone `\r` after invalid UTF-8
        // made tree-sitter's column fall past the line's text.
        let bytes = b"\xff\xff\xfftype BuildH\x18sherImpl = foldhash::fast::RandomS\x10ate;\x0a\x0aimpl Map<Strin\x99\xd3\xdf\xa7alue> {\x0a    /// Makes a new emsrc/arch/wasm32/simd128/ppyauMMMG\xff\xff\xffuMMMMMMM\x10\xf3MMMM\x10\xf3\x0d";
        let input = String::from_utf8_lossy(bytes);
        let (question, text) = input.split_once('\n').unwrap();
        let ctx = SegmentContext::for_tests("gpt-4o").with_question(question);
        for language in [Language::Cpp, Language::C, Language::Rust] {
            let out = CodeCompressor::new(language).compress(text, &ctx);
            assert_eq!(out, CodeCompressor::new(language).compress(text, &ctx));
        }
    }
}
