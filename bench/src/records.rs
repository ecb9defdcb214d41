//! JSON records: the main array of a document, its records flattened to `path → value` leaves.

use serde_json::{Map, Value};

/// A record's leaves: dotted paths (`user.login`) to scalars or arrays of scalars, in document order.
pub type Leaves = Vec<(String, Value)>;

/// The leaves of `object`: nested objects are walked, arrays of scalars kept whole, arrays holding
/// objects skipped (they are records of their own).
///
/// ```
/// let v = serde_json::json!({"id": 7, "user": {"login": "octocat"}, "tags": ["a"], "rows": [{"x": 1}]});
/// let leaves = headroom_bench::records::flatten(v.as_object().unwrap());
/// let paths: Vec<_> = leaves.iter().map(|(p, _)| p.as_str()).collect();
/// assert_eq!(paths, ["id", "user.login", "tags"]);
/// ```
pub fn flatten(object: &Map<String, Value>) -> Leaves {
    let mut out = Vec::new();
    flatten_into(object, "", &mut out);
    out
}

fn flatten_into(object: &Map<String, Value>, prefix: &str, out: &mut Leaves) {
    for (key, value) in object {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) => flatten_into(inner, &path, out),
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {}
            _ => out.push((path, value.clone())),
        }
    }
}

/// The records of a document: the objects of its longest array of objects (first one on ties).
///
/// ```
/// let v = serde_json::json!({"total": 2, "items": [{"id": 1}, {"id": 2}], "one": [{"id": 3}]});
/// assert_eq!(headroom_bench::records::main_records(&v).len(), 2);
/// ```
pub fn main_records(value: &Value) -> Vec<&Map<String, Value>> {
    let mut best: Vec<&Map<String, Value>> = Vec::new();
    visit_arrays(value, &mut |items| {
        let objects: Vec<_> = items.iter().filter_map(Value::as_object).collect();
        if objects.len() > best.len() && objects.len() * 2 >= items.len() {
            best = objects;
        }
    });
    best
}

fn visit_arrays<'a>(value: &'a Value, f: &mut impl FnMut(&'a [Value])) {
    match value {
        Value::Array(items) => {
            f(items);
            items.iter().for_each(|i| visit_arrays(i, f));
        }
        Value::Object(map) => map.values().for_each(|v| visit_arrays(v, f)),
        _ => {}
    }
}

/// Every object in `value`, outermost first (the units a JSON output is judged by).
pub fn all_objects(value: &Value) -> Vec<&Map<String, Value>> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                out.push(map);
                stack.extend(map.values().rev());
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

/// Field names that usually identify a record, tried first.
const ANCHOR_NAMES: [&str; 12] = [
    "id", "number", "sha", "node_id", "name", "login", "path", "key", "ref", "order_id", "symbol",
    "url",
];

/// The paths that identify each record: one field present in every record with a short string or
/// number unique to it (well-known names first, then document order), else the first pair of such
/// fields whose values are unique together. `None` when nothing identifies the records.
///
/// ```
/// let v = serde_json::json!([{"state": "open", "number": 1}, {"state": "open", "number": 2}]);
/// let records = headroom_bench::records::main_records(&v);
/// assert_eq!(headroom_bench::records::anchor(&records), Some(vec!["number".to_string()]));
/// let v = serde_json::json!([{"m": "get", "p": "/a"}, {"m": "post", "p": "/a"}, {"m": "get", "p": "/b"}]);
/// let records = headroom_bench::records::main_records(&v);
/// assert_eq!(headroom_bench::records::anchor(&records), Some(vec!["m".to_string(), "p".to_string()]));
/// ```
pub fn anchor(records: &[&Map<String, Value>]) -> Option<Vec<String>> {
    let flat: Vec<Leaves> = records.iter().map(|r| flatten(r)).collect();
    let first = flat.first()?;
    // A name is a short scalar, not a list or a document.
    let name_of = |leaves: &Leaves, path: &str| {
        leaves
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v)
            .filter(|v| (v.is_string() || v.is_number()) && v.to_string().len() <= 200)
            .map(Value::to_string)
    };
    let unique = |paths: &[&str]| {
        let mut seen = std::collections::HashSet::new();
        flat.iter().all(|leaves| {
            paths
                .iter()
                .map(|p| name_of(leaves, p))
                .collect::<Option<Vec<_>>>()
                .is_some_and(|key| seen.insert(key))
        })
    };
    let candidates: Vec<&str> = first.iter().map(|(p, _)| p.as_str()).collect();
    let single = ANCHOR_NAMES
        .iter()
        .copied()
        .filter(|n| candidates.contains(n))
        .chain(candidates.iter().copied())
        .find(|p| unique(&[p]));
    if let Some(p) = single {
        return Some(vec![p.to_string()]);
    }
    let named: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|p| flat.iter().all(|l| name_of(l, p).is_some()))
        .collect();
    named.iter().enumerate().find_map(|(i, a)| {
        named[i + 1..]
            .iter()
            .find(|b| unique(&[a, b]))
            .map(|b| vec![a.to_string(), b.to_string()])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_the_longest_array_of_objects_anywhere() {
        let v = json!({"meta": [{"a": 1}], "data": {"rows": [{"a": 1}, {"a": 2}, {"a": 3}]}});
        assert_eq!(main_records(&v).len(), 3);
        assert!(main_records(&json!({"a": [1, 2, 3]})).is_empty());
    }

    #[test]
    fn no_anchor_when_nothing_is_unique() {
        let v = json!([{"s": "x"}, {"s": "x"}]);
        assert_eq!(anchor(&main_records(&v)), None);
        let v = json!([{"s": "x", "user": {"login": "a"}}, {"s": "x", "user": {"login": "b"}}]);
        assert_eq!(
            anchor(&main_records(&v)),
            Some(vec!["user.login".to_string()])
        );
    }

    #[test]
    fn lists_and_long_texts_do_not_name_a_record() {
        let v = json!([{"headers": ["a"], "body": "x".repeat(300)}, {"headers": ["b"], "body": "y".repeat(300)}]);
        assert_eq!(anchor(&main_records(&v)), None);
    }

    #[test]
    fn all_objects_includes_nested_ones() {
        let v = json!({"a": [{"b": {"c": 1}}]});
        assert_eq!(all_objects(&v).len(), 3);
    }
}
