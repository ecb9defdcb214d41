//! SmartCrusher: query-aware lossy compression of JSON arrays.
//!
//! Long arrays in tool results (API listings, package inventories, search results, metrics) are cut
//! to the items the model needs: the first and last, errors, numeric outliers, items around change
//! points, one item per rare value, every item the question names, and an even sample of the rest.
//! Each removed run becomes one marker element in place, `{"_headroom":"12 of 500 items omitted ·
//! headroom_retrieve hash=…"}`, so the JSON stays valid and the model sees where the gap is. Kept
//! items are copied byte for byte, all fields included. Arrays inside JSON strings are crushed too.

mod keep;
mod spans;

use super::json_text::{minify, numbers_are_exact};
use super::{table, Compression, Compressor, SegmentContext};
use crate::marker::{segment_hash, Marker};
use crate::question::Question;
use serde_json::Value;
use spans::Span;

/// The crusher's knobs; each keep rule can be switched off. Lives in [`Config::crush`](crate::Config).
///
/// ```
/// let mut config = headroom::Config::default();
/// config.crush.max_items = 20;
/// config.crush.outlier_sigma = None; // no outlier rule
/// assert!(config.crush.keep_errors);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CrushConfig {
    /// Items a crushed array keeps besides the ones a rule must keep (first/last, errors, named).
    pub max_items: usize,
    /// At most this share of a short array is kept by the budget (so 8 to 30 items still shrink).
    pub max_share: f64,
    /// Always keep this many items from the start of an array.
    pub keep_first: usize,
    /// Always keep this many items from the end of an array.
    pub keep_last: usize,
    /// Always keep items that look like errors (error status or level, error fields, error messages).
    pub keep_errors: bool,
    /// Keep numeric outliers further than this many standard deviations from their field's mean.
    pub outlier_sigma: Option<f64>,
    /// Keep the items on both sides of a level shift in ordered data.
    pub keep_change_points: bool,
    /// Keep one item for each categorical value (or field) found in at most this share of items; 0 = off.
    pub rare_fraction: f64,
    /// Always keep the items the question names (numbers, identifiers, `#N`, exact values).
    pub keep_named: bool,
    /// Also always keep up to this many items that best match the question's words (BM25).
    pub bm25_top: usize,
}

impl Default for CrushConfig {
    fn default() -> Self {
        CrushConfig {
            max_items: 15,
            max_share: 0.5,
            keep_first: 2,
            keep_last: 1,
            keep_errors: true,
            outlier_sigma: Some(2.0),
            keep_change_points: true,
            rare_fraction: 0.05,
            keep_named: true,
            bm25_top: 3,
        }
    }
}

/// The lossy JSON compressor: crushes every array of at least `json_min_array_items` items.
///
/// Its output is minified JSON, or the table form when that is smaller (never for `json_only`
/// segments). It returns `None` when no array is long enough to cut.
///
/// ```
/// use headroom::compress::{Compressor, SegmentContext, SmartCrusher};
/// let rows: Vec<_> = (0..200).map(|i| serde_json::json!({"order": 1000 + i, "state": "shipped"})).collect();
/// let text = serde_json::to_string(&rows).unwrap();
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"))
///     .with_question("where is order #1042?");
/// let out = SmartCrusher.compress(&text, &ctx).unwrap();
/// // The kept rows come out in the table form here: `[28]{order,state,_headroom}:`, one row each.
/// assert!(out.lossy && out.text.lines().any(|row| row == "1042,shipped,"));
/// // Without a hash in the context, markers carry the text's own segment hash.
/// let markers = headroom::marker::Marker::parse_all(&out.text);
/// assert!(markers.iter().all(|m| m.hash == headroom::marker::segment_hash(&text)));
/// assert_eq!(markers.iter().map(|m| m.omitted).sum::<usize>() + 15, 200);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SmartCrusher;

impl Compressor for SmartCrusher {
    fn name(&self) -> &'static str {
        "json:crush"
    }

    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
        let value: Value = serde_json::from_str(text).ok()?;
        crush(text, &minify(text), &value, ctx)
    }
}

/// Crushes the segment `text`, given minified with its parsed `value`; `None` when nothing was cut.
/// Markers carry `ctx.hash`, or the hash of `text` when the context has none.
pub(crate) fn crush(
    text: &str,
    minified: &str,
    value: &Value,
    ctx: &SegmentContext<'_>,
) -> Option<Compression> {
    let question = Question::of(ctx);
    let hash = if ctx.hash.is_empty() {
        segment_hash(text)
    } else {
        ctx.hash.clone()
    };
    let mut walk = Walk {
        ctx,
        question: &question,
        hash: &hash,
        markers: 0,
    };
    let crushed = walk.crush_text(minified, value)?;
    let markers = walk.markers;
    let mut best = Compression::lossy(crushed, vec!["json:crush".into()], ctx);
    if !ctx.json_only && numbers_are_exact(&best.text) {
        let table = serde_json::from_str(&best.text)
            .ok()
            .and_then(|v: Value| table::encode(&v))
            // The table form must still show every marker where a reader (and the engine) finds it.
            .filter(|t| Marker::parse_all(t).len() == markers);
        if let Some(table) = table {
            // Counted only as far as it could beat the JSON form (exact when it does).
            let tokens = ctx.count_below(&table, best.tokens);
            if tokens < best.tokens {
                best = Compression {
                    text: table,
                    tokens,
                    transforms: vec!["json:crush".into(), "json:table".into()],
                    lossy: true,
                };
            }
        }
    }
    Some(best)
}

