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

/// The tree-sitter grammars to try for `language`, in order (TypeScript: plain, then TSX; C: C, then C++).
pub(crate) fn parsers(language: Language) -> Vec<tree_sitter::Language> {
    match language {
        Language::Rust => vec![tree_sitter_rust::LANGUAGE.into()],
        Language::Python => vec![tree_sitter_python::LANGUAGE.into()],
        Language::JavaScript => vec![tree_sitter_javascript::LANGUAGE.into()],
        Language::TypeScript => vec![
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            tree_sitter_typescript::LANGUAGE_TSX.into(),
        ],
        Language::Go => vec![tree_sitter_go::LANGUAGE.into()],
        Language::Java => vec![tree_sitter_java::LANGUAGE.into()],
        // A `.h` file is as often C++ as C: C++ reads what C cannot.
        Language::C => vec![
            tree_sitter_c::LANGUAGE.into(),
            tree_sitter_cpp::LANGUAGE.into(),
        ],
        Language::Cpp => vec![tree_sitter_cpp::LANGUAGE.into()],
    }
}
