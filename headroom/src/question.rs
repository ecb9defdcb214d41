//! What the question names: the one model every compressor asks "which of my units does the
//! question name?", so none of them re-parses the question.
//!
//! The question is the user turn that led to a tool result plus the tool call's arguments (a JSON
//! object's keys say nothing; its string values are read as text). It is read into *anchors*, each
//! with a kind, and *words*:
//!
//! * anchors: quoted phrases in any quote style (`"…"`, `'…'`, `“…”`, `‘…’`, `«…»`), backticked
//!   text, file paths (matched by basename and by path suffix), identifiers (`snake_case`,
//!   `camelCase`, `a::b`, `a.b`, field paths such as `owner.login`), `#N` references, hex prefixes
//!   of seven or more digits (they name the longer hashes they start), numbers, versions and dates;
//! * words: the other content words, for BM25 (see [`crate::compress::relevance`]); a word found in
//!   at most [`RARE_MAX_UNITS`] units of the document is a *rare word*.
//!
//! [`Question::naming`] splits what the question names into two tiers: *strong* units, matched by an
//! anchor that picks them out (an anchor found in more than a share of the units names none of
//! them), which a compressor keeps whole; and at most [`WEAK_MAX_UNITS`] *weak* units, ranked by
//! BM25 among those holding a rare word or scoring near the best, so common words never make a
//! compressor keep much.
//!
//! ```text
//! let q = Question::parse("Which lines of util.py matched, and what is commit a1b2c3d?");
//! let units = ["src/foo/util.py:3:x", "src/bar.py:9:y", "commit a1b2c3d4e5f6a7b8", "commit 0f0f0f0f"];
//! assert_eq!(q.naming(&units).strong, vec![0, 2]);
//! ```

mod anchor;
mod anchor_filter;
mod anchor_kind;
mod matching;
mod naming;
mod read;

pub(crate) use anchor::Anchor;
pub(crate) use anchor_kind::AnchorKind;
pub(crate) use naming::Naming;

use crate::compress::relevance::{bm25, words, Term};
use anchor_filter::AnchorFilter;
use matching::{Lowered, LoweredUnits};
use read::{classify, field_values, is_separator, plain_text, quoted, STOPWORDS};
use std::sync::OnceLock;

/// A word found in at most this many units of a document is rare: it names them (weakly).
pub(crate) const RARE_MAX_UNITS: usize = 3;
/// Units named by words alone (rare or ranked common words), at most.
pub(crate) const WEAK_MAX_UNITS: usize = 3;
/// An anchor found in more than this share of a segment's units picks none of them out.
pub(crate) const STRONG_MAX_SHARE: f64 = 0.5;
/// A weak unit must score at least this share of the best BM25 score.
const WEAK_MIN_SHARE_OF_BEST: f64 = 0.5;

/// A question read into anchors and words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Question {
    anchors: Vec<Anchor>,
    /// Lowercased content words (no stopwords), deduplicated, in order.
    words: Vec<String>,
    /// Lowercased identifier-shaped tokens (`parse_header`, `keep`): names a function may have.
    names: Vec<String>,
    /// Of those, the ones only ever said as a qualifier (`Map` in `Map::retain`).
    qualifiers: Vec<String>,
    /// Some anchor is a phrase (matched with whitespace runs as one space).
    phrases: bool,
    /// For each word, whether the user's turn says it (not only the tool call's arguments).
    asked_words: Vec<bool>,
    /// The names the user's turn says (see [`Question::asks_name`]).
    asked_names: Vec<String>,
    /// Built from the anchors on first use: which units certainly hold none.
    filter: OnceLock<AnchorFilter>,
}

