//! A syntax tree's nodes in document order, without recursion (the outline's walk, error counts).

use tree_sitter::{Node, Tree};

/// Visits the nodes of `tree` in document order; `visit` returns whether to enter the node's children.
/// Iterative, so deeply nested input cannot overflow the stack.
pub(crate) fn preorder<'t>(tree: &'t Tree, mut visit: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = tree.walk();
    loop {
        if visit(cursor.node()) && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}
