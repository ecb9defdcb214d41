//! Tokens of a request's function definitions (`tools`, legacy `functions`), counted the way
//! OpenAI documents it (the cookbook's "How to count tokens with tiktoken", section 6), which it
//! checked against the API's own counts for gpt-4o, gpt-4o-mini, gpt-4 and gpt-3.5-turbo.
//!
//! The model never sees the JSON: each function becomes a line `name:description`, each
//! parameter a line `name:type:description` (a final `.` dropped), with fixed costs per function,
//! per parameter list, per parameter and per enum value, and once per tool list. What that
//! documented form does not cover — nested object or array schemas, `minimum`, `format`, `anyOf`,
//! `strict`, tools that are not functions, models it was not measured on — is counted as the
//! tokens of its JSON text and the count is marked estimated.

use super::TokenCounter;
use serde_json::{Map, Value};

/// The tokens of a tool list, and whether any part of them is an estimate.
///
/// ```
/// use headroom::tokens::{count_tools, counter_for_model};
/// let tools = serde_json::json!([{"type": "function", "function": {"name": "ls", "description": "List files.",
///     "parameters": {"type": "object", "properties": {"path": {"type": "string", "description": "A directory"}}}}}]);
/// let counted = count_tools(&tools, "gpt-4o", counter_for_model("gpt-4o").as_ref());
/// assert!(!counted.estimated);
/// assert!(counted.tokens > 20);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolTokens {
    /// Tokens the definitions add to the prompt.
    pub tokens: usize,
    /// Some part was not of the documented form (or the model was not measured): its tokens are
    /// those of its JSON text, which OpenAI does not send as such.
    pub estimated: bool,
}

/// The fixed costs of the documented form, per model family.
struct Costs {
    function: i64,
    properties: i64,
    property: i64,
    enum_list: i64,
    enum_value: i64,
    list_end: i64,
}

/// The fixed tokens a non-empty tool list costs once, whatever the model family.
///
/// ```
/// assert_eq!(headroom::tokens::TOOL_LIST_TOKENS, 12);
/// ```
pub const TOOL_LIST_TOKENS: usize = 12;

/// gpt-4o and gpt-4o-mini (o200k_base).
const O200K: Costs = Costs {
    function: 7,
    properties: 3,
    property: 3,
    enum_list: -3,
    enum_value: 3,
    list_end: TOOL_LIST_TOKENS as i64,
};

/// gpt-4 and gpt-3.5-turbo (cl100k_base).
const CL100K: Costs = Costs {
    function: 10,
    ..O200K
};

/// Tokens of `tools` (a `tools` array, or a legacy `functions` array of function objects) for
/// `model`, whose tokenizer is `counter`. `null` and an empty list cost nothing.
pub fn count_tools(tools: &Value, model: &str, counter: &dyn TokenCounter) -> ToolTokens {
    let costs = if counter.name() == "cl100k_base" {
        &CL100K
    } else {
        &O200K
    };
    let mut count = Count {
        tokens: 0,
        estimated: !measured(model),
        counter,
    };
    match tools {
        Value::Null => return ToolTokens::default(),
        Value::Array(list) if list.is_empty() => return ToolTokens::default(),
        Value::Array(list) => {
            for tool in list {
                let Some(object) = tool.as_object() else {
                    count.json(tool);
                    continue;
                };
                let function = match (object.get("type"), object.get("function")) {
                    (Some(kind), Some(Value::Object(f))) if kind == "function" => f,
                    // A legacy `functions` entry is the function object itself.
                    (None, None) if object.contains_key("name") => object,
                    _ => {
                        count.json(tool);
                        continue;
                    }
                };
                count.function(function, costs);
            }
            count.fixed(costs.list_end);
        }
        other => count.json(other),
    }
    ToolTokens {
        tokens: count.tokens.max(0) as usize,
        estimated: count.estimated,
    }
}

/// Whether OpenAI published API-checked counts for this model's family.
fn measured(model: &str) -> bool {
    model.starts_with("gpt-4o")
        || model.starts_with("gpt-3.5")
        || model == "gpt-4"
        || model.starts_with("gpt-4-0")
}

struct Count<'a> {
    tokens: i64,
    estimated: bool,
    counter: &'a dyn TokenCounter,
}

