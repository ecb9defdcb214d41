//! The Headroom table form: uniform arrays of objects with their field names written once.
//!
//! A lossless, TOON-like rendering of JSON that a model reads as easily as JSON and that
//! decodes back to exactly the same value ([`decode`]). Two document shapes:
//!
//! A root array of objects:
//! ```text
//! [3]{id,name,admin}:
//! 1,alice,true
//! 2,"bob, jr.",false
//! 3,carol,
//! ```
//! A root object, one line per field; uniform arrays of objects become indented tables:
//! ```text
//! total_count: 2
//! items[2]{id,tags}:
//!   1,["a","b"]
//!   2,[]
//! ```
//! A column whose values are all non-empty objects is flattened into one column per nested field,
//! named by the path: `user.login,user.id`. A cell is empty when the object lacks that field, a JSON literal (`null`, `true`, `false`,
//! a number, a quoted string, an array, an object), or a bare string: any string that is not
//! empty, has no leading or trailing space, no `,` `"` `\` or control characters, does not start
//! with `[` or `{`, and would not read as a literal. Keys are bare (`[A-Za-z_][A-Za-z0-9_-]*`)
//! or JSON strings; `.` joins the keys of a flattened column's path.

use serde_json::{Map, Value};
use std::fmt::Write;

/// Why a text is not a valid table form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Headroom table form (line {line}): {reason}")]
pub struct TableError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

