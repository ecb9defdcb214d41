//! Which functions the question names, and what each function in the tree is called.

use std::collections::HashSet;
use tree_sitter::Node;

/// English words that are also common function names, too vague in a question to name one.
const VAGUE: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "body", "by", "code", "def", "do", "does", "file",
    "fn", "for", "from", "func", "function", "how", "i", "if", "in", "into", "is", "it", "me",
    "method", "of", "on", "or", "show", "that", "the", "this", "to", "what", "when", "where",
    "which", "why", "with",
];

/// The identifiers in `question` (the user turn plus the tool call's arguments) that can name a
/// function: `parse_header`, `Parser::new` (both parts), `render` (but not `the` or `function`).
pub(crate) fn named_identifiers(question: &str) -> HashSet<&str> {
    question
        .split(|c: char| !is_identifier_char(c))
        .filter(|word| {
            word.chars().next().is_some_and(|c| !c.is_ascii_digit())
                && !VAGUE.contains(&word.to_ascii_lowercase().as_str())
        })
        .collect()
}

/// The name a function node is known by: its own name, its C declarator's, or (for an anonymous
/// function) the variable, key or property it is assigned to. `Foo::bar` and `this.bar` give `bar`.
pub(crate) fn function_name<'t>(node: Node<'_>, source: &'t str) -> Option<&'t str> {
    let mut current = node;
    let mut found = false;
    while let Some(next) = current
        .child_by_field_name("name")
        .or_else(|| current.child_by_field_name("declarator"))
    {
        current = next;
        found = true;
    }
    if !found {
        let parent = node.parent()?;
        let field = match parent.kind() {
            "variable_declarator" => "name",
            "pair" => "key",
            "assignment_expression" => "left",
            "public_field_definition" | "field_definition" => "property",
            _ => return None,
        };
        current = parent
            .child_by_field_name(field)
            .or_else(|| parent.child_by_field_name("name"))?;
    }
    last_identifier(source.get(current.byte_range())?)
}

fn last_identifier(text: &str) -> Option<&str> {
    text.rsplit(|c: char| !is_identifier_char(c))
        .find(|s| !s.is_empty())
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_identifiers_skip_vague_words() {
        let names = named_identifiers("How does `Parser::parse_header` handle the 2nd line?");
        assert!(names.contains("Parser") && names.contains("parse_header"));
        assert!(names.contains("handle"));
        assert!(!names.contains("the") && !names.contains("How") && !names.contains("2nd"));
    }

    #[test]
    fn last_identifier_of_qualified_names() {
        assert_eq!(last_identifier("Foo::bar"), Some("bar"));
        assert_eq!(last_identifier("this.handler"), Some("handler"));
        assert_eq!(last_identifier("~Widget"), Some("Widget"));
        assert_eq!(last_identifier("=="), None);
    }
}
