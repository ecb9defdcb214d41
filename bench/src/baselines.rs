//! The baselines Headroom is measured against: minified JSON and head+tail truncation.

use serde_json::Value;

/// The request with its last message's content replaced by `content`.
///
/// ```
/// let req = serde_json::json!({"messages": [{"role": "tool", "content": "a"}]});
/// assert_eq!(headroom_bench::baselines::with_last_content(&req, "b")["messages"][0]["content"], "b");
/// ```
pub fn with_last_content(request: &Value, content: &str) -> Value {
    let mut out = request.clone();
    if let Some(last) = out["messages"].as_array_mut().and_then(|m| m.last_mut()) {
        last["content"] = Value::String(content.to_string());
    }
    out
}

/// Minified JSON (whitespace between tokens removed), or the text unchanged when it is not JSON.
///
/// ```
/// assert_eq!(headroom_bench::baselines::minified("{ \"a\": [1, 2] }"), "{\"a\":[1,2]}");
/// assert_eq!(headroom_bench::baselines::minified("not json"), "not json");
/// ```
pub fn minified(text: &str) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        headroom::compress::json::minify(text)
    } else {
        text.to_string()
    }
}

/// The longest head+tail cut of `text` (half the kept lines from the start, half from the end; characters
/// when it is one line) whose request `fits` the budget. Nothing marks the cut: that is the baseline.
///
/// ```
/// let text = "l1\nl2\nl3\nl4\nl5\nl6\n";
/// let cut = headroom_bench::baselines::head_tail(text, |t| t.len() <= 12);
/// assert_eq!(cut, "l1\nl2\nl5\nl6\n");
/// ```
pub fn head_tail(text: &str, fits: impl Fn(&str) -> bool) -> String {
    if fits(text) {
        return text.to_string();
    }
    let pieces: Vec<&str> = if text.lines().count() >= 3 {
        text.split_inclusive('\n').collect()
    } else {
        let mut ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        ends.push(text.len());
        ends.windows(2).map(|w| &text[w[0]..w[1]]).collect()
    };
    let cut = |k: usize| {
        let head = k.div_ceil(2);
        let tail = k - head;
        let mut s: String = pieces[..head].concat();
        s.push_str(&pieces[pieces.len() - tail..].concat());
        s
    };
    // Largest k whose cut fits: fits(cut(k)) is monotone in k.
    let (mut lo, mut hi) = (0, pieces.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(&cut(mid)) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    cut(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_tail_cuts_one_line_by_characters() {
        let text = "{\"a\":[1,2,3,4,5,6,7,8,9]}";
        let cut = head_tail(text, |t| t.len() <= 10);
        assert_eq!(cut.len(), 10);
        assert!(cut.starts_with("{\"a\":") && cut.ends_with("]}"));
    }

    #[test]
    fn head_tail_may_keep_nothing() {
        assert_eq!(head_tail("aaa\nbbb\nccc\n", |t| t.is_empty()), "");
    }
}
