//! One thing the question names exactly, and where units hold it.

use super::matching::{is_hex_token_at, LoweredUnits};
use super::read::{identifier_forms, path_forms};
use super::AnchorKind;
use crate::compress::relevance::Term;

/// One thing the question names exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// What it is.
    pub(crate) kind: AnchorKind,
    /// Its text, lowercased (for `#N`, just `N`).
    pub(crate) text: String,
    /// The forms it may match in, most specific first: the text itself, then (paths and qualified
    /// identifiers) shorter suffixes that still name something.
    pub(super) forms: Vec<Term>,
    /// Said in the user's turn, not only in the tool call's arguments (see [`Question::for_call`]).
    pub(super) asked: bool,
}

impl Anchor {
    pub(super) fn new(kind: AnchorKind, text: String) -> Anchor {
        let forms = match kind {
            AnchorKind::Path => path_forms(&text),
            AnchorKind::Identifier => identifier_forms(&text),
            _ => vec![text.clone()],
        };
        let forms = forms.into_iter().map(Term::new).collect();
        Anchor {
            kind,
            text,
            forms,
            asked: true,
        }
    }

    /// The most specific form (0 = the anchor itself) that `unit` holds, if any. `lower` is the
    /// unit lowercased, `squashed` the same with whitespace runs as one space (for phrases).
    pub(super) fn level(&self, lower: &str, squashed: &str) -> Option<usize> {
        self.forms.iter().position(|form| {
            let unit = if self.in_squashed(form) {
                squashed
            } else {
                lower
            };
            form.occurrences(unit)
                .any(|start| self.holds_at(form, unit, start))
        })
    }

    /// The units (by index, ascending) holding this anchor's most specific form that any of them
    /// holds: the units whose [`Anchor::level`] is the least.
    pub(super) fn most_specific_units(&self, units: &LoweredUnits) -> Vec<usize> {
        self.forms
            .iter()
            .map(|form| {
                units.units_holding(form, self.in_squashed(form), |unit, start| {
                    self.holds_at(form, unit, start)
                })
            })
            .find(|found| !found.is_empty())
            .unwrap_or_default()
    }

    /// Whether `form` is looked for in units with whitespace runs as one space: a quoted or
    /// backticked phrase.
    fn in_squashed(&self, form: &Term) -> bool {
        matches!(self.kind, AnchorKind::Quoted | AnchorKind::Backticked)
            && form.as_str().contains(' ')
    }

    /// Whether the occurrence of `form` at `start` of `unit` (lowercased) is one this anchor
    /// names: a whole token, or for a hex prefix the start of a hash.
    fn holds_at(&self, form: &Term, unit: &str, start: usize) -> bool {
        let len = form.as_str().len();
        match self.kind {
            AnchorKind::HexPrefix => is_hex_token_at(unit, start, len, false),
            // Seven digits or more may be a hash prefix that happens to have no letter.
            AnchorKind::Number if self.is_digit_hash_prefix() => {
                form.is_whole_at(unit, start) || is_hex_token_at(unit, start, len, true)
            }
            _ => form.is_whole_at(unit, start),
        }
    }

    /// Whether a whole value (a JSON field's, lowercased) is what this anchor names: equal to it,
    /// or for a hex prefix a hash it starts, for a path a path it ends.
    pub(super) fn is_value(&self, value: &str) -> bool {
        match self.kind {
            AnchorKind::HexPrefix => {
                value.starts_with(&self.text) && value.bytes().all(|b| b.is_ascii_hexdigit())
            }
            AnchorKind::Number if self.is_digit_hash_prefix() => {
                value == self.text
                    || (value.starts_with(&self.text)
                        && value.bytes().all(|b| b.is_ascii_hexdigit())
                        && value.bytes().any(|b| b.is_ascii_alphabetic()))
            }
            AnchorKind::Path => self
                .forms
                .first()
                .map(Term::as_str)
                .is_some_and(|f| value == f || value.ends_with(&format!("/{f}"))),
            AnchorKind::Reference => value == self.text || value == format!("#{}", self.text),
            _ => value == self.text,
        }
    }

    /// Whether some form is looked for with whitespace runs as one space (see
    /// [`Anchor::in_squashed`]): the units must then be squashed too.
    pub(super) fn is_phrase(&self) -> bool {
        self.forms.iter().any(|f| self.in_squashed(f))
    }

    /// A number of seven digits or more, no point: it may be the start of a hash (`1234567` of
    /// `1234567ab…`, as `git log --oneline` abbreviates one), and matches as one does too.
    fn is_digit_hash_prefix(&self) -> bool {
        self.text.len() >= 7 && self.text.bytes().all(|b| b.is_ascii_digit())
    }
}
