//! Which tree-sitter grammar reads each language, and which of its nodes are function bodies.

use crate::detect::Language;

/// How an elided body is written back so the code still parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyStyle {
    /// `{ /* [marker] */ }` in place of the braced block.
    Braces,
    /// `...  # [marker]` in place of the indented block's statements (Python).
    Indented,
}

/// The syntax facts the elider needs about one language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grammar {
    /// Node kinds that define a function, method, constructor or lambda with a `body` field.
    pub(crate) functions: &'static [&'static str],
    /// Body node kinds that may be elided (other bodies, e.g. an arrow function's expression, stay).
    pub(crate) bodies: &'static [&'static str],
    /// How an elided body is written.
    pub(crate) style: BodyStyle,
    /// Node kinds that define a type (struct, class, trait, impl…): named, its functions stay whole.
    pub(crate) types: &'static [&'static str],
}

const JS_FUNCTIONS: &[&str] = &[
    "function_declaration",
    "function_expression",
    "generator_function",
    "generator_function_declaration",
    "method_definition",
    "arrow_function",
];

/// The grammar facts for `language`.
pub(crate) fn grammar(language: Language) -> Grammar {
    let types: &'static [&'static str] = match language {
        Language::Rust => &[
            "struct_item",
            "enum_item",
            "union_item",
            "trait_item",
            "impl_item",
            "mod_item",
        ],
        Language::Python => &["class_definition"],
        Language::JavaScript | Language::TypeScript => &[
            "class_declaration",
            "class",
            "abstract_class_declaration",
            "interface_declaration",
        ],
        Language::Go => &["type_spec"],
        Language::Java => &[
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
        ],
        Language::C => &["struct_specifier", "union_specifier"],
        Language::Cpp => &[
            "class_specifier",
            "struct_specifier",
            "union_specifier",
            "namespace_definition",
        ],
    };
    let (functions, bodies, style): (&'static [&'static str], &'static [&'static str], _) =
        match language {
            Language::Rust => (&["function_item"], &["block"], BodyStyle::Braces),
            Language::Python => (&["function_definition"], &["block"], BodyStyle::Indented),
            Language::JavaScript | Language::TypeScript => {
                (JS_FUNCTIONS, &["statement_block"], BodyStyle::Braces)
            }
            Language::Go => (
                &["function_declaration", "method_declaration", "func_literal"],
                &["block"],
                BodyStyle::Braces,
            ),
            Language::Java => (
                &[
                    "method_declaration",
                    "constructor_declaration",
                    "compact_constructor_declaration",
                    "lambda_expression",
                ],
                &["block", "constructor_body"],
                BodyStyle::Braces,
            ),
            Language::C => (
                &["function_definition"],
                &["compound_statement"],
                BodyStyle::Braces,
            ),
            Language::Cpp => (
                &["function_definition", "lambda_expression"],
                &["compound_statement"],
                BodyStyle::Braces,
            ),
        };
    Grammar {
        functions,
        bodies,
        style,
        types,
    }
}

/// The tree-sitter grammars to try for `text` in `language`, in order (TypeScript: plain, then
/// TSX; C: C, then C++). A second grammar is tried only when the first reads the text with errors
/// and the text uses syntax only the second has: each try is a whole parse, the compressor's main
/// cost (a C header full of macros that neither grammar reads cleanly was parsed twice).
pub(crate) fn parsers(language: Language, text: &str) -> Vec<tree_sitter::Language> {
    match language {
        Language::Rust => vec![tree_sitter_rust::LANGUAGE.into()],
        Language::Python => vec![tree_sitter_python::LANGUAGE.into()],
        Language::JavaScript => vec![tree_sitter_javascript::LANGUAGE.into()],
        Language::TypeScript if has_jsx(text) => vec![
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            tree_sitter_typescript::LANGUAGE_TSX.into(),
        ],
        Language::TypeScript => vec![tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()],
        Language::Go => vec![tree_sitter_go::LANGUAGE.into()],
        Language::Java => vec![tree_sitter_java::LANGUAGE.into()],
        // A `.h` file is as often C++ as C: C++ reads what C cannot.
        Language::C if has_cpp(text) => vec![
            tree_sitter_c::LANGUAGE.into(),
            tree_sitter_cpp::LANGUAGE.into(),
        ],
        Language::C => vec![tree_sitter_c::LANGUAGE.into()],
        Language::Cpp => vec![tree_sitter_cpp::LANGUAGE.into()],
    }
}

/// Whether `text` holds C++ that C lacks: a scope (`::`), a class, namespace or template, an
/// access label, `virtual`, `typename` or `nullptr` (in code or in a comment: a guess that errs
/// towards trying C++).
fn has_cpp(text: &str) -> bool {
    [
        "::",
        "class ",
        "namespace ",
        "template",
        "public:",
        "private:",
        "protected:",
        "virtual ",
        "typename",
        "nullptr",
    ]
    .iter()
    .any(|marker| text.contains(marker))
}

/// Whether `text` holds a JSX tag's end (`</` or `/>`), which only the TSX grammar reads.
fn has_jsx(text: &str) -> bool {
    text.contains("</") || text.contains("/>")
}

