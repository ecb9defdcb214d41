//! Step 6 for chat requests: fit the model's window. The plan is [`crate::budget`]'s; this file
//! finds the tool units of a chat request, prices its messages at each level, and writes the
//! evicted runs as marker messages.

use super::segments::{Compressing, MessageOutcome, PreparedMessage};
use super::Original;
use crate::budget::{evicted_runs, plan, Fold, Limits, Plan, Unit, LEVELS};
use crate::conversation::RequestView;
use crate::marker::{segment_hash, Marker};
use crate::memo::{Key, KeyBuilder, Memo, RunMarker};
use crate::report::Eviction;
use crate::tokens::{TokenCounter, TOKENS_PER_MESSAGE};
use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

/// Tokens an eviction marker message is priced at while planning (it takes fewer: about 45).
const MARKER_MESSAGE_TOKENS: usize = 64;

/// The tool units of a chat request: an assistant message with `tool_calls` and the tool messages
/// right after it that answer those calls. A unit is evictable only when no other message answers
/// one of its calls, so removing it never leaves a result without its call; none before `frozen`.
pub(super) fn units(request: &RequestView, frozen: usize) -> Vec<Unit> {
    let messages = &request.messages;
    let mut units = Vec::new();
    let mut in_units: HashSet<usize> = HashSet::new();
    let mut i = 0;
    while i < messages.len() {
        let m = &messages[i];
        if m.role.as_deref() != Some("assistant") || m.tool_calls.is_empty() {
            i += 1;
            continue;
        }
        let ids: HashSet<&str> = m.tool_calls.iter().map(|(id, _, _)| id.as_str()).collect();
        let mut end = i + 1;
        while end < messages.len()
            && messages[end].role.as_deref() == Some("tool")
            && messages[end]
                .tool_call_id
                .as_deref()
                .is_some_and(|id| ids.contains(id))
        {
            end += 1;
        }
        in_units.extend(i..end);
        units.push(Unit {
            items: i..end,
            calls: m.tool_calls.len(),
            movable: i >= frozen,
            evictable: i >= frozen,
        });
        i = end;
    }
    // A result outside its unit pins the unit holding its call.
    let stray: HashSet<&str> = messages
        .iter()
        .enumerate()
        .filter(|(i, _)| !in_units.contains(i))
        .filter_map(|(_, m)| m.tool_call_id.as_deref())
        .collect();
    for unit in &mut units {
        let first = &messages[unit.items.start];
        if first
            .tool_calls
            .iter()
            .any(|(id, _, _)| stray.contains(id.as_str()))
        {
            unit.evictable = false;
        }
    }
    units
}

/// The plan's limits as the run knows them (the marker's price is this file's).
pub(super) struct LimitsWithoutMarker {
    pub target: usize,
    pub low_water: usize,
    pub protect_recent_units: usize,
    pub fixed: usize,
}

/// Which messages outside units may go with the evicted units around them: an assistant's text
/// replies and user turns (never the last), never a system or developer prompt, a tool result
/// outside its unit (its call stays), or a frozen message.
fn folds(request: &RequestView, frozen: usize) -> Vec<Fold> {
    request
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| match m.role.as_deref() {
            _ if i < frozen => Fold::Never,
            Some("user") => Fold::UnlessLatest,
            Some("assistant") if m.tool_calls.is_empty() => Fold::Always,
            _ => Fold::Never,
        })
        .collect()
}

/// A fitted request: the level of every message, the evicted runs, and what the report says.
pub(super) struct Fitted {
    pub plan: Plan,
    pub outcomes: Vec<MessageOutcome>,
    pub runs: Vec<Run>,
}

/// One run of evicted messages, written as one marker message.
pub(super) struct Run {
    pub messages: Range<usize>,
    /// The replacement: one `user` message holding the marker.
    pub message_json: String,
    pub tokens: usize,
    pub original: Original,
    pub eviction: Eviction,
}

