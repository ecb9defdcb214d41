//! Which functions the question names, and what each function in the tree is called.

use crate::question::Question;
use tree_sitter::Node;

/// English words that are also common function names, too vague in a question to name one.
const VAGUE: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "body", "by", "code", "def", "do", "does", "file",
    "fn", "for", "from", "func", "function", "how", "i", "if", "in", "into", "is", "it", "me",
    "method", "of", "on", "or", "show", "that", "the", "this", "to", "what", "when", "where",
    "which", "why", "with",
];

/// Whether the question names `name` (a function's or a type's): it says it as an anchor, a
/// segment of one (`Parser::parse_header`), or a word, and it is not a vague word (`the`, `function`).
pub(crate) fn is_named(question: &Question, name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && !VAGUE.contains(&name.to_ascii_lowercase().as_str())
        && question.says_name(name)
}

/// Whether the question names the type `name`: as [`is_named`], and not only as the qualifier of
/// one of its members (`Map::retain` asks about `retain`).
pub(crate) fn is_type_named(question: &Question, name: &str) -> bool {
    is_named(question, name) && question.says_name_alone(name)
}

/// The name a type node is known by: its `name` (or, for a Rust `impl`, its `type`) without
/// generic arguments: `impl<K, V> Map<K, V>` gives `Map`.
pub(crate) fn type_name<'t>(node: Node<'_>, source: &'t str) -> Option<&'t str> {
    let named = node
        .child_by_field_name("name")
        .or_else(|| node.child_by_field_name("type"))?;
    let text = source.get(named.byte_range())?;
    last_identifier(text.split('<').next().unwrap_or(text))
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
    fn question_names_skip_vague_words() {
        let q = Question::parse(
            "How does `Parser::parse_header` handle the 2nd line of this function?",
        );
        assert!(is_named(&q, "Parser") && is_named(&q, "parse_header"));
        assert!(is_named(&q, "handle"));
        assert!(!is_named(&q, "the") && !is_named(&q, "function") && !is_named(&q, "2nd"));
        assert!(
            !is_type_named(&q, "Parser"),
            "a qualifier names a member, not the type"
        );
        assert!(is_type_named(
            &Question::parse("what is a Parser?"),
            "Parser"
        ));
    }

    #[test]
    fn last_identifier_of_qualified_names() {
        assert_eq!(last_identifier("Foo::bar"), Some("bar"));
        assert_eq!(last_identifier("this.handler"), Some("handler"));
        assert_eq!(last_identifier("~Widget"), Some("Widget"));
        assert_eq!(last_identifier("=="), None);
    }
}