/// The node kinds the walks ask about, as flags by kind id for one loaded grammar: a node is
/// looked up by its id instead of by its kind's name (tree-sitter hands names out as C strings,
/// measured at ~5% of the code compressor's time when compared on every node).
pub(crate) struct Kinds {
    flags: Vec<u8>,
}

const FUNCTION: u8 = 1;
const BODY: u8 = 2;
const TYPE: u8 = 4;
const COMMENT: u8 = 8;
const STRING: u8 = 16;

impl Kinds {
    /// The flags of every kind `language` has, named as `grammar` names them. Several ids can
    /// share one name (a named and an anonymous `block`): each gets the name's flags.
    pub(crate) fn new(grammar: &Grammar, language: &tree_sitter::Language) -> Kinds {
        let flags = (0..language.node_kind_count())
            .map(|id| {
                let Some(name) = u16::try_from(id)
                    .ok()
                    .and_then(|id| language.node_kind_for_id(id))
                else {
                    return 0;
                };
                let mut flags = 0;
                for (set, flag) in [
                    (grammar.functions, FUNCTION),
                    (grammar.bodies, BODY),
                    (grammar.types, TYPE),
                ] {
                    if set.contains(&name) {
                        flags |= flag;
                    }
                }
                if name.ends_with("comment") {
                    flags |= COMMENT;
                }
                if name == "string" {
                    flags |= STRING;
                }
                flags
            })
            .collect();
        Kinds { flags }
    }

    fn has(&self, node: tree_sitter::Node<'_>, flag: u8) -> bool {
        self.flags
            .get(usize::from(node.kind_id()))
            .is_some_and(|flags| flags & flag != 0)
    }

    /// A function, method or lambda kind of [`Grammar::functions`].
    pub(crate) fn is_function(&self, node: tree_sitter::Node<'_>) -> bool {
        self.has(node, FUNCTION)
    }

    /// A body kind of [`Grammar::bodies`].
    pub(crate) fn is_body(&self, node: tree_sitter::Node<'_>) -> bool {
        self.has(node, BODY)
    }

    /// A type kind of [`Grammar::types`].
    pub(crate) fn is_type(&self, node: tree_sitter::Node<'_>) -> bool {
        self.has(node, TYPE)
    }

    /// A comment of any style (`comment`, `line_comment`, `block_comment`…).
    pub(crate) fn is_comment(&self, node: tree_sitter::Node<'_>) -> bool {
        self.has(node, COMMENT)
    }

    /// A string literal node (`string`), a docstring when it stands first in a Python block.
    pub(crate) fn is_string(&self, node: tree_sitter::Node<'_>) -> bool {
        self.has(node, STRING)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second grammar is offered only to text that uses its syntax.
    #[test]
    fn a_second_grammar_only_for_its_own_syntax() {
        let zlib_like = "ZEXTERN int ZEXPORT deflate OF((z_streamp strm, int flush));\n";
        assert_eq!(parsers(Language::C, zlib_like).len(), 1);
        assert_eq!(parsers(Language::C, "namespace z { int f(); }").len(), 2);
        assert_eq!(
            parsers(Language::C, "int Stream::flush() { return 0; }").len(),
            2
        );
        assert_eq!(parsers(Language::TypeScript, "let x = <T>(y);").len(), 1);
        assert_eq!(parsers(Language::TypeScript, "const a = <App />;").len(), 2);
        assert_eq!(
            parsers(Language::TypeScript, "const a = <p>hi</p>;").len(),
            2
        );
    }

    /// Looked up by id, every node of a real file has the flags its kind's name gives it.
    #[test]
    fn kinds_by_id_agree_with_kinds_by_name() {
        let cases = [
            (
                Language::Rust,
                include_str!("../../../tests/fixtures/code/serde_json-map.rs"),
            ),
            (Language::Python, "def f(x):\n    \"\"\"Doc.\"\"\"\n    # note\n    return lambda y: y\n\nclass C:\n    pass\n"),
            (Language::JavaScript, "/* a */ function f() { return () => { return 1; }; }\nclass K { m() {} }\n"),
        ];
        for (language, source) in cases {
            let grammar = grammar(language);
            let loaded = parsers(language, source).remove(0);
            let kinds = Kinds::new(&grammar, &loaded);
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&loaded).unwrap();
            let tree = parser.parse(source, None).unwrap();
            let mut seen = [0usize; 5];
            super::super::walk::preorder(&tree, |node| {
                let kind = node.kind();
                let by_name = [
                    grammar.functions.contains(&kind),
                    grammar.bodies.contains(&kind),
                    grammar.types.contains(&kind),
                    kind.ends_with("comment"),
                    kind == "string",
                ];
                let by_id = [
                    kinds.is_function(node),
                    kinds.is_body(node),
                    kinds.is_type(node),
                    kinds.is_comment(node),
                    kinds.is_string(node),
                ];
                assert_eq!(by_name, by_id, "{language:?} {kind}");
                for (count, flag) in seen.iter_mut().zip(by_id) {
                    *count += usize::from(flag);
                }
                true
            });
            assert!(
                seen[0] > 0 && seen[1] > 0 && seen[3] > 0,
                "{language:?}: {seen:?}"
            );
        }
    }
}