/// Plans the fit of `messages` into `target`, pricing each message at each level through the memo.
/// `Err(tokens)`: the fewest tokens any plan reached.
#[allow(clippy::too_many_arguments)]
pub(super) fn fit(
    body: &str,
    request: &RequestView,
    messages: &[PreparedMessage<'_>],
    level0: Vec<MessageOutcome>,
    compressing: &Compressing<'_>,
    counter: &dyn TokenCounter,
    memo: &Memo,
    limits: LimitsWithoutMarker,
    frozen: usize,
    may_evict: bool,
) -> Result<Fitted, usize> {
    let fold = folds(request, frozen);
    let limits = Limits {
        fold: &fold,
        target: limits.target,
        low_water: limits.low_water,
        protect_recent_units: limits.protect_recent_units,
        fixed: limits.fixed,
        marker_tokens: MARKER_MESSAGE_TOKENS,
    };
    let mut units = units(request, frozen);
    if !may_evict {
        units.iter_mut().for_each(|u| u.evictable = false);
    }
    // Planning needs only tokens: each message is priced at each level it is asked at, once;
    // its edits and reports are written for the one level the plan keeps.
    let mut table: Vec<[Option<usize>; LEVELS]> = level0
        .iter()
        .map(|o| {
            let mut row = [None; LEVELS];
            row[0] = Some(o.tokens_after);
            row
        })
        .collect();
    let mut cost = |i: usize, level: usize| -> usize {
        *table[i][level].get_or_insert_with(|| compressing.tokens(&messages[i], level))
    };
    let movable = |i: usize| i >= frozen;
    let plan = plan(messages.len(), &units, &limits, &movable, &mut cost).map_err(|e| e.tokens)?;
    let outcomes: Vec<MessageOutcome> = level0
        .into_iter()
        .zip(&plan.levels)
        .enumerate()
        .map(|(i, (outcome, &level))| match level {
            0 => outcome,
            _ => compressing.message(&messages[i], level),
        })
        .collect();
    let runs = evicted_runs(&units, &plan.evicted, &fold)
        .into_iter()
        .map(|(range, calls, other)| run(body, request, range, calls, other, counter, memo))
        .collect();
    Ok(Fitted {
        plan,
        outcomes,
        runs,
    })
}

/// The marker message of one evicted run; its hash retrieves the evicted messages as a JSON array
/// of their exact bytes. Remembered by the keys of those messages (each the digest of a message's
/// exact bytes), so a run sent again is not hashed again.
fn run(
    body: &str,
    request: &RequestView,
    messages: Range<usize>,
    calls: usize,
    other: usize,
    counter: &dyn TokenCounter,
    memo: &Memo,
) -> Run {
    let held = &request.messages[messages.clone()];
    let mut original =
        String::with_capacity(2 + held.iter().map(|m| m.span.len() + 1).sum::<usize>());
    original.push('[');
    for (i, m) in held.iter().enumerate() {
        if i > 0 {
            original.push(',');
        }
        original.push_str(&body[m.span.clone()]);
    }
    original.push(']');
    let make = || marker_message(&original, &messages, calls, other, counter);
    let keys: Option<Vec<Key>> = held.iter().map(|m| m.key).collect();
    let marker = match keys {
        Some(keys) => {
            let mut key = KeyBuilder::new(b"evicted run")
                .part(&calls.to_le_bytes())
                .part(&other.to_le_bytes())
                .part(&messages.start.to_le_bytes())
                .part(&messages.end.to_le_bytes())
                .part(counter.name().as_bytes());
            for k in &keys {
                key = key.part(k.as_bytes());
            }
            memo.run(key.finish(), make)
        }
        None => Arc::new(make()),
    };
    Run {
        tokens: marker.tokens,
        eviction: Eviction {
            messages: messages.clone(),
            tool_calls: calls,
            hash: marker.hash.clone(),
        },
        messages,
        message_json: marker.message_json.clone(),
        original: Original {
            hash: marker.hash.clone(),
            text: original,
        },
    }
}

/// The marker message replacing `messages` (whose bytes as a JSON array are `original`).
fn marker_message(
    original: &str,
    messages: &Range<usize>,
    calls: usize,
    other: usize,
    counter: &dyn TokenCounter,
) -> RunMarker {
    let hash = segment_hash(original);
    let what = if calls == 1 {
        "tool call and its result"
    } else {
        "tool calls and their results"
    };
    let last = messages.end - 1;
    let between = match other {
        0 => String::new(),
        1 => " and 1 other message".to_string(),
        n => format!(" and {n} other messages"),
    };
    let unit = format!("{what}{between} (messages {}–{last})", messages.start);
    let text = Marker::new(calls, None, &unit, &hash).to_text();
    let message_json = format!(
        "{{\"role\":\"user\",\"content\":{}}}",
        serde_json::to_string(&text).expect("strings serialize")
    );
    RunMarker {
        tokens: TOKENS_PER_MESSAGE + counter.count("user") + counter.count(&text),
        hash,
        message_json,
    }
}

/// The span a run's marker message replaces: from its first message's start to its last's end.
pub(super) fn run_span(request: &RequestView, run: &Run) -> Range<usize> {
    request.messages[run.messages.start].span.start..request.messages[run.messages.end - 1].span.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::parse;

    #[test]
    fn units_pair_calls_with_their_results() {
        let body = r#"{"messages":[
            {"role":"system","content":"s"},
            {"role":"user","content":"u"},
            {"role":"assistant","content":null,"tool_calls":[
                {"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},
                {"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}]},
            {"role":"tool","tool_call_id":"a","content":"1"},
            {"role":"tool","tool_call_id":"b","content":"2"},
            {"role":"assistant","content":"done"},
            {"role":"assistant","content":null,"tool_calls":[
                {"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},
            {"role":"user","content":"interjection"},
            {"role":"tool","tool_call_id":"c","content":"3"}
        ]}"#;
        let request = parse(body).unwrap();
        let found = units(&request, 0);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].items.clone(), found[0].calls), (2..5, 2));
        assert!(found[0].evictable);
        assert_eq!(found[1].items, 6..7);
        assert!(
            !found[1].evictable,
            "its result sits apart: evicting would orphan it"
        );
        assert!(units(&request, 3).iter().all(|u| !u.evictable), "frozen");
    }
}
