//! The one full walk over a syntax tree: the functions, types and comments the elider and the
//! comment shortener look at, in document order, so neither walks the tree again.

use super::grammar::Kinds;
use super::walk::preorder;
use tree_sitter::{Node, Tree};

/// A function with an elidable body, or a type.
#[derive(Clone, Copy)]
pub(crate) struct Item<'t> {
    pub(crate) node: Node<'t>,
    /// The body a function may lose; `None` for a type.
    pub(crate) body: Option<Node<'t>>,
}

/// The nodes of one tree the code compressor decides about, each list in document order
/// (a node before the nodes inside it).
pub(crate) struct Outline<'t> {
    /// Functions with an elidable body, and types.
    pub(crate) items: Vec<Item<'t>>,
    /// Comments and string literals (a string may be a docstring).
    pub(crate) comments: Vec<Node<'t>>,
}

impl<'t> Outline<'t> {
    /// Walks `tree` once.
    pub(crate) fn of(tree: &'t Tree, kinds: &Kinds) -> Outline<'t> {
        let mut items = Vec::new();
        let mut comments = Vec::new();
        preorder(tree, |node| {
            if let Some(body) = elidable_body(node, kinds) {
                items.push(Item {
                    node,
                    body: Some(body),
                });
            } else if kinds.is_type(node) {
                items.push(Item { node, body: None });
            } else if kinds.is_comment(node) || kinds.is_string(node) {
                comments.push(node);
            }
            true
        });
        Outline { items, comments }
    }

    /// The functions, in document order.
    pub(crate) fn functions(&self) -> impl Iterator<Item = (Node<'t>, Node<'t>)> + '_ {
        self.items
            .iter()
            .filter_map(|item| item.body.map(|body| (item.node, body)))
    }
}

/// The body of a function node, when the node is a function and its body a block we may elide.
pub(crate) fn elidable_body<'t>(node: Node<'t>, kinds: &Kinds) -> Option<Node<'t>> {
    if !kinds.is_function(node) {
        return None;
    }
    node.child_by_field_name("body")
        .filter(|body| kinds.is_body(*body))
}
