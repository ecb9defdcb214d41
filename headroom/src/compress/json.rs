//! JSON tool outputs: lossless forms first (minified, table), the lossy crusher ([`super::SmartCrusher`]) after.

pub use super::json_text::minify;
use super::json_text::numbers_are_exact;
use super::{Compression, Compressor, SegmentContext};
use serde_json::Value;

/// Compresses JSON text: minified, or the table form when the tokenizer says it is smaller.
///
/// ```
/// use headroom::compress::{Compressor, JsonCompressor, SegmentContext};
/// let config = headroom::Config::default();
/// let ctx = SegmentContext::new(&config, headroom::tokens::counter_for_model("gpt-4o"));
/// let out = JsonCompressor.compress("{ \"a\": [1, 2],\n  \"b\": null }", &ctx).unwrap();
/// assert_eq!(out.text, "{\"a\":[1,2],\"b\":null}");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCompressor;

impl Compressor for JsonCompressor {
    fn name(&self) -> &'static str {
        "json"
    }

    fn compress(&self, text: &str, ctx: &SegmentContext<'_>) -> Option<Compression> {
        if ctx.config.lossless_only {
            let forms = LosslessForms::of(text, ctx)?;
            return Some(forms.best_below(usize::MAX, ctx));
        }
        // The engine memoizes whole segments (crate::memo): a re-sent history costs a look-up.
        (|| {
            let forms = LosslessForms::of(text, ctx)?;
            if ctx.out_of_time() {
                return None;
            }
            let Some(crushed) = super::crush::crush(text, &forms.minified, &forms.value, ctx)
            else {
                return Some(forms.best_below(usize::MAX, ctx));
            };
            // Counting the tokens of a large lossless form costs more than the whole crush: skip it
            // when that form is large, the crushed form is at most half its bytes and still above
            // the size the engine would leave alone (so the lossless form certainly had to shrink).
            // Small forms are always counted: bytes are no proof of tokens (pip list: a table of
            // 794 tokens beat a crushed JSON of half the bytes and 841 tokens).
            if forms.smallest_len() >= SKIP_COUNTING_ABOVE_BYTES
                && crushed.tokens >= ctx.config.min_segment_tokens
                && crushed.text.len() * 2 <= forms.smallest_len()
            {
                return Some(crushed);
            }
            // Crush only what lossless forms leave above the size the engine would leave alone.
            // A lossy form must also pay for the retrieve tool its markers bring into the request.
            let lossy_cost = crushed.tokens + super::retrieve_tool_tokens(ctx);
            // Past both sizes a lossless form's exact count changes nothing: counting stops
            // there (a count past the cap is a lower bound, and the crushed form wins either way).
            let cap = lossy_cost
                .max(ctx.config.min_segment_tokens)
                .saturating_add(1);
            let best = forms.best_below(cap, ctx);
            if best.tokens >= ctx.config.min_segment_tokens && lossy_cost < best.tokens {
                Some(crushed)
            } else {
                Some(best)
            }
        })()
    }
}

/// Lossless forms at least this large are not counted when the crushed form is far smaller.
const SKIP_COUNTING_ABOVE_BYTES: usize = 64 * 1024;

/// The lossless renderings of a JSON text, not yet counted.
struct LosslessForms {
    value: Value,
    minified: String,
    table: Option<String>,
}

impl LosslessForms {
    /// Parses `text`; `None` when it is not a JSON container or is nested too deep.
    fn of(text: &str, ctx: &SegmentContext<'_>) -> Option<LosslessForms> {
        let value: Value = serde_json::from_str(text).ok()?;
        if !matches!(value, Value::Array(_) | Value::Object(_))
            || depth(&value) > ctx.config.max_depth
            || ctx.out_of_time()
        {
            return None;
        }
        let minified = minify(text);
        let table = (!ctx.json_only && !ctx.out_of_time() && numbers_are_exact(&minified))
            .then(|| super::table::encode(&value))
            .flatten();
        Some(LosslessForms {
            value,
            minified,
            table,
        })
    }

    fn smallest_len(&self) -> usize {
        self.table
            .as_ref()
            .map_or(self.minified.len(), |t| t.len().min(self.minified.len()))
    }

    /// The form with the fewest tokens: minified, or the table form when smaller. Counts stop at
    /// `cap`: a form's tokens are exact below it, and a lower bound at or past it.
    fn best_below(self, cap: usize, ctx: &SegmentContext<'_>) -> Compression {
        let form = |text: String, tokens: usize, transform: &str| Compression {
            text,
            tokens,
            transforms: vec![transform.to_string()],
            lossy: false,
        };
        let minified_tokens = ctx.count_below(&self.minified, cap);
        let Some(table) = self.table else {
            return form(self.minified, minified_tokens, "json:minify");
        };
        // The table form matters only when it beats the minified one.
        let table_tokens = ctx.count_below(&table, cap.min(minified_tokens));
        // Decoding back is cheap next to counting tokens, and makes "lossless" a checked fact:
        // checked for the form that is sent.
        if table_tokens < minified_tokens
            && super::table::decode(&table).is_ok_and(|back| back == self.value)
        {
            form(table, table_tokens, "json:table")
        } else {
            form(self.minified, minified_tokens, "json:minify")
        }
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_integers_stay_as_written() {
        let ctx = SegmentContext::for_tests("gpt-4o");
        let text =
            "[\n {\"id\": 123456789012345678901234, \"n\": \"a\"},\n {\"id\": 2, \"n\": \"b\"}\n]";
        let out = JsonCompressor.compress(text, &ctx).unwrap();
        assert!(out.text.contains("123456789012345678901234"));
        assert_eq!(out.transforms, vec!["json:minify"]);
    }
}
