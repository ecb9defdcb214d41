//! JSON text as the lossless forms and the crusher both read it: minified byte for byte, and
//! whether its numbers survive a trip through `serde_json::Value` (the table form is written from
//! a `Value`, so it is offered only when they do).

/// Removes the whitespace between JSON tokens, keeping every other byte (numbers and escapes as written).
///
/// ```
/// assert_eq!(headroom::compress::json::minify("{ \"a b\" : [1.50, \"\\u00e9\"] }"), "{\"a b\":[1.50,\"\\u00e9\"]}");
/// ```
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// Whether every number in minified `json` survives a trip through `serde_json::Value` with its value.
///
/// Integers must fit 64 bits; other numbers must have at most 15 significant digits, which an `f64`
/// holds exactly as a decimal.
pub(crate) fn numbers_are_exact(json: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            i += 1;
        } else if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            if !number_is_exact(&json[start..i]) {
                return false;
            }
        } else {
            i += 1;
        }
    }
    true
}

fn number_is_exact(token: &str) -> bool {
    if token.parse::<i64>().is_ok() || token.parse::<u64>().is_ok() {
        return true;
    }
    let mantissa = token.split(['e', 'E']).next().unwrap_or("");
    let digits = mantissa.trim_start_matches('-').replace('.', "");
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    significant.len() <= 15 && token.parse::<f64>().is_ok_and(f64::is_finite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn big_numbers_block_value_forms() {
        assert!(numbers_are_exact("[1,-2,3.25,1e5,18446744073709551615]"));
        assert!(!numbers_are_exact("[123456789012345678901234]"));
        assert!(!numbers_are_exact("[0.10000000000000000001]"));
        assert!(
            numbers_are_exact("[\"123456789012345678901234\"]"),
            "digits in strings are text"
        );
    }

    proptest! {
        #[test]
        fn minify_keeps_the_value(v in any::<Vec<(String, i32, bool)>>()) {
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            let min = minify(&pretty);
            let back: Vec<(String, i32, bool)> = serde_json::from_str(&min).unwrap();
            prop_assert_eq!(back, v);
            prop_assert!(!min.contains('\n'));
        }
    }
}