/// Renders `value` in the table form, or `None` when it has no uniform array of objects to gain from.
///
/// ```
/// use serde_json::json;
/// let v = json!([{"id": 1, "ok": true}, {"id": 2, "ok": false}]);
/// let table = headroom::table::encode(&v).unwrap();
/// assert_eq!(table, "[2]{id,ok}:\n1,true\n2,false");
/// assert_eq!(headroom::table::decode(&table).unwrap(), v);
/// ```
pub fn encode(value: &Value) -> Option<String> {
    let mut out = String::new();
    match value {
        Value::Array(items) => {
            let columns = table_columns(items)?;
            write_table(&mut out, "", items, &columns, "");
        }
        Value::Object(map) => {
            let mut any_table = false;
            for (i, (key, field)) in map.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let key = render_key(key);
                match field
                    .as_array()
                    .and_then(|items| table_columns(items).map(|c| (items, c)))
                {
                    Some((items, columns)) => {
                        any_table = true;
                        write_table(&mut out, &key, items, &columns, "  ");
                    }
                    None => {
                        let _ = write!(out, "{key}: {}", serde_json::to_string(field).ok()?);
                    }
                }
            }
            if !any_table {
                return None;
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Reads a table form back into the JSON value it came from.
///
/// Hostile input is an error, never a crash: work and memory are bounded by the lines present,
/// whatever count a header claims.
/// ```
/// let v = headroom::table::decode("total: 1\nrows[2]{a}:\n  x\n  \"\"").unwrap();
/// assert_eq!(v, serde_json::json!({"total": 1, "rows": [{"a": "x"}, {"a": ""}]}));
/// ```
pub fn decode(text: &str) -> Result<Value, TableError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let fail = |line: usize, reason: &str| TableError {
        line: line + 1,
        reason: reason.to_string(),
    };
    if lines.first().is_some_and(|l| l.starts_with('[')) {
        let (columns, count) = parse_header(lines[0]).ok_or_else(|| fail(0, "bad table header"))?;
        if lines.len() - 1 != count {
            return Err(fail(0, "row count does not match the header"));
        }
        let rows = (1..=count)
            .map(|i| parse_row(lines[i], &columns).ok_or_else(|| fail(i, "bad row")))
            .collect::<Result<_, _>>()?;
        return Ok(Value::Array(rows));
    }
    let mut map = Map::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let (key, rest) = parse_key(line).ok_or_else(|| fail(i, "bad key"))?;
        if let Some(value) = rest.strip_prefix(": ") {
            let value = serde_json::from_str(value).map_err(|_| fail(i, "bad JSON value"))?;
            map.insert(key, value);
            i += 1;
        } else {
            let (columns, count) = parse_header(rest).ok_or_else(|| fail(i, "bad table header"))?;
            // The header's count is the sender's word: trust only the lines that are there.
            if count > lines.len() - i - 1 {
                return Err(fail(lines.len(), "missing row"));
            }
            let mut rows = Vec::with_capacity(count);
            for j in i + 1..=i + count {
                let row = lines
                    .get(j)
                    .and_then(|l| l.strip_prefix("  "))
                    .ok_or_else(|| fail(j, "missing row"))?;
                rows.push(parse_row(row, &columns).ok_or_else(|| fail(j, "bad row"))?);
            }
            map.insert(key, Value::Array(rows));
            i += count + 1;
        }
    }
    Ok(Value::Object(map))
}

/// The keys of objects whose key orders all follow one column order.
fn uniform_columns(objects: &[&Map<String, Value>]) -> Option<Vec<String>> {
    let columns = ordered_columns(objects).unwrap_or_else(|| {
        // Key orders conflict: JSON objects are unordered, so the union in first-seen order
        // still decodes to an equal value (only the key order within rows changes).
        let mut union: Vec<String> = Vec::new();
        for key in objects.iter().flat_map(|o| o.keys()) {
            if !union.contains(key) {
                union.push(key.clone());
            }
        }
        union
    });
    let mut columns = columns;
    // Marker elements only have the marker key: its column goes last, so a marker row reads
    // `,,12 of 200 items omitted · …` after the data columns (the marker objects' order is kept).
    if let Some(at) = columns
        .iter()
        .position(|c| c == crate::marker::JSON_MARKER_KEY)
    {
        let marker = columns.remove(at);
        columns.push(marker);
    }
    (!columns.is_empty()).then_some(columns)
}

/// One column order that every object's key order follows, if there is one.
fn ordered_columns(objects: &[&Map<String, Value>]) -> Option<Vec<String>> {
    let mut columns: Vec<String> = Vec::new();
    for obj in objects {
        let mut at = 0;
        for key in obj.keys() {
            match columns[at..].iter().position(|c| c == key) {
                Some(p) => at += p + 1,
                None if columns.contains(key) => return None,
                None => {
                    columns.insert(at, key.clone());
                    at += 1;
                }
            }
        }
    }
    // Insertion above may break earlier objects' order; check them all against the final order.
    let consistent = objects.iter().all(|o| {
        let mut pos = 0;
        o.keys()
            .all(|k| match columns[pos..].iter().position(|c| c == k) {
                Some(p) => {
                    pos += p + 1;
                    true
                }
                None => false,
            })
    });
    consistent.then_some(columns)
}

/// A column: the path of keys from the row object to the cell.
type Path = Vec<String>;

/// How deep nested objects are flattened into path columns.
const MAX_FLATTEN_DEPTH: usize = 3;

/// The path columns of an array of at least two objects, nested objects flattened.
fn table_columns(items: &[Value]) -> Option<Vec<Path>> {
    let objects: Vec<&Map<String, Value>> =
        items.iter().map(Value::as_object).collect::<Option<_>>()?;
    if objects.len() < 2 {
        return None;
    }
    flatten_columns(&objects, MAX_FLATTEN_DEPTH)
}

/// Columns of `objects`; a key whose present values are all non-empty objects with a shared
/// key order becomes that object's columns, prefixed by the key.
fn flatten_columns(objects: &[&Map<String, Value>], depth: usize) -> Option<Vec<Path>> {
    let keys = uniform_columns(objects)?;
    let mut paths = Vec::new();
    for key in keys {
        let present: Vec<&Map<String, Value>> = objects
            .iter()
            .filter_map(|o| o.get(&key))
            .filter_map(Value::as_object)
            .collect();
        let all_objects = objects.iter().filter(|o| o.contains_key(&key)).count() == present.len();
        let nested = (depth > 0
            && all_objects
            && !present.is_empty()
            && present.iter().all(|o| !o.is_empty()))
        .then(|| flatten_columns(&present, depth - 1))
        .flatten();
        match nested {
            Some(sub) => paths.extend(sub.into_iter().map(|mut p| {
                p.insert(0, key.clone());
                p
            })),
            None => paths.push(vec![key]),
        }
    }
    Some(paths)
}

fn lookup<'v>(item: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(item, |v, key| v.as_object()?.get(key))
}

fn render_path(path: &[String]) -> String {
    path.iter()
        .map(|k| render_key(k))
        .collect::<Vec<_>>()
        .join(".")
}

fn write_table(out: &mut String, key: &str, items: &[Value], columns: &[Path], indent: &str) {
    let header: Vec<String> = columns.iter().map(|c| render_path(c)).collect();
    let _ = write!(out, "{key}[{}]{{{}}}:", items.len(), header.join(","));
    for item in items {
        out.push('\n');
        out.push_str(indent);
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if let Some(cell) = lookup(item, column) {
                render_cell(out, cell);
            }
        }
    }
}

