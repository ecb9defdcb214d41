//! Function bodies out, everything else in: the syntax-aware elision of one parsed source file.

use super::comments::{shorten, Lines, Shortening};
use super::grammar::{BodyStyle, Grammar, Kinds};
use super::names::{function_name, is_named, is_type_named, type_name};
use super::outline::{elidable_body, Outline};
use super::walk::preorder;
use crate::marker::Marker;
use crate::question::Question;
use std::ops::Range;
use tree_sitter::{Node, Tree};

/// The source with bodies elided, and how much went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Elided {
    /// The rewritten source.
    pub(crate) text: String,
    /// Bodies elided.
    pub(crate) bodies: usize,
    /// Comments shortened.
    pub(crate) comments: usize,
}

/// What to keep and how to mark what goes.
pub(crate) struct Plan<'a> {
    pub(crate) grammar: Grammar,
    /// The grammar's node kinds by id, for the loaded language the tree was parsed with.
    pub(crate) kinds: &'a Kinds,
    /// What the question names: the functions and types it names stay verbatim.
    pub(crate) question: &'a Question,
    /// Bodies with fewer inner lines stay.
    pub(crate) min_body_lines: usize,
    /// Long comments keep their first paragraph, at most this many lines (0: comments stay whole).
    pub(crate) comment_lines: usize,
    /// The segment hash the markers carry.
    pub(crate) hash: &'a str,
}

/// Elides the bodies of the functions `plan` does not keep, or `None` when no body qualifies.
///
/// A body stays when its function is wanted, when it holds a wanted function (then its own
/// functions are considered one by one), when it is short, or when a syntax error makes its
/// extent uncertain.
pub(crate) fn elide(source: &str, tree: &Tree, plan: &Plan<'_>) -> Option<Elided> {
    let outline = Outline::of(tree, plan.kinds);
    let (wanted_ranges, by_name) = wanted_functions(source, &outline, plan);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    // A function decided whole (kept or elided) is not entered: the functions inside it, which
    // start before it ends, are passed over.
    let mut decided_until = 0;
    for (node, body) in outline.functions() {
        let range = node.byte_range();
        if range.start < decided_until {
            continue;
        }
        // A named function, or one inside a named type, stays whole.
        if wanted_ranges
            .iter()
            .any(|r| r.start <= range.start && range.end <= r.end)
        {
            decided_until = range.end;
            continue;
        }
        let body_range = body.byte_range();
        if wanted_ranges
            .iter()
            .any(|r| body_range.start <= r.start && r.end <= body_range.end)
            || is_module_wrapper(tree, body, plan.kinds)
        {
            continue;
        }
        if sound(node, body, source) {
            if let Some(edit) = body_edit(source, body, plan) {
                edits.push(edit);
            }
        }
        decided_until = range.end;
    }
    let bodies = edits.len();
    let lines = Lines::new(source);
    let mut skip: Vec<Range<usize>> = edits.iter().map(|(r, _)| r.clone()).collect();
    skip.extend(wanted_ranges.iter().cloned());
    let wanted_rows: Vec<usize> = wanted_ranges
        .iter()
        .map(|r| source[..r.start].matches('\n').count())
        .collect();
    // What a name names is the answer: comments that merely mention it stay shortened, and only
    // an anchor no wanted function holds as said (`HashSet::with_capacity_and_hasher_in` where
    // the function is `fn with_capacity_and_hasher_in`) still names comments.
    let unanswered = by_name.then(|| {
        let wanted: Vec<&str> = wanted_ranges.iter().map(|r| &source[r.clone()]).collect();
        plan.question.unanswered_by(&wanted)
    });
    let how = Shortening {
        kinds: plan.kinds,
        keep_lines: plan.comment_lines,
        hash: plan.hash,
    };
    let comments = shorten(
        &outline.comments,
        &lines,
        &skip,
        &wanted_rows,
        unanswered.as_ref().or(Some(plan.question)),
        &how,
    );
    let comments_shortened = comments.len();
    edits.extend(comments);
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut text = String::with_capacity(source.len() / 2);
    let mut at = 0;
    for (range, replacement) in edits {
        text.push_str(&source[at..range.start]);
        text.push_str(&replacement);
        at = range.end;
    }
    text.push_str(&source[at..]);
    Some(Elided {
        text,
        bodies,
        comments: comments_shortened,
    })
}

/// A named type up to this many lines keeps its functions' bodies too.
const NAMED_TYPE_MAX_LINES: usize = 80;
/// Share of the source (bytes) the functions named by what they hold may keep whole.
const NAMED_TEXT_SHARE: f64 = 0.1;