impl Count<'_> {
    fn fixed(&mut self, tokens: i64) {
        self.tokens += tokens;
    }

    fn text(&mut self, text: &str) {
        self.tokens += self.counter.count(text) as i64;
    }

    /// A part outside the documented form: the tokens of its JSON text, marked estimated.
    fn json(&mut self, value: &Value) {
        self.estimated = true;
        self.text(&value.to_string());
    }

    fn function(&mut self, function: &Map<String, Value>, costs: &Costs) {
        self.fixed(costs.function);
        let name = self.string(function.get("name"));
        let description = self.string(function.get("description"));
        self.text(&format!("{name}:{}", without_final_period(&description)));
        for (key, value) in function {
            match key.as_str() {
                "name" | "description" => {}
                "parameters" => self.parameters(value, costs),
                _ => self.json(value),
            }
        }
    }

    fn parameters(&mut self, parameters: &Value, costs: &Costs) {
        let Some(parameters) = parameters.as_object() else {
            return self.json(parameters);
        };
        for (key, value) in parameters {
            match (key.as_str(), value) {
                ("type", t) if t == "object" => {}
                ("required", Value::Array(_)) => {}
                ("properties", Value::Object(properties)) => {
                    if !properties.is_empty() {
                        self.fixed(costs.properties);
                    }
                    for (name, property) in properties {
                        self.property(name, property, costs);
                    }
                }
                _ => self.json(value),
            }
        }
    }

    fn property(&mut self, name: &str, property: &Value, costs: &Costs) {
        self.fixed(costs.property);
        let Some(property) = property.as_object() else {
            return self.json(property);
        };
        let kind = self.string(property.get("type"));
        let description = self.string(property.get("description"));
        for (key, value) in property {
            match (key.as_str(), value) {
                ("type" | "description", _) => {}
                ("enum", Value::Array(items)) => {
                    self.fixed(costs.enum_list);
                    for item in items {
                        self.fixed(costs.enum_value);
                        match item.as_str() {
                            Some(text) => self.text(text),
                            None => self.json(item),
                        }
                    }
                }
                _ => self.json(value),
            }
        }
        self.text(&format!(
            "{name}:{kind}:{}",
            without_final_period(&description)
        ));
    }

    /// A string field, or its JSON text (estimated) when it is something else; "" when absent.
    fn string(&mut self, value: Option<&Value>) -> String {
        match value {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                self.estimated = true;
                other.to_string()
            }
        }
    }
}

fn without_final_period(text: &str) -> &str {
    text.strip_suffix('.').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::counter_for_model;
    use serde_json::json;

    fn count(tools: &Value, model: &str) -> ToolTokens {
        count_tools(tools, model, counter_for_model(model).as_ref())
    }

    #[test]
    fn documented_shapes_are_exact_and_others_estimated() {
        let plain = json!([{"type": "function", "function": {"name": "f", "description": "d",
            "parameters": {"type": "object", "properties": {"a": {"type": "string", "description": "x", "enum": ["p", "q"]}},
            "required": ["a"]}}}]);
        assert!(!count(&plain, "gpt-4o").estimated);
        assert!(count(&plain, "gpt-5").estimated, "not measured on gpt-5");
        let nested = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
            "properties": {"a": {"type": "array", "items": {"type": "string"}}}}}}]);
        assert!(count(&nested, "gpt-4o").estimated);
        let custom = json!([{"type": "custom", "custom": {"name": "grammar"}}]);
        assert!(count(&custom, "gpt-4o").estimated);
        assert_eq!(count(&json!(null), "gpt-4o"), ToolTokens::default());
        assert_eq!(count(&json!([]), "gpt-4o"), ToolTokens::default());
        assert!(count(&json!("not a list"), "gpt-4o").estimated);
    }

    #[test]
    fn legacy_functions_count_like_tools() {
        let function = json!({"name": "f", "description": "Does f.", "parameters": {"type": "object",
            "properties": {"n": {"type": "integer", "description": "How many."}}}});
        let as_tool = json!([{"type": "function", "function": function.clone()}]);
        assert_eq!(
            count(&json!([function]), "gpt-4o"),
            count(&as_tool, "gpt-4o")
        );
    }

    #[test]
    fn hostile_shapes_do_not_panic() {
        for tools in [
            json!([1, "x", null, {"type": "function", "function": 3}]),
            json!([{"type": "function", "function": {"name": 7, "parameters": {"properties": []}}}]),
            json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
                "properties": {"a": 1, "b": {"enum": [1, {"x": 2}], "type": ["string", "null"]}}}}}]),
        ] {
            assert!(count(&tools, "gpt-4").estimated);
        }
    }
}
