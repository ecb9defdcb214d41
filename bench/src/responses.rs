//! The same corpus sent as Responses requests (`POST /v1/responses`): each case's chat request
//! rewritten as `instructions` and `input` items (the tool call a `function_call`, its result a
//! `function_call_output`), compressed by the same engine, scored by the same probes. The claim
//! it checks: savings and retention within a point of chat.
//!
//! `headroom-bench responses CORPUS_DIR` prints the table.

use crate::corpus::Case;
use crate::fidelity::{score, Fidelity};
use headroom::Headroom;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A chat-completions request as the equivalent Responses request.
///
/// ```
/// use serde_json::json;
/// let chat = json!({"model": "gpt-4o", "messages": [
///     {"role": "system", "content": "be brief"},
///     {"role": "user", "content": "why?"},
///     {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
///         "function": {"name": "ls", "arguments": "{}"}}]},
///     {"role": "tool", "tool_call_id": "c1", "content": "a.txt"}],
///     "tools": [{"type": "function", "function": {"name": "ls", "parameters": {}}}]});
/// let r = headroom_bench::responses::to_responses(&chat);
/// assert_eq!(r["instructions"], "be brief");
/// assert_eq!(r["input"][1], json!({"type": "function_call", "call_id": "c1", "name": "ls", "arguments": "{}"}));
/// assert_eq!(r["input"][2], json!({"type": "function_call_output", "call_id": "c1", "output": "a.txt"}));
/// assert_eq!(r["tools"][0], json!({"type": "function", "name": "ls", "parameters": {}}));
/// ```
pub fn to_responses(chat: &Value) -> Value {
    let mut instructions = Vec::new();
    let mut input = Vec::new();
    for message in chat["messages"].as_array().into_iter().flatten() {
        match message["role"].as_str().unwrap_or("") {
            "system" => instructions.push(message["content"].as_str().unwrap_or("").to_string()),
            "tool" => input.push(json!({"type": "function_call_output",
                "call_id": message["tool_call_id"], "output": message["content"]})),
            "assistant" if message["tool_calls"].is_array() => {
                for call in message["tool_calls"].as_array().into_iter().flatten() {
                    input.push(json!({"type": "function_call", "call_id": call["id"],
                        "name": call["function"]["name"], "arguments": call["function"]["arguments"]}));
                }
            }
            role => input.push(json!({"role": role, "content": message["content"]})),
        }
    }
    let tools: Vec<Value> = chat["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let f = &t["function"];
            let mut flat = json!({"type": "function", "name": f["name"]});
            for key in ["description", "parameters"] {
                if !f[key].is_null() {
                    flat[key] = f[key].clone();
                }
            }
            flat
        })
        .collect();
    let mut out = json!({"model": chat["model"], "input": input});
    if !instructions.is_empty() {
        out["instructions"] = json!(instructions.join("\n"));
    }
    if !tools.is_empty() {
        out["tools"] = json!(tools);
    }
    out
}

/// One case compressed both ways.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Case id.
    pub case: String,
    /// (tokens before, tokens after, fidelity) of the chat request.
    pub chat: (usize, usize, Fidelity),
    /// The same for the Responses request.
    pub responses: (usize, usize, Fidelity),
}

/// Compresses `case` as chat and as Responses with the default engine and scores both outputs.
pub fn compare(case: &Case) -> Result<Comparison, String> {
    let engine = Headroom::default();
    let run = |body: &Value, content: fn(&Value) -> Option<&str>| {
        let bytes = serde_json::to_vec(body).expect("a Value serializes");
        let out = engine
            .compress_json(&bytes)
            .map_err(|e| format!("{}: {e}", case.id))?;
        let sent: Value = serde_json::from_slice(&out.body).map_err(|e| e.to_string())?;
        let originals: HashMap<String, String> = out
            .originals
            .into_iter()
            .map(|o| (o.hash, o.text))
            .collect();
        let text = content(&sent).unwrap_or("");
        let fidelity = score(case.kind, case.artifact(), text, &originals, &case.probes);
        Ok::<_, String>((out.report.tokens_before, out.report.tokens_after, fidelity))
    };
    let chat = run(&case.request, |v| {
        v["messages"].as_array()?.last()?["content"].as_str()
    })?;
    let responses = run(&to_responses(&case.request), |v| {
        v["input"].as_array()?.last()?["output"].as_str()
    })?;
    Ok(Comparison {
        case: case.id.clone(),
        chat,
        responses,
    })
}

/// Totals of one side: (tokens before, tokens after, probes, recoverable, asked-and-errors cases).
fn totals(rows: &[Comparison], side: fn(&Comparison) -> &(usize, usize, Fidelity)) -> [usize; 5] {
    let mut t = [0; 5];
    for row in rows {
        let (before, after, f) = side(row);
        t[0] += before;
        t[1] += after;
        t[2] += f.probes;
        t[3] += f.recoverable;
        t[4] += usize::from(f.asked_and_errors());
    }
    t
}

/// The table: per case and in total, savings and retention as chat and as Responses.
pub fn markdown(rows: &[Comparison]) -> String {
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    let mut md = String::from(
        "| case | chat: tokens before → after | saved | recoverable | Responses: tokens before → after | saved | recoverable |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    // Retention: probes verbatim or retrievable behind a marker ("–" for a case without probes).
    let kept = |t: [usize; 5]| match t[2] {
        0 => "–".to_string(),
        n => format!("{:.1}%", pct(t[3], n)),
    };
    let line = |name: &str, c: [usize; 5], r: [usize; 5]| {
        format!(
            "| {name} | {} → {} | {:.1}% | {} | {} → {} | {:.1}% | {} |\n",
            c[0],
            c[1],
            pct(c[0] - c[1], c[0]),
            kept(c),
            r[0],
            r[1],
            pct(r[0] - r[1], r[0]),
            kept(r),
        )
    };
    for row in rows {
        let one = std::slice::from_ref(row);
        md.push_str(&line(
            &row.case,
            totals(one, |r| &r.chat),
            totals(one, |r| &r.responses),
        ));
    }
    let (c, r) = (totals(rows, |r| &r.chat), totals(rows, |r| &r.responses));
    md.push_str(&line("**all**", c, r));
    md.push_str(&format!(
        "\nAsked-about item and every error line kept: chat {}/{n}, Responses {}/{n}.\n",
        c[4],
        r[4],
        n = rows.len()
    ));
    md
}