/// The byte ranges of the function and type nodes the question names: by name (a function, or a
/// type up to [`NAMED_TYPE_MAX_LINES`]), or by what a function holds (an anchor of the question
/// in its text, or the best by its words: see [`Question::naming`]), the innermost such functions within
/// [`NAMED_TEXT_SHARE`] of the source.
/// Also whether they were named by name.
fn wanted_functions(
    source: &str,
    outline: &Outline<'_>,
    plan: &Plan<'_>,
) -> (Vec<Range<usize>>, bool) {
    let mut ranges = Vec::new();
    if plan.question.is_empty() {
        return (ranges, false);
    }
    let mut functions: Vec<Range<usize>> = Vec::new();
    // Whether a name the user's turn says (not only the tool call's arguments) named one.
    let mut asked_by_name = false;
    for item in &outline.items {
        let node = item.node;
        let is_function = item.body.is_some();
        let name = if is_function {
            function_name(node, source).filter(|name| is_named(plan.question, name))
        } else if node.end_position().row - node.start_position().row <= NAMED_TYPE_MAX_LINES {
            // A large named type keeps its structure (fields, signatures) like any other.
            type_name(node, source).filter(|name| is_type_named(plan.question, name))
        } else {
            None
        };
        if let Some(name) = name {
            asked_by_name |= plan.question.asks_name(name);
            ranges.push(node.byte_range());
        } else if is_function {
            functions.push(node.byte_range());
        }
    }
    // A function or type named by its name is the most specific answer: the functions that
    // merely hold the name are its users, not what was asked. (A name only the tool call says,
    // `flag` of `cat flag.go`, leaves the user's words their say.)
    if asked_by_name {
        return (ranges, true);
    }
    let texts: Vec<&str> = functions.iter().map(|r| &source[r.clone()]).collect();
    // Functions are large units: those an anchor names, else the best one by words alone.
    let named = plan.question.naming(&texts).kept_whole(1);
    let mut room = (source.len() as f64 * NAMED_TEXT_SHARE) as usize;
    for &i in &named {
        let r = &functions[i];
        let holds_named = named
            .iter()
            .any(|&j| j != i && r.start <= functions[j].start && functions[j].end <= r.end);
        let inside_wanted = ranges.iter().any(|w| w.start <= r.start && r.end <= w.end);
        // The first one stays whatever its size; the others within the room.
        if holds_named || inside_wanted || (r.len() > room && !ranges.is_empty()) {
            continue;
        }
        room = room.saturating_sub(r.len());
        ranges.push(r.clone());
    }
    (ranges, false)
}

/// A function whose body is most of the file and defines functions of its own (an IIFE or UMD
/// wrapper, a `main` full of closures) is a module, not a body: its functions are elided one by one.
fn is_module_wrapper(tree: &Tree, body: Node<'_>, kinds: &Kinds) -> bool {
    let lines = body.end_position().row - body.start_position().row;
    if lines * 2 <= tree.root_node().end_position().row {
        return false;
    }
    let mut cursor = body.walk();
    let mut found = false;
    loop {
        let node = cursor.node();
        if node != body && elidable_body(node, kinds).is_some() {
            found = true;
            break;
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() || cursor.node() == body {
                return found;
            }
        }
    }
    found
}

/// Whether the body can go without harm: the function's head parses cleanly and the body is a
/// whole block (an error inside it, such as a macro tree-sitter cannot read, leaves with it).
fn sound(function: Node<'_>, body: Node<'_>, source: &str) -> bool {
    if !function.has_error() {
        return true;
    }
    let mut cursor = function.walk();
    let head_clean = function
        .children(&mut cursor)
        .filter(|c| c.id() != body.id())
        .all(|c| !c.has_error());
    let text = &source[body.byte_range()];
    head_clean
        && !body.is_error()
        && !body.is_missing()
        && match body.kind() {
            "block" if text.starts_with('{') => text.ends_with('}'),
            // Python blocks are delimited by indentation, which an error can throw off.
            "block" => false,
            _ => text.starts_with('{') && text.ends_with('}'),
        }
}

/// The replacement of one body, if it is long enough to be worth a marker.
fn body_edit(source: &str, body: Node<'_>, plan: &Plan<'_>) -> Option<(Range<usize>, String)> {
    match plan.grammar.style {
        BodyStyle::Braces => {
            let (start, end) = (body.start_position().row, body.end_position().row);
            let inner = end.saturating_sub(start + 1);
            if inner < plan.min_body_lines.max(1) {
                return None;
            }
            let marker = Marker::new(inner, None, "lines", plan.hash).to_text();
            if body.byte_range().len() < 2 * marker.len() {
                return None;
            }
            Some((body.byte_range(), format!("{{ /* {marker} */ }}")))
        }
        BodyStyle::Indented => indented_edit(source, body, plan),
    }
}

/// A Python block: its docstring stays, the statements after it become `...  # [marker]`.
fn indented_edit(source: &str, block: Node<'_>, plan: &Plan<'_>) -> Option<(Range<usize>, String)> {
    let header_row = block.parent()?.start_position().row;
    if block.start_position().row == header_row {
        return None;
    }
    let mut cursor = block.walk();
    let statements: Vec<Node<'_>> = block
        .named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect();
    let docstring = statements.first().filter(|s| {
        s.kind() == "expression_statement"
            && s.named_child_count() == 1
            && s.named_child(0).is_some_and(|c| c.kind() == "string")
    });
    let first = match docstring {
        Some(_) => statements.get(1)?,
        None => statements.first()?,
    };
    let lines = block.end_position().row + 1 - first.start_position().row;
    if lines < plan.min_body_lines.max(1) {
        return None;
    }
    let marker = Marker::new(lines, None, "lines", plan.hash).to_text();
    if block.end_byte() - first.start_byte() < 2 * marker.len() {
        return None;
    }
    match docstring {
        Some(doc) => {
            let line_start = source[..block.start_byte()]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let indent = &source[line_start..block.start_byte()];
            if !indent.chars().all(|c| c == ' ' || c == '\t') {
                return None;
            }
            Some((
                doc.end_byte()..block.end_byte(),
                format!("\n{indent}...  # {marker}"),
            ))
        }
        None => Some((block.byte_range(), format!("...  # {marker}"))),
    }
}

/// Syntax errors and missing tokens in `tree`.
pub(crate) fn error_count(tree: &Tree) -> usize {
    if !tree.root_node().has_error() {
        return 0;
    }
    let mut count = 0;
    preorder(tree, |node| {
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        node.has_error()
    });
    count
}