impl Question {
    /// Reads `text` (the user turn plus the tool call's arguments).
    pub(crate) fn parse(text: &str) -> Question {
        let text = plain_text(text);
        let mut q = Question::default();
        for (kind, inside) in quoted(&text) {
            // One token in quotes is classified as a token (a path stays a path), else a phrase.
            let single = !inside.contains(char::is_whitespace);
            match classify(inside) {
                Some((token_kind, t)) if single => q.push(token_kind, t),
                _ => q.push(kind, inside.to_lowercase()),
            }
        }
        // A field's value of several words (`whose title is Test issue 4`) is a phrase.
        for value in field_values(&text) {
            q.push(AnchorKind::Quoted, value.to_lowercase());
        }
        for raw in text.split(is_separator) {
            let token = raw.trim_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '@'));
            if let Some((kind, t)) = classify(token) {
                q.push(kind, t);
            }
        }
        // The parts of a path (`src/hir/mod.rs`) name a file (its anchor), not words, functions
        // or types.
        let text: String = text
            .split_inclusive(char::is_whitespace)
            .filter(|chunk| !chunk.contains('/'))
            .collect();
        for word in words(&text) {
            // Two characters are a word only as letters (`ci`, `os`); `3d` is more often `%3D` in a URL.
            let long_enough = word.chars().count() >= 3
                || (word.chars().count() == 2 && word.chars().all(char::is_alphabetic));
            if long_enough
                && !word.bytes().all(|b| b.is_ascii_digit())
                && !STOPWORDS.contains(&word.as_str())
                && !q.words.contains(&word)
            {
                q.words.push(word);
            }
        }
        let is_name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
        // The words of a quoted phrase (`'home directory'`) name the phrase, not a function or
        // a type each.
        let mut text = text;
        let phrases: Vec<String> = quoted(&text)
            .into_iter()
            .filter(|(_, inside)| inside.contains(char::is_whitespace))
            .map(|(_, inside)| inside.to_string())
            .collect();
        for phrase in phrases {
            text = text.replace(&phrase, " ");
        }
        let mut said_alone: Vec<String> = Vec::new();
        let mut at = 0;
        for name in text.split(|c: char| !is_name_char(c)) {
            let end = at + name.len();
            let rest = &text[end..];
            at = end + rest.chars().next().map_or(0, char::len_utf8);
            let lower = name.to_lowercase();
            if name.is_empty()
                || name.starts_with(|c: char| c.is_ascii_digit())
                || STOPWORDS.contains(&lower.as_str())
            {
                continue;
            }
            let qualifier = (rest.starts_with("::") || rest.starts_with('.'))
                && rest
                    .trim_start_matches([':', '.'])
                    .starts_with(|c: char| c.is_alphabetic() || c == '_');
            if !qualifier && !said_alone.contains(&lower) {
                said_alone.push(lower.clone());
            }
            if !q.names.contains(&lower) {
                q.names.push(lower);
            }
        }
        q.qualifiers = q
            .names
            .iter()
            .filter(|n| !said_alone.contains(n))
            .cloned()
            .collect();
        q.phrases = q.anchors.iter().any(Anchor::is_phrase);
        q.asked_words = vec![true; q.words.len()];
        q.asked_names = q.names.clone();
        q
    }

    /// Reads `question` (the user's turn, then the tool call's `arguments`, as the engine joins
    /// them), knowing which part is which: what only the arguments say (the file a `cat` read, the
    /// words of the command) still names units, but never outranks what the user asked.
    ///
    /// ```text
    /// let q = Question::for_call("where is fprintf?\n{\"command\":\"cat zlib.h\"}", Some("{\"command\":\"cat zlib.h\"}"));
    /// // `zlib.h` names the units that hold it, and `fprintf` still names its unit.
    /// ```
    pub(crate) fn for_call(question: &str, arguments: Option<&str>) -> Question {
        let mut q = Question::parse(question);
        let Some(arguments) = arguments.filter(|a| !a.trim().is_empty() && question.contains(*a))
        else {
            return q;
        };
        let asked = Question::parse(&question.replacen(arguments, "", 1));
        for anchor in &mut q.anchors {
            anchor.asked = asked.anchors.iter().any(|a| a.text == anchor.text);
        }
        q.asked_words = q.words.iter().map(|w| asked.words.contains(w)).collect();
        q.asked_names = asked.names;
        q
    }

    /// The same question without the words `drop` (lowercase): words a compressor serves by rules
    /// of its own (a log's `errors`), which name no unit of their own there.
    pub(crate) fn without_words(&self, drop: &[&str]) -> Question {
        let mut q = self.clone();
        let keep: Vec<bool> = self
            .words
            .iter()
            .map(|w| !drop.contains(&w.as_str()))
            .collect();
        let mut at = 0;
        q.words.retain(|_| {
            at += 1;
            keep[at - 1]
        });
        let mut at = 0;
        q.asked_words.retain(|_| {
            at += 1;
            keep[at - 1]
        });
        q
    }

    /// The anchors none of `texts` holds in their most specific form, alone (no words, no names):
    /// what is still unanswered once those texts are kept.
    #[cfg_attr(not(feature = "code"), allow(dead_code))]
    pub(crate) fn unanswered_by(&self, texts: &[&str]) -> Question {
        let mut answered = vec![false; self.anchors.len()];
        let mut lowered = Lowered::default();
        for text in texts {
            let (lower, squashed) = lowered.of(text, self.phrases);
            for (anchor, answered) in self.anchors.iter().zip(&mut answered) {
                *answered |= anchor.level(lower, squashed) == Some(0);
            }
        }
        let mut q = Question {
            anchors: self.anchors.clone(),
            phrases: self.phrases,
            ..Question::default()
        };
        let mut answered = answered.into_iter();
        q.anchors.retain(|_| !answered.next().unwrap_or(false));
        q
    }

    /// The question a compressor works against: [`Question::for_call`] of the segment's question
    /// and its tool call's arguments.
    pub(crate) fn of(ctx: &crate::compress::SegmentContext<'_>) -> Question {
        Question::for_call(&ctx.question, ctx.tool_arguments.as_deref())
    }

    /// The same question without the tool call's arguments: the user's turn alone.
    pub(crate) fn asked_only(&self) -> Question {
        let mut q = self.clone();
        q.anchors.retain(|a| a.asked);
        let words = std::mem::take(&mut q.words);
        q.words = words
            .into_iter()
            .zip(&self.asked_words)
            .filter_map(|(w, &asked)| asked.then_some(w))
            .collect();
        q.asked_words = vec![true; q.words.len()];
        q.names.retain(|n| self.asked_names.contains(n));
        q.filter = OnceLock::new();
        q
    }

    /// Whether `unit` may hold an anchor: `false` when it certainly holds none (see
    /// [`AnchorFilter`]), checked before the unit is lowercased and each anchor looked for.
    fn may_hold_anchor(&self, unit: &str) -> bool {
        self.filter
            .get_or_init(|| {
                AnchorFilter::new(
                    self.anchors
                        .iter()
                        .flat_map(|a| a.forms.iter().map(Term::as_str)),
                )
            })
            .may_hold(unit)
    }

    /// Whether the question names nothing at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty() && self.anchors.is_empty()
    }

    /// The anchors, in the order the question gives them.
    pub(crate) fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// The content words, lowercased (for BM25 and whole-value comparison).
    pub(crate) fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether `unit` holds an anchor (in its most specific form, or a shorter one for paths and
    /// qualified identifiers), whatever the rest of the document holds.
    pub(crate) fn mentions(&self, unit: &str) -> bool {
        if self.anchors.is_empty() || !self.may_hold_anchor(unit) {
            return false;
        }
        let mut lowered = Lowered::default();
        let (lower, squashed) = lowered.of(unit, self.phrases);
        self.anchors
            .iter()
            .any(|a| a.level(lower, squashed).is_some())
    }

    /// The anchors a whole value names (a JSON field's value as text): by index into
    /// [`Question::anchors`]. `"a1b2c3d4…"` is named by `a1b2c3d`, `57` by `#57`.
    pub(crate) fn names_value(&self, value: &str) -> Vec<usize> {
        // A value an anchor names holds it: the filter passes over the rest unlowercased.
        if self.anchors.is_empty() || !self.may_hold_anchor(value) {
            return Vec::new();
        }
        let lower = value.to_lowercase();
        (0..self.anchors.len())
            .filter(|&a| self.anchors[a].is_value(&lower))
            .collect()
    }

    /// Whether `name` (a function's, a type's) is one the question says: an anchor, or a whole
    /// identifier-shaped token of it (`Parser::parse_header` says `Parser` and `parse_header`, not
    /// `parse`), case aside.
    #[cfg_attr(not(feature = "code"), allow(dead_code))]
    pub(crate) fn says_name(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        self.names.contains(&lower) || self.anchors.iter().any(|a| a.text == lower)
    }

    /// Whether the user's turn itself says `name` (see [`Question::says_name`]), not only the tool
    /// call's arguments (`cat flag.go` says `flag`, which names no type the user asked about).
    #[cfg_attr(not(feature = "code"), allow(dead_code))]
    pub(crate) fn asks_name(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        self.asked_names.contains(&lower) || self.anchors.iter().any(|a| a.asked && a.text == lower)
    }

    /// Whether the question says `name` other than as a qualifier: `Map::retain` names the method
    /// `retain`, not every part of the type `Map`.
    #[cfg_attr(not(feature = "code"), allow(dead_code))]
    pub(crate) fn says_name_alone(&self, name: &str) -> bool {
        self.says_name(name) && !self.qualifiers.contains(&name.to_lowercase())
    }

    /// BM25 of every unit against the question's words (all zeros without words).
    pub(crate) fn scores(&self, units: &[&str]) -> Vec<f64> {
        bm25(&self.words, units).scores
    }

    /// Which units the question names, with [`STRONG_MAX_SHARE`] as the share past which an
    /// anchor names nothing (see [`Question::naming_within`]).
    pub(crate) fn naming(&self, units: &[&str]) -> Naming {
        self.naming_within(units, STRONG_MAX_SHARE)
    }

    /// The strong units alone (see [`Question::naming_within`]): for compressors that rank by
    /// words themselves.
    pub(crate) fn strong_within(&self, units: &[&str], max_share: f64) -> Vec<usize> {
        self.strong_and_asked(units, max_share).0
    }

    /// The strong units, and whether an anchor of the user's turn picked some of them out.
    fn strong_and_asked(&self, units: &[&str], max_share: f64) -> (Vec<usize>, bool) {
        if self.anchors.is_empty() || units.is_empty() {
            return (Vec::new(), false);
        }
        // Two units or fewer: an anchor in both still names them.
        let limit = if units.len() <= 2 {
            units.len()
        } else {
            ((units.len() as f64 * max_share) as usize).max(1)
        };
        // Every unit lowercased once, together: each anchor form is then one pass over them all.
        let lowered = LoweredUnits::new(units, self.phrases);
        let mut strong = vec![false; units.len()];
        let mut asked = false;
        for anchor in &self.anchors {
            let found = anchor.most_specific_units(&lowered);
            if found.len() <= limit {
                asked |= anchor.asked && !found.is_empty();
                found.into_iter().for_each(|i| strong[i] = true);
            }
        }
        ((0..units.len()).filter(|&i| strong[i]).collect(), asked)
    }

    /// Which units the question names. Strong: for each anchor, the units holding its most
    /// specific form that any unit holds, unless they are more than `max_share` of the units (and
    /// more than one). Weak: up to [`WEAK_MAX_UNITS`] more, best BM25 first, among the units that
    /// hold a rare word or score at least half the best: those holding a rare word of the user's
    /// turn first, then those holding a rare word of the tool call's arguments.
    pub(crate) fn naming_within(&self, units: &[&str], max_share: f64) -> Naming {
        let (strong, asked_strong) = self.strong_and_asked(units, max_share);
        let mut naming = Naming {
            strong,
            asked_strong,
            scores: vec![0.0; units.len()],
            ..Naming::default()
        };
        if units.is_empty() {
            return naming;
        }
        if !self.words.is_empty() {
            let relevance = bm25(&self.words, units);
            let (scores, frequency) = (&relevance.scores, &relevance.document_frequency);
            // Whether unit `i` holds one of the words `which` (by index), from its term counts.
            let holds_any =
                |i: usize, which: &[usize]| which.iter().any(|&w| relevance.holds(i, w));
            naming.scores.clone_from(scores);
            let (rare_asked, rare_call): (Vec<usize>, Vec<usize>) = (0..self.words.len())
                .filter(|&w| frequency[w] >= 1 && frequency[w] as usize <= RARE_MAX_UNITS)
                .partition(|&w| self.asked_words.get(w).copied().unwrap_or(true));
            let top = scores.iter().copied().fold(0.0, f64::max);
            // (unit, holds a rare word of the user's turn, holds another rare word): a unit
            // holding one ranks first, rarity being what makes a word name something, and the
            // user's words before the tool call's.
            let mut ranked: Vec<(usize, bool, bool)> = (0..units.len())
                .filter(|&i| scores[i] > 0.0 && naming.strong.binary_search(&i).is_err())
                .filter_map(|i| {
                    let asked = holds_any(i, &rare_asked);
                    let call = holds_any(i, &rare_call);
                    (asked || call || scores[i] >= top * WEAK_MIN_SHARE_OF_BEST)
                        .then_some((i, asked, call))
                })
                .collect();
            ranked.sort_by(|&(a, aa, ac), &(b, ba, bc)| {
                (ba, bc)
                    .cmp(&(aa, ac))
                    .then(scores[b].total_cmp(&scores[a]))
                    .then(a.cmp(&b))
            });
            ranked.truncate(WEAK_MAX_UNITS);
            naming.rare_asked = ranked.iter().take_while(|(_, asked, _)| *asked).count();
            naming.weak = ranked.into_iter().map(|(i, _, _)| i).collect();
        }
        naming
    }

    fn push(&mut self, kind: AnchorKind, text: String) {
        if text.is_empty() || self.anchors.iter().any(|a| a.text == text) {
            return;
        }
        self.anchors.push(Anchor::new(kind, text));
    }
}

#[cfg(test)]
mod tests;