/// One pass over a document, counting the markers it writes.
struct Walk<'a> {
    ctx: &'a SegmentContext<'a>,
    question: &'a Question,
    hash: &'a str,
    markers: usize,
}

impl Walk<'_> {
    /// The crushed form of a minified JSON text, or `None` when nothing in it was cut.
    fn crush_text(&mut self, text: &str, value: &Value) -> Option<String> {
        let span = spans::scan(text)?;
        let before = self.markers;
        let mut out = String::with_capacity(text.len() / 4);
        self.render(text, &span, value, &mut out, 0);
        (self.markers > before).then_some(out)
    }

    fn render(&mut self, text: &str, span: &Span, value: &Value, out: &mut String, depth: usize) {
        let verbatim = |out: &mut String| out.push_str(&text[span.range()]);
        if depth > self.ctx.config.max_depth {
            return verbatim(out);
        }
        match (span, value) {
            (Span::Array(_, spans), Value::Array(items)) if spans.len() == items.len() => {
                let plan = (items.len() >= self.ctx.config.json_min_array_items)
                    .then(|| {
                        let texts: Vec<&str> = spans.iter().map(|s| &text[s.range()]).collect();
                        keep::plan(items, &texts, self.question, &self.ctx.config.crush)
                    })
                    .flatten();
                out.push('[');
                match plan {
                    Some(keep) => self.write_kept(text, spans, &keep, out),
                    None => {
                        for (i, (s, v)) in spans.iter().zip(items).enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            self.render(text, s, v, out, depth + 1);
                        }
                    }
                }
                out.push(']');
            }
            // Duplicate keys make the parsed map shorter than the text: leave such objects as written.
            (Span::Object(_, entries), Value::Object(map)) if entries.len() == map.len() => {
                out.push('{');
                for (i, ((key, s), v)) in entries.iter().zip(map.values()).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&text[key.clone()]);
                    out.push(':');
                    self.render(text, s, v, out, depth + 1);
                }
                out.push('}');
            }
            (Span::Scalar(_), Value::String(s)) => match self.crush_embedded(s) {
                Some(inner) => {
                    out.push_str(&serde_json::to_string(&inner).expect("strings serialize"))
                }
                None => verbatim(out),
            },
            _ => verbatim(out),
        }
    }

    /// Kept items as written; each run of removed items as one marker element.
    fn write_kept(&mut self, text: &str, spans: &[Span], keep: &[bool], out: &mut String) {
        let total = spans.len();
        let mut i = 0;
        while i < total {
            if i > 0 {
                out.push(',');
            }
            if keep[i] {
                out.push_str(&text[spans[i].range()]);
                i += 1;
            } else {
                let run = keep[i..].iter().take_while(|k| !**k).count();
                let marker = Marker::new(run, Some(total), "items", self.hash).to_json();
                out.push_str(&marker.to_string());
                self.markers += 1;
                i += run;
            }
        }
    }

    /// A JSON array or object written inside a string, crushed; `None` when it is not one or nothing was cut.
    fn crush_embedded(&mut self, s: &str) -> Option<String> {
        let trimmed = s.trim();
        // Cheap filters first: only a long string that looks like a container can hold a long array.
        if trimmed.len() < 64 || !(trimmed.starts_with('[') || trimmed.starts_with('{')) {
            return None;
        }
        let value: Value = serde_json::from_str(trimmed).ok()?;
        self.crush_text(&minify(trimmed), &value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx_for<'a>(config: &'a crate::Config, question: &str) -> SegmentContext<'a> {
        SegmentContext::new(config, crate::tokens::counter_for_model("gpt-4o"))
            .with_question(question)
            .with_hash("0123456789abcdef01234567")
    }

    #[test]
    fn markers_count_every_removed_item_and_kept_items_are_verbatim() {
        let text = format!(
            "[{}]",
            (0..60)
                .map(|i| format!("{{\"id\":{i},\"price\":{i}.50}}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let config = crate::Config::default();
        let out = SmartCrusher.compress(&text, &ctx_for(&config, "")).unwrap();
        // The kept rows may come out in the table form (values equal) or as JSON (bytes as written).
        let (value, as_json) = match serde_json::from_str::<Value>(&out.text) {
            Ok(v) => (v, true),
            Err(_) => (crate::table::decode(&out.text).unwrap(), false),
        };
        let items = value.as_array().unwrap();
        let omitted: usize = Marker::parse_all(&out.text).iter().map(|m| m.omitted).sum();
        let kept: Vec<&Value> = items
            .iter()
            .filter(|v| v.get("_headroom").is_none())
            .collect();
        assert_eq!(omitted + kept.len(), 60);
        assert!(
            kept.contains(&&json!({"id": 0, "price": 0.5})),
            "the first item is kept"
        );
        if as_json {
            assert!(
                out.text.contains("{\"id\":0,\"price\":0.50}"),
                "numbers as written"
            );
        }
    }

    #[test]
    fn arrays_inside_strings_are_crushed_and_stay_json() {
        let rows: Vec<Value> = (0..50)
            .map(|i| json!({"n": i, "name": format!("row-{i}")}))
            .collect();
        let doc =
            json!({"content": [{"type": "text", "text": serde_json::to_string(&rows).unwrap()}]});
        let mut config = crate::Config::default();
        config.crush.max_items = 5;
        let mut ctx = ctx_for(&config, "row-33");
        ctx.json_only = true;
        let out = SmartCrusher.compress(&doc.to_string(), &ctx).unwrap();
        let outer: Value = serde_json::from_str(&out.text).unwrap();
        let inner: Value =
            serde_json::from_str(outer["content"][0]["text"].as_str().unwrap()).unwrap();
        assert!(inner
            .as_array()
            .unwrap()
            .contains(&json!({"n": 33, "name": "row-33"})));
        assert!(!Marker::parse_all(&out.text).is_empty());
    }

    #[test]
    fn short_arrays_and_scalars_are_left_alone() {
        let config = crate::Config::default();
        let ctx = ctx_for(&config, "");
        assert_eq!(SmartCrusher.compress("[1,2,3,4,5,6,7]", &ctx), None);
        assert_eq!(SmartCrusher.compress("\"text\"", &ctx), None);
        assert_eq!(SmartCrusher.compress("not json", &ctx), None);
    }

    /// Whether `crushed` is `original` with runs of array items replaced by markers (counted
    /// exactly) and everything else as it was, JSON inside strings included.
    fn accounted(original: &Value, crushed: &Value) -> bool {
        let is_marker = |v: &Value| v.as_object().is_some_and(|o| o.contains_key("_headroom"));
        match (original, crushed) {
            (Value::Array(os), Value::Array(cs)) if cs.iter().any(is_marker) => {
                let mut at = 0;
                for c in cs {
                    if is_marker(c) {
                        let m = &Marker::parse_all(&c.to_string())[0];
                        if m.total != Some(os.len()) || m.omitted == 0 {
                            return false;
                        }
                        at += m.omitted;
                    } else if os.get(at) == Some(c) {
                        at += 1;
                    } else {
                        return false;
                    }
                }
                at == os.len()
            }
            (Value::Array(os), Value::Array(cs)) => {
                os.len() == cs.len() && os.iter().zip(cs).all(|(o, c)| accounted(o, c))
            }
            // By key, not position: the table form writes every row in its header's column
            // order, and JSON objects are unordered (a proptest case: rows {message,id} and
            // {id,message} decode with one order).
            (Value::Object(om), Value::Object(cm)) => {
                om.len() == cm.len()
                    && om
                        .iter()
                        .all(|(key, ov)| cm.get(key).is_some_and(|cv| accounted(ov, cv)))
            }
            (Value::String(o), Value::String(c)) if o != c => {
                match (serde_json::from_str(o), serde_json::from_str(c)) {
                    (Ok(o), Ok(c)) => accounted(&o, &c),
                    _ => false,
                }
            }
            _ => original == crushed,
        }
    }

    fn arb_item() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..2000).prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            prop_oneof![
                Just("ok"),
                Just("error"),
                Just("failed"),
                Just("#1042"),
                Just("serde_json"),
                Just("a b, \"c\""),
                Just("")
            ]
            .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(3, 40, 10, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("id"),
                            Just("status"),
                            Just("level"),
                            Just("name"),
                            Just("message")
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn every_cut_is_marked_and_counted(
            items in proptest::collection::vec(arb_item(), 0..40),
            embed in proptest::bool::ANY,
            question in proptest::sample::select(vec!["", "what about #1042?", "serde_json errors", "name 7"]),
        ) {
            let array = Value::Array(items);
            let original = if embed {
                json!({"text": array.to_string(), "n": 1})
            } else {
                array
            };
            let text = serde_json::to_string_pretty(&original).unwrap();
            let mut config = crate::Config::default();
            config.crush.max_items = 4;
            let mut ctx = ctx_for(&config, question);
            ctx.json_only = true;
            if let Some(out) = SmartCrusher.compress(&text, &ctx) {
                let crushed: Value = serde_json::from_str(&out.text).unwrap();
                proptest::prop_assert!(accounted(&original, &crushed), "{}", out.text);
                proptest::prop_assert!(Marker::is_in(&out.text));
            }
            ctx.json_only = false;
            if let Some(out) = SmartCrusher.compress(&text, &ctx) {
                let crushed = serde_json::from_str(&out.text)
                    .or_else(|_| crate::table::decode(&out.text))
                    .unwrap();
                proptest::prop_assert!(accounted(&original, &crushed), "{}", out.text);
            }
        }
    }
}