fn render_key(key: &str) -> String {
    let mut chars = key.chars();
    let bare = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if bare {
        key.to_string()
    } else {
        serde_json::to_string(key).expect("strings serialize")
    }
}

fn render_cell(out: &mut String, cell: &Value) {
    match cell {
        Value::String(s) if is_bare(s) => out.push_str(s),
        other => out.push_str(&serde_json::to_string(other).expect("values serialize")),
    }
}

fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s.trim() == s
        && !s.starts_with(['[', '{'])
        && !s
            .chars()
            .any(|c| matches!(c, ',' | '"' | '\\') || c.is_control())
        && !matches!(s, "null" | "true" | "false")
        && serde_json::from_str::<serde_json::Number>(s).is_err()
}

/// `key` then the rest of the line, for `key: value` and `key[N]{…}:` lines.
fn parse_key(line: &str) -> Option<(String, &str)> {
    if line.starts_with('"') {
        let mut stream = serde_json::Deserializer::from_str(line).into_iter::<String>();
        let key = stream.next()?.ok()?;
        return Some((key, &line[stream.byte_offset()..]));
    }
    let end = line.find([':', '['])?;
    let key = &line[..end];
    (render_key(key) == key).then(|| (key.to_string(), &line[end..]))
}

/// `[N]{a,b.c}:` → (column paths, N).
fn parse_header(header: &str) -> Option<(Vec<Path>, usize)> {
    let rest = header.strip_prefix('[')?;
    let (count, rest) = rest.split_once("]{")?;
    let fields = rest.strip_suffix("}:")?;
    let mut columns = Vec::new();
    let mut path = Vec::new();
    let mut rest = fields;
    loop {
        let (key, after) = parse_header_key(rest)?;
        path.push(key);
        if let Some(more) = after.strip_prefix('.') {
            rest = more;
            continue;
        }
        columns.push(std::mem::take(&mut path));
        match after.strip_prefix(',') {
            Some(more) => rest = more,
            None if after.is_empty() => break,
            None => return None,
        }
    }
    Some((columns, count.parse().ok()?))
}

fn parse_header_key(s: &str) -> Option<(String, &str)> {
    if s.starts_with('"') {
        let mut stream = serde_json::Deserializer::from_str(s).into_iter::<String>();
        let key = stream.next()?.ok()?;
        return Some((key, &s[stream.byte_offset()..]));
    }
    let end = s.find([',', '.']).unwrap_or(s.len());
    let key = &s[..end];
    (render_key(key) == key).then(|| (key.to_string(), &s[end..]))
}

fn parse_row(row: &str, columns: &[Path]) -> Option<Value> {
    let mut root = Value::Object(Map::new());
    let mut rest = row;
    for (i, column) in columns.iter().enumerate() {
        let (cell, after) = parse_cell(rest)?;
        if let Some(cell) = cell {
            insert_at(&mut root, column, cell)?;
        }
        rest = if i + 1 < columns.len() {
            after.strip_prefix(',')?
        } else {
            after
        };
    }
    rest.is_empty().then_some(root)
}

/// Puts `cell` at `path`, creating the nested objects on the way.
fn insert_at(root: &mut Value, path: &[String], cell: Value) -> Option<()> {
    let (last, parents) = path.split_last()?;
    let mut at = root;
    for key in parents {
        at = at
            .as_object_mut()?
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    at.as_object_mut()?.insert(last.clone(), cell);
    Some(())
}

/// One cell: `None` for an absent field, and the text after it.
fn parse_cell(s: &str) -> Option<(Option<Value>, &str)> {
    if s.starts_with(['"', '[', '{']) {
        let mut stream = serde_json::Deserializer::from_str(s).into_iter::<Value>();
        let value = stream.next()?.ok()?;
        return Some((Some(value), &s[stream.byte_offset()..]));
    }
    let end = s.find(',').unwrap_or(s.len());
    let token = &s[..end];
    let value = match token {
        "" => None,
        "null" => Some(Value::Null),
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => Some(match serde_json::from_str::<serde_json::Number>(token) {
            Ok(n) => Value::Number(n),
            Err(_) => Value::String(token.to_string()),
        }),
    };
    Some((value, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn tricky_cells_round_trip() {
        let v = json!([
            {"s": "1", "t": "true", "u": "", "v": " pad", "w": "a,b", "x": "[x]", "y": null, "z": 0},
            {"s": "x\ny", "t": "\"q\"", "u": "ünï", "v": 1.5, "w": -0, "x": {"k": [1, {"a": "b,c"}]}, "y": false, "z": 1e300},
            {"s": "null", "z": "-"}
        ]);
        let table = encode(&v).unwrap();
        assert_eq!(decode(&table).unwrap(), v, "{table}");
    }

    #[test]
    fn record_form_with_weird_keys() {
        let v = json!({"total count": 2, "items": [{"a b": 1}, {"a b": 2}], "next": null});
        let table = encode(&v).unwrap();
        assert!(table.contains("items[2]{\"a b\"}:\n  1\n  2"), "{table}");
        assert_eq!(decode(&table).unwrap(), v);
    }

    #[test]
    fn conflicting_key_orders_still_decode_to_an_equal_value() {
        let v = json!([{"a": 1, "b": 2}, {"b": 3, "a": 4}]);
        let table = encode(&v).unwrap();
        assert_eq!(table, "[2]{a,b}:\n1,2\n4,3");
        assert_eq!(decode(&table).unwrap(), v);
    }

    #[test]
    fn nested_objects_become_path_columns() {
        let v = json!([
            {"id": 1, "user": {"login": "a", "site": {"admin": false}}, "n": null},
            {"id": 2, "user": {"login": "b", "site": {"admin": true}}},
            {"id": 3, "n": 4}
        ]);
        let table = encode(&v).unwrap();
        assert_eq!(
            table,
            "[3]{id,user.login,user.site.admin,n}:\n1,a,false,null\n2,b,true,\n3,,,4"
        );
        assert_eq!(decode(&table).unwrap(), v);
        let mixed = json!([{"u": {"a": 1}}, {"u": null}, {"u": {}}]);
        assert_eq!(
            decode(&encode(&mixed).unwrap()).unwrap(),
            mixed,
            "null and empty objects are not flattened"
        );
        let dotted = json!([{"a.b": {"c": 1}}, {"a.b": {"c": 2}}]);
        let table = encode(&dotted).unwrap();
        assert!(table.starts_with("[2]{\"a.b\".c}:"), "{table}");
        assert_eq!(decode(&table).unwrap(), dotted);
    }

    #[test]
    fn refuses_what_it_cannot_round_trip() {
        assert_eq!(encode(&json!([{"a": 1}])), None, "single item");
        assert_eq!(encode(&json!([1, 2, 3])), None, "not objects");
        assert_eq!(
            encode(&json!({"a": [1, 2]})),
            None,
            "no table in the record"
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            "[ -~\\n\"\\\\,é]{0,8}".prop_map(Value::String),
            prop_oneof![
                Just("null"),
                Just("1"),
                Just("-2.5e3"),
                Just(" x"),
                Just("[a"),
                Just("")
            ]
            .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(("[a-c \",]{1,3}", inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn arb_rows() -> impl Strategy<Value = Value> {
        // Rows drawn from a fixed column order, each with some fields absent.
        prop::collection::vec(prop::collection::vec(prop::option::of(arb_json()), 3), 2..6)
            .prop_map(|rows| {
                Value::Array(
                    rows.into_iter()
                        .map(|cells| {
                            let names = ["id", "na me", "x"];
                            Value::Object(
                                cells
                                    .into_iter()
                                    .zip(names)
                                    .filter_map(|(c, n)| c.map(|c| (n.to_string(), c)))
                                    .collect(),
                            )
                        })
                        .collect(),
                )
            })
    }

    proptest! {
        #[test]
        fn every_table_decodes_to_its_value(rows in arb_rows(), extra in arb_json()) {
            if let Some(table) = encode(&rows) {
                prop_assert_eq!(decode(&table).unwrap(), rows.clone());
            }
            let record = json!({"meta": extra, "rows": rows});
            if let Some(table) = encode(&record) {
                prop_assert_eq!(decode(&table).unwrap(), record);
            }
        }
    }

    #[test]
    fn header_counts_are_checked_against_the_lines_present() {
        for text in [
            "[1000000000000]{x}:",
            "[18446744073709551615]{x}:\n1",
            "rows[1000000000000]{x}:",
            "rows[18446744073709551615]{x}:\n  1",
            "a: 1\nrows[3]{x}:\n  1\n  2",
        ] {
            let err = decode(text).unwrap_err();
            assert!(err.reason.contains("row"), "{text:?}: {err}");
        }
        assert_eq!(decode("rows[0]{x}:").unwrap(), json!({"rows": []}));
    }
}
